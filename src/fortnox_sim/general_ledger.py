"""The general ledger: each account's balance and the entries behind it, from a tenant's journal.

What GET /_sim/ledger answers; Fortnox has no such endpoint (its reports read the same vouchers).
Tests and the demo read it to prove that the Stripe clearing account (1580) nets to 0.00. Every row
of every voucher is an entry: booked invoices (B), booked payments (C) and manual vouchers alike.
With a fromdate, what came before it is the opening balance; there is no year-end closing, so
balances run on across financial years. Amounts are summed as Decimal and shown as JSON numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from .company import BAS_ACCOUNTS
from .journal import Journal

__all__ = ["LedgerWindow", "ledger_report"]


class LedgerWindow(TypedDict, total=False):
    """What of the ledger a report shows: `accounts` (all when empty), `from_date`..`to_date`."""

    accounts: Collection[int]
    from_date: str | None  # YYYY-MM-DD; what came before is the opening balance
    to_date: str | None


_DOCUMENTS = {"INVOICE": "invoice", "INVOICEPAYMENT": "invoice payment"}


@dataclass
class _Account:
    opening: Decimal = Decimal(0)
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def render(self, number: int) -> dict[str, Any]:
        net = self.debit - self.credit
        return {
            "name": BAS_ACCOUNTS.get(number, ""),
            "opening_balance": float(self.opening),
            "debit": float(self.debit),
            "credit": float(self.credit),
            "net": float(net),
            "closing_balance": float(self.opening + net),
            "entries": self.entries,
        }


def _entry(voucher: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    series, number = voucher["VoucherSeries"], voucher["VoucherNumber"]
    kind = _DOCUMENTS.get(voucher["ReferenceType"])
    document = f"{kind} {voucher['ReferenceNumber']}" if kind else f"voucher {series} {number}"
    return {
        "date": voucher["TransactionDate"],
        "voucher": f"{series} {number}",
        "year": voucher["Year"],
        "document": document,
        "description": voucher["Description"],
        "text": row["TransactionInformation"] or voucher["Description"],
        "debit": float(row["Debit"]),
        "credit": float(row["Credit"]),
    }


def ledger_report(journal: Journal, **window: Unpack[LedgerWindow]) -> dict[str, Any]:
    """Balances per account (all, or those in `accounts`) for the dates from_date..to_date."""
    accounts = window.get("accounts", ())
    from_date, to_date = window.get("from_date"), window.get("to_date")
    found: dict[int, _Account] = {}
    vouchers = sorted(
        journal.vouchers.values(),
        key=lambda v: (v["TransactionDate"], v["Year"], v["VoucherSeries"], v["VoucherNumber"]),
    )
    for voucher in vouchers:
        day = voucher["TransactionDate"]
        if to_date is not None and day > to_date:
            continue
        for row in voucher["VoucherRows"]:
            if accounts and row["Account"] not in accounts:
                continue
            account = found.setdefault(row["Account"], _Account())
            if from_date is not None and day < from_date:
                account.opening += row["Debit"] - row["Credit"]
                continue
            account.debit += row["Debit"]
            account.credit += row["Credit"]
            account.entries.append(_entry(voucher, row))
    debit = sum((a.debit for a in found.values()), Decimal(0))
    credit = sum((a.credit for a in found.values()), Decimal(0))
    return {
        "accounts": {str(number): found[number].render(number) for number in sorted(found)},
        "debit": float(debit),
        "credit": float(credit),
    }
