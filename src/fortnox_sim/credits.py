"""Credit invoices: PUT /3/invoices/{n}/credit, and a POST with CreditInvoiceReference.

PUT /credit copies every row with the quantity negated (and the external references) into a new
credit invoice dated today, links both ways through `CreditInvoiceReference`, and works once per
invoice (reported Fortnox behaviour). A POST with `CreditInvoiceReference` makes a partial credit; any
number of them is accepted while their totals (before öresavrundning) stay within the invoice's,
unless the knob `one_connected_credit` is on: then an invoice that has a credit invoice takes no other
(Fortnox's interface offers one; whether its API refuses a second is not documented, so both are
simulated). A credit invoice has its own negative balance, settled by a negative payment (the refund
paid out).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .amounts import ocr
from .invoice_content import recompute
from .ledger import InvoiceBook, check_not_cancelled, render_invoice
from .postings import NO_VOUCHER
from .replies import Response, _bad
from .resource import Call
from .validation import to_decimal

__all__ = ["credit_invoice", "credit_reference", "link_credit"]

_NO_REFERENCE = (None, "", "0")


def credit_reference(
    book: InvoiceBook, invoice: dict[str, Any], reference: str | None, *, one_only: bool = False
) -> dict[str, Any] | None:
    """Check a credit invoice against the invoice it credits; None when it is no credit.

    one_only: an invoice that already has a credit invoice takes no other.
    """
    if reference in _NO_REFERENCE:
        return None
    original = book.invoices.get(str(reference))
    if original is None:
        raise _bad("invalid_credit_reference", f"CreditInvoiceReference {reference}: no such invoice")
    if original["Cancelled"]:
        raise _bad("invalid_credit_reference", f"Invoice {reference} is cancelled and cannot be credited")
    if original["Credit"] == "true":
        raise _bad("invalid_credit_reference", f"Invoice {reference} is itself a credit invoice")
    if original["CustomerNumber"] != invoice["CustomerNumber"] or original["Currency"] != invoice["Currency"]:
        raise _bad(
            "invalid_credit_reference", "A credit invoice must have its invoice's customer and currency"
        )
    if one_only and original["_credits"]:
        raise _bad(
            "already_credited",
            f"Invoice {reference} already has a credit invoice ({original['_credits'][0]})",
        )
    # Compared before öresavrundning: refunds of a few öre each must not round up past the invoice.
    if invoice["Gross"] >= 0:
        raise _bad("invalid_credit_reference", "A credit invoice must have a negative total")
    credited = sum((-book.invoices[n]["Gross"] for n in original["_credits"]), Decimal(0))
    if credited - invoice["Gross"] > original["Gross"]:
        raise _bad(
            "credit_exceeds_invoice",
            f"Credits ({credited - invoice['Gross']}) would exceed invoice {reference}'s total "
            f"({original['Gross']})",
        )
    invoice["CreditInvoiceReference"] = original["DocumentNumber"]
    return original


def link_credit(book: InvoiceBook, original: dict[str, Any], credit: Mapping[str, Any], now: float) -> None:
    original["_credits"].append(credit["DocumentNumber"])
    if original["CreditInvoiceReference"] in _NO_REFERENCE:
        # The invoice shows its first credit invoice: Fortnox has one reference field.
        original["CreditInvoiceReference"] = credit["DocumentNumber"]
    book.touch(original["DocumentNumber"], now)


def credit_invoice(call: Call) -> Response:
    number = call.number
    book = call.part(InvoiceBook)
    invoice = book.invoice(number)
    check_not_cancelled(invoice)
    if invoice["Credit"] == "true":
        raise _bad("invalid_credit_reference", f"Invoice {number} is a credit invoice")
    if invoice["CreditInvoiceReference"] not in _NO_REFERENCE:
        # Reported: Fortnox makes one credit invoice per invoice through this action.
        raise _bad(
            "already_credited",
            f"Invoice {number} already has a credit invoice ({invoice['CreditInvoiceReference']})",
        )
    credit_number = book.free_number()
    credit: dict[str, Any] = dict(invoice)
    credit.update(
        DocumentNumber=credit_number,
        OCR=ocr(int(credit_number)),
        InvoiceRows=[_negated(book, row) for row in invoice["InvoiceRows"]],
        InvoiceDate=max(call.today.isoformat(), invoice["InvoiceDate"]),
        Booked=False,
        Sent=False,
        FinalPayDate=None,
        CreditInvoiceReference=number,
        _credits=[],
        **NO_VOUCHER,
    )
    credit["DueDate"] = credit["InvoiceDate"]
    recompute(credit, call.knobs.invoice_round_off)
    book.add(credit)
    link_credit(book, invoice, credit, call.now)
    book.touch(credit_number, call.now)
    return Response(200, {"Invoice": render_invoice(invoice, call.base_url)})


def _negated(book: InvoiceBook, row: Mapping[str, Any]) -> dict[str, Any]:
    # A PERCENT discount scales with the row; an AMOUNT discount is on the row total, so it
    # changes sign with the quantity.
    discount = row["Discount"] if row["DiscountType"] == "PERCENT" else -row["Discount"]
    quantity = -to_decimal(row["DeliveredQuantity"])
    return {**row, "RowId": book.new_row_id(), "DeliveredQuantity": quantity, "Discount": discount}
