"""Decides what to do with one webhook request: refuse it, ignore it, or queue it.

Nothing here knows HTTP or AWS: it takes the raw body and the signature header, and hands
accepted events to a publisher port. Which types are accepted and which FIFO group each goes to
come from the route table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from stripe_fortnox_sync.core.payload import PayloadError, parse_event
from stripe_fortnox_sync.core.ports import EventPublisher
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, TENANT_ATTRIBUTE, tenant_key
from stripe_fortnox_sync.sync.routes import OPT_IN_TYPES, SUPPORTED_TYPES, message_group_id
from stripe_fortnox_sync.webhook.envelope import MAX_BODY_BYTES, queueable
from stripe_fortnox_sync.webhook.verify import verify_signature


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]
    # Why, for the log line and the metric; never sent to Stripe beyond `body`.
    reason: str = ""
    event_id: str | None = None
    event_type: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tenant: str = DEFAULT_TENANT


@dataclass(frozen=True)
class Target:
    """Whose event this is: the tenant, its Stripe mode and event types, and (Connect) the Stripe
    account whose events it takes ("": events without an `account`)."""

    tenant: str
    livemode: bool
    event_types: Collection[str]
    account: str = ""


# Finds the target of a verified event (the Connect endpoint routes by its `account`), or answers.
Router = Callable[[dict[str, Any]], "Target | WebhookResponse"]


def _refuse(status: int, message: str, reason: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": message}, reason=reason)


def _parse(raw_body: bytes, signature: str | None, secrets: Sequence[str]) -> tuple[str, Any]:
    """The verified body and its JSON, or a refusal."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise _Refused(413, f"body is larger than {MAX_BODY_BYTES} bytes", "too_large")
    problem = verify_signature(raw_body, signature, secrets)
    if problem:
        raise _Refused(400, problem, "bad_signature")
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "body is not UTF-8", "bad_encoding") from None
    try:
        return payload, parse_event(payload)
    except PayloadError as exc:
        raise _Refused(400, str(exc), "bad_body" if exc.not_json else "not_an_event") from None


class _RouteFailed(Exception):
    """Finding the tenant failed (the registry): the caller answers 500, so Stripe retries."""


class _Refused(Exception):
    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.response = _refuse(status, message, reason)


def _not_handled(event_type: str, ignored: Callable[[str, str], WebhookResponse]) -> WebhookResponse:
    """A type this stack does not act on: one it could (named, with how to turn it on), or not."""
    if event_type in OPT_IN_TYPES:
        how = "opt-in: add it to EnabledEventTypes"
    elif event_type in SUPPORTED_TYPES:
        how = "add it back to EnabledEventTypes"
    else:
        return ignored(f"event type {event_type} is not handled", "unhandled_type")
    return ignored(f"event type {event_type} is not enabled on this stack ({how})", "type_not_enabled")


def handle_webhook(
    raw_body: bytes,
    signature: str | None,
    secrets: Sequence[str],
    *,
    livemode: bool,
    event_types: Collection[str],
    publisher: EventPublisher,
    target: Target | Router | None = None,
) -> WebhookResponse:
    """`target`: a tenant's (its URL named it), or how to find it in the event; None: tenant
    `default`, with `livemode` and `event_types`, exactly as before tenants."""
    default = Target(DEFAULT_TENANT, livemode, event_types)
    try:
        decided = _decide(raw_body, signature, secrets, target or default)
    except _Refused as refused:
        return refused.response
    except _RouteFailed as failed:
        # The registry could not be read: not the sender's fault, the caller answers 500.
        raise (failed.__cause__ or failed) from None
    except Exception as exc:
        # Whatever the bytes: a request we cannot read is the sender's problem (4xx), never ours.
        return _refuse(400, "the request could not be read", f"unreadable: {type(exc).__name__}")
    if isinstance(decided, WebhookResponse):
        return decided
    body, group, event_id, event_type, tenant = decided
    attributes = {"event_type": event_type}
    if tenant != DEFAULT_TENANT:
        attributes[TENANT_ATTRIBUTE] = tenant
    # Any failure here propagates: the caller answers 500 so Stripe delivers again.
    publisher.publish(
        body,
        group_id=tenant_key(tenant, group)[:128],
        dedup_id=tenant_key(tenant, event_id)[:128],
        attributes=attributes,
    )
    return WebhookResponse(
        200,
        {"received": event_id},
        reason="accepted",
        event_id=event_id,
        event_type=event_type,
        tenant=tenant,
    )


def _decide(
    raw_body: bytes,
    signature: str | None,
    secrets: Sequence[str],
    target: Target | Router,
) -> WebhookResponse | tuple[str, str, str, str, str]:
    """An answer without queueing, or what to queue: (body, group, event id, event type, tenant)."""
    payload, event = _parse(raw_body, signature, secrets)
    event_id, event_type = event["id"], event["type"]
    if not isinstance(target, Target):
        try:
            found = target(event)
        except Exception as exc:
            raise _RouteFailed() from exc
        if isinstance(found, WebhookResponse):
            return found
        target = found
    tenant, livemode, event_types = target.tenant, target.livemode, target.event_types

    def ignored(message: str, reason: str) -> WebhookResponse:
        # 200, so Stripe stops delivering what this stack must never act on.
        return WebhookResponse(
            200, {"ignored": message}, reason=reason, event_id=event_id, event_type=event_type, tenant=tenant
        )

    if tenant != DEFAULT_TENANT:
        account = event.get("account") or ""
        if account != target.account:
            raise _Refused(400, "the event is for another Stripe account than this URL's", "wrong_account")
        if event["livemode"] != livemode:
            # A tenant's URL was given to the wrong Stripe mode: say so, Stripe shows the answer.
            mode = "live" if event["livemode"] else "test"
            raise _Refused(400, f"{mode}-mode event sent to a tenant in the other mode", "livemode_mismatch")
    if event["livemode"] != livemode:
        mode, stack = ("live" if event["livemode"] else "test"), ("live" if livemode else "test")
        return ignored(f"{mode}-mode event sent to a {stack}-mode stack", "livemode_mismatch")
    if event_type not in event_types:
        return _not_handled(event_type, ignored)
    body = queueable(payload, event)
    if body is None:
        raise _Refused(413, f"body is larger than {MAX_BODY_BYTES} bytes once escaped for SQS", "too_large")
    return body, message_group_id(event), event_id, event_type, tenant
