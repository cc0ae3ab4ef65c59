"""Paid Stripe sales as Fortnox invoices: Stripe Invoices, Checkout Sessions and bare PaymentIntents.

Each reads its Stripe object into an `InvoiceSource` (lines, total, dates, references) and leaves the
rows to `invoice_rows`; the external references make the sync idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.dates import first_timestamp, swedish_date
from stripe_fortnox_sync.mapping.fortnox_invoice import (
    MappedInvoice,
    external_reference,
    required_customer_number,
)
from stripe_fortnox_sync.mapping.identity import as_mapping, expandable_id
from stripe_fortnox_sync.mapping.invoice_rows import InvoiceSource, build_invoice
from stripe_fortnox_sync.mapping.money import (
    as_int,
    currency_code,
    fortnox_amount,
    json_number,
    minor_to_decimal,
)
from stripe_fortnox_sync.mapping.stripe_lines import Line, checkout_line, invoice_line, shipping_line
from stripe_fortnox_sync.mapping.text import first_description
from stripe_fortnox_sync.mapping.vat import FORTNOX_VAT_RATES, buyer_vat_type, fortnox_row_vat


def map_stripe_invoice(
    invoice: Mapping[str, Any],
    customer_number: str,
    accounts: BookkeepingAccounts | None = None,
    *,
    lines: Sequence[Mapping[str, Any]] | None = None,
    vat_type: str | None = None,
    seller_country: str = "SE",
) -> MappedInvoice:
    """A paid Stripe Invoice (JSON) as a Fortnox invoice for customer_number.

    `lines`: every line of the invoice, when the payload's `lines` list is cut short (`has_more`:
    webhooks carry at most the first page; fetch the rest with the Stripe API). `vat_type`: the Fortnox
    customer's VATType; by default derived from the invoice's customer address and tax ids.
    ExternalInvoiceReference1 is the Stripe invoice id (the idempotency key), ExternalInvoiceReference2
    the PaymentIntent id when the invoice names it (refunds carry it).
    """
    stripe_id = external_reference(invoice.get("id"), "Stripe invoice id")
    currency = currency_code(invoice.get("currency"))
    parsed = _invoice_lines(invoice, stripe_id, lines)
    if vat_type is None:
        vat_type = buyer_vat_type(
            invoice.get("customer_address"),
            invoice.get("customer_shipping"),
            invoice.get("customer_tax_exempt"),
            invoice.get("customer_tax_ids"),
            seller_country,
        )
    transitions = as_mapping(invoice.get("status_transitions"))
    issued = first_timestamp(
        transitions.get("finalized_at"), invoice.get("effective_at"), invoice.get("created")
    )
    if issued is None:
        raise InvoiceMappingError(f"invoice {stripe_id} has no date")
    due = first_timestamp(invoice.get("due_date"))
    number = invoice.get("number")
    remarks = f"Stripe-faktura {number} ({stripe_id})" if isinstance(number, str) else f"Stripe {stripe_id}"
    source = InvoiceSource(
        lines=parsed,
        currency=currency,
        total=as_int(invoice.get("total"), "invoice total"),
        customer_number=required_customer_number(customer_number),
        invoice_date=swedish_date(issued),
        due_date=swedish_date(due) if due else swedish_date(issued),
        reference1=stripe_id,
        reference2=expandable_id(invoice.get("payment_intent")) or invoice_payment_intent(invoice),
        remarks=remarks,
        vat_type=vat_type,
    )
    return build_invoice(source, accounts or BookkeepingAccounts(), [])


def _invoice_lines(
    invoice: Mapping[str, Any], stripe_id: str, lines: Sequence[Mapping[str, Any]] | None
) -> tuple[Line, ...]:
    """The invoice's lines (from the event unless given) and its shipping."""
    if lines is None:
        listing = as_mapping(invoice.get("lines"))
        if listing.get("has_more"):
            raise InvoiceMappingError(
                f"invoice {stripe_id} has more lines than the event carries: fetch them and pass lines="
            )
        lines = [line for line in listing.get("data") or [] if isinstance(line, Mapping)]
    parsed = [invoice_line(line, i) for i, line in enumerate(lines)]
    shipping = as_mapping(invoice.get("shipping_cost"))
    if as_int(invoice.get("amount_shipping") or 0, "amount_shipping") and shipping:
        parsed.append(shipping_line(shipping))
    return tuple(parsed)


def invoice_payment_intent(invoice: Mapping[str, Any]) -> str | None:
    """The PaymentIntent in an invoice's `payments` list (API versions from 2025, when expanded)."""
    payments = as_mapping(invoice.get("payments")).get("data")
    for payment in payments if isinstance(payments, list) else []:
        found = expandable_id(as_mapping(as_mapping(payment).get("payment")).get("payment_intent"))
        if found and as_mapping(payment).get("status") in (None, "paid"):
            return found
    return None


def map_checkout_session(
    session: Mapping[str, Any],
    line_items: Sequence[Mapping[str, Any]],
    customer_number: str,
    accounts: BookkeepingAccounts | None = None,
    *,
    vat_type: str | None = None,
    seller_country: str = "SE",
) -> MappedInvoice:
    """A completed Checkout Session in payment mode, with its line items (fetched from the Stripe API:
    GET /v1/checkout/sessions/{id}/line_items, every page), as a paid-to-be Fortnox invoice.

    ExternalInvoiceReference1 and 2 are the session's PaymentIntent id, so that a
    payment_intent.succeeded for the same payment finds this invoice instead of making a second one.
    """
    warnings: list[FieldWarning] = []
    session_id = external_reference(session.get("id"), "Checkout Session id")
    if session.get("mode") not in (None, "payment"):
        raise InvoiceMappingError(f"session {session_id} is in {session.get('mode')} mode, not payment")
    currency = currency_code(session.get("currency"))
    parsed = _session_lines(session, line_items, warnings)
    details = as_mapping(session.get("customer_details"))
    if vat_type is None:
        vat_type = buyer_vat_type(
            details.get("address"),
            as_mapping(session.get("collected_information")).get("shipping_details"),
            details.get("tax_exempt"),
            details.get("tax_ids"),
            seller_country,
        )
    created = first_timestamp(session.get("created"))
    if created is None:
        raise InvoiceMappingError(f"session {session_id} has no date")
    payment_intent = expandable_id(session.get("payment_intent"))
    source = InvoiceSource(
        lines=parsed,
        currency=currency,
        total=as_int(session.get("amount_total"), "session amount_total"),
        customer_number=required_customer_number(customer_number),
        invoice_date=swedish_date(created),
        due_date=swedish_date(created),
        reference1=external_reference(payment_intent or session_id, "PaymentIntent id"),
        reference2=payment_intent,
        remarks=f"Stripe Checkout {session_id}",
        vat_type=vat_type,
    )
    return build_invoice(source, accounts or BookkeepingAccounts(), warnings)


def _session_lines(
    session: Mapping[str, Any], line_items: Sequence[Mapping[str, Any]], warnings: list[FieldWarning]
) -> tuple[Line, ...]:
    """The session's line items and its shipping."""
    parsed = [
        checkout_line(item, i, warnings) for i, item in enumerate(line_items) if isinstance(item, Mapping)
    ]
    shipping = as_mapping(session.get("shipping_cost"))
    shipping_amount = as_mapping(session.get("total_details")).get("amount_shipping")
    if as_int(shipping_amount or 0, "amount_shipping") and shipping:
        parsed.append(shipping_line(shipping))
    return tuple(parsed)


def map_payment_intent(
    payment_intent: Mapping[str, Any],
    customer_number: str,
    accounts: BookkeepingAccounts | None = None,
    *,
    vat_rate: int = 0,
    vat_type: str | None = None,
    description: str | None = None,
) -> MappedInvoice:
    """A succeeded PaymentIntent without a Stripe invoice or Checkout line items: one row.

    A PaymentIntent carries no tax breakdown, so `vat_rate` says which VAT the amount includes
    (0: none); the row is VAT-inclusive, so the total is exact whatever the rate.
    """
    accounts = accounts or BookkeepingAccounts()
    intent_id = external_reference(payment_intent.get("id"), "PaymentIntent id")
    currency = currency_code(payment_intent.get("currency"))
    received = payment_intent.get("amount_received")
    amount = as_int(received if received else payment_intent.get("amount"), "PaymentIntent amount")
    if vat_rate not in FORTNOX_VAT_RATES:
        raise InvoiceMappingError(f"VAT rate {vat_rate} is not one Fortnox has")
    created = first_timestamp(payment_intent.get("created"))
    if created is None:
        raise InvoiceMappingError(f"PaymentIntent {intent_id} has no date")
    price = fortnox_amount(minor_to_decimal(amount, currency), "amount")
    row = {
        "Description": first_description(
            description, payment_intent.get("description"), fallback=f"Stripe-betalning {intent_id}"
        ),
        "DeliveredQuantity": "1",
        "Price": json_number(price),
        "VAT": vat_rate,
        "AccountNumber": accounts.sales_account(vat_type, vat_rate),
    }
    day = swedish_date(created).isoformat()
    payload: dict[str, Any] = {
        "CustomerNumber": required_customer_number(customer_number),
        "Currency": currency,
        "InvoiceDate": day,
        "DueDate": day,
        "ExternalInvoiceReference1": intent_id,
        "ExternalInvoiceReference2": intent_id,
        "VATIncluded": True,
        "InvoiceRows": [row],
        "Remarks": f"Stripe PaymentIntent {intent_id}",
    }
    warning = FieldWarning(
        "InvoiceRows[0].VAT", f"no tax information on a PaymentIntent: {vat_rate} % VAT assumed"
    )
    return MappedInvoice(payload, currency, price, fortnox_row_vat(price, vat_rate, True), None, (warning,))
