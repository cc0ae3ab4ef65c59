"""/3/invoices: list, create, read, partial update, and the bookkeep, cancel and credit actions.

Request and answer shapes follow the official OpenAPI spec (`fortnox_InvoicePayload`,
`fortnox_Invoice`):

  GET  /3/invoices                          list: pagination, one search filter (substring, as for
                                            customers), filter=cancelled|fullypaid|unpaid|unpaidoverdue|
                                            unbooked, fromdate/todate, sortby/sortorder
  POST /3/invoices                          create; CreditInvoiceReference makes it a (partial) credit
  GET|PUT /3/invoices/{DocumentNumber}      read; partial update (rows replaced when sent)
  PUT  /3/invoices/{n}/bookkeep|cancel|credit

Totals are computed as amounts.py describes; credits work as credits.py describes. Invoices in other
currencies take `CurrencyRate` from the knob `currency_rates` unless given. Bookkeeping writes the
invoice's voucher (postings.py; InvoiceDate must lie in an open financial year). A booked invoice
cannot change: it is credited instead. Fortnox's own error codes for these cases are not documented:
the 29901xx codes are invented, like the simulator's other 2990xxx codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from .amounts import ocr
from .credits import credit_invoice, credit_reference, link_credit
from .customers import CustomerRegister
from .invoice_content import DEFAULT_TERMS_DAYS, apply
from .invoice_fields import (
    INVOICE_FIELDS,
    INVOICE_LIST_FIELDS,
    INVOICE_READ_ONLY,
    INVOICE_SEARCH_FILTERS,
    INVOICE_SHAPE,
    INVOICE_SORT_FIELDS,
    INVOICE_STATUS_FILTERS,
)
from .ledger import InvoiceBook, check_account, check_not_cancelled, render_invoice
from .listing import Paging, matching, number_key, paging, sort_order
from .postings import book_invoice
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .validation import DATE_RE, FieldChecker

__all__ = ["INVOICES"]

_DIGITS_RE: Final = re.compile(r"[0-9]+")

# A new invoice before the customer's data and the request's fields are applied.
_NEW_INVOICE: Final[Mapping[str, Any]] = {
    "CurrencyUnit": 1,
    "InvoiceType": "INVOICE",
    "Language": "SV",
    "AccountingMethod": "ACCRUAL",
    "TermsOfPayment": str(DEFAULT_TERMS_DAYS),
    "Booked": False,
    "Cancelled": False,
    "Sent": False,
    "NotCompleted": False,
    "NoxFinans": False,
    "HouseWork": False,
    "EUQuarterlyReport": False,
    "Credit": "false",
    "CreditInvoiceReference": "0",
    "Freight": Decimal(0),
    "FreightVAT": Decimal(0),
    "AdministrationFee": Decimal(0),
    "AdministrationFeeVAT": Decimal(0),
    "ExternalInvoiceReference1": "",
    "ExternalInvoiceReference2": "",
}
_FROM_CUSTOMER: Final[Mapping[str, str]] = {
    "CustomerName": "Name",
    "Address1": "Address1",
    "Address2": "Address2",
    "ZipCode": "ZipCode",
    "City": "City",
    "Country": "Country",
    "OrganisationNumber": "OrganisationNumber",
}


def _fields(call: Call) -> dict[str, Any]:
    return FieldChecker().body(call.content_type, call.body, "Invoice", INVOICE_FIELDS, INVOICE_READ_ONLY)


# ----------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class _ListQuery:
    paging: Paging
    status: str | None
    sortby: str
    descending: bool
    from_date: str | None
    to_date: str | None


def _list_query(call: Call) -> _ListQuery:
    paged = paging(call.query, INVOICE_SEARCH_FILTERS)
    status = call.param("filter")
    if status is not None and status not in INVOICE_STATUS_FILTERS:
        raise _bad("invalid_parameter", f"filter must be one of {', '.join(INVOICE_STATUS_FILTERS)}")
    sortby, descending = sort_order(call.query, "documentnumber", INVOICE_SORT_FIELDS)
    dates = {name: call.param(name) for name in ("fromdate", "todate")}
    for name, raw in dates.items():
        if raw is not None and not DATE_RE.fullmatch(raw):
            raise _bad("invalid_parameter", f"{name} must be YYYY-MM-DD")
    return _ListQuery(paged, status, sortby, descending, dates["fromdate"], dates["todate"])


def _list(call: Call) -> Response:
    query = _list_query(call)
    book = call.part(InvoiceBook)
    matches = [book.invoices[n] for n in sorted(book.invoices, key=number_key)]
    matches = matching(matches, query.paging.search, call.knobs.search_wildcards)
    if query.status is not None:
        matches = [i for i in matches if _status_matches(i, query.status, call.today)]
    if query.from_date is not None:
        matches = [i for i in matches if i["InvoiceDate"] >= query.from_date]
    if query.to_date is not None:
        matches = [i for i in matches if i["InvoiceDate"] <= query.to_date]
    if query.sortby != "documentnumber":
        by_total, field = query.sortby == "total", INVOICE_SORT_FIELDS[query.sortby]
        matches.sort(
            key=lambda i: (
                i.get(field) if by_total else str(i.get(field) or "").casefold(),
                number_key(i["DocumentNumber"]),
            )
        )
    if query.descending:
        matches.reverse()
    chunk, meta = query.paging.cut(matches)
    items = []
    for invoice in chunk:
        rendered = render_invoice(invoice, call.base_url)
        items.append({name: rendered.get(name) for name in INVOICE_LIST_FIELDS})
    return Response(200, {"Invoices": items, "MetaInformation": meta})


def _status_matches(invoice: Mapping[str, Any], status: str, today: date) -> bool:
    cancelled = bool(invoice["Cancelled"])
    if status == "cancelled":
        return cancelled
    if status == "unbooked":
        return not cancelled and not invoice["Booked"]
    paid = invoice["Balance"] == 0
    if status == "fullypaid":
        return not cancelled and paid
    overdue = invoice["DueDate"] < today.isoformat()
    return not cancelled and not paid and (status == "unpaid" or overdue)


def _read(call: Call) -> Response:
    invoice = call.part(InvoiceBook).invoice(call.number)
    return Response(200, {"Invoice": render_invoice(invoice, call.base_url)})


# ----------------------------------------------------------------------------- writes


def _create(call: Call) -> Response:
    fields = _fields(call)
    customer_number = fields.get("CustomerNumber")
    if not customer_number:
        raise _bad("customer_not_found", "CustomerNumber is required")
    customer = call.part(CustomerRegister).customers.get(customer_number)
    if customer is None:
        raise _bad("customer_not_found", f"Customer {customer_number} does not exist")
    book = call.part(InvoiceBook)
    number = fields.pop("DocumentNumber", "") or ""
    if number and (not _DIGITS_RE.fullmatch(number) or number in book.invoices):
        raise _bad("invalid_parameter", f"DocumentNumber {number} is not valid or already in use")
    invoice = _new_invoice(number or book.free_number(), customer, call.today)
    credit_of = fields.pop("CreditInvoiceReference", None)
    apply(book, call.knobs, invoice, fields, creating=True)
    original = credit_reference(book, invoice, credit_of, one_only=call.knobs.one_connected_credit)
    book.add(invoice)
    if original is not None:
        link_credit(book, original, invoice, call.now)
    book.touch(invoice["DocumentNumber"], call.now)
    return Response(201, {"Invoice": render_invoice(invoice, call.base_url)})


def _new_invoice(number: str, customer: Mapping[str, Any], today: date) -> dict[str, Any]:
    invoice: dict[str, Any] = {name: None for name in INVOICE_SHAPE}
    invoice.update(_NEW_INVOICE)
    invoice.update({name: customer.get(source) for name, source in _FROM_CUSTOMER.items()})
    invoice.update(
        DocumentNumber=number,
        CustomerNumber=customer["CustomerNumber"],
        Currency=customer.get("Currency") or "SEK",
        VATIncluded=bool(customer.get("ShowPriceVATIncluded")),
        InvoiceDate=today.isoformat(),
        OCR=ocr(int(number)),
        InvoiceRows=[],
        _credits=[],  # document numbers of credit invoices referencing this one
        _vat_type=customer.get("VATType") or "SEVAT",
    )
    return invoice


def _update(call: Call) -> Response:
    number = call.number
    invoice = call.part(InvoiceBook).invoice(number)
    fields = _fields(call)
    _assert_changeable(invoice)
    for name in ("DocumentNumber", "CustomerNumber", "CreditInvoiceReference"):
        given = fields.pop(name, None)
        if given not in (None, "", invoice[name]):
            raise _bad("invalid_parameter", f"{name} cannot be changed")
    amounts_change = "InvoiceRows" in fields or "VATIncluded" in fields or "Currency" in fields
    if amounts_change and (invoice["_credits"] or invoice["Credit"] == "true"):
        # Changing an invoice that has credits (or is one) would break the credit arithmetic.
        raise _bad("invalid_credit_reference", "The rows of an invoice linked to a credit cannot change")
    if amounts_change and invoice["Balance"] != invoice["Total"]:
        raise _bad("invalid_amount", "The rows of an invoice with payments cannot change")
    book = call.part(InvoiceBook)
    apply(book, call.knobs, invoice, fields, creating=False)
    book.touch(number, call.now)
    return Response(200, {"Invoice": render_invoice(invoice, call.base_url)})


def _assert_changeable(invoice: Mapping[str, Any]) -> None:
    check_not_cancelled(invoice)
    if invoice["Booked"]:
        raise _bad(
            "invoice_booked",
            f"Invoice {invoice['DocumentNumber']} is booked and cannot be changed: credit it instead",
        )


def _bookkeep(call: Call) -> Response:
    number = call.number
    book = call.part(InvoiceBook)
    invoice = book.invoice(number)
    check_not_cancelled(invoice)
    if invoice["Booked"]:
        raise _bad("already_booked", f"Invoice {number} is already booked")
    for row in invoice["InvoiceRows"]:
        # The chart may have changed since the invoice was saved.
        if row["AccountNumber"] is not None:
            check_account(row["AccountNumber"], "InvoiceRows.AccountNumber", call.knobs)
    invoice.update(book_invoice(call, invoice))  # refuses a date no financial year takes
    invoice["Booked"] = True
    book.touch(number, call.now)
    return Response(200, {"Invoice": render_invoice(invoice, call.base_url)})


def _cancel(call: Call) -> Response:
    number = call.number
    book = call.part(InvoiceBook)
    invoice = book.invoice(number)
    _assert_changeable(invoice)
    if invoice["Balance"] != invoice["Total"]:
        raise _bad("invalid_amount", f"Invoice {number} has payments: remove them first")
    invoice["Cancelled"] = True
    invoice["Balance"] = Decimal(0)
    book.touch(number, call.now)
    return Response(200, {"Invoice": render_invoice(invoice, call.base_url)})


# What one invoice can be told: PUT /3/invoices/{n}/{action}.
_ACTIONS = {"bookkeep": _bookkeep, "cancel": _cancel, "credit": credit_invoice}
INVOICES = Resource(
    "invoices", routes(list=_list, create=_create, read=_read, update=_update, actions=_ACTIONS)
)
