"""API Gateway -> verify the Stripe event -> SQS. Parse, call the logic, answer."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from stripe_fortnox_sync.adapters.aws.secrets import webhook_secrets
from stripe_fortnox_sync.adapters.aws.sqs import SqsFifoPublisher
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.observability import MetricUnit, logger, metrics, new_invocation
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync.routes import enabled_types
from stripe_fortnox_sync.webhook.accept import WebhookResponse, handle_webhook
from stripe_fortnox_sync.webhook.tenants import connect_router, not_found, route_of, status_refusal, target_of

if TYPE_CHECKING:
    from stripe_fortnox_sync.core.ports import TenantRegistry


@cache
def _settings() -> Settings:
    return Settings.from_env()


@cache
def _publisher() -> SqsFifoPublisher:
    return SqsFifoPublisher(_settings().queue_url)


@cache
def _registry() -> TenantRegistry:
    # Only on a tenant's route: tenant `default`'s requests never load the DynamoDB client.
    from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry

    return DynamoTenantRegistry(_settings().state_table)


def _path(event: dict[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(event.get("rawPath") or http.get("path") or "/webhook")


def _tenant_response(kind: str, slug: str, body: bytes, signature: str | None) -> WebhookResponse:
    """A tenant's URL or the Connect endpoint (webhook/tenants.py)."""
    settings = _settings()
    max_age = settings.secrets_max_age_seconds
    if kind == "connect":
        try:
            secrets = webhook_secrets(settings.stripe_connect_webhook_secret_name, max_age)
        except ConfigError:
            # Still the placeholder: a stack without Connect tenants has no such endpoint.
            return not_found("this stack has no Connect endpoint configured")
        router = connect_router(settings, _registry())
        return handle_webhook(
            body, signature, secrets, livemode=False, event_types=(), publisher=_publisher(), target=router
        )
    tenant = _registry().by_slug(slug)
    if tenant is None:
        return not_found()
    refusal = status_refusal(tenant)
    if refusal is not None:
        return refusal
    return handle_webhook(
        body,
        signature,
        webhook_secrets(tenant.webhook_secret_name, max_age),
        livemode=tenant.livemode,
        event_types=(),
        publisher=_publisher(),
        target=target_of(settings, tenant),
    )


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            return b"\xff"  # not base64 after all: refused below as not UTF-8
    return body.encode("utf-8", "surrogatepass")


def _answer(response: WebhookResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(response.body),
    }


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    new_invocation()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    metrics.add_metric(name="WebhookReceived", unit=MetricUnit.Count, value=1)
    route = route_of(_path(event))
    try:
        settings = _settings()
        if route is None:
            response = not_found()
        elif route[0] != "default":
            response = _tenant_response(route[0], route[1], _raw_body(event), headers.get("stripe-signature"))
        else:
            response = handle_webhook(
                _raw_body(event),
                headers.get("stripe-signature"),
                webhook_secrets(settings.stripe_webhook_secret_name, settings.secrets_max_age_seconds),
                livemode=settings.stripe_livemode,
                event_types=enabled_types(settings),
                publisher=_publisher(),
            )
    except ConfigError as exc:
        logger.error("webhook is not configured", extra={"error": str(exc)})
        metrics.add_metric(name="WebhookErrors", unit=MetricUnit.Count, value=1)
        return _answer(WebhookResponse(500, {"error": "webhook is not configured"}, reason="config"))
    except Exception:
        # Not queued: a 5xx makes Stripe deliver the event again later.
        logger.exception("could not queue the Stripe event")
        metrics.add_metric(name="WebhookErrors", unit=MetricUnit.Count, value=1)
        return _answer(
            WebhookResponse(500, {"error": "could not queue the event, retry later"}, reason="queue")
        )
    if response.event_id:
        logger.set_correlation_id(response.event_id)
    logger.append_keys(tenant_id=response.tenant)
    if response.reason == "unknown_account":
        metrics.add_metric(name="ConnectUnknownAccount", unit=MetricUnit.Count, value=1)
    metric = {"accepted": "EventsAccepted"}.get(response.reason) or (
        "EventsIgnored" if response.status == 200 else "EventsRejected"
    )
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    # An accepted event is logged where it is applied (the sync's "event processed" line) and
    # counted here: a line for it at INFO would be paid for at ingestion on every event.
    log = (
        logger.debug
        if response.reason == "accepted"
        else logger.info
        if response.status == 200
        else logger.warning
    )
    log(
        "webhook answered",
        extra={"status": response.status, "reason": response.reason, "event_type": response.event_type},
    )
    return _answer(response)
