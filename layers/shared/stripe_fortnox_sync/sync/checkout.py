"""Checkout events: the buyer becomes a Fortnox customer (a guest keyed by e-mail), and with
`InvoiceCheckoutPayments` a paid session in payment mode becomes a paid Fortnox invoice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.identity import as_mapping, checkout_email, expandable_id, guest_key
from stripe_fortnox_sync.sync.context import Context, combined, customer_id_of, ignored
from stripe_fortnox_sync.sync.customers import sync_customer
from stripe_fortnox_sync.sync.settlement import intent_settlement


def completed(ctx: Context, event: StripeEvent) -> SyncResult:
    """checkout.session.completed, checkout.session.async_payment_succeeded."""
    session = event.object
    mode = str(session.get("mode") or "")
    if mode not in ctx.settings.checkout_modes:
        return ignored(event, f"checkout mode {mode} not synced")
    customer = _buyer(ctx, event, session)
    if ctx.summary is not None and mode == "payment":
        # Here, not at the top: a stack that books no summaries never loads its machinery.
        from stripe_fortnox_sync.sync import summary_sales

        return summary_sales.checkout_sale(ctx, event, session, customer)
    if mode != "payment" or ctx.invoices is None or not ctx.settings.invoice_checkout_payments:
        return customer
    if session.get("payment_status") != "paid":
        return replace(
            customer, detail=f"{customer.detail} (not paid yet: invoiced when the payment succeeds)"
        )
    stripe_invoice = expandable_id(session.get("invoice"))
    if stripe_invoice and "invoice.paid" in ctx.enabled:
        # invoice_creation: Stripe invoiced the session itself and sends invoice.paid for it.
        return replace(customer, detail=f"{customer.detail} (booked from invoice.paid of {stripe_invoice})")
    if not customer.fortnox_number:
        raise PermanentEventError("no_customer", f"Checkout Session {session.get('id')}: {customer.detail}")
    session_id = str(session.get("id") or "")
    items = ctx.require_stripe(f"Checkout Session {session_id}'s line items").checkout_line_items(session_id)
    currency = str(session.get("currency") or "sek")
    invoice = ctx.invoices.checkout_paid(
        event,
        session,
        items,
        customer.fortnox_number,
        settlement_sek_minor=intent_settlement(ctx, currency, expandable_id(session.get("payment_intent"))),
    )
    return combined(customer, invoice)


def _buyer(ctx: Context, event: StripeEvent, session: Mapping[str, Any]) -> SyncResult:
    snapshot = _snapshot(session)
    customer_id = customer_id_of(session)
    tax_ids = as_mapping(session.get("customer_details")).get("tax_ids") or []
    if customer_id:
        return sync_customer(ctx, event, customer_id, snapshot=snapshot, snapshot_tax_ids=tax_ids)
    email = checkout_email(session)
    if not email:
        return ignored(event, "guest checkout without e-mail")
    # A guest has no Customer object: the Fortnox customer is keyed by e-mail, so a later
    # Stripe customer with the same address maps to it instead of a duplicate.
    guest = {**snapshot, "id": str(session.get("id") or ""), "email": email}
    return ctx.customers.upsert(event, guest, link_key=guest_key(email), partial=True, tax_ids=tax_ids)


def _snapshot(session: Mapping[str, Any]) -> dict[str, Any]:
    details = as_mapping(session.get("customer_details"))
    snapshot = {
        key: details.get(key)
        for key in ("name", "email", "phone", "address", "tax_exempt", "business_name", "individual_name")
    }
    shipping = as_mapping(session.get("collected_information")).get("shipping_details") or session.get(
        "shipping_details"
    )
    if shipping:
        snapshot["shipping"] = shipping
    return {k: v for k, v in snapshot.items() if v not in (None, "", {})}
