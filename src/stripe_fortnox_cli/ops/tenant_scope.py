"""`--tenant ID` on `backfill`, `redrive`, `status` and `reconcile`: the stack as one tenant sees it.

A scoped stack carries the tenant's settings (the stack's parameters with its overrides, its
Stripe mode and API key secret), and the commands read from it which keys are the tenant's (its
`{tenant}#` prefix), which Fortnox company they talk to (its TenantId), and how their messages are
stamped (group and deduplication ids prefixed, the `tenant` attribute, as the webhook sends them).
Without `--tenant`, or with `--tenant default`, nothing changes: tenant `default` is the stack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from stripe_fortnox_cli.exits import EXIT_CONFIG
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.store import OutgoingMessage
from stripe_fortnox_cli.ops.tenant_registry import open_registry
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.tenants import (
    DEFAULT_TENANT,
    TENANT_ATTRIBUTE,
    Tenant,
    tenant_key,
    tenant_settings,
)

if TYPE_CHECKING:
    from stripe_fortnox_cli.ops.stack import Stack


def scoped(stack: Stack, tenant_id: str | None, registry: Any = None) -> Stack:
    """The stack as tenant `tenant_id` sees it; unchanged for None or `default`. An unknown tenant,
    or one whose overrides no longer parse, is refused (exit 2) before anything is read."""
    if not tenant_id or tenant_id == DEFAULT_TENANT:
        return stack
    record: Tenant | None = (registry or open_registry(stack)).get(tenant_id)
    if record is None:
        raise OperationError(
            f"no tenant {tenant_id!r} in this stack (`stripe-fortnox tenants list`)", EXIT_CONFIG
        )
    try:
        settings = tenant_settings(stack.settings, record)
    except ConfigError as exc:
        raise OperationError(f"tenant {tenant_id}: {exc}", EXIT_CONFIG) from None
    return replace(stack, settings=settings, tenant=record)


def require_consent(stack: Stack) -> None:
    """Refuse a command that reaches the tenant's Fortnox company before it has one."""
    if stack.tenant is not None and not stack.tenant.fortnox_tenant_id:
        raise OperationError(
            f"tenant {stack.tenant.id} has no Fortnox TenantId yet: "
            f"`stripe-fortnox tenants consent {stack.tenant.id} --fortnox-tenant-id …` first",
            EXIT_CONFIG,
        )


def stamped(message: OutgoingMessage, tenant_id: str) -> OutgoingMessage:
    """The message as the webhook would queue it for `tenant_id` (unchanged for `default`)."""
    if tenant_id == DEFAULT_TENANT:
        return message
    return OutgoingMessage(
        body=message.body,
        group_id=tenant_key(tenant_id, message.group_id)[:128],
        dedup_id=tenant_key(tenant_id, message.dedup_id)[:128],
        attributes={**message.attributes, TENANT_ATTRIBUTE: tenant_id},
    )


def message_tenant(attributes: dict[str, str]) -> str:
    """Whose a queued (or parked) message is: its `tenant` attribute, else `default`."""
    return attributes.get(TENANT_ATTRIBUTE) or DEFAULT_TENANT
