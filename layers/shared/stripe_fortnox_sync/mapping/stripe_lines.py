"""What Stripe says was sold: invoice lines, Checkout line items and shipping, with their taxes.

Every shape is read into one `Line` (minor units, in its own tax terms), and each line gets the Fortnox
VAT rate that reproduces the tax Stripe charged on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.dates import swedish_date
from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.money import as_decimal, as_int
from stripe_fortnox_sync.mapping.text import MAX_DESCRIPTION, first_description
from stripe_fortnox_sync.mapping.vat import derive_rate, explicit_rate, rate_miss

# Row text for shipping, in Swedish like the rest of the Fortnox company.
SHIPPING_DESCRIPTION = "Frakt"


@dataclass(frozen=True)
class Tax:
    """One tax entry on a Stripe line, in minor units."""

    amount: int
    taxable: int | None
    inclusive: bool
    percentage: Decimal | None
    rate_id: str | None


@dataclass(frozen=True)
class Line:
    """One Stripe line in minor units, in its own tax terms."""

    description: str
    quantity: Decimal | None
    amount: int  # before discounts; includes the tax when inclusive
    discount: int
    tax: int
    inclusive: bool | None  # None: no tax on the line, so both modes read it alike
    taxes: tuple[Tax, ...]

    @property
    def net(self) -> int:
        return self.amount - self.discount - (self.tax if self.inclusive else 0)

    @property
    def gross(self) -> int:
        return self.net + self.tax


def _quantity(line: Mapping[str, Any]) -> Decimal | None:
    raw = line.get("quantity_decimal")
    if raw is None:
        raw = line.get("quantity")
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return as_decimal(raw, "quantity")
    except InvoiceMappingError:
        return None


def _tax(entry: Mapping[str, Any]) -> Tax:
    rate = (
        entry.get("rate")
        or entry.get("tax_rate")
        or as_mapping(entry.get("tax_rate_details")).get("tax_rate")
    )
    rate_id = rate if isinstance(rate, str) else as_mapping(rate).get("id")
    percentage = as_mapping(rate).get("percentage")
    inclusive = entry.get("inclusive")
    if not isinstance(inclusive, bool):
        behaviour = entry.get("tax_behavior")
        inclusive = behaviour == "inclusive" if behaviour else bool(as_mapping(rate).get("inclusive"))
    taxable = entry.get("taxable_amount")
    return Tax(
        amount=as_int(entry.get("amount", 0), "tax amount"),
        taxable=taxable if isinstance(taxable, int) and not isinstance(taxable, bool) else None,
        inclusive=inclusive,
        percentage=as_decimal(percentage, "tax rate percentage") if percentage is not None else None,
        rate_id=rate_id if isinstance(rate_id, str) else None,
    )


def _taxes(raw: object) -> tuple[Tax, ...]:
    """Tax entries in any of Stripe's shapes: invoice line `taxes` (2025+), `tax_amounts` (older API),
    Checkout line item `taxes` (with the rate object), shipping `taxes`."""
    if not isinstance(raw, list):
        return ()
    return tuple(_tax(entry) for entry in raw if isinstance(entry, Mapping))


def _line_inclusive(taxes: Sequence[Tax], tax: int) -> bool | None:
    if not taxes or tax == 0:
        return None
    return any(t.inclusive for t in taxes)


def _period(line: Mapping[str, Any]) -> str:
    period = as_mapping(line.get("period"))
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or end <= start:
        return ""
    # Start and end dates as Stripe's own invoice shows the period.
    return f" ({swedish_date(start).isoformat()} - {swedish_date(end).isoformat()})"


def _discount(line: Mapping[str, Any]) -> int:
    """Discounts and credit grants on an invoice line: both lower its taxable amount."""
    discount_list = line.get("discount_amounts")
    credits = [c for c in line.get("pretax_credit_amounts") or [] if isinstance(c, Mapping)]
    if isinstance(discount_list, list):
        discount = sum(
            as_int(d.get("amount", 0), "discount amount") for d in discount_list if isinstance(d, Mapping)
        )
    else:
        # Newer API versions list discounts among the pre-tax credits instead.
        discount = sum(
            as_int(c.get("amount", 0), "discount amount") for c in credits if c.get("type") == "discount"
        )
    # Credit grants (billing credits) lower the taxable amount like a discount does.
    return discount + sum(
        as_int(c.get("amount", 0), "credit amount")
        for c in credits
        if c.get("type") == "credit_balance_transaction"
    )


def invoice_line(line: Mapping[str, Any], index: int) -> Line:
    """One line of a Stripe Invoice (an invoice line item)."""
    price = as_mapping(line.get("price"))
    description = first_description(
        line.get("description"),
        price.get("nickname"),
        fallback=f"Stripe line {line.get('id') or index + 1}",
    )
    discount = _discount(line)
    taxes = _taxes(line.get("taxes") if isinstance(line.get("taxes"), list) else line.get("tax_amounts"))
    tax = sum(t.amount for t in taxes)
    return Line(
        description=(description + _period(line))[:MAX_DESCRIPTION].rstrip(),
        quantity=_quantity(line),
        amount=as_int(line.get("amount"), "line amount"),
        discount=discount,
        tax=tax,
        inclusive=_line_inclusive(taxes, tax),
        taxes=taxes,
    )


def shipping_line(shipping: Mapping[str, Any]) -> Line:
    """The shipping cost of an invoice or a Checkout Session, as a line."""
    taxes = _taxes(shipping.get("taxes"))
    tax = as_int(shipping.get("amount_tax") or 0, "shipping tax")
    gross = as_int(shipping.get("amount_total") or 0, "shipping total")
    inclusive = _line_inclusive(taxes, tax)
    return Line(
        description=SHIPPING_DESCRIPTION,
        quantity=None,
        amount=gross if inclusive else gross - tax,
        discount=0,
        tax=tax,
        inclusive=inclusive,
        taxes=taxes,
    )


def checkout_line(item: Mapping[str, Any], index: int, warnings: list[FieldWarning]) -> Line:
    """One Checkout Session line item; its amount_total wins when its parts do not add up."""
    price = as_mapping(item.get("price"))
    description = first_description(
        item.get("description"), fallback=f"Stripe item {item.get('id') or index + 1}"
    )
    taxes = _taxes(item.get("taxes"))
    tax = as_int(item.get("amount_tax") or 0, "line item tax")
    discount = as_int(item.get("amount_discount") or 0, "line item discount")
    total = as_int(item.get("amount_total"), "line item total")
    inclusive = _line_inclusive(taxes, tax)
    if inclusive is None and tax:
        inclusive = price.get("tax_behavior") == "inclusive"
    amount = as_int(
        item.get("amount_subtotal") if item.get("amount_subtotal") is not None else total, "subtotal"
    )
    expected = amount - discount + (0 if inclusive else tax)
    if expected != total:
        # amount_total is what the customer paid for the line: trust it over the subtotal.
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}]",
                f"Stripe's subtotal, discount and tax do not add up to {total}: used the total",
            )
        )
        amount = total + discount - (0 if inclusive else tax)
    return Line(description, _quantity(item), amount, discount, tax, inclusive, taxes)


def line_rates(lines: Sequence[Line], warnings: list[FieldWarning]) -> list[int]:
    """The Fortnox VAT rate of each line: what Stripe's tax rate says, else what its tax fits."""
    by_id = _rates_by_id(lines)
    return [_line_rate(line, by_id, i, warnings) for i, line in enumerate(lines)]


def _rates_by_id(lines: Sequence[Line]) -> dict[str, int]:
    """A rate per Stripe tax rate id, derived from its largest taxable amount (small lines are ambiguous)."""
    best: dict[str, Tax] = {}
    for line in lines:
        for tax in line.taxes:
            if (
                tax.rate_id
                and tax.taxable is not None
                and (tax.rate_id not in best or abs(tax.taxable) > abs(best[tax.rate_id].taxable or 0))
            ):
                best[tax.rate_id] = tax
    return {rate_id: derive_rate(t.amount, t.taxable or 0) for rate_id, t in best.items()}


def _line_rate(line: Line, by_id: Mapping[str, int], index: int, warnings: list[FieldWarning]) -> int:
    if not line.taxes:
        return 0
    explicit = explicit_rate([t.percentage for t in line.taxes])
    if explicit is not None:
        return explicit
    rate_id = line.taxes[0].rate_id
    if len(line.taxes) == 1 and rate_id is not None and rate_id in by_id:
        return by_id[rate_id]
    base = max((abs(t.taxable) for t in line.taxes if t.taxable is not None), default=abs(line.net))
    rate = derive_rate(line.tax, base)
    if rate_miss(rate, line.tax, base or 1) > 1:
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}].VAT",
                f"Stripe's tax {line.tax} on {base} is no VAT rate Fortnox has: used {rate} %",
            )
        )
    return rate
