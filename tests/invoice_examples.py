"""Examples the invoice mapping tests share: the unit tests check their rows, and
tests/integration/test_mapping_arithmetic.py checks that Fortnox's arithmetic totals them exactly;
`stripe_invoices()` draws any number more for hypothesis.

The Stripe objects come from tests/builders.py.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice
from tests.builders import (
    LineSpec,
    address,
    line_item,
    paid_checkout,
    payment_intent,
    stripe_invoice,
    taxed_line_item,
)

TIMES = "\u00d7"


def rows(mapped: MappedInvoice) -> list[tuple[Any, ...]]:
    """Each row as (Description, DeliveredQuantity, Price, VAT, AccountNumber, Discount)."""
    return [
        (
            r["Description"],
            r["DeliveredQuantity"],
            r["Price"],
            r["VAT"],
            r["AccountNumber"],
            r.get("Discount"),
        )
        for r in mapped.payload["InvoiceRows"]
    ]


# ----------------------------------------------------------------------------- Stripe invoices

DE_BUSINESS: dict[str, Any] = {
    "customer_address": address("DE", city="Berlin", line1="Str. 1", postal_code="10115"),
    "customer_tax_ids": [{"type": "eu_vat", "value": "DE123456789"}],
}
JP_CUSTOMER: dict[str, Any] = {
    "customer_address": address("JP", city="Tokyo", line1="1-1", postal_code="100-0001"),
}

# (what it shows, the Stripe invoice, its rows as `rows` gives them, VATIncluded, the total)
TABLE: list[tuple[str, dict[str, Any], list[tuple[Any, ...]], bool, str]] = [
    (
        "subscription renewal, 25 % on top",
        stripe_invoice([LineSpec(9900)]),
        [("Pro plan (2024-05-01 - 2024-06-01)", "1", 99.0, 25, 3001, None)],
        False,
        "123.75",
    ),
    (
        "mixed VAT 25/12/6, a discount, an unit price that does not divide",
        stripe_invoice(
            [
                LineSpec(9900, description="Pro plan"),
                LineSpec(Decimal("3333.3333"), quantity=3, rate=12, discount=500, description="E-book"),
                LineSpec(4999, quantity=2, rate=6, description="Magazine"),
            ]
        ),
        [
            ("Pro plan (2024-05-01 - 2024-06-01)", "1", 99.0, 25, 3001, None),
            (f"3 {TIMES} E-book (2024-05-01 - 2024-06-01)", "1", 100.0, 12, 3002, 5.0),
            ("Magazine (2024-05-01 - 2024-06-01)", "2", 49.99, 6, 3003, None),
        ],
        False,
        "336.13",
    ),
    (
        "EUR to an EU business: reverse charge",
        stripe_invoice([LineSpec(120000, quantity=4, rate=0, description="Seat")], "eur", **DE_BUSINESS),
        [("Seat (2024-05-01 - 2024-06-01)", "4", 1200.0, 0, 3308, None)],
        False,
        "4800.00",
    ),
    (
        "JPY, zero-decimal, export",
        stripe_invoice([LineSpec(1500, quantity=3, taxed=False, description="Plan")], "jpy", **JP_CUSTOMER),
        [("Plan (2024-05-01 - 2024-06-01)", "3", 1500.0, 0, 3305, None)],
        False,
        "4500",
    ),
    (
        "JPY with Swedish VAT: Fortnox's VAT has decimals Stripe's has not -> rounding row",
        stripe_invoice([LineSpec(1001, description="Plan")], "jpy"),
        [
            ("Plan (2024-05-01 - 2024-06-01)", "1", 1001.0, 25, 3001, None),
            ("Öresavrundning mot Stripe", "1", -0.25, 0, 3740, None),
        ],
        False,
        "1251",
    ),
    (
        "prices including VAT",
        stripe_invoice(
            [LineSpec(12500, inclusive=True), LineSpec(5000, quantity=2, inclusive=True, rate=12)]
        ),
        [
            ("Pro plan (2024-05-01 - 2024-06-01)", "1", 125.0, 25, 3001, None),
            ("Pro plan (2024-05-01 - 2024-06-01)", "2", 50.0, 12, 3002, None),
        ],
        True,
        "225.00",
    ),
    (
        "quantity x price that does not divide",
        stripe_invoice([LineSpec(Decimal("333.3333"), quantity=3, description="Seat")]),
        [(f"3 {TIMES} Seat (2024-05-01 - 2024-06-01)", "1", 10.0, 25, 3001, None)],
        False,
        "12.50",
    ),
    (
        "Stripe rounds tax half to even: the inclusive row reproduces it",
        stripe_invoice([LineSpec(1002, rounding="half_even")]),
        [("Pro plan (2024-05-01 - 2024-06-01)", "1", 12.52, 25, 3001, None)],
        True,
        "12.52",
    ),
    (
        "neither VAT mode reproduces Stripe's tax: a rounding row",
        stripe_invoice([LineSpec(98, rate=12, inclusive=True, rounding="half_even")]),
        [
            ("Pro plan (2024-05-01 - 2024-06-01)", "1", 0.88, 12, 3002, None),
            ("Öresavrundning mot Stripe", "1", -0.01, 0, 3740, None),
        ],
        False,
        "0.98",
    ),
    (
        "older API: tax_amounts",
        stripe_invoice([LineSpec(20000, rate=6, old_api=True)]),
        [("Pro plan (2024-05-01 - 2024-06-01)", "1", 200.0, 6, 3003, None)],
        False,
        "212.00",
    ),
]


def shipping_invoice() -> dict[str, Any]:
    """An invoice with a 49.00 SEK shipping cost and 25 % VAT on it."""
    invoice = stripe_invoice([LineSpec(10000)])
    invoice["amount_shipping"] = 4900
    invoice["shipping_cost"] = {
        "amount_subtotal": 4900,
        "amount_tax": 1225,
        "amount_total": 6125,
        "shipping_rate": "shr_1",
        "taxes": [
            {
                "amount": 1225,
                "rate": {"id": "txr_25", "percentage": 25.0, "inclusive": False},
                "taxability_reason": "standard_rated",
                "taxable_amount": 4900,
            }
        ],
    }
    invoice["total"] += 6125
    return invoice


def credit_grant_invoice() -> dict[str, Any]:
    """A VAT-free 100.00 SEK line lowered by a 25.00 SEK credit grant (billing credits)."""
    invoice = stripe_invoice([LineSpec(10000, rate=0)])
    line = invoice["lines"]["data"][0]
    line["pretax_credit_amounts"] = [
        {"amount": 2500, "type": "credit_balance_transaction", "credit_balance_transaction": "cbtxn_1"}
    ]
    invoice["total"] -= 2500
    return invoice


def paged_invoice() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An invoice whose event carries only the first of its two lines, and all its lines."""
    invoice = stripe_invoice([LineSpec(100), LineSpec(200)])
    all_lines = invoice["lines"]["data"]
    invoice["lines"]["data"] = all_lines[:1]
    invoice["lines"]["has_more"] = True
    return invoice, all_lines


# ----------------------------------------------------------------------------- Checkout and PaymentIntents


def checkout_session(amount_total: int, **fields: Any) -> dict[str, Any]:
    """A paid SEK Checkout Session of a buyer in Sweden (no other address) through pi_checkout."""
    details = {**paid_checkout(0)["customer_details"], "address": address("SE")}
    return paid_checkout(amount_total, **{"customer_details": details, **fields})


def tshirts_and_book() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A 556.00 SEK Checkout Session: two discounted T-shirts at 25 % on top, a book at 6 % included."""
    tshirt = taxed_line_item("T-shirt", 2, 20000, rate=25, discount=4000)
    book = taxed_line_item("Book", 1, 10600, rate=6, inclusive=True)
    return checkout_session(55600), [tshirt, book]


def mismatched_checkout() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Checkout line item whose subtotal, discount and tax do not add up to its total (9.00 SEK)."""
    item = line_item(currency="sek", amount_subtotal=1000, amount_discount=0, amount_tax=0, amount_total=900)
    return checkout_session(900), [item]


def consulting_intent() -> dict[str, Any]:
    """Stripe's example PaymentIntent, succeeded for 100.00 SEK."""
    return payment_intent(amount=10000, description="Consulting")


# ----------------------------------------------------------------------------- Fortnox


def fortnox_invoice(**over: Any) -> dict[str, Any]:
    """An invoice as the simulator answers it (only the fields the payment and credit need)."""
    base: dict[str, Any] = {
        "DocumentNumber": "12",
        "CustomerNumber": "42",
        "Currency": "SEK",
        "CurrencyRate": 1.0,
        "InvoiceDate": "2024-05-01",
        "Total": 124.0,
        "RoundOff": 0.25,
        "Balance": 124.0,
        "VATIncluded": False,
        "CreditInvoiceReference": "0",
        # 100.00 and 23.75 including VAT: 123.75, rounded by Fortnox to 124.
        "InvoiceRows": [
            {"Description": "Pro plan", "AccountNumber": 3001, "VAT": 25, "Price": 80.0, "Total": 80.0},
            {"Description": "Book", "AccountNumber": 3003, "VAT": 6, "Price": 22.41, "Total": 22.41},
        ],
    }
    base.update(over)
    return base


# ----------------------------------------------------------------------------- hypothesis

SWEDISH_RATES = (25, 12, 6, 0)


def _minor(unit: Decimal | int, quantity: int) -> int:
    return int((Decimal(unit) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@st.composite
def line_specs(draw: st.DrawFn, *, zero_decimal: bool = False) -> LineSpec:
    quantity = draw(st.integers(min_value=1, max_value=50))
    if draw(st.booleans()):
        unit: Decimal | int = draw(st.integers(min_value=0, max_value=2_000_000 if zero_decimal else 500_000))
    else:
        # unit_amount_decimal with up to 4 decimals of the minor unit (Stripe allows 12).
        unit = Decimal(draw(st.integers(min_value=0, max_value=50_000_000))).scaleb(-4)
    amount = _minor(unit, quantity)
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
        specs = [dataclasses.replace(s, inclusive=inclusive) for s in specs]
    return stripe_invoice(specs, currency)
