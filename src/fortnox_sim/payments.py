"""/3/invoicepayments: list (filter invoicenumber), register, read, remove, bookkeep.

  GET|POST /3/invoicepayments               list; register a payment
  GET|DELETE /3/invoicepayments/{Number}    read; remove an unbooked payment
  PUT  /3/invoicepayments/{Number}/bookkeep

A payment needs a booked invoice (knob `payment_requires_booked`), may not precede the invoice date
nor fall outside an open financial year (years.bookable), and may not exceed the balance. It lowers
the balance by its amount in the invoice currency (`Amount` for SEK, `AmountCurrency` otherwise) plus
its write-offs. Booking it writes its voucher (postings.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .amounts import rounded
from .invoice_fields import PAYMENT_FIELDS, PAYMENT_LIST_FIELDS, PAYMENT_READ_ONLY
from .knobs import Knobs
from .ledger import InvoiceBook, check_account, check_not_cancelled, render_payment
from .listing import number_key, page, positive
from .postings import NO_VOUCHER, book_payment
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .validation import FieldChecker, parse_date
from .years import bookable

__all__ = ["INVOICE_PAYMENTS"]


def _list(call: Call) -> Response:
    limit = positive(call.query, "limit", 100, 500)
    page_number = positive(call.query, "page", 1, None)
    wanted = call.param("invoicenumber")
    book = call.part(InvoiceBook)
    payments = [book.payments[n] for n in sorted(book.payments, key=number_key)]
    if wanted is not None:
        payments = [p for p in payments if str(p["InvoiceNumber"]) == wanted.strip()]
    chunk, meta = page(payments, limit, page_number)
    items = []
    for payment in chunk:
        rendered = render_payment(payment, call.base_url)
        rendered["WriteOffExist"] = bool(payment["WriteOffs"])
        items.append({name: rendered.get(name) for name in PAYMENT_LIST_FIELDS})
    return Response(200, {"InvoicePayments": items, "MetaInformation": meta})


def _read(call: Call) -> Response:
    payment = call.part(InvoiceBook).payment(call.number)
    return Response(200, {"InvoicePayment": render_payment(payment, call.base_url)})


def _create(call: Call) -> Response:
    checker = FieldChecker()
    fields = checker.body(call.content_type, call.body, "InvoicePayment", PAYMENT_FIELDS, PAYMENT_READ_ONLY)
    book = call.part(InvoiceBook)
    invoice = _payable_invoice(book, fields, call.knobs)
    payment_date = parse_date("PaymentDate", fields.get("PaymentDate") or call.today.isoformat())
    if payment_date.isoformat() < invoice["InvoiceDate"]:
        raise _bad(
            "payment_before_invoice",
            f"PaymentDate {payment_date.isoformat()} is before the invoice date {invoice['InvoiceDate']}",
        )
    # Registering a payment is bookkeeping in Fortnox: its date must lie in an open financial year.
    bookable(call, payment_date, "PaymentDate")
    rate = fields.get("CurrencyRate") or invoice["CurrencyRate"]
    amount, amount_currency = _amounts(fields, invoice, rate)
    write_offs = _write_offs(fields, invoice["Currency"], call.knobs)
    settled = amount_currency + sum((w["Amount"] for w in write_offs), Decimal(0))
    _check_fits(invoice, amount_currency, settled)
    account = fields.get("ModeOfPaymentAccount", 1930)
    check_account(account, "ModeOfPaymentAccount", call.knobs)

    payment = {
        "Number": str(book.next_payment),
        "InvoiceNumber": int(invoice["DocumentNumber"]),
        "Amount": amount,
        "AmountCurrency": amount_currency,
        **_copied(fields, invoice, rate),
        "ModeOfPaymentAccount": account,
        "PaymentDate": payment_date.isoformat(),
        "Source": "direct",
        **NO_VOUCHER,
        "WriteOffs": write_offs,
    }
    book.next_payment += 1
    book.payments[payment["Number"]] = payment
    invoice["Balance"] -= settled
    if invoice["Balance"] == 0:
        invoice["FinalPayDate"] = payment_date.isoformat()
    book.touch(invoice["DocumentNumber"], call.now)
    return Response(201, {"InvoicePayment": render_payment(payment, call.base_url)})


def _payable_invoice(book: InvoiceBook, fields: Mapping[str, Any], knobs: Knobs) -> dict[str, Any]:
    if "InvoiceNumber" not in fields:
        raise _bad("invoice_not_found", "InvoiceNumber is required")
    invoice = book.invoices.get(str(fields["InvoiceNumber"]))
    if invoice is None:
        raise _bad("invoice_not_found", f"Invoice {fields['InvoiceNumber']} does not exist")
    check_not_cancelled(invoice)
    if knobs.payment_requires_booked and not invoice["Booked"]:
        number = invoice["DocumentNumber"]
        raise _bad("invoice_not_booked", f"Invoice {number} must be booked before a payment is registered")
    return invoice


def _amounts(fields: Mapping[str, Any], invoice: Mapping[str, Any], rate: Decimal) -> tuple[Decimal, Decimal]:
    """(Amount in SEK, AmountCurrency in the invoice's currency)."""
    currency = invoice["Currency"]
    if currency == "SEK":
        if "Amount" not in fields:
            raise _bad("invalid_amount", "Amount is required")
        amount = rounded(fields["Amount"])
        return amount, amount
    if "AmountCurrency" not in fields:
        raise _bad("invalid_amount", f"AmountCurrency is required for an invoice in {currency}")
    amount_currency = rounded(fields["AmountCurrency"])
    if "Amount" in fields:
        return rounded(fields["Amount"]), amount_currency
    return rounded(amount_currency * rate), amount_currency


def _write_offs(fields: Mapping[str, Any], currency: str, knobs: Knobs) -> list[dict[str, Any]]:
    write_offs = []
    for index, write_off in enumerate(fields.get("WriteOffs", [])):
        if "AccountNumber" not in write_off or "Amount" not in write_off:
            raise _bad("invalid_amount", f"WriteOffs[{index}] needs AccountNumber and Amount")
        check_account(write_off["AccountNumber"], f"WriteOffs[{index}].AccountNumber", knobs)
        write_offs.append({**write_off, "Amount": rounded(write_off["Amount"]), "Currency": currency})
    return write_offs


def _check_fits(invoice: Mapping[str, Any], amount_currency: Decimal, settled: Decimal) -> None:
    balance = invoice["Balance"]
    if amount_currency == 0:
        raise _bad("invalid_amount", "The payment amount must not be zero")
    # A payment that nets to zero with its write-offs is allowed even on a zero balance: money
    # did arrive (0.01 SEK on an invoice öresavrundning took down to 0.00).
    if settled and ((settled > 0) != (balance > 0) or abs(settled) > abs(balance)):
        raise _bad(
            "invalid_amount",
            f"Payment {settled} (with write-offs) does not fit invoice "
            f"{invoice['DocumentNumber']}'s balance {balance}",
        )


def _copied(fields: Mapping[str, Any], invoice: Mapping[str, Any], rate: Decimal) -> dict[str, Any]:
    """What a payment takes over from its request and its invoice."""
    return {
        "Booked": False,
        "Currency": invoice["Currency"],
        "CurrencyRate": rate,
        "CurrencyUnit": fields.get("CurrencyUnit", Decimal(1)),
        "ExternalInvoiceReference1": invoice["ExternalInvoiceReference1"],
        "ExternalInvoiceReference2": invoice["ExternalInvoiceReference2"],
        "InvoiceCustomerName": invoice["CustomerName"],
        "InvoiceCustomerNumber": invoice["CustomerNumber"],
        "InvoiceDueDate": invoice["DueDate"],
        "InvoiceOCR": invoice["OCR"],
        "InvoiceTotal": str(invoice["Total"]),
        "ModeOfPayment": fields.get("ModeOfPayment", ""),
    }


def _bookkeep(call: Call) -> Response:
    number = call.number
    payment = call.part(InvoiceBook).payment(number)
    if payment["Booked"]:
        raise _bad("already_booked", f"Invoice payment {number} is already booked")
    payment.update(book_payment(call, payment))  # refuses a date no financial year takes
    payment["Booked"] = True
    return Response(200, {"InvoicePayment": render_payment(payment, call.base_url)})


def _delete(call: Call) -> Response:
    number = call.number
    book = call.part(InvoiceBook)
    payment = book.payment(number)
    if payment["Booked"]:
        raise _bad("already_booked", f"Invoice payment {number} is booked and cannot be removed")
    invoice = book.invoices[str(payment["InvoiceNumber"])]
    settled = payment["AmountCurrency"] + sum((w["Amount"] for w in payment["WriteOffs"]), Decimal(0))
    invoice["Balance"] += settled
    invoice["FinalPayDate"] = None
    del book.payments[number]
    book.touch(invoice["DocumentNumber"], call.now)
    return Response(204)


INVOICE_PAYMENTS = Resource(
    "invoicepayments",
    routes(list=_list, create=_create, read=_read, delete=_delete, actions={"bookkeep": _bookkeep}),
)
