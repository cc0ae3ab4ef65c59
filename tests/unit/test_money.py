"""Stripe's minor units <-> exact Decimals, per currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.money import decimal_to_minor, format_amount, minor_to_decimal


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1999, "sek", "19.99"),
        (1999, "SEK", "19.99"),
        (-5, "eur", "-0.05"),
        (0, "usd", "0.00"),
        (1000, "jpy", "1000"),
        (1000, "KRW", "1000"),
        (123, "ugx", "123"),
        (12340, "kwd", "12.340"),
        (12345, "bhd", "12.345"),
        (150000, "isk", "1500.00"),  # two-decimal in Stripe's API
        (2**62, "sek", "46116860184273879.04"),
    ],
)
def test_minor_to_decimal(amount: int, currency: str, expected: str) -> None:
    value = minor_to_decimal(amount, currency)
    assert value == Decimal(expected)
    assert decimal_to_minor(value, currency) == amount


@pytest.mark.parametrize("amount", [1.5, "100", None, True])
def test_minor_to_decimal_wants_integers(amount: Any) -> None:
    with pytest.raises(InvoiceMappingError):
        minor_to_decimal(amount, "sek")


def test_decimal_to_minor_refuses_fractions_of_the_minor_unit() -> None:
    with pytest.raises(InvoiceMappingError):
        decimal_to_minor(Decimal("1.5"), "jpy")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(129900, "eur", "1299.00 EUR"), (5000, "jpy", "5000 JPY"), (12340, "kwd", "12.340 KWD")],
)
def test_format_amount(amount: int, currency: str, expected: str) -> None:
    assert format_amount(amount, currency) == expected
