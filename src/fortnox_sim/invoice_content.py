"""What a create or update does to an invoice: currency and rate, dates, rows, recomputed totals.

Simulator strictness, so that a client bug shows up as a 400 rather than as wrong books: every row
account must exist in the chart of accounts (knob `accounts`), an invoice date in a closed financial
year (knob `closed_years`) is refused, and `ArticleNumber`, house work (ROT/RUT), `Freight` and
`AdministrationFee` are not simulated and are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from .amounts import compute_totals
from .company import VAT_RATES
from .knobs import Knobs
from .ledger import InvoiceBook, check_account, check_year
from .replies import _bad
from .validation import parse_date, to_decimal

__all__ = ["DEFAULT_TERMS_DAYS", "apply", "recompute"]

DEFAULT_TERMS_DAYS: Final = 30
_REVERSED_VAT_TYPES: Final = ("SEREVERSEDVAT", "EUREVERSEDVAT", "EXPORT")


def apply(
    book: InvoiceBook, knobs: Knobs, invoice: dict[str, Any], fields: dict[str, Any], *, creating: bool
) -> None:
    """Validate the semantics of a create or update and apply it, recomputing the totals."""
    for unsupported in ("Freight", "AdministrationFee"):
        if fields.get(unsupported, 0) != 0:
            raise _bad("unsupported", f"{unsupported} is not simulated: send it as an invoice row")
    if fields.get("TaxReductionType") not in (None, "none"):
        raise _bad("unsupported", "Tax reductions (ROT/RUT) are not simulated")
    rows = fields.pop("InvoiceRows", None)
    _apply_currency(knobs, invoice, fields)
    _check_dates(knobs, invoice, set_due_date=creating and "DueDate" not in fields)
    if rows is not None:
        invoice["InvoiceRows"] = [_row(book, knobs, index, row, invoice) for index, row in enumerate(rows)]
    recompute(invoice, knobs.invoice_round_off)


def _apply_currency(knobs: Knobs, invoice: dict[str, Any], fields: dict[str, Any]) -> None:
    """Applies every field; the currency must be enabled and its rate sensible."""
    currency = fields.get("Currency", invoice["Currency"])
    if currency not in knobs.currencies:
        raise _bad("invalid_currency", f"Currency {currency!r} does not exist in this company")
    if currency != invoice["Currency"] and "CurrencyRate" not in fields:
        fields["CurrencyRate"] = None  # a new currency takes the register's rate
    invoice.update(fields)
    if invoice.get("CurrencyRate") is None:
        invoice["CurrencyRate"] = to_decimal(knobs.currency_rates.get(currency, 1.0))
    if invoice["CurrencyRate"] <= 0:
        raise _bad("invalid_amount", "CurrencyRate must be positive")
    if currency == "SEK" and invoice["CurrencyRate"] != 1:
        raise _bad("invalid_amount", "CurrencyRate must be 1 for SEK")


def _check_dates(knobs: Knobs, invoice: dict[str, Any], *, set_due_date: bool) -> None:
    invoice_date = parse_date("InvoiceDate", invoice["InvoiceDate"])
    check_year(invoice_date, "InvoiceDate", knobs)
    if set_due_date:
        terms = str(invoice.get("TermsOfPayment") or "")
        days = int(terms) if terms.isdigit() else DEFAULT_TERMS_DAYS
        invoice["DueDate"] = (invoice_date + timedelta(days=days)).isoformat()
    if parse_date("DueDate", invoice["DueDate"]) < invoice_date:
        raise _bad("invalid_date", "DueDate cannot be before InvoiceDate")


def _row(
    book: InvoiceBook, knobs: Knobs, index: int, row: Mapping[str, Any], invoice: Mapping[str, Any]
) -> dict[str, Any]:
    name = f"InvoiceRows[{index}]"
    if row.get("ArticleNumber"):
        raise _bad("unsupported", f"{name}: articles are not simulated, send AccountNumber and Price")
    if row.get("HouseWork"):
        raise _bad("unsupported", f"{name}: house work (ROT/RUT) is not simulated")
    if row.get("DiscountType", "PERCENT") == "PERCENT" and not 0 <= row.get("Discount", 0) <= 100:
        raise _bad("invalid_amount", f"{name}.Discount must be 0..100 percent")
    vat = row.get("VAT", 0 if invoice["_vat_type"] in _REVERSED_VAT_TYPES else 25)
    if vat not in VAT_RATES:
        raise _bad("invalid_vat", f"{name}.VAT {vat} is not a VAT rate Fortnox has")
    # A text row (no price, no quantity) has no account.
    priced = "Price" in row or "DeliveredQuantity" in row
    account = row.get("AccountNumber", 3001 if priced else None)
    if account is not None:
        check_account(account, f"{name}.AccountNumber", knobs)
    return {
        "RowId": book.new_row_id(),
        "AccountNumber": account,
        "ArticleNumber": "",
        "CostCenter": row.get("CostCenter", ""),
        "DeliveredQuantity": row.get("DeliveredQuantity", Decimal(0)),
        "Description": row.get("Description", ""),
        "Discount": row.get("Discount", Decimal(0)),
        "DiscountType": row.get("DiscountType", "PERCENT"),
        "HouseWork": False,
        "Price": row.get("Price", Decimal(0)),
        "Project": row.get("Project", ""),
        "Unit": row.get("Unit", ""),
        "VAT": vat,
        "VATCode": row.get("VATCode"),
    }


def recompute(invoice: dict[str, Any], round_off: bool) -> None:
    totals = compute_totals(
        invoice["InvoiceRows"],
        vat_included=bool(invoice["VATIncluded"]),
        currency=invoice["Currency"],
        round_off=round_off,
    )
    for row, amounts in zip(invoice["InvoiceRows"], totals.rows, strict=True):
        row["Price"] = amounts.price
        row["Total"] = amounts.total
        row["TotalExcludingVAT"] = amounts.total_excluding_vat
        row["PriceExcludingVAT"] = amounts.price_excluding_vat
    invoice.update(
        Net=totals.net,
        TotalVAT=totals.total_vat,
        Gross=totals.gross,
        RoundOff=totals.round_off,
        Total=totals.total,
        TotalToPay=totals.total,
        Balance=totals.total,
        Credit="true" if totals.total < 0 else "false",
    )
