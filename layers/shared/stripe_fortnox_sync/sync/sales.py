"""Sales: `invoice.paid` and `payment_intent.succeeded` become booked, paid Fortnox invoices.

The customer is synced first (created if missing); a sale in another currency is paid with the SEK
Stripe settled it for (its balance transaction), when a Stripe key can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.identity import as_mapping, expandable_id, guest_key
from stripe_fortnox_sync.mapping.sales import invoice_payment_intent
from stripe_fortnox_sync.mapping.vat import buyer_vat_type
from stripe_fortnox_sync.sync import summary_sales
from stripe_fortnox_sync.sync.context import (
    Context,
    books_no_sales,
    combined,
    customer_id_of,
    ignored,
    not_enabled,
)
from stripe_fortnox_sync.sync.customers import invoice_snapshot, sync_customer
from stripe_fortnox_sync.sync.settlement import charge_settlement, intent_settlement

# Swedish VAT applies to a bare payment from these buyers; the others buy VAT-free (reverse
# charge, export).
_VAT_CHARGED = (None, "SEVAT", "EUVAT")


def invoice_paid(ctx: Context, event: StripeEvent) -> SyncResult:
    """invoice.paid: subscription renewals and one-off Stripe invoices."""
    if books_no_sales(ctx):
        return not_enabled(event)
    invoice = event.object
    customer = sync_customer(
        ctx,
        event,
        customer_id_of(invoice) or "",
        snapshot=invoice_snapshot(invoice),
        snapshot_tax_ids=invoice.get("customer_tax_ids"),
    )
    if not customer.fortnox_number and ctx.summary is None:
        raise PermanentEventError("no_customer", f"invoice {invoice.get('id')}: {customer.detail}")
    invoice_id = str(invoice.get("id") or "")
    lines = None
    if as_mapping(invoice.get("lines")).get("has_more"):
        what = f"invoice {invoice_id}'s lines beyond the event's first page"
        lines = ctx.require_stripe(what).invoice_lines(invoice_id)
    currency = str(invoice.get("currency") or "sek")
    intent = expandable_id(invoice.get("payment_intent")) or invoice_payment_intent(invoice)
    if intent is None and ctx.stripe is not None:
        # API versions from 2025-03-31 name no PaymentIntent on the invoice; refunds find the
        # Fortnox invoice by it (ExternalInvoiceReference2).
        intent = ctx.stripe.payment_intent_of_invoice(invoice_id)
        if intent:
            invoice = {**invoice, "payment_intent": intent}
    if ctx.summary is not None:
        return summary_sales.invoice_sale(ctx, event, invoice, customer, intent, lines)
    assert ctx.invoices is not None and customer.fortnox_number
    settlement = intent_settlement(ctx, currency, intent)
    return ctx.invoices.paid(
        event, invoice, customer.fortnox_number, lines=lines, settlement_sek_minor=settlement
    )


def payment_intent_succeeded(ctx: Context, event: StripeEvent) -> SyncResult:
    """payment_intent.succeeded: only a payment no Stripe invoice or invoiced session took."""
    if books_no_sales(ctx):
        return not_enabled(event)
    intent_id = str(event.object.get("id") or "")
    stripe = ctx.require_stripe(
        f"PaymentIntent {intent_id} (to tell whether an invoice or a session took it)"
    )
    current = stripe.payment_intent(intent_id)
    if current is None or current.get("status") != "succeeded":
        return ignored(event, "not a succeeded payment", intent_id)
    invoice = expandable_id(current.get("invoice")) or stripe.invoice_of(intent_id)
    if invoice:
        return ignored(event, f"paid {invoice}: booked from invoice.paid", intent_id)
    # In summary mode every paid session in payment mode is recorded from its checkout event.
    sessions_book = ctx.settings.invoice_checkout_payments or ctx.summary is not None
    session = stripe.checkout_session_of(intent_id) if sessions_book else None
    if session:
        return ignored(event, f"taken by {session}: booked from checkout.session.completed", intent_id)
    charge = as_mapping(current.get("latest_charge"))
    billing = as_mapping(charge.get("billing_details"))
    customer, buyer = _payer(ctx, event, current, billing)
    if not customer.fortnox_number and ctx.summary is None:
        raise PermanentEventError("no_customer", f"PaymentIntent {intent_id}: {customer.detail}")
    vat_type = buyer_vat_type(
        buyer.get("address") or billing.get("address"),
        buyer.get("shipping"),
        buyer.get("tax_exempt"),
        as_mapping(buyer.get("tax_ids")).get("data"),
        ctx.settings.seller_country,
    )
    if ctx.summary is not None:
        return summary_sales.intent_sale(ctx, event, current, customer, buyer, vat_type)
    assert ctx.invoices is not None and customer.fortnox_number
    currency = str(current.get("currency") or "sek")
    booked = ctx.invoices.payment_intent_paid(
        event,
        current,
        customer.fortnox_number,
        vat_rate=ctx.settings.payment_intent_vat_rate if vat_type in _VAT_CHARGED else 0,
        vat_type=vat_type,
        settlement_sek_minor=charge_settlement(ctx, currency, charge),
    )
    return combined(customer, booked)


def _payer(
    ctx: Context, event: StripeEvent, intent: Mapping[str, Any], billing: Mapping[str, Any]
) -> tuple[SyncResult, Mapping[str, Any]]:
    """The Fortnox customer a bare payment is invoiced to, and the Stripe customer behind it."""
    customer_id = customer_id_of(intent)
    if customer_id:
        customer = sync_customer(ctx, event, customer_id)
        return customer, (ctx.stripe.fetch_customer(customer_id) if ctx.stripe else None) or {}
    intent_id = str(intent.get("id") or "")
    email = billing.get("email") or intent.get("receipt_email")
    if not isinstance(email, str) or "@" not in email:
        raise PermanentEventError(
            "no_customer", f"PaymentIntent {intent_id} has neither a customer nor an e-mail to invoice"
        )
    guest = {k: billing.get(k) for k in ("name", "phone", "address") if billing.get(k)}
    guest |= {"id": intent_id, "email": email}
    return ctx.customers.upsert(event, guest, link_key=guest_key(email), partial=True), {}
