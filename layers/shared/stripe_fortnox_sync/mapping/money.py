"""Exact money: Stripe's integer minor units, Fortnox's two decimals, and the numbers in their JSON.

`Decimal` arithmetic only. Floats appear only in the JSON bodies sent to Fortnox, where its spec wants
numbers; every amount there has at most two decimals, which a double carries exactly through JSON.
Amounts in Stripe are integers in the currency's minor unit: `minor_to_decimal` knows the zero-decimal
and three-decimal currencies.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.iso_codes import CURRENCY_CODES

# Stripe's zero-decimal currencies: the amount is in whole units (JPY 1000 is ¥1,000).
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
    "XPF",
})  # fmt: skip
# Stripe's three-decimal currencies (their amounts must end in 0, so they fit Fortnox's 2 decimals).
# ISK, HUF and TWD are two-decimal in Stripe's API (amounts divisible by 100), like most currencies.
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# Fortnox keeps two decimals on prices and amounts, whatever the currency.
FORTNOX_DECIMALS = 2
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of Stripe's minor unit for this currency."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def minor_to_decimal(amount: int, currency: str) -> Decimal:
    """Stripe's integer amount in minor units as an exact Decimal in currency units (1999 SEK -> 19.99)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvoiceMappingError(f"Stripe amount {amount!r} is not an integer")
    return Decimal(amount).scaleb(-currency_exponent(currency))


def format_amount(minor_units: int, currency: str) -> str:
    """Stripe's amount for people: "1299.00 EUR", "5000 JPY"."""
    return f"{minor_to_decimal(minor_units, currency)} {currency.upper()}"


def decimal_to_minor(amount: Decimal, currency: str) -> int:
    """The inverse of minor_to_decimal; refuses amounts finer than the currency's minor unit."""
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvoiceMappingError(f"{amount} {currency.upper()} is finer than the currency's minor unit")
    return int(scaled)


def fortnox_amount(amount: Decimal, what: str) -> Decimal:
    """An amount as Fortnox can hold it (2 decimals), or an error: rounding would lose money."""
    if amount != amount.quantize(CENT):
        raise InvoiceMappingError(f"{what} {amount} has more decimals than Fortnox's {FORTNOX_DECIMALS}")
    return amount


def fortnox_round(value: Decimal) -> Decimal:
    """Two decimals, half away from zero: what we assume Fortnox does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def json_number(value: Decimal) -> float:
    """A Fortnox amount for its JSON body (json has no Decimal).

    Exact for the amounts we send (2 decimals, far below 2**53 öre).
    """
    return float(value)


def currency_code(raw: object) -> str:
    """Stripe's currency ("sek") as Fortnox's ISO 4217 code ("SEK"), or an error."""
    code = raw.upper() if isinstance(raw, str) else ""
    if code not in CURRENCY_CODES:
        raise InvoiceMappingError(f"Stripe currency {raw!r} is not an ISO 4217 code")
    return code


def as_int(value: object, what: str) -> int:
    """An integer from Stripe's JSON (an amount in minor units, a timestamp), or an error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvoiceMappingError(f"{what} must be an integer amount, got {value!r}")
    return value


def as_decimal(value: object, what: str) -> Decimal:
    """A number from Stripe's or Fortnox's JSON as an exact Decimal, or an error."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvoiceMappingError(f"{what} must be a number, got {value!r}")
    try:
        # repr gives the shortest text that reads back as the same float: 0.1, not 0.1000000000000000055.
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        raise InvoiceMappingError(f"{what} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise InvoiceMappingError(f"{what} must be a finite number")
    return result
