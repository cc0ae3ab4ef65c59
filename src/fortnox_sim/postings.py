"""What bookkeeping an invoice or an invoice payment writes: one voucher each, in the journal.

A booked invoice (series B, ReferenceType INVOICE): debit the receivable (1510) with the total, credit
each row's account with its net and the output VAT account of each rate (company.OUTPUT_VAT_ACCOUNTS),
and the round-off account (3740) with what balances: the öresavrundning, and for another currency the
öre lost converting each line to SEK at the invoice's rate. A credit invoice's negative amounts turn
every side. A booked payment (series C, INVOICEPAYMENT): debit ModeOfPaymentAccount with the SEK paid
and each write-off's account with its amount, credit 1510 with the receivable settled at the invoice's
rate (the last payment with exactly what is left, so 1510 ends at 0), and book the difference as an
exchange gain (3960) or loss (7960). Fortnox takes these accounts from the company's settings; the
simulator's are BAS's usual ones (company.py). Each voucher is dated with its document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .amounts import compute_row, rounded
from .company import (
    FX_GAIN_ACCOUNT,
    FX_LOSS_ACCOUNT,
    OTHER_VAT_ACCOUNT,
    OUTPUT_VAT_ACCOUNTS,
    RECEIVABLES_ACCOUNT,
    ROUND_OFF_ACCOUNT,
)
from .journal import book, rows_from_amounts
from .ledger import InvoiceBook
from .resource import Call
from .validation import parse_date
from .years import bookable

__all__ = ["NO_VOUCHER", "book_invoice", "book_payment"]

# The voucher fields of a document not booked (yet), or with nothing to book.
NO_VOUCHER: Final[Mapping[str, None]] = {"VoucherNumber": None, "VoucherSeries": None, "VoucherYear": None}

_Amounts = dict[int, Decimal]  # account -> signed SEK amount, debit positive


@dataclass(frozen=True)
class _Posting:
    series: str
    reference: tuple[str, str]  # ReferenceType, ReferenceNumber
    description: str
    date_field: str
    date: str


def _add(amounts: _Amounts, account: int, value: Decimal) -> None:
    amounts[account] = amounts.get(account, Decimal(0)) + value


def _post(call: Call, posting: _Posting, amounts: _Amounts) -> dict[str, Any]:
    """Books the voucher and returns the document's voucher fields; refuses before writing anything."""
    day = parse_date(posting.date_field, posting.date)
    year = bookable(call, day, posting.date_field)
    rows = rows_from_amounts(call, amounts.items(), posting.description)
    if not rows:
        # Nothing to book (a fully discounted invoice): a voucher needs rows.
        return dict(NO_VOUCHER)
    fields = {"Description": posting.description}
    voucher = book(
        call, series=posting.series, year=year, day=day, rows=rows, reference=posting.reference, fields=fields
    )
    return {
        "VoucherSeries": posting.series,
        "VoucherNumber": voucher["VoucherNumber"],
        "VoucherYear": year.id,
    }


def book_invoice(call: Call, invoice: Mapping[str, Any]) -> dict[str, Any]:
    """Books an invoice (or credit invoice): its voucher fields, VoucherYear the financial year's Id."""
    number = invoice["DocumentNumber"]
    in_currency: _Amounts = {}
    for row in invoice["InvoiceRows"]:
        if row["AccountNumber"] is None:
            continue  # a text row
        amounts = compute_row(row, bool(invoice["VATIncluded"]))
        _add(in_currency, row["AccountNumber"], -amounts.total_excluding_vat)
        if amounts.vat:
            _add(in_currency, OUTPUT_VAT_ACCOUNTS.get(amounts.vat_rate, OTHER_VAT_ACCOUNT), -amounts.vat)
    rate = invoice["CurrencyRate"]
    receivable = rounded(invoice["Total"] * rate)
    sek: _Amounts = {RECEIVABLES_ACCOUNT: receivable}
    for account, amount in in_currency.items():
        _add(sek, account, rounded(amount * rate))
    _add(sek, ROUND_OFF_ACCOUNT, -sum(sek.values(), Decimal(0)))
    kind = "Kreditfaktura" if invoice["Credit"] == "true" else "Kundfaktura"
    description = f"{kind} {invoice['CustomerName'] or ''} ({number})"
    posting = _Posting("B", ("INVOICE", number), description, "InvoiceDate", invoice["InvoiceDate"])
    fields = _post(call, posting, sek)
    call.part(InvoiceBook).receivables[number] = receivable
    return fields


def book_payment(call: Call, payment: Mapping[str, Any]) -> dict[str, Any]:
    """Books an invoice payment: its voucher fields."""
    book = call.part(InvoiceBook)
    invoice = book.invoices[str(payment["InvoiceNumber"])]
    rate = invoice["CurrencyRate"]
    sek: _Amounts = {}
    _add(sek, payment["ModeOfPaymentAccount"], payment["Amount"])
    written_off = Decimal(0)
    for write_off in payment["WriteOffs"]:
        written_off += write_off["Amount"]
        _add(sek, write_off["AccountNumber"], rounded(write_off["Amount"] * rate))
    number = invoice["DocumentNumber"]
    settled = rounded((payment["AmountCurrency"] + written_off) * rate)
    if number in book.receivables and _settles_last(book, invoice, payment):
        settled = book.receivables[number]  # what rounding left on 1510 goes with the last payment
    _add(sek, RECEIVABLES_ACCOUNT, -settled)
    difference = -sum(sek.values(), Decimal(0))
    _add(sek, FX_GAIN_ACCOUNT if difference < 0 else FX_LOSS_ACCOUNT, difference)
    description = f"Kundbet {payment['InvoiceCustomerName'] or ''} ({number})"
    posting = _Posting(
        "C", ("INVOICEPAYMENT", payment["Number"]), description, "PaymentDate", payment["PaymentDate"]
    )
    fields = _post(call, posting, sek)
    if number in book.receivables:
        book.receivables[number] -= settled
    return fields


def _settles_last(book: InvoiceBook, invoice: Mapping[str, Any], payment: Mapping[str, Any]) -> bool:
    """Whether this payment is the invoice's last to be booked and nothing is left to pay."""
    others = [
        p
        for p in book.payments.values()
        if p["InvoiceNumber"] == payment["InvoiceNumber"] and p is not payment
    ]
    return invoice["Balance"] == 0 and all(p["Booked"] for p in others)
