"""The sales, clearing and rounding accounts synced invoices and payments are booked on."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts


@pytest.mark.parametrize(
    ("vat_type", "rate", "sells", "expected"),
    [
        ("SEVAT", 25, "services", 3001),
        ("SEVAT", 12, "services", 3002),
        ("SEVAT", 6, "goods", 3003),
        ("SEVAT", 0, "services", 3004),
        (None, 25, "services", 3001),
        ("EUVAT", 25, "services", 3001),  # an EU consumer charged Swedish VAT
        ("EUVAT", 19, "services", 3106),  # one-stop shop: the buyer's country's VAT
        ("EUREVERSEDVAT", 0, "services", 3308),
        ("EUREVERSEDVAT", 0, "goods", 3108),
        ("EXPORT", 0, "services", 3305),
        ("EXPORT", 0, "goods", 3105),
        ("SEREVERSEDVAT", 0, "services", 3231),
    ],
)
def test_sales_account_by_vat_situation(vat_type: str | None, rate: int, sells: Any, expected: int) -> None:
    assert BookkeepingAccounts(sells=sells).sales_account(vat_type, rate) == expected


def test_accounts_are_validated() -> None:
    with pytest.raises(ValueError, match="four-digit"):
        BookkeepingAccounts(stripe_clearing=158)
    with pytest.raises(ValueError, match="sells"):
        BookkeepingAccounts(sells="both")  # type: ignore[arg-type]
