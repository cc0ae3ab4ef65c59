"""Fortnox vouchers as we send and recognise them: rows in whole öre that balance, the JSON body,
its hash, and whether a voucher found in Fortnox is the one we would post.

A voucher cannot be changed or deleted through the API and has no external reference: the sync
identifies its own by the exact `Description` and checks the rows before trusting a match.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.money import as_decimal, decimal_to_minor, json_number, minor_to_decimal
from stripe_fortnox_sync.mapping.text import clean_text

# fortnox_Voucher: Description 1..200, Comments 1000; fortnox_Voucher_VoucherRow.TransactionInformation 100.
MAX_VOUCHER_DESCRIPTION = 200
MAX_VOUCHER_COMMENTS = 1000
MAX_TRANSACTION_INFORMATION = 100
# What a row's Description may hold; Fortnox shows the account's name when it is empty.
MAX_ROW_DESCRIPTION = 100


@dataclass(frozen=True)
class VoucherRow:
    """One row: `amount` in öre, positive a debit and negative a credit."""

    account: int
    amount: int
    text: str = ""
    info: str = ""


@dataclass(frozen=True)
class Voucher:
    """A voucher to post: its rows balance (checked when built), amounts in öre."""

    description: str
    comments: str
    day: date
    rows: tuple[VoucherRow, ...]

    def __post_init__(self) -> None:
        if sum(r.amount for r in self.rows) != 0:
            raise InvoiceMappingError(f"voucher {self.description!r} does not balance")
        if len([r for r in self.rows if r.amount]) < 2:
            raise InvoiceMappingError(f"voucher {self.description!r} needs two rows")

    @property
    def total(self) -> int:
        """The sum of the debits, in öre."""
        return sum(r.amount for r in self.rows if r.amount > 0)


def _text(value: str, limit: int) -> str:
    cleaned, _ = clean_text(value, limit)
    return cleaned or ""


def payload(voucher: Voucher, series: str) -> dict[str, Any]:
    """The body inside {"Voucher": ...} for POST /vouchers; rows of zero are left out."""
    rows = []
    for row in voucher.rows:
        if not row.amount:
            continue
        side = "Debit" if row.amount > 0 else "Credit"
        entry: dict[str, Any] = {
            "Account": row.account,
            side: json_number(minor_to_decimal(abs(row.amount), "SEK")),
        }
        if row.text:
            entry["Description"] = _text(row.text, MAX_ROW_DESCRIPTION)
        if row.info:
            entry["TransactionInformation"] = _text(row.info, MAX_TRANSACTION_INFORMATION)
        rows.append(entry)
    body: dict[str, Any] = {
        "Description": _text(voucher.description, MAX_VOUCHER_DESCRIPTION),
        "TransactionDate": voucher.day.isoformat(),
        "VoucherSeries": series,
        "VoucherRows": rows,
    }
    if voucher.comments:
        body["Comments"] = _text(voucher.comments, MAX_VOUCHER_COMMENTS)
    return body


def body_hash(body: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of a voucher body: what was about to be posted."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _row_key(row: Mapping[str, Any]) -> tuple[int, int, str]:
    debit = decimal_to_minor(as_decimal(row.get("Debit") or 0, "Debit"), "SEK")
    credit = decimal_to_minor(as_decimal(row.get("Credit") or 0, "Credit"), "SEK")
    account = int(row.get("Account") or 0)
    return account, debit - credit, str(row.get("TransactionInformation") or "")


def same_rows(found: Sequence[Mapping[str, Any]], body: Mapping[str, Any]) -> bool:
    """Whether a voucher's rows as Fortnox returns them (both Debit and Credit, removed rows marked)
    are the rows of `body`: the same accounts, amounts and transaction information, in any order."""
    kept = [r for r in found if isinstance(r, Mapping) and not r.get("Removed")]
    ours = Counter(_row_key(r) for r in body.get("VoucherRows") or [])
    theirs = Counter(_row_key(r) for r in kept if _row_key(r)[1] != 0)
    return ours == theirs


@dataclass(frozen=True)
class VoucherRef:
    """Where a posted voucher is: series, number and financial year (its identity in Fortnox)."""

    series: str
    number: int
    year: int

    def __str__(self) -> str:
        return f"{self.series} {self.number}"
