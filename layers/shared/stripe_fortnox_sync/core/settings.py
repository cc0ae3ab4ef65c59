"""Configuration read once per cold start from the function's environment.

Each setting is declared once, as a field of `Settings`: its environment variable, the stack
parameter or stack resource that sets it in template.yaml, its default and its parser. The template
test, the local stack and the operator commands all read `SETTINGS`, so a new setting is one field.

Secrets never live here: only the *names* of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any

from stripe_fortnox_sync.core.parsers import (
    CHECKOUT_MODES,
    Parser,
    boolean,
    choice,
    json_object,
    names,
    optional_date,
    seconds,
    text,
    upper,
    url,
    vat_rate,
    voucher_series,
    whole,
)


class MatchRule(StrEnum):
    """How an unmapped Stripe customer is matched to an existing Fortnox customer."""

    EMAIL = "email"
    ORGANISATION_NUMBER = "organisation_number"
    NONE = "none"


class FeeVat(StrEnum):
    """How the VAT on Stripe's fees is booked (the bookkeeper decides; see docs/payouts.md)."""

    # Stripe (Ireland) charges no VAT to EU businesses outside Ireland: the buyer self-accounts
    # output and input VAT at 25 % (2614 / 2645), which cancel out but must be reported.
    REVERSE_CHARGE = "reverse_charge"
    # Some Swedish guides book the fee as a VAT-free financial service.
    NONE = "none"


class BookingMode(StrEnum):
    """How sales reach Fortnox (docs/summary-booking.md): an invoice per payment, or one voucher a day."""

    INVOICES = "invoices"
    SUMMARY = "summary"


# Declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """How one `Settings` field reaches a function: see `setting()`."""

    name: str
    env: str
    default: Any
    parse: Parser
    parameter: str = ""
    resource: str = ""
    output: str = ""
    from_parameter: Callable[[str], str] | None = None

    def env_value(self, parameter_value: str) -> str:
        """The environment value the template derives from the stack parameter's value."""
        return self.from_parameter(parameter_value) if self.from_parameter else parameter_value

    def render(self, value: Any) -> str:
        """A value as the environment variable would hold it."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        if isinstance(value, tuple):
            return json.dumps(dict(value)) if value else ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


def setting(
    env: str,
    default: Any,
    parse: Parser = text,
    *,
    parameter: str = "",
    resource: str = "",
    output: str = "",
    from_parameter: Callable[[str], str] | None = None,
) -> Any:
    """A `Settings` field: `env` sets it, else `default`.

    `parameter`: the template parameter the function's `env` is set from; `resource`: the template
    resource whose Ref it is (queues, tables, secrets, topics), and `output` the stack output that
    gives the same value to the operator commands. Neither: the template does not set it.
    """
    declared = {
        "env": env,
        "parse": parse,
        "parameter": parameter,
        "resource": resource,
        "output": output,
        "from_parameter": from_parameter,
    }
    return field(default=default, metadata=declared)


def _live(mode: str) -> str:
    return "true" if mode == "live" else "false"


@dataclass(frozen=True)
class Settings:
    stage: str = setting("STAGE", "dev", parameter="Stage")
    stripe_livemode: bool = setting(
        "STRIPE_LIVEMODE", False, boolean, parameter="StripeMode", from_parameter=_live
    )
    # Empty: the route table's defaults (`sync.routes.enabled_types` resolves and checks them).
    event_types: tuple[str, ...] = setting(
        "ENABLED_EVENT_TYPES", (), names(what="event types"), parameter="EnabledEventTypes"
    )
    stripe_webhook_secret_name: str = setting(
        "STRIPE_WEBHOOK_SECRET_NAME", "", resource="StripeWebhookSecret", output="StripeWebhookSecretArn"
    )
    # A Connect platform's endpoint (`/webhook/connect`): its signing secret(s); docs/tenants.md.
    stripe_connect_webhook_secret_name: str = setting(
        "STRIPE_CONNECT_WEBHOOK_SECRET_NAME",
        "",
        resource="StripeConnectWebhookSecret",
        output="StripeConnectWebhookSecretArn",
    )
    fortnox_credentials_secret_name: str = setting(
        "FORTNOX_CREDENTIALS_SECRET_NAME",
        "",
        resource="FortnoxCredentialsSecret",
        output="FortnoxCredentialsSecretArn",
    )
    fortnox_api_url: str = setting(
        "FORTNOX_API_URL", "https://api.fortnox.se/3", url, parameter="FortnoxApiUrl"
    )
    fortnox_auth_url: str = setting(
        "FORTNOX_AUTH_URL", "https://apps.fortnox.se/oauth-v1", url, parameter="FortnoxAuthUrl"
    )
    fortnox_timeout_seconds: float = setting("FORTNOX_TIMEOUT_SECONDS", 10.0, seconds(1))
    fortnox_max_requests: int = setting("FORTNOX_MAX_REQUESTS", 25, whole(1))
    fortnox_window_seconds: float = setting("FORTNOX_WINDOW_SECONDS", 5.0, seconds(1))
    fortnox_max_attempts: int = setting("FORTNOX_MAX_ATTEMPTS", 4, whole(1))
    # The event queue's maxReceiveCount: on its last receive an event that still fails is parked
    # with the reason, rather than moved by SQS with none.
    max_receives: int = setting("MAX_RECEIVE_COUNT", 5, whole(2), parameter="MaxReceiveCount")
    queue_url: str = setting("QUEUE_URL", "", resource="EventQueue", output="EventQueueUrl")
    dead_letter_queue_url: str = setting(
        "DEAD_LETTER_QUEUE_URL", "", resource="DeadLetterQueue", output="DeadLetterQueueUrl"
    )
    mapping_table: str = setting("MAPPING_TABLE", "", resource="MappingTable", output="MappingTableName")
    idempotency_table: str = setting(
        "IDEMPOTENCY_TABLE", "", resource="IdempotencyTable", output="IdempotencyTableName"
    )
    state_table: str = setting("STATE_TABLE", "", resource="StateTable", output="StateTableName")
    match_rule: MatchRule = setting(
        "CUSTOMER_MATCH_RULE", MatchRule.EMAIL, choice(MatchRule), parameter="CustomerMatchRule"
    )
    organisation_number_metadata_key: str = setting(
        "ORGANISATION_NUMBER_METADATA_KEY", "organisation_number", parameter="OrganisationNumberMetadataKey"
    )
    vat_number_metadata_key: str = setting(
        "VAT_NUMBER_METADATA_KEY", "vat_number", parameter="VatNumberMetadataKey"
    )
    seller_country: str = setting("SELLER_COUNTRY", "SE", upper, parameter="SellerCountry")
    secrets_max_age_seconds: int = setting("SECRETS_MAX_AGE_SECONDS", 300, whole())
    checkout_modes: tuple[str, ...] = setting(
        "CHECKOUT_MODES", CHECKOUT_MODES, names(CHECKOUT_MODES, "modes"), parameter="CheckoutModes"
    )
    payment_failure_comments: bool = setting(
        "PAYMENT_FAILURE_COMMENTS", False, boolean, parameter="PaymentFailureComments"
    )
    stripe_api_key_secret_name: str = setting(
        "STRIPE_API_KEY_SECRET_NAME", "", resource="StripeApiKeySecret", output="StripeApiKeySecretArn"
    )
    # Only for tests and the local stack (localstripe); Lambda talks to api.stripe.com.
    stripe_api_base: str = setting("STRIPE_API_BASE", "")
    payment_failure_topic_arn: str = setting(
        "PAYMENT_FAILURE_TOPIC_ARN", "", resource="PaymentFailureTopic", output="PaymentFailureTopicArn"
    )
    activity_table: str = setting("ACTIVITY_TABLE", "", resource="ActivityTable", output="ActivityTableName")
    # Overrides of mapping's BookkeepingAccounts (BAS defaults), as JSON: {"stripe_clearing": 1580}.
    # INVOICE_ACCOUNTS is its name from before payouts, still read: BOOKKEEPING_ACCOUNTS wins key by key.
    bookkeeping_accounts: tuple[tuple[str, Any], ...] = setting(
        "BOOKKEEPING_ACCOUNTS", (), json_object, parameter="BookkeepingAccounts"
    )
    invoice_accounts: tuple[tuple[str, Any], ...] = setting(
        "INVOICE_ACCOUNTS", (), json_object, parameter="InvoiceAccounts"
    )
    # A completed Checkout Session in payment mode also becomes a paid Fortnox invoice.
    invoice_checkout_payments: bool = setting(
        "INVOICE_CHECKOUT_PAYMENTS", False, boolean, parameter="InvoiceCheckoutPayments"
    )
    # The VAT rate a bare PaymentIntent's amount includes for a Swedish (SEVAT) buyer; it carries
    # no tax breakdown. Buyers abroad (reverse charge, export) get 0.
    payment_intent_vat_rate: int = setting(
        "PAYMENT_INTENT_VAT_RATE", 25, vat_rate, parameter="PaymentIntentVatRate"
    )
    # Payouts (docs/payouts.md): the voucher series they are booked in (it must allow manual vouchers),
    # how Stripe's fees carry VAT, how many rows a voucher itemises (one per Stripe id) before it
    # books one row per category and attaches the itemised report, and the day invoices were turned
    # on: a charge from before it that has no Fortnox sale is booked as a sale inside the payout.
    payout_voucher_series: str = setting(
        "PAYOUT_VOUCHER_SERIES", "A", voucher_series, parameter="PayoutVoucherSeries"
    )
    fee_vat: FeeVat = setting(
        "STRIPE_FEE_VAT", FeeVat.REVERSE_CHARGE, choice(FeeVat), parameter="StripeFeeVat"
    )
    payout_itemised_rows: int = setting("PAYOUT_ITEMISED_ROWS", 50, whole(1), parameter="PayoutItemisedRows")
    sales_start_date: date | None = setting(
        "SALES_START_DATE", None, optional_date, parameter="SalesStartDate"
    )
    # summary: no invoice or credit per payment; one sales voucher per Stockholm day (summary-booking.md).
    booking_mode: BookingMode = setting(
        "BOOKING_MODE", BookingMode.INVOICES, choice(BookingMode), parameter="BookingMode"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for declared in SETTINGS:
            raw = env.get(declared.env)
            if raw is not None and raw.strip() != "":
                values[declared.name] = declared.parse(declared.env, raw)
        return cls(**values)


def _declared(f: Any) -> Setting:
    meta = f.metadata
    default = f.default if f.default is not MISSING else None
    return Setting(
        f.name,
        meta["env"],
        default,
        meta["parse"],
        meta["parameter"],
        meta["resource"],
        meta["output"],
        meta["from_parameter"],
    )


SETTINGS: tuple[Setting, ...] = tuple(_declared(f) for f in fields(Settings))
