"""Stripe invoice lines -> Fortnox invoice rows: quantities, discounts, VAT rates and modes, rounding rows.

Whether Fortnox's own arithmetic totals these rows to Stripe's total is checked against the
simulator's model in tests/integration/test_mapping_arithmetic.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.money import minor_to_decimal
from stripe_fortnox_sync.mapping.sales import map_stripe_invoice
from tests.builders import LineSpec, fixture, stripe_invoice
from tests.invoice_examples import DE_BUSINESS, TABLE, credit_grant_invoice, rows, shipping_invoice


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
    assert mapped.total == minor_to_decimal(invoice["total"], invoice["currency"])


def test_stripe_example_invoice_maps() -> None:
    # Stripe's own example, untouched: one USD line without tax, customer without an address.
    invoice = fixture("stripe_invoice.json")
    mapped = map_stripe_invoice(invoice, "7")
    assert rows(mapped) == [("My First Invoice Item (created for API docs)", "1", 10.0, 0, 3004, None)]
    assert mapped.payload["Currency"] == "USD"
    assert mapped.total == minor_to_decimal(invoice["total"], "usd")


def test_description_is_cleaned_and_cut() -> None:
    invoice = stripe_invoice([LineSpec(100, description="Rocket 🚀\nfuel " + "x" * 400)])
    text = map_stripe_invoice(invoice, "1").payload["InvoiceRows"][0]["Description"]
    assert text.startswith("Rocket fuel xxx")
    assert len(text) <= 255
    assert "🚀" not in text


def test_shipping_becomes_a_row() -> None:
    invoice = shipping_invoice()
    mapped = map_stripe_invoice(invoice, "1")
    assert rows(mapped)[-1] == ("Frakt", "1", 49.0, 25, 3001, None)
    assert mapped.total == minor_to_decimal(invoice["total"], "sek")


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
    goods = BookkeepingAccounts(sells="goods")
    assert rows(map_stripe_invoice(invoice, "1", goods, vat_type="EUREVERSEDVAT"))[0][4] == 3108


def test_totals_that_do_not_add_up_are_an_error_not_a_rounding_row() -> None:
    invoice = stripe_invoice([LineSpec(10000)])
    invoice["total"] += 500
    with pytest.raises(InvoiceMappingError, match="too large to be rounding"):
        map_stripe_invoice(invoice, "1")


def test_credit_grants_lower_the_line() -> None:
    invoice = credit_grant_invoice()
    mapped = map_stripe_invoice(invoice, "1")
    assert rows(mapped)[0][5] == 25.0
    assert mapped.total == minor_to_decimal(invoice["total"], "sek")
