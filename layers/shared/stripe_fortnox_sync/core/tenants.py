"""Tenants: one Fortnox company each, with its Stripe source, status and settings (docs/tenants.md).

A one-tenant stack has no registry rows: its data is tenant `default`, served by `/webhook` with the
stack's own secrets and parameters, under the keys it always had. Every other tenant is a registry
row; its data keys carry the prefix `{tenant}#` (`tenant_key`), its SQS message group and
deduplication ids too, and its settings are the stack's parameters with the tenant's overrides.

Only the standard library and `settings`: the webhook imports this, and its cold start is measured.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import SETTINGS, Settings

DEFAULT_TENANT = "default"
# The SQS message attribute that carries a non-default tenant from the webhook to the sync (and
# through the dead-letter queue and a redrive, which keep attributes).
TENANT_ATTRIBUTE = "tenant"


class TenantStatus(StrEnum):
    ONBOARDING = "onboarding"  # added, no Fortnox consent yet: webhooks answered 503
    ACTIVE = "active"
    SUSPENDED = "suspended"  # by the operator: webhooks answered 503, queued events parked
    AUTH_BROKEN = "auth_broken"  # Fortnox refused its credentials: events parked with reason `auth`
    DISCONNECTED = "disconnected"  # gone for good: webhooks answered 410


# Statuses whose events the webhook queues (auth_broken ones are parked by the sync, to be redriven).
ACCEPTING = frozenset({TenantStatus.ACTIVE, TenantStatus.AUTH_BROKEN})

# Lower-case letters, digits and hyphens: safe in keys, SQS ids, metric dimensions and secret names.
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
# First segments of tenant `default`'s own keys (guest checkouts, hashed group keys) and of the
# state table's items: never a tenant id, so `{tenant}#` can never collide with them.
RESERVED_IDS = frozenset(
    {DEFAULT_TENANT, "guest", "h", "token", "lock", "rate", "voucher"}
    | {"tenant", "tenant-slug", "tenant-account"}
)

# The stack parameters a tenant may override: its own books, its own choices.
OVERRIDABLE = frozenset(
    {
        "match_rule",
        "organisation_number_metadata_key",
        "vat_number_metadata_key",
        "seller_country",
        "event_types",
        "checkout_modes",
        "payment_failure_comments",
        "bookkeeping_accounts",
        "invoice_accounts",
        "invoice_checkout_payments",
        "payment_intent_vat_rate",
        "payout_voucher_series",
        "fee_vat",
        "payout_itemised_rows",
        "sales_start_date",
    }
)


def check_tenant_id(tenant_id: str) -> str:
    if not _TENANT_ID.match(tenant_id) or tenant_id in RESERVED_IDS:
        raise ConfigError(
            f"tenant id {tenant_id!r}: 2 to 32 lower-case letters, digits or hyphens, "
            f"not one of {', '.join(sorted(RESERVED_IDS))}"
        )
    return tenant_id


def new_slug() -> str:
    """The unguessable part of a tenant's webhook URL (192 bits)."""
    return secrets.token_urlsafe(24)


def tenant_key(tenant_id: str | None, key: str) -> str:
    """A data key of `tenant_id`: unchanged for tenant `default` (so an upgraded one-tenant stack
    keeps every mapping), `{tenant}#{key}` for any other."""
    return key if not tenant_id or tenant_id == DEFAULT_TENANT else f"{tenant_id}#{key}"


def key_prefix(tenant_id: str | None) -> str:
    return tenant_key(tenant_id, "")


def is_default_key(key: str) -> bool:
    """Whether a mapping, activity or voucher key is tenant `default`'s (no tenant prefix)."""
    head, sep, _ = key.partition("#")
    return not sep or head in RESERVED_IDS


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    status: TenantStatus = TenantStatus.ONBOARDING
    webhook_slug: str = ""
    # Fortnox: the company's TenantId (from the service-account consent) and organisation number.
    fortnox_tenant_id: str = ""
    organisation_number: str = ""
    # Stripe: the connected account (Connect platforms; events routed by `account`), the mode, and
    # the Secrets Manager names of the endpoint's signing secret(s) and of the API key.
    stripe_account: str = ""
    livemode: bool = False
    webhook_secret_name: str = ""
    stripe_api_key_secret_name: str = ""
    # Settings field name -> value as its environment variable would hold it (`Settings.from_env`).
    overrides: Mapping[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    version: int = 0

    @property
    def accepting(self) -> bool:
        return self.status in ACCEPTING

    def to_item(self) -> dict[str, Any]:
        """Plain values, for the registry's store."""
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status.value,
            "webhook_slug": self.webhook_slug,
            "fortnox_tenant_id": self.fortnox_tenant_id,
            "organisation_number": self.organisation_number,
            "stripe_account": self.stripe_account,
            "livemode": self.livemode,
            "webhook_secret_name": self.webhook_secret_name,
            "stripe_api_key_secret_name": self.stripe_api_key_secret_name,
            "overrides": dict(self.overrides),
            "created_at": self.created_at,
            "version": self.version,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Tenant:
        return cls(
            id=str(item["id"]),
            name=str(item.get("name", "")),
            status=TenantStatus(str(item.get("status", TenantStatus.ONBOARDING.value))),
            webhook_slug=str(item.get("webhook_slug", "")),
            fortnox_tenant_id=str(item.get("fortnox_tenant_id", "")),
            organisation_number=str(item.get("organisation_number", "")),
            stripe_account=str(item.get("stripe_account", "")),
            livemode=bool(item.get("livemode", False)),
            webhook_secret_name=str(item.get("webhook_secret_name", "")),
            stripe_api_key_secret_name=str(item.get("stripe_api_key_secret_name", "")),
            overrides={str(k): str(v) for k, v in dict(item.get("overrides") or {}).items()},
            created_at=float(item.get("created_at", 0.0)),
            version=int(item.get("version", 0)),
        )


def check_overrides(overrides: Mapping[str, str]) -> dict[str, Any]:
    """The parsed values of a tenant's overrides; a ConfigError names the first one that is wrong."""
    declared = {s.name: s for s in SETTINGS}
    parsed: dict[str, Any] = {}
    for name, raw in overrides.items():
        if name not in OVERRIDABLE:
            raise ConfigError(f"{name} is not a per-tenant setting (one of {', '.join(sorted(OVERRIDABLE))})")
        if raw.strip():
            parsed[name] = declared[name].parse(declared[name].env, raw)
    return parsed


def tenant_settings(stack: Settings, tenant: Tenant) -> Settings:
    """The stack's settings with the tenant's mode, Stripe key and overrides. A Connect platform's
    merchant without a key of its own is read with the stack's key (the platform's), which
    `StripeApi` sends with `Stripe-Account`."""
    key = tenant.stripe_api_key_secret_name
    if not key and tenant.stripe_account:
        key = stack.stripe_api_key_secret_name
    return replace(
        stack,
        stripe_livemode=tenant.livemode,
        stripe_api_key_secret_name=key,
        **check_overrides(tenant.overrides),
    )
