"""One tenant's invoices and payments (the InvoiceBook), the company's booking rules, and rendering.

Amounts are kept as Decimal and become JSON numbers only on the way out. What bookkeeping writes
(vouchers, the general ledger) is in postings.py, journal.py and general_ledger.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .knobs import Knobs
from .listing import number_key
from .replies import _bad
from .validation import to_decimal

__all__ = [
    "InvoiceBook",
    "check_account",
    "check_not_cancelled",
    "check_year",
    "render_invoice",
    "render_invoices",
    "render_payment",
    "render_payments",
]


@dataclass
class InvoiceBook:
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    modified_at: dict[str, float] = field(default_factory=dict)
    next_invoice: int = 1
    next_payment: int = 1
    next_row_id: int = 1
    # The SEK each booked invoice still has on the receivables account (postings.py).
    receivables: dict[str, Decimal] = field(default_factory=dict)

    def invoice(self, number: str) -> dict[str, Any]:
        invoice = self.invoices.get(number)
        if invoice is None:
            raise _bad("invoice_not_found", f"Invoice {number} not found", 404)
        return invoice

    def payment(self, number: str) -> dict[str, Any]:
        payment = self.payments.get(number)
        if payment is None:
            raise _bad("payment_not_found", f"Invoice payment {number} not found", 404)
        return payment

    def free_number(self) -> str:
        """The series' next document number; taken only when the invoice is added."""
        while str(self.next_invoice) in self.invoices:
            self.next_invoice += 1
        return str(self.next_invoice)

    def add(self, invoice: dict[str, Any]) -> None:
        number = invoice["DocumentNumber"]
        self.invoices[number] = invoice
        self.next_invoice = max(self.next_invoice, int(number) + 1)

    def new_row_id(self) -> int:
        self.next_row_id += 1
        return self.next_row_id - 1

    def touch(self, number: str, now: float) -> None:
        self.modified_at[number] = now


def check_not_cancelled(invoice: Mapping[str, Any]) -> None:
    if invoice["Cancelled"]:
        raise _bad("invoice_cancelled", f"Invoice {invoice['DocumentNumber']} is cancelled")


def check_year(day: date, what: str, knobs: Knobs) -> None:
    if day.year in knobs.closed_years:
        raise _bad(
            "financial_year_closed",
            f"{what} {day.isoformat()} is in the financial year {day.year}, which is closed (locked)",
        )


def check_account(account: int, what: str, knobs: Knobs) -> None:
    if account not in knobs.accounts:
        raise _bad("account_not_found", f"Account {account} ({what}) does not exist in the chart of accounts")
    if account in knobs.inactive_accounts:
        raise _bad("account_inactive", f"Account {account} ({what}) is not active")


def render_invoice(invoice: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    # Keys starting with "_" are the simulator's own bookkeeping (credit links, VAT type).
    result = {k: v for k, v in invoice.items() if not k.startswith("_")}
    result["@url"] = f"{base_url}/invoices/{invoice['DocumentNumber']}"
    rendered: dict[str, Any] = _jsonable(result)
    for row in rendered["InvoiceRows"]:
        # A string in the spec, shown with two decimals as Fortnox does ("3.00").
        quantity = to_decimal(row["DeliveredQuantity"])
        row["DeliveredQuantity"] = f"{quantity:.2f}" if quantity == round(quantity, 2) else str(quantity)
    return rendered


def render_payment(payment: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    result = dict(payment)
    result["@url"] = f"{base_url}/invoicepayments/{payment['Number']}"
    rendered: dict[str, Any] = _jsonable(result)
    return rendered


def render_invoices(book: InvoiceBook, base_url: str) -> list[dict[str, Any]]:
    return [render_invoice(book.invoices[n], base_url) for n in sorted(book.invoices, key=number_key)]


def render_payments(book: InvoiceBook, base_url: str) -> list[dict[str, Any]]:
    return [render_payment(book.payments[n], base_url) for n in sorted(book.payments, key=number_key)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
