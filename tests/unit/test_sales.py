"""Stripe Invoices, Checkout Sessions and PaymentIntents -> the Fortnox invoice: header, references,
dates, and what is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.dates import stripe_invoice_paid_on
from stripe_fortnox_sync.mapping.fortnox_invoice import total_difference
from stripe_fortnox_sync.mapping.money import minor_to_decimal
from stripe_fortnox_sync.mapping.sales import map_checkout_session, map_payment_intent, map_stripe_invoice
from tests.builders import LineSpec, stripe_invoice
from tests.invoice_examples import (
    TIMES,
    checkout_session,
    consulting_intent,
    mismatched_checkout,
    paged_invoice,
    rows,
    tshirts_and_book,
)


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


def test_lines_beyond_the_first_page_must_be_passed() -> None:
    invoice, all_lines = paged_invoice()
    with pytest.raises(InvoiceMappingError, match="more lines"):
        map_stripe_invoice(invoice, "1")
    mapped = map_stripe_invoice(invoice, "1", lines=all_lines)
    assert len(mapped.payload["InvoiceRows"]) == 2
    assert mapped.total == minor_to_decimal(invoice["total"], "sek")


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


def test_checkout_session_with_line_items() -> None:
    session, items = tshirts_and_book()
    mapped = map_checkout_session(session, items, "9")
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
    assert mapped.total == Decimal("556.00")


def test_checkout_line_that_does_not_add_up_trusts_its_total() -> None:
    session, items = mismatched_checkout()
    mapped = map_checkout_session(session, items, "9")
    assert mapped.warnings
    assert mapped.total == Decimal("9.00")


def test_checkout_session_in_subscription_mode_is_refused() -> None:
    with pytest.raises(InvoiceMappingError, match="subscription"):
        map_checkout_session(checkout_session(100, mode="subscription"), [], "9")


def test_payment_intent_becomes_one_vat_inclusive_row() -> None:
    intent = consulting_intent()
    mapped = map_payment_intent(intent, "3", vat_rate=25)
    assert mapped.payload["VATIncluded"] is True
    assert rows(mapped) == [("Consulting", "1", 100.0, 25, 3001, None)]
    assert mapped.payload["ExternalInvoiceReference1"] == intent["id"]
    assert mapped.fortnox_vat == Decimal("20.00")
    assert mapped.total == Decimal("100.00")


def test_total_difference_after_create() -> None:
    mapped = map_stripe_invoice(stripe_invoice([LineSpec(9900)]), "1")
    assert total_difference(mapped, {"Total": 124.0, "RoundOff": 0.25}) == 0
    assert total_difference(mapped, {"Total": 124.0, "RoundOff": 0.0}) == Decimal("0.25")
