"""The sales routes in summary mode (BookingMode summary): each payment, refund or lost dispute is
recorded for its Stockholm day (summary_sync.py) instead of becoming a Fortnox invoice or credit.
The customer is synced first, as in invoices mode.

The day: a payment's charge's `created` (an invoice's `paid_at`), a refund's or a dispute's own
`created`, in Stockholm time. The SEK: what Stripe settled (the balance transaction) for a payment in
another currency; the amount itself in SEK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.dates import first_timestamp, swedish_date
from stripe_fortnox_sync.mapping.identity import as_mapping, expandable_id
from stripe_fortnox_sync.mapping.money import as_int
from stripe_fortnox_sync.mapping.summary import Buyer, tax_entries
from stripe_fortnox_sync.mapping.vat import buyer_vat_type
from stripe_fortnox_sync.sync.context import Context, combined, ignored
from stripe_fortnox_sync.sync.settlement import charge_settlement, intent_settlement
from stripe_fortnox_sync.sync.summary_sync import Sale, SummarySync


def _summary(ctx: Context) -> SummarySync:
    assert ctx.summary is not None
    return ctx.summary


def _day(*timestamps: object) -> Any:
    moment = first_timestamp(*timestamps)
    if moment is None:
        raise PermanentEventError("bad_payload", "the payment has no date")
    return swedish_date(moment)


def _country(*addresses: object) -> str | None:
    for address in addresses:
        country = as_mapping(address).get("country")
        if isinstance(country, str) and country:
            return country.upper()
    return None


def _sek(ctx: Context, currency: str, total: int, settled: int | None, what: str) -> int:
    if currency.lower() == "sek":
        return total
    if settled is None:
        raise PermanentEventError(
            "needs_stripe_key",
            f"{what} is in {currency.upper()}: the SEK Stripe settled it for needs the Stripe API (its "
            "balance transaction); store a restricted key in the StripeApiKey secret; redrive",
        )
    return settled


def invoice_sale(
    ctx: Context,
    event: StripeEvent,
    invoice: Mapping[str, Any],
    customer: SyncResult,
    intent: str | None,
    lines: list[dict[str, Any]] | None = None,
) -> SyncResult:
    """invoice.paid: the invoice's total, per its `total_taxes` (or `total_tax_amounts`)."""
    invoice_id = str(invoice.get("id") or "")
    total = as_int(invoice.get("total"), "invoice total")
    if total == 0:
        return combined(customer, ignored(event, "nothing paid", invoice_id))
    currency = str(invoice.get("currency") or "sek")
    settled = intent_settlement(ctx, currency, intent)
    vat_type = buyer_vat_type(
        invoice.get("customer_address"),
        invoice.get("customer_shipping"),
        invoice.get("customer_tax_exempt"),
        invoice.get("customer_tax_ids"),
        ctx.settings.seller_country,
    )
    transitions = as_mapping(invoice.get("status_transitions"))
    sale = Sale(
        sale_id=intent or invoice_id,
        day=_day(transitions.get("paid_at"), invoice.get("effective_at"), invoice.get("created")),
        total=total,
        sek=_sek(ctx, currency, total, settled, f"invoice {invoice_id}"),
        taxes=tax_entries(invoice, lines),
        buyer=Buyer(
            _country(
                invoice.get("customer_address"), as_mapping(invoice.get("customer_shipping")).get("address")
            ),
            vat_type,
        ),
        what=f"invoice {invoice_id}",
    )
    return combined(customer, _summary(ctx).record_sale(event, sale))


def intent_sale(
    ctx: Context,
    event: StripeEvent,
    intent: Mapping[str, Any],
    customer: SyncResult,
    buyer: Mapping[str, Any],
    vat_type: str | None,
) -> SyncResult:
    """payment_intent.succeeded (no invoice or session took it): no tax data, so the buyer decides;
    a Swedish buyer's amount includes PaymentIntentVatRate, an EU consumer's is parked."""
    intent_id = str(intent.get("id") or "")
    charge = as_mapping(intent.get("latest_charge"))
    billing = as_mapping(charge.get("billing_details"))
    received = intent.get("amount_received")
    total = as_int(received if received else intent.get("amount"), "PaymentIntent amount")
    currency = str(intent.get("currency") or "sek")
    sale = Sale(
        sale_id=intent_id,
        day=_day(charge.get("created"), intent.get("created")),
        total=total,
        sek=_sek(
            ctx, currency, total, charge_settlement(ctx, currency, charge), f"PaymentIntent {intent_id}"
        ),
        taxes=None,
        buyer=Buyer(
            _country(
                buyer.get("address"), billing.get("address"), as_mapping(buyer.get("shipping")).get("address")
            ),
            vat_type,
        ),
        what=f"PaymentIntent {intent_id}",
        untaxed_rate=ctx.settings.payment_intent_vat_rate,
    )
    return combined(customer, _summary(ctx).record_sale(event, sale))


def checkout_sale(
    ctx: Context, event: StripeEvent, session: Mapping[str, Any], customer: SyncResult
) -> SyncResult:
    """A paid Checkout Session in payment mode, per `total_details.breakdown.taxes` (read with the
    breakdown expanded when the event lacks it)."""
    session_id = str(session.get("id") or "")
    if session.get("payment_status") != "paid":
        return combined(
            customer, ignored(event, "not paid yet: recorded when the payment succeeds", session_id)
        )
    stripe_invoice = expandable_id(session.get("invoice"))
    if stripe_invoice and "invoice.paid" in ctx.enabled:
        return combined(
            customer, ignored(event, f"recorded from invoice.paid of {stripe_invoice}", session_id)
        )
    if as_mapping(session.get("total_details")).get("breakdown") is None and ctx.stripe is not None:
        session = ctx.stripe.checkout_session(session_id) or session
    intent = expandable_id(session.get("payment_intent"))
    total = as_int(session.get("amount_total"), "session amount_total")
    if total == 0:
        return combined(customer, ignored(event, "nothing paid", session_id))
    currency = str(session.get("currency") or "sek")
    details = as_mapping(session.get("customer_details"))
    shipping = as_mapping(as_mapping(session.get("collected_information")).get("shipping_details"))
    vat_type = buyer_vat_type(
        details.get("address"),
        shipping,
        details.get("tax_exempt"),
        details.get("tax_ids"),
        ctx.settings.seller_country,
    )
    sale = Sale(
        sale_id=intent or session_id,
        day=_day(session.get("created")),
        total=total,
        sek=_sek(
            ctx, currency, total, intent_settlement(ctx, currency, intent), f"Checkout Session {session_id}"
        ),
        taxes=tax_entries(session),
        buyer=Buyer(_country(details.get("address"), shipping.get("address")), vat_type),
        what=f"Checkout Session {session_id}",
    )
    return combined(customer, _summary(ctx).record_sale(event, sale))


def refund(ctx: Context, event: StripeEvent, refund: Mapping[str, Any], settled: int | None) -> SyncResult:
    """A succeeded refund: its sale's parts reversed, in proportion, on the refund's day."""
    refund_id = str(refund.get("id") or "")
    currency = str(refund.get("currency") or "sek")
    amount = as_int(refund.get("amount"), "refund amount")
    sek = _sek(ctx, currency, amount, settled, f"refund {refund_id}")
    sale_id = expandable_id(refund.get("payment_intent")) or expandable_id(refund.get("charge")) or ""
    day = _day(refund.get("created"), event.created)
    return _summary(ctx).record_refund(event, refund_id, sale_id, day, abs(sek))


def dispute_lost(
    ctx: Context, event: StripeEvent, dispute: Mapping[str, Any], settled: int | None
) -> SyncResult:
    """A lost dispute: its sale's parts reversed like a refund, against dispute clearing (1515), where
    the payout voucher put the withdrawn amount."""
    dispute_id = str(dispute.get("id") or "")
    currency = str(dispute.get("currency") or "sek")
    amount = as_int(dispute.get("amount"), "dispute amount")
    sek = _sek(ctx, currency, amount, settled, f"dispute {dispute_id}")
    sale_id = expandable_id(dispute.get("payment_intent")) or ""
    day = _day(event.created, dispute.get("created"))
    return _summary(ctx).record_refund(event, dispute_id, sale_id, day, abs(sek), kind="dispute")
