"""What Fortnox computes on an invoice: row amounts, VAT, totals, öresavrundning, the OCR number.

`compute_totals` is a pure function the tests share. The spec names the fields (row `Total`,
`TotalExcludingVAT`, `PriceExcludingVAT`; invoice `Net`, `TotalVAT`, `Gross`, `RoundOff`, `Total`,
`Balance`) but not the arithmetic, so the rules below are ASSUMPTIONS, each kept as simple as
Fortnox's invoice form suggests:

- Amounts have two decimals in every currency; rounding is half up (away from zero), the Swedish
  convention, so a credit invoice mirrors its invoice exactly.
- Row: `Price` is rounded to 2 decimals; row total = round(Price x DeliveredQuantity) less the
  discount: `DiscountType` AMOUNT takes `Discount` off the row total (not per unit), PERCENT takes
  round(row total x Discount / 100). With `VATIncluded` the row total includes VAT.
- VAT is computed per row: round(total x VAT / 100), or with `VATIncluded` the VAT inside the row,
  round(total x VAT / (100 + VAT)). `TotalVAT` is the sum of the rows' VAT.
- `Net` = sum of row totals excluding VAT; `Gross` = `Net` + `TotalVAT` (before round-off).
- Öresavrundning: a SEK invoice's total is rounded to whole kronor (half up) and the difference is
  `RoundOff`, as with Fortnox's usual company setting (knob `invoice_round_off`, on by default; other
  currencies are never rounded). `Total` = `Gross` + `RoundOff`.
- `Balance` starts at `Total`; a payment lowers it by its amount in the invoice currency (`Amount` for
  SEK, `AmountCurrency` otherwise) plus the sum of its `WriteOffs` amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from .validation import to_decimal

__all__ = ["InvoiceTotals", "RowAmounts", "compute_row", "compute_totals", "ocr", "rounded"]

_CENT: Final = Decimal("0.01")
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)


def rounded(value: Decimal, exponent: Decimal = _CENT) -> Decimal:
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RowAmounts:
    """What Fortnox shows on one invoice row, computed from what was sent."""

    price: Decimal
    quantity: Decimal
    discount: Decimal  # money taken off the row
    vat_rate: int
    total: Decimal  # price x quantity less discount, including VAT when the invoice is VATIncluded
    vat: Decimal
    total_excluding_vat: Decimal
    price_excluding_vat: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    rows: tuple[RowAmounts, ...]
    net: Decimal
    total_vat: Decimal
    gross: Decimal  # net + VAT, before öresavrundning
    round_off: Decimal
    total: Decimal  # gross + round_off: what the customer owes


def compute_row(row: Mapping[str, Any], vat_included: bool) -> RowAmounts:
    """One row as Fortnox computes it (see the module docstring for the assumed rules)."""
    price = rounded(to_decimal(row.get("Price") or 0))
    quantity = to_decimal(row.get("DeliveredQuantity") or 0)
    rate = int(row.get("VAT") or 0)
    base = rounded(price * quantity)
    raw_discount = to_decimal(row.get("Discount") or 0)
    if (row.get("DiscountType") or "PERCENT") == "PERCENT":
        discount = rounded(base * raw_discount / _HUNDRED)
    else:
        discount = rounded(raw_discount)
    total = base - discount
    rate_dec = Decimal(rate)
    if vat_included:
        vat = rounded(total * rate_dec / (_HUNDRED + rate_dec))
        excluding = total - vat
        price_excluding = rounded(price * _HUNDRED / (_HUNDRED + rate_dec))
    else:
        vat = rounded(total * rate_dec / _HUNDRED)
        excluding = total
        price_excluding = price
    return RowAmounts(price, quantity, discount, rate, total, vat, excluding, price_excluding)


def compute_totals(
    rows: Sequence[Mapping[str, Any]], *, vat_included: bool, currency: str, round_off: bool
) -> InvoiceTotals:
    """An invoice's totals as Fortnox computes them from its rows (shared with the tests)."""
    computed = tuple(compute_row(row, vat_included) for row in rows)
    net = sum((r.total_excluding_vat for r in computed), Decimal(0))
    total_vat = sum((r.vat for r in computed), Decimal(0))
    gross = net + total_vat
    total = rounded(gross, _ONE) if round_off and currency == "SEK" else gross
    return InvoiceTotals(computed, net, total_vat, gross, total - gross, total)


def ocr(number: int) -> str:
    """Document number, a length digit and a Luhn check digit: the usual Swedish OCR layout."""
    digits = f"{number}{(len(str(number)) + 2) % 10}"
    total = 0
    for index, char in enumerate(reversed(digits)):
        d = int(char) * (2 if index % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)
