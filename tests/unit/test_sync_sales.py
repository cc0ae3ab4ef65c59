"""sync/sales.py: invoice.paid and payment_intent.succeeded against fakes: who is invoiced, with
which VAT, and the SEK Stripe settled; the booking itself is `FakeInvoiceSync`'s record."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import Outcome
from stripe_fortnox_sync.mapping.identity import guest_key
from tests.builders import (
    address,
    balance_transaction,
    bo_buyer_charge,
    bo_buyer_payment_intent,
    per_persson,
    per_persson_invoice,
    tax_id,
)
from tests.fakes import FakeStripe
from tests.unit.handlers import booking_world, calls

intent = bo_buyer_payment_intent

# invoice.paid ------------------------------------------------------------------------------------


def test_invoice_paid_books_the_invoice_for_the_synced_customer() -> None:
    w = booking_world(FakeStripe(per_persson()))
    result = w.send("invoice.paid", per_persson_invoice())
    assert result.outcome is Outcome.CREATED
    assert calls(w) == [
        (
            "paid",
            {
                "id": per_persson_invoice()["id"],
                "customer": w.only_customer()["CustomerNumber"],
                "lines": None,
                "settlement": None,
            },
        )
    ]


def test_invoice_paid_with_more_lines_than_the_event_needs_the_key_for_them() -> None:
    long = per_persson_invoice(lines={**per_persson_invoice()["lines"], "has_more": True})
    with pytest.raises(PermanentEventError) as parked:
        booking_world().send("invoice.paid", long)
    assert parked.value.reason == "needs_stripe_key"
    stripe = FakeStripe(per_persson())
    stripe.invoice_line_items[long["id"]] = [{"id": "il_1"}, {"id": "il_2"}]
    w = booking_world(stripe)
    w.send("invoice.paid", long)
    assert calls(w)[0][1]["lines"] == ["il_1", "il_2"]


def test_a_foreign_currency_invoice_finds_its_payment_for_the_sek_settled() -> None:
    settled = bo_buyer_charge(balance_transaction=balance_transaction(23_300))
    stripe = FakeStripe(per_persson()).add_intent(
        bo_buyer_payment_intent(id="pi_inv", currency="eur", latest_charge=settled)
    )
    # API versions from 2025: no payment_intent field
    stripe.invoices_by_intent["pi_inv"] = per_persson_invoice()["id"]
    w = booking_world(stripe)
    w.send("invoice.paid", per_persson_invoice(currency="eur"))
    assert calls(w)[0][1]["settlement"] == 23_300


# payment_intent.succeeded ------------------------------------------------------------------------


def test_a_payment_intent_needs_the_stripe_key_to_know_whether_something_else_booked_it() -> None:
    with pytest.raises(PermanentEventError) as parked:
        booking_world().send("payment_intent.succeeded", bo_buyer_payment_intent())
    assert parked.value.reason == "needs_stripe_key"


@pytest.mark.parametrize(
    ("setup", "detail"),
    [
        (
            lambda s: s.add_intent(bo_buyer_payment_intent(invoice="in_1")),
            "paid in_1: booked from invoice.paid",
        ),
        (
            lambda s: s.add_intent(bo_buyer_payment_intent()).invoices_by_intent.update(pi_1="in_2"),
            "paid in_2",
        ),
        (
            lambda s: s.add_intent(bo_buyer_payment_intent()).sessions_by_intent.update(pi_1="cs_1"),
            "taken by cs_1",
        ),
        (lambda s: s.add_intent(bo_buyer_payment_intent(status="processing")), "not a succeeded payment"),
        (lambda s: None, "not a succeeded payment"),
    ],
    ids=["invoice field", "invoice payment", "checkout session", "not succeeded now", "unknown"],
)
def test_a_payment_intent_that_something_else_books_is_skipped(setup: Any, detail: str) -> None:
    stripe = FakeStripe()
    setup(stripe)
    w = booking_world(stripe, invoice_checkout_payments=True)
    result = w.send("payment_intent.succeeded", bo_buyer_payment_intent())
    assert result.outcome is Outcome.IGNORED and detail in result.detail
    assert calls(w) == [] and w.fortnox.total_calls == 0


def test_a_checkout_payment_is_booked_from_its_payment_intent_when_sessions_are_not_invoiced() -> None:
    stripe = FakeStripe().add_intent(bo_buyer_payment_intent())
    stripe.sessions_by_intent.update(pi_1="cs_1")
    w = booking_world(stripe)
    w.send("payment_intent.succeeded", bo_buyer_payment_intent())
    assert [name for name, _ in calls(w)] == ["payment_intent_paid"]


def test_a_guest_payment_intent_invoices_the_billing_email() -> None:
    w = booking_world(FakeStripe().add_intent(bo_buyer_payment_intent()))
    result = w.send("payment_intent.succeeded", bo_buyer_payment_intent())
    stored = w.only_customer()
    assert (stored["Email"], stored["Name"], stored["City"]) == ("Bo@Example.se", "Bo Buyer", "Göteborg")
    assert w.links.get(guest_key("bo@example.se")) is not None
    (call,) = calls(w)
    assert call == (
        "payment_intent_paid",
        {
            "id": "pi_1",
            "customer": stored["CustomerNumber"],
            "vat_rate": 25,
            "vat_type": "SEVAT",
            "settlement": None,
        },
    )
    assert result.detail.startswith("customer created; ")


def test_a_guest_payment_intent_falls_back_to_the_receipt_email() -> None:
    bare = bo_buyer_payment_intent(
        receipt_email="kvitto@example.se", latest_charge=bo_buyer_charge(billing_details={"email": None})
    )
    w = booking_world(FakeStripe().add_intent(bare))
    w.send("payment_intent.succeeded", bare)
    assert w.only_customer()["Email"] == "kvitto@example.se"
    assert calls(w)[0][1]["vat_type"] is None and calls(w)[0][1]["vat_rate"] == 25


def test_a_payment_intent_without_a_customer_or_an_email_has_nobody_to_invoice() -> None:
    bare = bo_buyer_payment_intent(
        receipt_email=None, latest_charge=bo_buyer_charge(billing_details={"email": None})
    )
    w = booking_world(FakeStripe().add_intent(bare))
    with pytest.raises(PermanentEventError) as parked:
        w.send("payment_intent.succeeded", bare)
    assert parked.value.reason == "no_customer" and w.fortnox.total_calls == 0


EU_ADDRESS = address("DE", line1="Str 1", postal_code="10117", city="Berlin")
GERMAN_VAT_ID = tax_id("DE123456789", "DE", customer_id="cus_B")
US_ADDRESS = address("US", line1="1 Main St", postal_code="10001", city="New York")


@pytest.mark.parametrize(
    ("buyer", "rate", "vat_type"),
    [
        (per_persson("cus_B"), 25, "SEVAT"),
        (
            per_persson(
                "cus_B",
                address=EU_ADDRESS,
                tax_ids={"data": [tax_id("DE123456789", "DE", customer_id="cus_B")]},
            ),
            0,
            "EUREVERSEDVAT",
        ),
        (per_persson("cus_B", address=EU_ADDRESS), 25, "EUVAT"),
        (per_persson("cus_B", address=US_ADDRESS), 0, "EXPORT"),
        (per_persson("cus_B", tax_exempt="reverse"), 0, "SEREVERSEDVAT"),
    ],
    ids=["Swedish buyer", "EU business with a VAT id", "EU consumer", "export", "Swedish reverse charge"],
)
def test_a_payment_intent_of_a_customer_charges_vat_by_the_buyer(
    buyer: dict[str, Any], rate: int, vat_type: str
) -> None:
    paid = bo_buyer_payment_intent(customer="cus_B")
    w = booking_world(FakeStripe(buyer).add_intent(paid))
    result = w.send("payment_intent.succeeded", paid)
    assert result.outcome is Outcome.CREATED
    (call,) = calls(w)
    assert (call[1]["vat_rate"], call[1]["vat_type"]) == (rate, vat_type)
    assert call[1]["customer"] == w.only_customer()["CustomerNumber"]


def test_the_payment_intent_vat_rate_setting_applies_to_swedish_buyers() -> None:
    w = booking_world(FakeStripe().add_intent(bo_buyer_payment_intent()), payment_intent_vat_rate=12)
    w.send("payment_intent.succeeded", bo_buyer_payment_intent())
    assert calls(w)[0][1]["vat_rate"] == 12


@pytest.mark.parametrize(
    ("currency", "settled", "expected"),
    [
        ("eur", balance_transaction(57_000), 57_000),
        ("eur", balance_transaction(5_000, "eur"), None),  # an EUR balance: Fortnox's rate prices it
        ("eur", "txn_not_expanded", None),
        ("sek", balance_transaction(12_500), None),
    ],
)
def test_a_payment_intent_passes_the_sek_settled_only_from_a_sek_balance(
    currency: str, settled: Any, expected: int | None
) -> None:
    paid = bo_buyer_payment_intent(
        currency=currency, latest_charge=bo_buyer_charge(balance_transaction=settled)
    )
    w = booking_world(FakeStripe().add_intent(paid))
    w.send("payment_intent.succeeded", paid)
    assert calls(w)[0][1]["settlement"] == expected
