"""The webhook's routes: `/webhook` (tenant `default`), `/webhook/t/{slug}` (one tenant, its own
signing secret) and `/webhook/connect` (a Connect platform's endpoint: the tenant is the event's
`account`). Which answers a tenant's status gets before its signature is even checked.
"""

from __future__ import annotations

from typing import Any

from stripe_fortnox_sync.core.ports import TenantRegistry
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus, tenant_settings
from stripe_fortnox_sync.sync.routes import enabled_types
from stripe_fortnox_sync.webhook.accept import Router, Target, WebhookResponse

DEFAULT_PATH = "/webhook"
TENANT_PATH = "/webhook/t/"
CONNECT_PATH = "/webhook/connect"


def route_of(path: str) -> tuple[str, str] | None:
    """("default" | "tenant" | "connect", the slug or ""), or None for no route of ours."""
    path = path.split("?")[0].rstrip("/") or "/"
    if path == DEFAULT_PATH:
        return "default", ""
    if path == CONNECT_PATH:
        return "connect", ""
    if path.startswith(TENANT_PATH):
        slug = path[len(TENANT_PATH) :]
        if slug and "/" not in slug and len(slug) <= 128:
            return "tenant", slug
    return None


def not_found(message: str = "no such webhook URL") -> WebhookResponse:
    return WebhookResponse(404, {"error": message}, reason="unknown_route")


def status_refusal(tenant: Tenant) -> WebhookResponse | None:
    """The answer for a tenant that takes no events now; None when it does."""
    if tenant.accepting:
        return None
    if tenant.status is TenantStatus.DISCONNECTED:
        return WebhookResponse(
            410, {"error": "this tenant is disconnected; remove the endpoint"}, reason="tenant_disconnected"
        )
    # 503: Stripe keeps the event and delivers it again for up to three days.
    what = "suspended" if tenant.status is TenantStatus.SUSPENDED else "not active yet"
    return WebhookResponse(
        503,
        {"error": f"this tenant is {what}; Stripe will deliver the event again"},
        reason=f"tenant_{tenant.status.value}",
    )


def target_of(stack: Settings, tenant: Tenant) -> Target:
    own = tenant_settings(stack, tenant)
    return Target(tenant.id, tenant.livemode, enabled_types(own), tenant.stripe_account)


def connect_router(stack: Settings, registry: TenantRegistry) -> Router:
    """Finds a Connect event's tenant by its `account`; unknown or inactive ones are answered."""

    def route(event: dict[str, Any]) -> Target | WebhookResponse:
        account = event.get("account")
        tenant = registry.by_account(account) if isinstance(account, str) and account else None
        if tenant is None:
            # 200: the platform has connected accounts this stack does not serve; Stripe stops.
            return WebhookResponse(
                200,
                {"ignored": "no tenant for this Stripe account"},
                reason="unknown_account",
                event_id=str(event.get("id")),
                event_type=str(event.get("type")),
            )
        refusal = status_refusal(tenant)
        return refusal if refusal is not None else target_of(stack, tenant)

    return route
