"""Stripe invoices for the invoice tests: built from Stripe's own example invoice, with lines whose
amounts, discounts and taxes are computed the way Stripe computes them (integer minor units, tax
rounded per line), so the invoice's `total` is what Stripe would say.

Stripe's exact tax rounding is not documented; lines round half up or half to even (`rounding`), so
the tests also meet Stripe amounts that Fortnox's own rounding would not reproduce.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return data


STRIPE_INVOICE = fixture("stripe_invoice.json")
STRIPE_LINE = fixture("stripe_invoice_line_item.json")

# 2024-05-01 10:00 UTC and a month later: a renewal period.
PERIOD_START = 1714557600
PERIOD_END = 1717236000

Rounding = Literal["half_up", "half_even"]


def _round(value: Decimal, rounding: Rounding) -> int:
    return int(
        value.quantize(Decimal(1), rounding=ROUND_HALF_UP if rounding == "half_up" else ROUND_HALF_EVEN)
    )


@dataclass(frozen=True)
class LineSpec:
    """One Stripe invoice line: unit amount in minor units (may have decimals), a VAT rate."""

    unit_amount: Decimal | int
    quantity: int = 1
    rate: int = 25
    inclusive: bool = False
    discount: int = 0
    description: str = "Pro plan"
    rounding: Rounding = "half_up"
    old_api: bool = False  # tax_amounts (API versions before 2025) instead of taxes
    taxed: bool = True


def stripe_line(spec: LineSpec, currency: str, index: int = 0) -> dict[str, Any]:
    unit = Decimal(spec.unit_amount)
    amount = _round(unit * spec.quantity, "half_up")
    value = amount - spec.discount
    rate = Decimal(spec.rate)
    if spec.inclusive:
        tax = value - _round(value * 100 / (100 + rate), spec.rounding)
        taxable = value - tax
    else:
        taxable = value
        tax = _round(value * rate / 100, spec.rounding)
    line = copy.deepcopy(STRIPE_LINE)
    line.update(
        id=f"il_test{index}",
        amount=amount,
        currency=currency,
        description=spec.description,
        quantity=spec.quantity,
        period={"start": PERIOD_START, "end": PERIOD_END},
        discount_amounts=[{"amount": spec.discount, "discount": "di_test"}] if spec.discount else [],
        pricing={"type": "price_details", "unit_amount_decimal": str(unit)},
        subtotal=amount,
        taxes=None,
    )
    behaviour = "inclusive" if spec.inclusive else "exclusive"
    if not spec.taxed:
        pass
    elif spec.old_api:
        line.pop("taxes")
        line["tax_amounts"] = [
            {
                "amount": tax,
                "inclusive": spec.inclusive,
                "tax_rate": f"txr_{spec.rate}",
                "taxable_amount": taxable,
            }
        ]
    else:
        line["taxes"] = [
            {
                "amount": tax,
                "tax_behavior": behaviour,
                "tax_rate_details": {"tax_rate": f"txr_{spec.rate}"},
                "taxability_reason": "standard_rated",
                "taxable_amount": taxable,
                "type": "tax_rate_details",
            }
        ]
    return line


def line_tax(line: dict[str, Any]) -> int:
    entries = line.get("taxes") or line.get("tax_amounts") or []
    return sum(int(e["amount"]) for e in entries)


def line_inclusive(line: dict[str, Any]) -> bool:
    entries = line.get("taxes") or line.get("tax_amounts") or []
    return any(e.get("tax_behavior") == "inclusive" or e.get("inclusive") is True for e in entries)


def stripe_invoice(
    specs: list[LineSpec],
    currency: str = "sek",
    *,
    invoice_id: str = "in_test_renewal",
    **overrides: Any,
) -> dict[str, Any]:
    """Stripe's example invoice with these lines, paid, and its totals computed like Stripe's."""
    lines = [stripe_line(spec, currency, i) for i, spec in enumerate(specs)]
    subtotal = sum(line["amount"] for line in lines)
    discounts = sum(d["amount"] for line in lines for d in line["discount_amounts"])
    exclusive_tax = sum(line_tax(line) for line in lines if not line_inclusive(line))
    total = subtotal - discounts + exclusive_tax
    invoice = copy.deepcopy(STRIPE_INVOICE)
    invoice.update(
        id=invoice_id,
        number="ABC123-0001",
        currency=currency,
        lines={"data": lines, "has_more": False, "object": "list", "url": f"/v1/invoices/{invoice_id}/lines"},
        subtotal=subtotal,
        total=total,
        amount_due=total,
        amount_paid=total,
        amount_remaining=0,
        status="paid",
        billing_reason="subscription_cycle",
        created=PERIOD_START,
        effective_at=PERIOD_START,
        due_date=None,
        status_transitions={
            "finalized_at": PERIOD_START,
            "paid_at": PERIOD_START + 60,
            "marked_uncollectible_at": None,
            "voided_at": None,
        },
        customer_address={
            "city": "Stockholm",
            "country": "SE",
            "line1": "Gatan 1",
            "line2": None,
            "postal_code": "111 22",
            "state": None,
        },
        customer_tax_exempt="none",
        customer_tax_ids=[],
        payment_intent="pi_test_renewal",
    )
    invoice.update(overrides)
    return invoice


# ----------------------------------------------------------------------------- hypothesis

SWEDISH_RATES = (25, 12, 6, 0)


@st.composite
def line_specs(draw: st.DrawFn, *, zero_decimal: bool = False) -> LineSpec:
    quantity = draw(st.integers(min_value=1, max_value=50))
    if draw(st.booleans()):
        unit: Decimal | int = draw(st.integers(min_value=0, max_value=2_000_000 if zero_decimal else 500_000))
    else:
        # unit_amount_decimal with up to 4 decimals of the minor unit (Stripe allows 12).
        unit = Decimal(draw(st.integers(min_value=0, max_value=50_000_000))).scaleb(-4)
    amount = _round(Decimal(unit) * quantity, "half_up")
    discount = draw(st.integers(min_value=0, max_value=amount)) if draw(st.booleans()) and amount else 0
    return LineSpec(
        unit_amount=unit,
        quantity=quantity,
        rate=draw(st.sampled_from((*SWEDISH_RATES, 19, 21))),
        inclusive=draw(st.booleans()),
        discount=discount,
        description=draw(st.sampled_from(["Pro plan", "Seat", "Support 🚀 hours", "Setup fee"])),
        rounding=draw(st.sampled_from(["half_up", "half_even"])),
        old_api=draw(st.booleans()),
        taxed=draw(st.integers(min_value=0, max_value=9)) > 0,
    )


@st.composite
def stripe_invoices(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(["sek", "sek", "sek", "eur", "jpy"]))
    specs = draw(st.lists(line_specs(zero_decimal=currency == "jpy"), min_size=1, max_size=6))
    # One tax behaviour per invoice most of the time, as Stripe prices usually are; sometimes mixed.
    if draw(st.integers(min_value=0, max_value=4)):
        inclusive = specs[0].inclusive
        specs = [LineSpec(**{**vars(s), "inclusive": inclusive}) for s in specs]
    return stripe_invoice(specs, currency)


def checkout_tshirts(
    session_id: str, payment_intent: str, **session_over: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A completed payment-mode Checkout Session for 3 T-shirts at 100 SEK + 25 % VAT (375.00 SEK),
    and its one line item as GET /v1/checkout/sessions/{id}/line_items lists it."""
    item = fixture("stripe_checkout_line_item.json")
    item.update(
        currency="sek",
        description="T-shirt",
        quantity=3,
        amount_subtotal=30000,
        amount_discount=0,
        amount_tax=7500,
        amount_total=37500,
        taxes=[
            {
                "amount": 7500,
                "rate": {"id": "txr_25", "percentage": 25.0, "inclusive": False},
                "taxable_amount": 30000,
            }
        ],
    )
    session = fixture("stripe_checkout_session.json")
    session.update(
        id=session_id,
        currency="sek",
        amount_total=37500,
        payment_intent=payment_intent,
        payment_status="paid",
        status="complete",
        **session_over,
    )
    return session, [item]
