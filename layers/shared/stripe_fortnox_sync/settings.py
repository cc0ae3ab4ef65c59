"""Configuration read once per cold start from the function's environment.

Secrets never live here: only the *names* of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Enabled unless ENABLED_EVENT_TYPES says otherwise: customers and payment failures.
DEFAULT_EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.tax_id.created",
    "customer.tax_id.updated",
    "customer.tax_id.deleted",
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "invoice.payment_failed",
)
# The types that book sales and refunds. Opt-in: they need the Fortnox invoice and payment scopes,
# and the bookkeeper's say on the accounts (INVOICE_ACCOUNTS).
INVOICE_EVENT_TYPES: tuple[str, ...] = (
    "invoice.paid",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
)
# The Stripe event types the stack handles. The webhook answers 200 "ignored" for every other
# type, and README's list of events to select on the Stripe endpoint is this list.
SUPPORTED_EVENT_TYPES: tuple[str, ...] = DEFAULT_EVENT_TYPES + INVOICE_EVENT_TYPES
CHECKOUT_MODES: tuple[str, ...] = ("payment", "subscription", "setup")


class MatchRule(StrEnum):
    """How an unmapped Stripe customer is matched to an existing Fortnox customer."""

    EMAIL = "email"
    ORGANISATION_NUMBER = "organisation_number"
    NONE = "none"


class ConfigError(ValueError):
    """An environment value is missing or malformed."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _vat_rate(name: str, default: int) -> int:
    value = _int(name, default)
    if value not in (0, 6, 12, 25):
        raise ConfigError(f"{name} must be a Swedish VAT rate (0, 6, 12 or 25), got {value}")
    return value


def _csv(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _json_object(name: str) -> tuple[tuple[str, Any], ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(f"{name} must be a JSON object, got {raw[:60]!r}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return tuple(sorted(value.items()))


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    stripe_livemode: bool = False
    event_types: tuple[str, ...] = DEFAULT_EVENT_TYPES
    stripe_webhook_secret_name: str = ""
    fortnox_credentials_secret_name: str = ""
    fortnox_api_url: str = "https://api.fortnox.se/3"
    fortnox_auth_url: str = "https://apps.fortnox.se/oauth-v1"
    fortnox_timeout_seconds: float = 10.0
    fortnox_max_requests: int = 25
    fortnox_window_seconds: float = 5.0
    fortnox_max_attempts: int = 4
    queue_url: str = ""
    dead_letter_queue_url: str = ""
    mapping_table: str = ""
    idempotency_table: str = ""
    state_table: str = ""
    match_rule: MatchRule = MatchRule.EMAIL
    organisation_number_metadata_key: str = "organisation_number"
    vat_number_metadata_key: str = "vat_number"
    seller_country: str = "SE"
    secrets_max_age_seconds: int = 300
    checkout_modes: tuple[str, ...] = CHECKOUT_MODES
    payment_failure_comments: bool = False
    stripe_api_key_secret_name: str = ""
    # Only for tests and the local stack (localstripe); Lambda talks to api.stripe.com.
    stripe_api_base: str = ""
    payment_failure_topic_arn: str = ""
    activity_table: str = ""
    # Overrides of invoice_mapping.InvoiceAccounts (BAS defaults), as JSON: {"stripe_clearing": 1580}
    invoice_accounts: tuple[tuple[str, Any], ...] = ()
    # A completed Checkout Session in payment mode also becomes a paid Fortnox invoice.
    invoice_checkout_payments: bool = False
    # The VAT rate a bare PaymentIntent's amount includes for a Swedish (SEVAT) buyer; it carries
    # no tax breakdown. Buyers abroad (reverse charge, export) get 0.
    payment_intent_vat_rate: int = 25

    @property
    def invoices_enabled(self) -> bool:
        return self.invoice_checkout_payments or bool(set(INVOICE_EVENT_TYPES) & set(self.event_types))

    @classmethod
    def from_env(cls) -> Settings:
        rule_raw = os.environ.get("CUSTOMER_MATCH_RULE", MatchRule.EMAIL.value).strip().lower()
        try:
            rule = MatchRule(rule_raw)
        except ValueError:
            allowed = ", ".join(r.value for r in MatchRule)
            raise ConfigError(f"CUSTOMER_MATCH_RULE must be one of {allowed}, got {rule_raw!r}") from None
        event_types = _csv("ENABLED_EVENT_TYPES", DEFAULT_EVENT_TYPES)
        unknown = sorted(set(event_types) - set(SUPPORTED_EVENT_TYPES))
        if unknown:
            raise ConfigError(f"ENABLED_EVENT_TYPES has unsupported types: {', '.join(unknown)}")
        checkout_modes = _csv("CHECKOUT_MODES", CHECKOUT_MODES)
        bad_modes = sorted(set(checkout_modes) - set(CHECKOUT_MODES))
        if bad_modes:
            raise ConfigError(f"CHECKOUT_MODES has unknown modes: {', '.join(bad_modes)}")
        return cls(
            stage=os.environ.get("STAGE", "dev"),
            stripe_livemode=_bool("STRIPE_LIVEMODE", False),
            event_types=event_types,
            stripe_webhook_secret_name=os.environ.get("STRIPE_WEBHOOK_SECRET_NAME", ""),
            fortnox_credentials_secret_name=os.environ.get("FORTNOX_CREDENTIALS_SECRET_NAME", ""),
            fortnox_api_url=os.environ.get("FORTNOX_API_URL", "https://api.fortnox.se/3").rstrip("/"),
            fortnox_auth_url=os.environ.get("FORTNOX_AUTH_URL", "https://apps.fortnox.se/oauth-v1").rstrip(
                "/"
            ),
            fortnox_timeout_seconds=float(_int("FORTNOX_TIMEOUT_SECONDS", 10, minimum=1)),
            fortnox_max_requests=_int("FORTNOX_MAX_REQUESTS", 25, minimum=1),
            fortnox_window_seconds=float(_int("FORTNOX_WINDOW_SECONDS", 5, minimum=1)),
            fortnox_max_attempts=_int("FORTNOX_MAX_ATTEMPTS", 4, minimum=1),
            queue_url=os.environ.get("QUEUE_URL", ""),
            dead_letter_queue_url=os.environ.get("DEAD_LETTER_QUEUE_URL", ""),
            mapping_table=os.environ.get("MAPPING_TABLE", ""),
            idempotency_table=os.environ.get("IDEMPOTENCY_TABLE", ""),
            state_table=os.environ.get("STATE_TABLE", ""),
            match_rule=rule,
            organisation_number_metadata_key=os.environ.get(
                "ORGANISATION_NUMBER_METADATA_KEY", "organisation_number"
            ),
            vat_number_metadata_key=os.environ.get("VAT_NUMBER_METADATA_KEY", "vat_number"),
            seller_country=os.environ.get("SELLER_COUNTRY", "SE").strip().upper(),
            secrets_max_age_seconds=_int("SECRETS_MAX_AGE_SECONDS", 300),
            checkout_modes=checkout_modes,
            payment_failure_comments=_bool("PAYMENT_FAILURE_COMMENTS", False),
            stripe_api_key_secret_name=os.environ.get("STRIPE_API_KEY_SECRET_NAME", ""),
            stripe_api_base=os.environ.get("STRIPE_API_BASE", ""),
            payment_failure_topic_arn=os.environ.get("PAYMENT_FAILURE_TOPIC_ARN", ""),
            activity_table=os.environ.get("ACTIVITY_TABLE", ""),
            invoice_accounts=_json_object("INVOICE_ACCOUNTS"),
            invoice_checkout_payments=_bool("INVOICE_CHECKOUT_PAYMENTS", False),
            payment_intent_vat_rate=_vat_rate("PAYMENT_INTENT_VAT_RATE", 25),
        )
