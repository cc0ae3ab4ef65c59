"""VAT: the buyer's Fortnox VAT type, the rates a Fortnox row can carry, and Fortnox's VAT on a row.

Fortnox computes VAT itself, per row (`invoice_rows` says which rules we assume), so a row's rate must
be one Fortnox has; which one is derived from the tax Stripe charged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.iso_codes import EU_COUNTRY_CODES
from stripe_fortnox_sync.mapping.money import HUNDRED, fortnox_round

VatType = Literal["SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"]

# VAT rates a Fortnox row can carry: the Swedish ones and the integer rates of other EU countries
# (one-stop-shop sales). Swedish rates win when Stripe's amounts fit several.
SWEDISH_VAT_RATES: tuple[int, ...] = (25, 12, 6, 0)
FORTNOX_VAT_RATES: frozenset[int] = frozenset(
    {0, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27}
)


def vat_type_for(
    country: str | None, tax_exempt: object, has_vat_number: bool, seller_country: str = "SE"
) -> VatType | None:
    """Fortnox's VATType for a buyer (docs/events.md, VAT types); None without a country.

    A guess could book VAT wrongly, so a buyer without a country gets no VAT type.
    """
    if not country:
        return None
    code = country.strip().upper()
    reverse = tax_exempt in ("reverse", "exempt")
    if code == seller_country.strip().upper():
        return "SEREVERSEDVAT" if reverse else "SEVAT"
    if code in EU_COUNTRY_CODES:
        return "EUREVERSEDVAT" if reverse or has_vat_number else "EUVAT"
    return "EXPORT"


def buyer_vat_type(
    address: object, shipping: object, tax_exempt: object, tax_ids: object, seller_country: str
) -> VatType | None:
    """The buyer's VATType from Stripe's address (or shipping address), tax exemption and tax ids."""
    shipping_address = as_mapping(as_mapping(shipping).get("address"))
    country = as_mapping(address).get("country") or shipping_address.get("country")
    ids = tax_ids if isinstance(tax_ids, list) else []
    has_vat = any(isinstance(t, Mapping) and t.get("type") == "eu_vat" and t.get("value") for t in ids)
    return vat_type_for(country if isinstance(country, str) else None, tax_exempt, has_vat, seller_country)


def fortnox_row_vat(value: Decimal, rate: int, vat_included: bool) -> Decimal:
    """The VAT Fortnox computes on one row whose total (after discount) is value."""
    r = Decimal(rate)
    return fortnox_round(value * r / (HUNDRED + r)) if vat_included else fortnox_round(value * r / HUNDRED)


def _candidate_key(rate: int, tax: int, base: int) -> tuple[int, bool, Decimal]:
    # How far the rate misses Stripe's tax (minor units), then Swedish rates first, then the closest.
    predicted = (Decimal(abs(base)) * rate / HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    star = Decimal(abs(tax)) * HUNDRED / Decimal(abs(base))
    return (abs(int(predicted) - abs(tax)), rate not in SWEDISH_VAT_RATES, abs(Decimal(rate) - star))


def derive_rate(tax: int, base: int) -> int:
    """The Fortnox VAT rate that reproduces Stripe's tax on its base, Swedish rates first."""
    if base == 0:
        return 0
    return min(sorted(FORTNOX_VAT_RATES), key=lambda r: _candidate_key(r, tax, base))


def rate_miss(rate: int, tax: int, base: int) -> int:
    """How many minor units rate on base misses Stripe's tax by (base must not be 0)."""
    return _candidate_key(rate, tax, base)[0]


def explicit_rate(percentages: Sequence[Decimal | None]) -> int | None:
    """The rate Stripe's tax rate objects state (summed when several), if Fortnox has it."""
    if not percentages or any(p is None for p in percentages):
        return None
    total = sum((p for p in percentages if p is not None), Decimal(0))
    rate = int(total) if total == total.to_integral_value() else None
    return rate if rate in FORTNOX_VAT_RATES else None
