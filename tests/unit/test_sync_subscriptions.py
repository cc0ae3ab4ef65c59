"""sync/subscriptions.py: subscriptions and failed invoice payments against fakes."""

from __future__ import annotations

from stripe_fortnox_sync.core.models import Outcome, StripeEvent
from stripe_fortnox_sync.mapping.money import format_amount
from stripe_fortnox_sync.sync.subscriptions import append_comment
from tests.builders import per_persson, per_persson_invoice, subscription, tax_id
from tests.fakes import FakeStripe
from tests.unit.handlers import World

# Subscriptions -----------------------------------------------------------------------------------


def test_subscription_for_an_unknown_customer_is_fetched_and_created() -> None:
    w = World(FakeStripe(per_persson("cus_S", name="Sara Subscriber")))
    assert w.send("customer.subscription.created", subscription()).outcome is Outcome.CREATED
    assert w.only_customer()["Name"] == "Sara Subscriber"
    assert w.rec.activity[0][:2] == ("cus_S", "customer.subscription.created")


def test_subscription_without_a_key_is_recorded_and_reported() -> None:
    w = World()
    result = w.send("customer.subscription.deleted", subscription())
    assert result.outcome is Outcome.IGNORED and "Stripe API key" in result.detail
    assert w.rec.activity and w.rec.skipped and w.fortnox.total_calls == 0
    w.send("customer.created", per_persson("cus_S"))
    calls = w.fortnox.total_calls
    result = w.send("customer.subscription.created", subscription(), 200)
    assert result.outcome is Outcome.UNCHANGED and result.fortnox_number and w.fortnox.total_calls == calls


# Payment failures --------------------------------------------------------------------------------


def test_payment_failure_is_recorded_notified_and_commented() -> None:
    w = World(FakeStripe(per_persson()), payment_failure_comments=True)
    result = w.send("invoice.payment_failed", per_persson_invoice(), 1_763_712_000)
    assert "199.00 SEK" in result.detail
    (failure,) = w.rec.failures
    assert failure["amount"] == "199.00 SEK" and failure["attempt_count"] == 2
    assert failure["next_payment_attempt"] == "2025-11-24"
    assert w.rec.activity[0][1] == "invoice.payment_failed"
    subject, message = w.rec.notes[0]
    assert "199.00 SEK" in subject and "Per Persson" in message and "ABC-0001" in message
    comments = w.only_customer()["Comments"]
    assert comments.startswith("2025-11-21 Stripe payment failed: 199.00 SEK, invoice ABC-0001, attempt 2")
    # A redelivery after a crash does not add the line twice.
    w.redeliver(StripeEvent("evt_1", "invoice.payment_failed", 1_763_712_000, False, per_persson_invoice()))
    assert w.only_customer()["Comments"].count("ABC-0001") == 1


def test_payment_failure_without_a_key_creates_the_customer_from_the_invoice() -> None:
    w = World()
    w.send("invoice.payment_failed", per_persson_invoice())
    assert w.only_customer()["Name"] == "Per Persson" and w.rec.notes


def test_zero_decimal_currency_amounts() -> None:
    assert format_amount(5000, "jpy") == "5000 JPY"
    assert format_amount(5, "eur") == "0.05 EUR"


def test_comments_stay_within_fortnox_limit_dropping_oldest_lines() -> None:
    text = ""
    for i in range(100):
        text = append_comment(text, f"2026-01-{i:02d} Stripe payment failed: 100.00 SEK, invoice X-{i}")
    assert len(text) <= 1024 and text.endswith("invoice X-99") and "X-0\n" not in text


def test_an_invoice_snapshot_without_tax_ids_never_downgrades_a_company() -> None:
    w = World()
    w.send("customer.created", per_persson(tax_ids={"data": [tax_id(customer_id="cus_P1")]}))
    assert w.only_customer()["Type"] == "COMPANY"
    w.send("invoice.payment_failed", per_persson_invoice(customer_tax_ids=[]), 200)
    assert w.only_customer()["Type"] == "COMPANY"
