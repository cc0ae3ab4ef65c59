"""The mapping's rows against the simulator's model of Fortnox's arithmetic (`compute_totals`).

Whatever the rows look like, the property that matters: Fortnox's total, before its öresavrundning,
equals Stripe's total to the minor unit, and every credit invoice totals exactly minus its refund.
The unit tests (tests/unit/test_invoice_rows.py, test_sales.py, test_credits.py) check the rows
themselves on the same examples (tests/invoice_examples.py) without the simulator.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fortnox_sim import compute_totals
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.credits import credit_payload
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice
from stripe_fortnox_sync.mapping.money import decimal_to_minor, minor_to_decimal
from stripe_fortnox_sync.mapping.sales import map_checkout_session, map_payment_intent, map_stripe_invoice
from tests.builders import fixture
from tests.invoice_examples import (
    TABLE,
    consulting_intent,
    credit_grant_invoice,
    fortnox_invoice,
    mismatched_checkout,
    paged_invoice,
    shipping_invoice,
    stripe_invoices,
    tshirts_and_book,
)

ACCOUNTS = BookkeepingAccounts()


def fortnox_totals(mapped: MappedInvoice, *, round_off: bool = False) -> Any:
    payload = mapped.payload
    return compute_totals(
        payload["InvoiceRows"],
        vat_included=payload["VATIncluded"],
        currency=payload["Currency"],
        round_off=round_off,
    )


def assert_exact(mapped: MappedInvoice, stripe_total: int, currency: str) -> None:
    expected = minor_to_decimal(stripe_total, currency)
    assert mapped.total == expected
    for round_off in (False, True):
        totals = fortnox_totals(mapped, round_off=round_off)
        assert totals.total - totals.round_off == expected


# (what it shows, the mapping, Stripe's total in minor units, its currency)
Example = tuple[str, Callable[[], MappedInvoice], int, str]


def _invoice(name: str, invoice: dict[str, Any], **kwargs: Any) -> Example:
    return name, lambda: map_stripe_invoice(invoice, "1", **kwargs), invoice["total"], invoice["currency"]


_PAGED, _ALL_LINES = paged_invoice()
EXAMPLES: list[Example] = [
    *(_invoice(name, invoice) for name, invoice, *_ in TABLE),
    _invoice("Stripe's example invoice", fixture("stripe_invoice.json")),
    _invoice("shipping", shipping_invoice()),
    _invoice("lines beyond the first page", _PAGED, lines=_ALL_LINES),
    _invoice("credit grant", credit_grant_invoice()),
    ("Checkout line items", lambda: map_checkout_session(*tshirts_and_book(), "9"), 55600, "sek"),
    (
        "Checkout line that does not add up",
        lambda: map_checkout_session(*mismatched_checkout(), "9"),
        900,
        "sek",
    ),
    ("PaymentIntent", lambda: map_payment_intent(consulting_intent(), "3", vat_rate=25), 10000, "sek"),
]


@pytest.mark.parametrize(
    ("mapped", "stripe_total", "currency"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES]
)
def test_fortnox_totals_the_examples_exactly(
    mapped: Callable[[], MappedInvoice], stripe_total: int, currency: str
) -> None:
    assert_exact(mapped(), stripe_total, currency)


@pytest.mark.parametrize(
    ("invoice", "refund_minor", "currency", "expected"),
    [
        (fortnox_invoice(), 5001, "sek", "-50.01"),
        # Half of Stripe's example refund (1.00 USD) of a USD invoice.
        (
            fortnox_invoice(Currency="USD", CurrencyRate=10.5, Total=1.0, RoundOff=0.0, Balance=0.0),
            50,
            "usd",
            "-0.50",
        ),
    ],
)
def test_fortnox_totals_a_credit_to_minus_the_refund(
    invoice: dict[str, Any], refund_minor: int, currency: str, expected: str
) -> None:
    credit = credit_payload(invoice, refund_minor, currency, "re_1", date(2024, 5, 10))
    assert fortnox_totals(credit).total == Decimal(expected)


@hypothesis_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice=stripe_invoices(), round_off=st.booleans())
def test_fortnox_total_equals_stripe_total(invoice: dict[str, Any], round_off: bool) -> None:
    mapped = map_stripe_invoice(invoice, "1")
    totals = fortnox_totals(mapped, round_off=round_off)
    expected = minor_to_decimal(invoice["total"], invoice["currency"])
    assert totals.total - totals.round_off == expected
    # The only rows not from Stripe are rounding rows, and only when Fortnox's VAT differs.
    extra = [r for r in mapped.payload["InvoiceRows"] if r["AccountNumber"] == ACCOUNTS.rounding]
    assert len(extra) <= 1
    if extra:
        assert mapped.stripe_vat is not None
        assert mapped.payload["VATIncluded"] is False
        assert Decimal(str(extra[0]["Price"])) == mapped.stripe_vat - mapped.fortnox_vat
    else:
        assert mapped.stripe_vat == mapped.fortnox_vat
    assert totals.total_vat == mapped.fortnox_vat
    assert len(invoice["lines"]["data"]) + len(extra) == len(mapped.payload["InvoiceRows"])


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    invoice=stripe_invoices(),
    fractions=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=4),
)
def test_partial_credits_add_up_to_the_refunds(invoice: dict[str, Any], fractions: list[int]) -> None:
    mapped = map_stripe_invoice(invoice, "1")
    totals = fortnox_totals(mapped)
    rows_out = [
        {**row, "Total": float(amounts.total)}
        for row, amounts in zip(mapped.payload["InvoiceRows"], totals.rows, strict=True)
    ]
    as_fortnox = {
        **copy.deepcopy(mapped.payload),
        "DocumentNumber": "5",
        "InvoiceRows": rows_out,
        "Total": float(totals.total),
        "RoundOff": 0.0,
    }
    total_minor = decimal_to_minor(mapped.total, invoice["currency"])
    if total_minor <= 0 or not any(r["Total"] > 0 and r["AccountNumber"] != 3740 for r in rows_out):
        return
    credited = 0
    for fraction in fractions:
        refund = max(1, total_minor * fraction // 4000)
        if credited + refund > total_minor:
            break
        credit = credit_payload(
            as_fortnox,
            refund,
            invoice["currency"],
            f"re_{credited}",
            date(2024, 6, 1),
            already_credited_minor=credited,
        )
        assert fortnox_totals(credit).total == -minor_to_decimal(refund, invoice["currency"])
        credited += refund
