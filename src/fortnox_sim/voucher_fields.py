"""What POST /3/vouchers accepts: fortnox_Voucher and fortnox_Voucher_VoucherRow compacted to what the
simulator checks, and the rules a voucher's rows meet.

Rows (FACTS, "Fortnox, vouchers"): each account must exist in the chart and be active; each row has
a Debit or a Credit (the other left out or 0), never negative and with at most two decimals (öre);
debits equal credits; a voucher has at least two rows (the spec's minItems). `Removed` rows are
Fortnox's record of a corrected voucher and cannot be posted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from .amounts import rounded
from .journal import voucher_row
from .knobs import Knobs
from .ledger import check_account
from .replies import _bad
from .validation import Field

__all__ = ["VOUCHER_FIELDS", "VOUCHER_READ_ONLY", "checked_rows", "required"]

_S: Final = Field("str")

_ROW_FIELDS: Final[Mapping[str, Field]] = {
    "Account": Field("int", minimum=1000, maximum=9999),
    "CostCenter": _S,
    "Credit": Field("number"),
    "Debit": Field("number"),
    "Description": _S,
    "Project": _S,
    "Quantity": Field("number"),
    "Removed": Field("bool"),
    "TransactionInformation": Field("str", max_len=100),
}

VOUCHER_FIELDS: Final[Mapping[str, Field]] = {
    "Comments": Field("str", max_len=1000),
    "CostCenter": _S,
    "Description": Field("str", max_len=200),
    "Project": _S,
    "TransactionDate": Field("date"),
    "VoucherRows": Field("array", sub=_ROW_FIELDS),
    "VoucherSeries": Field("str", max_len=10),
}
# Fortnox sets these; a body carrying them (a voucher read and sent again) is accepted, they are
# ignored. `Year` too: the financial year is chosen by ?financialyear= or the date.
VOUCHER_READ_ONLY: Final[frozenset[str]] = frozenset(
    {"@url", "ApprovalState", "ReferenceNumber", "ReferenceType", "VoucherNumber", "Year"}
)


def required(fields: Mapping[str, Any], name: str) -> Any:
    """A field the spec requires: missing or empty is refused (Description has minLength 1)."""
    value = fields.get(name)
    if value in (None, ""):
        raise _bad("required_field", f"{name} is required")
    return value


def checked_rows(knobs: Knobs, rows: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The voucher's rows as stored, or the refusal of the first that breaks a rule."""
    if not rows or len(rows) < 2:
        raise _bad("required_field", "VoucherRows needs at least two rows")
    checked = [_row(knobs, f"VoucherRows[{index}]", row) for index, row in enumerate(rows)]
    debit = sum((row["Debit"] for row in checked), Decimal(0))
    credit = sum((row["Credit"] for row in checked), Decimal(0))
    if debit != credit:
        raise _bad(
            "voucher_unbalanced",
            f"The voucher does not balance: debit {debit:.2f}, credit {credit:.2f} "
            f"(difference {debit - credit:.2f})",
        )
    return checked


def _row(knobs: Knobs, name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    if "Account" not in row:
        raise _bad("required_field", f"{name}.Account is required")
    if row.get("Removed"):
        raise _bad("invalid_voucher_row", f"{name}: a removed row cannot be posted")
    debit, credit = _amount(name, "Debit", row), _amount(name, "Credit", row)
    if (debit == 0) == (credit == 0):
        raise _bad("invalid_voucher_row", f"{name} needs a Debit or a Credit, not both and not neither")
    check_account(row["Account"], f"{name}.Account", knobs)
    return voucher_row(row["Account"], debit, credit, row)


def _amount(name: str, side: str, row: Mapping[str, Any]) -> Decimal:
    value: Decimal = row.get(side, Decimal(0))
    if value < 0:
        raise _bad("invalid_voucher_row", f"{name}.{side} must not be negative: put it on the other side")
    if value != rounded(value):
        raise _bad("invalid_voucher_row", f"{name}.{side} has more than two decimals: {value}")
    return value
