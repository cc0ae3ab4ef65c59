"""A tenant's journal: every voucher, numbered per series and financial year, and how one is booked.

Manual vouchers (POST /3/vouchers), booked invoices (series B) and booked invoice payments (series C)
all land here, so the general ledger (general_ledger.py, /_sim/ledger) is the sum of their rows and
GET /3/vouchers lists them all, as in Fortnox. A voucher is never changed or removed: Fortnox offers
neither through the API. Amounts are Decimal until rendered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

from .company import BAS_ACCOUNTS
from .ledger import check_account
from .resource import Call
from .years import FinancialYear

__all__ = [
    "VOUCHER_LIST_FIELDS",
    "Journal",
    "book",
    "render_voucher",
    "rows_from_amounts",
]

VoucherKey = tuple[int, str, int]  # financial year Id, series, number
_AMOUNTS: Final = ("Credit", "Debit", "Quantity")

# fortnox_VoucherListItem.
VOUCHER_LIST_FIELDS: Final[tuple[str, ...]] = (
    "@url", "ApprovalState", "Comments", "Description", "ReferenceNumber", "ReferenceType",
    "TransactionDate", "VoucherNumber", "VoucherSeries", "Year",
)  # fmt: skip


@dataclass
class Journal:
    vouchers: dict[VoucherKey, dict[str, Any]] = field(default_factory=dict)
    last_numbers: Counter[tuple[int, str]] = field(default_factory=Counter)

    def next_number(self, year_id: int, series: str) -> int:
        return self.last_numbers[(year_id, series)] + 1

    def find(self, year_id: int, series: str, number: int) -> dict[str, Any] | None:
        return self.vouchers.get((year_id, series, number))

    def ordered(self) -> list[dict[str, Any]]:
        """By year, series and number: the order Fortnox lists vouchers in."""
        return [self.vouchers[key] for key in sorted(self.vouchers)]

    def add(self, voucher: dict[str, Any]) -> None:
        year_id, series = voucher["Year"], voucher["VoucherSeries"]
        number = self.next_number(year_id, series)
        voucher["VoucherNumber"] = number
        self.last_numbers[(year_id, series)] = number
        self.vouchers[(year_id, series, number)] = voucher


def book(
    call: Call,
    *,
    series: str,
    year: FinancialYear,
    day: date,
    rows: list[dict[str, Any]],
    reference: tuple[str, str],
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Add a voucher to the tenant's journal and return it (numbered); the caller checked the rest.

    reference: (ReferenceType, ReferenceNumber); fields: Description and optionally Comments,
    CostCenter, Project.
    """
    voucher = {
        "ApprovalState": 0,  # approval of vouchers is not simulated
        "Comments": fields.get("Comments", ""),
        "CostCenter": fields.get("CostCenter", ""),
        "Description": fields["Description"],
        "Project": fields.get("Project", ""),
        "ReferenceNumber": reference[1],
        "ReferenceType": reference[0],
        "TransactionDate": day.isoformat(),
        "VoucherRows": rows,
        "VoucherSeries": series,
        "Year": year.id,
    }
    call.part(Journal).add(voucher)
    return voucher


def voucher_row(account: int, debit: Decimal, credit: Decimal, given: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row: Fortnox fills Description with the account's name when none is given."""
    return {
        "Account": account,
        "CostCenter": given.get("CostCenter", ""),
        "Credit": credit,
        "Debit": debit,
        "Description": given.get("Description", BAS_ACCOUNTS.get(account, "")),
        "Project": given.get("Project", ""),
        "Quantity": given.get("Quantity", Decimal(0)),
        "Removed": False,
        "TransactionInformation": given.get("TransactionInformation", ""),
    }


def rows_from_amounts(call: Call, amounts: Iterable[tuple[int, Decimal]], what: str) -> list[dict[str, Any]]:
    """Rows for signed amounts per account (debit positive), in order, zeros left out.

    Each account must exist and be active, as for any voucher.
    """
    rows = []
    for account, amount in amounts:
        if amount == 0:
            continue
        check_account(account, what, call.knobs)
        debit, credit = (amount, Decimal(0)) if amount > 0 else (Decimal(0), -amount)
        rows.append(voucher_row(account, debit, credit, {}))
    return rows


def voucher_url(base_url: str, voucher: Mapping[str, Any]) -> str:
    series = quote(voucher["VoucherSeries"], safe="")
    return f"{base_url}/vouchers/{series}/{voucher['VoucherNumber']}?financialyear={voucher['Year']}"


def render_voucher(voucher: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """fortnox_Voucher, amounts as JSON numbers."""
    rows = [{**row, **{name: float(row[name]) for name in _AMOUNTS}} for row in voucher["VoucherRows"]]
    return {"@url": voucher_url(base_url, voucher), **voucher, "VoucherRows": rows}


def render_list_item(voucher: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    rendered = {"@url": voucher_url(base_url, voucher), **voucher}
    return {name: rendered[name] for name in VOUCHER_LIST_FIELDS}
