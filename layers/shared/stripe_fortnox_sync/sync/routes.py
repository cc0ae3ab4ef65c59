"""The route table: every Stripe event type the stack handles, in one place.

Each row says which handler applies the event, whether it is on by default or opt-in, which FIFO
message group it is queued in, and whether it needs the Stripe API key. The webhook (which types to
accept, which group), the settings (which types may be enabled, the default) and the sync (which
handler) all read it. Adding an event type is one row here and one handler function.

A row names its handler as `"module.function"` in `stripe_fortnox_sync.sync`, imported on the first
event that needs it: the webhook reads this table without any handler, and a sync that books no
sales or payouts never imports their machinery. That is most of a cold start (bench/RESULTS.md);
tests/unit/test_sync_routes.py proves every name resolves to a handler.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from stripe_fortnox_sync.core.errors import ConfigError, PermanentEventError
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.identity import (
    GroupKey,
    buyer_key,
    customer_key,
    group_id,
    payment_key,
    payout_key,
)

if TYPE_CHECKING:
    from stripe_fortnox_sync.sync.context import Context, Handler


class StripeKey(StrEnum):
    """What a route does without the Stripe API key (the StripeApiKey secret)."""

    # Applies the event's own payload; with a key, the object's current data.
    OPTIONAL = "optional"
    # Cannot be applied at all: parked as needs_stripe_key until a key is stored.
    REQUIRED = "required"


class Dedupe(StrEnum):
    """How a repeated delivery of an event is kept from doing anything twice."""

    # The idempotency table: a record written before and after applying (two writes an event),
    # for events whose repeat would do something again (a second e-mail to the bookkeeper).
    RECORD = "record"
    # Applying the event again finds its work done and changes nothing: a customer's mapping names
    # the last event it applied, a Fortnox document carries the Stripe id it was made for. A repeat
    # costs the reads that find it, and no idempotency record is written for every first delivery.
    REPEAT_SAFE = "repeat_safe"


class Family(StrEnum):
    CUSTOMERS = "customers"
    CHECKOUT = "checkout"
    SUBSCRIPTIONS = "subscriptions and payment failures"
    SALES = "sales"
    REFUNDS = "refunds"
    PAYOUTS = "payouts"
    DISPUTES = "disputes"


@dataclass(frozen=True)
class Route:
    event_type: str
    # "module.function" in stripe_fortnox_sync.sync (see `handler_of`).
    handler: str
    family: Family
    # On unless ENABLED_EVENT_TYPES says otherwise. Opt-in types book sales: they need the Fortnox
    # invoice and payment scopes and the bookkeeper's say on the accounts.
    default: bool
    group: GroupKey
    stripe_key: StripeKey = StripeKey.OPTIONAL
    # Builds the invoice machinery (InvoiceSync) when enabled.
    books_sales: bool = False
    dedupe: Dedupe = Dedupe.RECORD
    # Builds the payout machinery (PayoutSync: vouchers) when enabled.
    books_payouts: bool = False


def _payout(event_type: str, handler: str) -> Route:
    # Payouts are read from Stripe (Balance and Payouts: Read) and booked as vouchers.
    return Route(
        event_type, handler, Family.PAYOUTS, False, payout_key, StripeKey.REQUIRED, books_payouts=True
    )


def _refund(event_type: str, handler: str) -> Route:
    # Refunds credit the sale: one group with the payment, found done again by the credit's Stripe id.
    return Route(
        event_type, handler, Family.REFUNDS, False, payment_key, books_sales=True, dedupe=Dedupe.REPEAT_SAFE
    )


def _dispute(event_type: str, handler: str) -> Route:
    # A lost dispute credits the sale like a refund: one group with the payment's refunds.
    return Route(
        event_type, handler, Family.DISPUTES, False, payment_key, StripeKey.REQUIRED, books_sales=True
    )


# Rows are long; these name the columns that repeat.
SAFE = Dedupe.REPEAT_SAFE
CUST, CHECKOUT, SUBS = Family.CUSTOMERS, Family.CHECKOUT, Family.SUBSCRIPTIONS

ROUTES: tuple[Route, ...] = (
    Route("customer.created", "customers.upserted", CUST, True, customer_key, dedupe=SAFE),
    Route("customer.updated", "customers.upserted", CUST, True, customer_key, dedupe=SAFE),
    Route("customer.deleted", "customers.deleted", CUST, True, customer_key, dedupe=SAFE),
    Route("customer.tax_id.created", "customers.tax_id_changed", CUST, True, customer_key),
    Route("customer.tax_id.updated", "customers.tax_id_changed", CUST, True, customer_key),
    Route("customer.tax_id.deleted", "customers.tax_id_changed", CUST, True, customer_key),
    Route("checkout.session.completed", "checkout.completed", CHECKOUT, True, buyer_key, dedupe=SAFE),
    Route(
        "customer.subscription.created",
        "subscriptions.subscription_changed",
        SUBS,
        True,
        customer_key,
        dedupe=SAFE,
    ),
    Route(
        "customer.subscription.deleted",
        "subscriptions.subscription_changed",
        SUBS,
        True,
        customer_key,
        dedupe=SAFE,
    ),
    # A repeat would e-mail the bookkeeper again: the idempotency record keeps it to once.
    Route("invoice.payment_failed", "subscriptions.payment_failed", SUBS, True, customer_key),
    Route(
        "invoice.paid", "sales.invoice_paid", Family.SALES, False, customer_key, books_sales=True, dedupe=SAFE
    ),
    Route(
        "checkout.session.async_payment_succeeded",
        "checkout.completed",
        CHECKOUT,
        False,
        buyer_key,
        books_sales=True,
        dedupe=SAFE,
    ),
    Route(
        "payment_intent.succeeded",
        "sales.payment_intent_succeeded",
        Family.SALES,
        False,
        customer_key,
        StripeKey.REQUIRED,
        books_sales=True,
        dedupe=SAFE,
    ),
    _refund("charge.refunded", "refunds.charge_refunded"),
    _refund("refund.created", "refunds.refund_changed"),
    _refund("refund.updated", "refunds.refund_changed"),
    _payout("payout.paid", "payouts.payout_settled"),
    _payout("payout.reconciliation_completed", "payouts.payout_settled"),
    _payout("payout.failed", "payouts.payout_reversed"),
    _payout("payout.canceled", "payouts.payout_reversed"),
    _dispute("charge.dispute.created", "disputes.dispute_created"),
    _dispute("charge.dispute.closed", "disputes.dispute_closed"),
)
BY_TYPE: Mapping[str, Route] = {route.event_type: route for route in ROUTES}
SUPPORTED_TYPES: tuple[str, ...] = tuple(route.event_type for route in ROUTES)
DEFAULT_TYPES: tuple[str, ...] = tuple(route.event_type for route in ROUTES if route.default)
OPT_IN_TYPES: tuple[str, ...] = tuple(route.event_type for route in ROUTES if not route.default)


def _any_key(event: Mapping[str, Any]) -> str | None:
    # An event of no route (a parked unknown type, a hostile one): group it as the most specific
    # route would.
    return payment_key(event) or buyer_key(event)


def message_group_id(event: Mapping[str, Any]) -> str:
    """The FIFO message group of a Stripe event (a dict with at least an `id`)."""
    route = BY_TYPE.get(str(event.get("type") or ""))
    return group_id(event, route.group if route else _any_key)


@cache
def _enabled(chosen: tuple[str, ...]) -> frozenset[str]:
    unknown = sorted(set(chosen) - set(SUPPORTED_TYPES))
    if unknown:
        raise ConfigError(f"ENABLED_EVENT_TYPES has unsupported types: {', '.join(unknown)}")
    return frozenset(chosen or DEFAULT_TYPES)


def enabled_types(settings: Settings) -> frozenset[str]:
    """The event types this stack handles: ENABLED_EVENT_TYPES, or the defaults when it is empty."""
    return _enabled(settings.event_types)


def books_sales(settings: Settings) -> bool:
    """Whether the invoice machinery is needed: a sales type is enabled, or Checkout invoicing is on."""
    enabled = enabled_types(settings)
    return settings.invoice_checkout_payments or any(
        r.books_sales and r.event_type in enabled for r in ROUTES
    )


def books_payouts(settings: Settings) -> bool:
    """Whether the payout machinery is needed: a payout type is enabled."""
    enabled = enabled_types(settings)
    return any(r.books_payouts and r.event_type in enabled for r in ROUTES)


def apply(ctx: Context, event: StripeEvent) -> SyncResult:
    """Run the event's handler."""
    route = BY_TYPE.get(event.type)
    if route is None:
        return SyncResult(event.id, event.type, "", Outcome.IGNORED, detail="type not handled")
    if route.stripe_key is StripeKey.REQUIRED and ctx.stripe is None:
        raise PermanentEventError(
            "needs_stripe_key",
            f"{event.type} events need the Stripe API: store a restricted key in the StripeApiKey secret; "
            "redrive",
        )
    return handler_of(route.handler)(ctx, event)


@cache
def handler_of(name: str) -> Handler:
    """The handler a route names, imported the first time an event needs it."""
    module, _, function = name.rpartition(".")
    return cast("Handler", getattr(importlib.import_module(f"stripe_fortnox_sync.sync.{module}"), function))
