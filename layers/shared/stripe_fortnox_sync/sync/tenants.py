"""Which tenant a queued event belongs to, and that tenant's own `SyncService`.

Tenant `default` (no tenant attribute on the message) goes to the stack's service exactly as before
tenants. Any other tenant is read from the registry for every message (so a suspension holds at
once) and checked before anything reaches Fortnox: unknown, suspended or disconnected, credentials
refused earlier (`auth_broken`), or an event whose Stripe `account` is not the tenant's: parked with
the reason. Each tenant has its own service: its settings, its Fortnox credentials and rate window,
its keys, its outage hold and credential rebuild, so one tenant's outage never holds another's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stripe_fortnox_sync.core.models import Outcome, SyncResult
from stripe_fortnox_sync.core.observability import MetricUnit, logger, metrics, set_tenant
from stripe_fortnox_sync.core.ports import EventPublisher, TenantRegistry
from stripe_fortnox_sync.core.tenants import (
    DEFAULT_TENANT,
    TENANT_ATTRIBUTE,
    Tenant,
    TenantStatus,
    tenant_key,
)
from stripe_fortnox_sync.sync.service import SyncService

# Park reasons of the tenant checks.
PARK_REASONS = {
    TenantStatus.SUSPENDED: "suspended",
    TenantStatus.DISCONNECTED: "suspended",
    TenantStatus.ONBOARDING: "suspended",
    TenantStatus.AUTH_BROKEN: "auth",
}


class TenantPublisher:
    """An `EventPublisher` for one tenant: its group and dedup ids prefixed, its id attached."""

    def __init__(self, inner: EventPublisher, tenant_id: str) -> None:
        self._inner = inner
        self._tenant = tenant_id

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        self._inner.publish(
            body,
            group_id=tenant_key(self._tenant, group_id)[:128],
            dedup_id=tenant_key(self._tenant, dedup_id)[:128],
            attributes={**(attributes or {}), TENANT_ATTRIBUTE: self._tenant},
        )


def _account_of(body: str) -> str:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    account = raw.get("account") if isinstance(raw, dict) else None
    return account if isinstance(account, str) else ""


class TenantRouter:
    """`handle(body, receive_count, tenant)`: the sync function's entry point."""

    def __init__(
        self,
        default: SyncService,
        registry: Callable[[], TenantRegistry | None],
        build: Callable[[Tenant], SyncService],
    ) -> None:
        self.default = default
        # Shared by every tenant's service (their idempotency keys differ by prefix).
        self.idempotency_config = default.idempotency_config
        self._registry_factory = registry
        self._registry: TenantRegistry | None = None
        self._build = build
        self._services: dict[str, tuple[Tenant, SyncService]] = {}

    def start_batch(self) -> None:
        self.default.start_batch()
        for _, service in self._services.values():
            service.start_batch()

    def registry(self) -> TenantRegistry | None:
        if self._registry is None:
            self._registry = self._registry_factory()
        return self._registry

    def service(self, tenant: Tenant) -> SyncService:
        """The tenant's service, built again when its record changed (settings, credentials)."""
        known = self._services.get(tenant.id)
        if known is None or known[0] != tenant:
            known = (tenant, self._build(tenant))
            self._services[tenant.id] = known
        return known[1]

    def handle(self, body: str, receive_count: int = 1, tenant: str | None = None) -> SyncResult:
        tenant_id = tenant or DEFAULT_TENANT
        logger.append_keys(tenant_id=tenant_id)
        set_tenant(tenant_id)
        if tenant_id == DEFAULT_TENANT:
            return self.default.handle(body, receive_count)
        registry = self.registry()
        record = registry.get(tenant_id) if registry is not None else None
        if record is None:
            # Nothing to build a service from: parked under the tenant's id, for the operator.
            parker = self._build(Tenant(tenant_id, name="(unknown)"))
            return parker.park(body, "unknown_tenant", f"tenant {tenant_id} is not in the registry")
        service = self.service(record)
        reason = PARK_REASONS.get(record.status)
        if reason is not None:
            message = f"tenant {tenant_id} is {record.status.value}; resume it, then redrive"
            return service.park(body, reason, message)
        account = _account_of(body)
        if account != record.stripe_account:
            metrics.add_metric(name="WrongTenant", unit=MetricUnit.Count, value=1)
            return service.park(
                body,
                "wrong_tenant",
                f"event of Stripe account {account or '(none)'} queued for tenant {tenant_id} "
                f"({record.stripe_account or 'no Connect account'})",
            )
        result = service.handle(body, receive_count)
        if result.outcome is Outcome.FAILED and result.detail.startswith("auth:") and registry is not None:
            # Fortnox refused the tenant's credentials: its next events are parked without a call.
            registry.set_status(tenant_id, TenantStatus.AUTH_BROKEN)
            logger.error("tenant's Fortnox credentials refused: now auth_broken")
        return result


def message_tenant(attributes: dict[str, Any] | Any) -> str | None:
    """The tenant attribute of an SQS record's message attributes (Lambda's event shape)."""
    if not isinstance(attributes, dict):
        return None
    value = attributes.get(TENANT_ATTRIBUTE)
    if isinstance(value, dict):
        text = value.get("stringValue") or value.get("StringValue")
        return str(text) if text else None
    return None
