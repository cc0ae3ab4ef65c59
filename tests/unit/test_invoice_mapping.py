"""Stripe invoices, Checkout sessions, PaymentIntents and refunds -> Fortnox invoice bodies.

The Stripe objects start from Stripe's own examples (tests/fixtures) with amounts computed the way
Stripe computes them (tests/invoice_factory.py). Whatever the rows look like, the property that
matters is checked with the simulator's model of Fortnox's arithmetic (`compute_totals`): Fortnox's
total, before its öresavrundning, equals Stripe's total to the minor unit.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fortnox_sim import compute_totals
from stripe_fortnox_sync.invoice_mapping import (
    InvoiceAccounts,
    InvoiceMappingError,
    MappedInvoice,
    credit_payload,
    decimal_to_minor,
    map_checkout_session,
    map_payment_intent,
    map_stripe_invoice,
    minor_to_decimal,
    payment_payload,
    refund_is_full,
    stripe_invoice_paid_on,
    total_difference,
    vat_type_for,
)
from tests.invoice_factory import LineSpec, fixture, stripe_invoice, stripe_invoices

ACCOUNTS = InvoiceAccounts()
TIMES = "\u00d7"


def fortnox_totals(mapped: MappedInvoice, *, round_off: bool = False) -> Any:
    payload = mapped.payload
    return compute_totals(
        payload["InvoiceRows"],
        vat_included=payload["VATIncluded"],
        currency=payload["Currency"],
        round_off=round_off,
    )


def rows(mapped: MappedInvoice) -> list[tuple[Any, ...]]:
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


def assert_exact(mapped: MappedInvoice, stripe_total: int, currency: str) -> None:
    expected = minor_to_decimal(stripe_total, currency)
    assert mapped.total == expected
    for round_off in (False, True):
        totals = fortnox_totals(mapped, round_off=round_off)
        assert totals.total - totals.round_off == expected


# ----------------------------------------------------------------------------- money


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


# ----------------------------------------------------------------------------- accounts


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
    assert InvoiceAccounts(sells=sells).sales_account(vat_type, rate) == expected


def test_accounts_are_validated() -> None:
    with pytest.raises(ValueError, match="four-digit"):
        InvoiceAccounts(stripe_clearing=158)
    with pytest.raises(ValueError, match="sells"):
        InvoiceAccounts(sells="both")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("country", "exempt", "vat_number", "expected"),
    [
        ("SE", "none", False, "SEVAT"),
        ("se", "reverse", False, "SEREVERSEDVAT"),
        ("DE", "none", True, "EUREVERSEDVAT"),
        ("DE", "reverse", False, "EUREVERSEDVAT"),
        ("FR", "none", False, "EUVAT"),
        ("US", "none", False, "EXPORT"),
        (None, "none", False, None),
    ],
)
def test_vat_type_for(country: str | None, exempt: str, vat_number: bool, expected: str | None) -> None:
    assert vat_type_for(country, exempt, vat_number) == expected


# ----------------------------------------------------------------------------- Stripe invoices: table

DE_BUSINESS = {
    "customer_address": {
        "country": "DE",
        "city": "Berlin",
        "line1": "Str. 1",
        "line2": None,
        "postal_code": "10115",
        "state": None,
    },
    "customer_tax_ids": [{"type": "eu_vat", "value": "DE123456789"}],
}
JP_CUSTOMER = {
    "customer_address": {
        "country": "JP",
        "city": "Tokyo",
        "line1": "1-1",
        "line2": None,
        "postal_code": "100-0001",
        "state": None,
    },
}

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


@pytest.mark.parametrize(
    ("invoice", "expected_rows", "vat_included", "total"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_stripe_invoice_table(
    invoice: dict[str, Any], expected_rows: list[tuple[Any, ...]], vat_included: bool, total: str
) -> None:
    mapped = map_stripe_invoice(invoice, "42")
    assert rows(mapped) == expected_rows
    assert mapped.payload["VATIncluded"] is vat_included
    assert mapped.total == Decimal(total)
    assert_exact(mapped, invoice["total"], invoice["currency"])


def test_invoice_header() -> None:
    invoice = stripe_invoice([LineSpec(9900)], due_date=1714557600 + 30 * 86400)
    mapped = map_stripe_invoice(invoice, "42")
    body = mapped.payload
    assert {k: v for k, v in body.items() if k != "InvoiceRows"} == {
        "CustomerNumber": "42",
        "Currency": "SEK",
        "InvoiceDate": "2024-05-01",
        "DueDate": "2024-05-31",
        "ExternalInvoiceReference1": "in_test_renewal",
        "ExternalInvoiceReference2": "pi_test_renewal",
        "VATIncluded": False,
        "Remarks": "Stripe-faktura ABC123-0001 (in_test_renewal)",
    }
    assert mapped.stripe_vat == mapped.fortnox_vat == Decimal("24.75")
    assert mapped.warnings == ()


def test_dates_are_swedish_dates() -> None:
    # 23:30 UTC on 30 April is 01:30 on 1 May in Stockholm (summer time).
    late = 1714519800
    invoice = stripe_invoice([LineSpec(100)])
    invoice["status_transitions"] = {"finalized_at": late, "paid_at": late}
    assert map_stripe_invoice(invoice, "1").payload["InvoiceDate"] == "2024-05-01"
    assert stripe_invoice_paid_on(invoice) == date(2024, 5, 1)


def test_payment_intent_of_newer_api_versions() -> None:
    invoice = stripe_invoice([LineSpec(100)], payment_intent=None)
    invoice["payments"] = {
        "data": [{"payment": {"type": "payment_intent", "payment_intent": "pi_new"}, "status": "paid"}]
    }
    assert map_stripe_invoice(invoice, "1").payload["ExternalInvoiceReference2"] == "pi_new"


def test_stripe_example_invoice_maps() -> None:
    # Stripe's own example, untouched: one USD line without tax, customer without an address.
    invoice = fixture("stripe_invoice.json")
    mapped = map_stripe_invoice(invoice, "7")
    assert rows(mapped) == [("My First Invoice Item (created for API docs)", "1", 10.0, 0, 3004, None)]
    assert mapped.payload["Currency"] == "USD"
    assert_exact(mapped, invoice["total"], "usd")


def test_description_is_cleaned_and_cut() -> None:
    invoice = stripe_invoice([LineSpec(100, description="Rocket 🚀\nfuel " + "x" * 400)])
    text = map_stripe_invoice(invoice, "1").payload["InvoiceRows"][0]["Description"]
    assert text.startswith("Rocket fuel xxx")
    assert len(text) <= 255
    assert "🚀" not in text


def test_shipping_becomes_a_row() -> None:
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
    mapped = map_stripe_invoice(invoice, "1")
    assert rows(mapped)[-1] == ("Frakt", "1", 49.0, 25, 3001, None)
    assert_exact(mapped, invoice["total"], "sek")


def test_stripe_tax_rate_percentage_wins_over_derivation() -> None:
    # 1 öre of tax on 4 öre fits 25 % and 19 %; an expanded tax rate object says which.
    invoice = stripe_invoice([LineSpec(4, rate=25)])
    invoice["lines"]["data"][0]["taxes"][0]["tax_rate_details"]["tax_rate"] = {
        "id": "txr_de",
        "percentage": 19.0,
    }
    assert rows(map_stripe_invoice(invoice, "1"))[0][3] == 19


def test_small_lines_take_the_rate_of_their_tax_rate_id() -> None:
    # Alone, a 1-öre tax on 3 öre fits 17..49 % (and 25 % would win); the big line with the same
    # tax rate id says 19 %.
    invoice = stripe_invoice([LineSpec(3, rate=19), LineSpec(100000, rate=19)])
    assert [r[3] for r in rows(map_stripe_invoice(invoice, "1"))] == [19, 19]


def test_reverse_charge_customer_charged_vat_is_booked_as_charged() -> None:
    invoice = stripe_invoice([LineSpec(10000)], **DE_BUSINESS)
    mapped = map_stripe_invoice(invoice, "1")
    assert rows(mapped)[0][3:5] == (25, 3001)
    assert any("EUREVERSEDVAT" in w.reason for w in mapped.warnings)


def test_untaxed_swedish_sale_is_flagged() -> None:
    mapped = map_stripe_invoice(stripe_invoice([LineSpec(10000, taxed=False)]), "1")
    assert rows(mapped)[0][3:5] == (0, 3004)
    assert any("no tax" in w.reason for w in mapped.warnings)


def test_customer_vat_type_can_be_given() -> None:
    invoice = stripe_invoice([LineSpec(10000, rate=0)])
    assert rows(map_stripe_invoice(invoice, "1", vat_type="EXPORT"))[0][4] == 3305
    goods = InvoiceAccounts(sells="goods")
    assert rows(map_stripe_invoice(invoice, "1", goods, vat_type="EUREVERSEDVAT"))[0][4] == 3108


def test_lines_beyond_the_first_page_must_be_passed() -> None:
    invoice = stripe_invoice([LineSpec(100), LineSpec(200)])
    all_lines = invoice["lines"]["data"]
    invoice["lines"]["data"] = all_lines[:1]
    invoice["lines"]["has_more"] = True
    with pytest.raises(InvoiceMappingError, match="more lines"):
        map_stripe_invoice(invoice, "1")
    mapped = map_stripe_invoice(invoice, "1", lines=all_lines)
    assert len(mapped.payload["InvoiceRows"]) == 2
    assert_exact(mapped, invoice["total"], "sek")


def test_totals_that_do_not_add_up_are_an_error_not_a_rounding_row() -> None:
    invoice = stripe_invoice([LineSpec(10000)])
    invoice["total"] += 500
    with pytest.raises(InvoiceMappingError, match="too large to be rounding"):
        map_stripe_invoice(invoice, "1")


def test_credit_grants_lower_the_line() -> None:
    invoice = stripe_invoice([LineSpec(10000, rate=0)])
    line = invoice["lines"]["data"][0]
    line["pretax_credit_amounts"] = [
        {"amount": 2500, "type": "credit_balance_transaction", "credit_balance_transaction": "cbtxn_1"}
    ]
    invoice["total"] -= 2500
    mapped = map_stripe_invoice(invoice, "1")
    assert rows(mapped)[0][5] == 25.0
    assert_exact(mapped, invoice["total"], "sek")


@pytest.mark.parametrize(
    ("field", "value"),
    [("currency", "xyz"), ("id", None), ("total", "100"), ("id", "in_" + "x" * 80)],
)
def test_bad_invoices_are_refused(field: str, value: Any) -> None:
    invoice = stripe_invoice([LineSpec(100)])
    invoice[field] = value
    with pytest.raises(InvoiceMappingError):
        map_stripe_invoice(invoice, "1")


def test_a_customer_number_is_required() -> None:
    with pytest.raises(InvoiceMappingError):
        map_stripe_invoice(stripe_invoice([LineSpec(100)]), "")


# ----------------------------------------------------------------------------- Checkout and PaymentIntents


def checkout_item(**over: Any) -> dict[str, Any]:
    item = fixture("stripe_checkout_line_item.json")
    item.update(over)
    return item


def checkout_session(amount_total: int, **over: Any) -> dict[str, Any]:
    session = fixture("stripe_checkout_session.json")
    session.update(
        currency="sek",
        amount_total=amount_total,
        status="complete",
        payment_status="paid",
        payment_intent="pi_checkout",
        customer_details={
            **session["customer_details"],
            "address": {
                "country": "SE",
                "city": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
        },
    )
    session.update(over)
    return session


def test_checkout_session_with_line_items() -> None:
    tshirt = checkout_item(
        currency="sek",
        description="T-shirt",
        quantity=2,
        amount_subtotal=40000,
        amount_discount=4000,
        amount_tax=9000,
        amount_total=45000,
        taxes=[
            {
                "amount": 9000,
                "rate": {"id": "txr_25", "percentage": 25.0, "inclusive": False},
                "taxability_reason": "standard_rated",
                "taxable_amount": 36000,
            }
        ],
    )
    book = checkout_item(
        currency="sek",
        description="Book",
        quantity=1,
        amount_subtotal=10600,
        amount_discount=0,
        amount_tax=600,
        amount_total=10600,
        taxes=[
            {
                "amount": 600,
                "rate": {"id": "txr_6", "percentage": 6.0, "inclusive": True},
                "taxability_reason": "standard_rated",
                "taxable_amount": 10000,
            }
        ],
    )
    session = checkout_session(55600)
    mapped = map_checkout_session(session, [tshirt, book], "9")
    assert mapped.payload["ExternalInvoiceReference1"] == "pi_checkout"
    assert mapped.payload["ExternalInvoiceReference2"] == "pi_checkout"
    assert mapped.payload["InvoiceDate"] == "2009-02-14"
    # Prices excluding VAT reproduce both taxes: the inclusive book is sent at its net price.
    assert mapped.payload["VATIncluded"] is False
    assert rows(mapped) == [
        (f"2 {TIMES} T-shirt", "1", 400.0, 25, 3001, 40.0),
        ("Book", "1", 100.0, 6, 3003, None),
    ]
    assert mapped.stripe_vat == mapped.fortnox_vat == Decimal("96.00")
    assert_exact(mapped, 55600, "sek")


def test_checkout_line_that_does_not_add_up_trusts_its_total() -> None:
    item = checkout_item(
        currency="sek", amount_subtotal=1000, amount_discount=0, amount_tax=0, amount_total=900
    )
    mapped = map_checkout_session(checkout_session(900), [item], "9")
    assert mapped.warnings
    assert_exact(mapped, 900, "sek")


def test_checkout_session_in_subscription_mode_is_refused() -> None:
    with pytest.raises(InvoiceMappingError, match="subscription"):
        map_checkout_session(checkout_session(100, mode="subscription"), [], "9")


def test_payment_intent_becomes_one_vat_inclusive_row() -> None:
    intent = fixture("stripe_payment_intent.json")
    intent.update(
        currency="sek", amount=10000, amount_received=10000, status="succeeded", description="Consulting"
    )
    mapped = map_payment_intent(intent, "3", vat_rate=25)
    assert mapped.payload["VATIncluded"] is True
    assert rows(mapped) == [("Consulting", "1", 100.0, 25, 3001, None)]
    assert mapped.payload["ExternalInvoiceReference1"] == intent["id"]
    assert mapped.fortnox_vat == Decimal("20.00")
    assert_exact(mapped, 10000, "sek")


# ----------------------------------------------------------------------------- payments


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


def test_payment_writes_off_fortnoxs_round_off() -> None:
    payment = payment_payload(fortnox_invoice(), 12375, "sek", date(2024, 5, 2))
    assert payment.payload == {
        "InvoiceNumber": 12,
        "PaymentDate": "2024-05-02",
        "ModeOfPaymentAccount": 1580,
        "Amount": 123.75,
        "WriteOffs": [
            {"AccountNumber": 3740, "Amount": 0.25, "Currency": "SEK", "Description": "Öresavrundning"}
        ],
    }
    assert payment.warnings == ()


def test_payment_of_a_foreign_invoice() -> None:
    invoice = fortnox_invoice(Currency="EUR", CurrencyRate=11.5, Total=100.0, RoundOff=0.0, Balance=100.0)
    accounts = InvoiceAccounts(mode_of_payment="STRIPE", stripe_clearing=1930)
    with_rate = payment_payload(invoice, 10000, "eur", date(2024, 5, 1), accounts)
    assert with_rate.payload == {
        "InvoiceNumber": 12,
        "PaymentDate": "2024-05-01",
        "ModeOfPaymentAccount": 1930,
        "ModeOfPayment": "STRIPE",
        "AmountCurrency": 100.0,
        "Amount": 1150.0,
    }
    settled = payment_payload(invoice, 10000, "eur", date(2024, 5, 1), settlement_sek_minor=113_777)
    assert settled.payload["Amount"] == 1137.77


def test_payment_before_the_invoice_date_moves_to_it() -> None:
    payment = payment_payload(
        fortnox_invoice(RoundOff=0, Total=123.75, Balance=123.75), 12375, "sek", date(2024, 4, 30)
    )
    assert payment.payload["PaymentDate"] == "2024-05-01"
    assert [w.field for w in payment.warnings] == ["PaymentDate"]


def test_refund_payment_of_a_credit_invoice_is_negative() -> None:
    credit = fortnox_invoice(Total=-124.0, RoundOff=-0.25, Balance=-124.0)
    payment = payment_payload(credit, 12375, "sek", date(2024, 5, 3))
    assert payment.payload["Amount"] == -123.75
    assert payment.payload["WriteOffs"][0]["Amount"] == -0.25


def test_partial_payment_is_flagged() -> None:
    payment = payment_payload(fortnox_invoice(), 10000, "sek", date(2024, 5, 2))
    assert "WriteOffs" not in payment.payload
    assert [w.field for w in payment.warnings] == ["Amount"]


def test_payment_currency_must_match_and_amount_must_not_be_zero() -> None:
    with pytest.raises(InvoiceMappingError):
        payment_payload(fortnox_invoice(), 100, "eur", date(2024, 5, 2))
    with pytest.raises(InvoiceMappingError, match="zero"):
        payment_payload(fortnox_invoice(), 0, "sek", date(2024, 5, 2))


# ----------------------------------------------------------------------------- refunds


def test_full_and_partial_refunds() -> None:
    invoice = fortnox_invoice()
    assert refund_is_full(invoice, 12375, "sek")
    assert not refund_is_full(invoice, 12374, "sek")
    assert not refund_is_full(invoice, 12375, "sek", already_credited_minor=100)
    assert not refund_is_full(fortnox_invoice(CreditInvoiceReference="13"), 12375, "sek")


def test_partial_refund_credit_invoice() -> None:
    mapped = credit_payload(fortnox_invoice(), 5001, "sek", "re_1", date(2024, 5, 10))
    body = mapped.payload
    assert body["CreditInvoiceReference"] == "12"
    assert body["ExternalInvoiceReference1"] == "re_1"
    assert body["VATIncluded"] is True
    assert body["InvoiceDate"] == "2024-05-10"
    assert [(r["DeliveredQuantity"], r["AccountNumber"], r["VAT"]) for r in body["InvoiceRows"]] == [
        ("-1", 3001, 25),
        ("-1", 3003, 6),
    ]
    # 50.01 split 100 : 23.75 is 40.412 and 9.598: the spare öre goes to the larger remainder.
    assert [r["Price"] for r in body["InvoiceRows"]] == [40.41, 9.60]
    assert mapped.total == Decimal("-50.01")
    assert fortnox_totals(mapped).total == Decimal("-50.01")


def test_refunds_cannot_exceed_the_invoice() -> None:
    with pytest.raises(InvoiceMappingError, match="exceed"):
        credit_payload(
            fortnox_invoice(), 10000, "sek", "re_2", date(2024, 5, 10), already_credited_minor=2376
        )
    with pytest.raises(InvoiceMappingError):
        credit_payload(fortnox_invoice(), 0, "sek", "re_3", date(2024, 5, 10))


def test_total_difference_after_create() -> None:
    mapped = map_stripe_invoice(stripe_invoice([LineSpec(9900)]), "1")
    assert total_difference(mapped, {"Total": 124.0, "RoundOff": 0.25}) == 0
    assert total_difference(mapped, {"Total": 124.0, "RoundOff": 0.0}) == Decimal("0.25")


# ----------------------------------------------------------------------------- properties


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


def test_stripe_refund_objects_drive_the_credit() -> None:
    # Stripe's example charge (1.00 USD) and its refund: the refund takes back the whole charge.
    charge, refund = fixture("stripe_charge.json"), fixture("stripe_refund.json")
    assert refund["charge"] == charge["id"]
    invoice = fortnox_invoice(Currency="USD", CurrencyRate=10.5, Total=1.0, RoundOff=0.0, Balance=0.0)
    assert refund_is_full(invoice, refund["amount"], refund["currency"])
    partial = credit_payload(
        invoice, refund["amount"] // 2, refund["currency"], refund["id"], date(2024, 5, 9)
    )
    assert partial.payload["ExternalInvoiceReference1"] == refund["id"]
    assert partial.payload["CurrencyRate"] == 10.5
    assert fortnox_totals(partial).total == Decimal("-0.50")
