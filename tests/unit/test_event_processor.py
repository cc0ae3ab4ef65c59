"""Each Stripe event type against in-memory fakes, with and without a Stripe API key."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_sync.customer_sync import CustomerSync
from stripe_fortnox_sync.event_processor import EventProcessor, append_comment, format_amount
from stripe_fortnox_sync.identity import guest_key
from stripe_fortnox_sync.models import LinkStatus, Outcome, StripeEvent
from stripe_fortnox_sync.settings import MatchRule, Settings
from tests.fakes import FakeFortnox, InMemoryMappingStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


class FakeStripe:
    def __init__(self, *customers: dict[str, Any]) -> None:
        self.customers = {c["id"]: c for c in customers}
        self.fetches: list[str] = []

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None:
        self.fetches.append(customer_id)
        found = self.customers.get(customer_id)
        return copy.deepcopy(found) if found else None


class Recorder:
    def __init__(self) -> None:
        self.activity: list[tuple[str, str, dict[str, Any]]] = []
        self.notes: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self.failures: list[dict[str, Any]] = []

    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        self.activity.append((customer_id, event.type, dict(details)))

    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None:
        self.notes.append((subject, message))

    def skipped_without_key(self, event: StripeEvent, what: str) -> None:
        self.skipped.append(what)

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None:
        self.failures.append(dict(details))


def customer(cid: str = "cus_P1", **over: Any) -> dict[str, Any]:
    base = fixture("stripe_customer.json")
    base.pop("discount", None)
    base.update(
        id=cid,
        name="Per Persson",
        email="per@example.se",
        currency="sek",
        address={
            "line1": "Gatan 1",
            "line2": None,
            "postal_code": "123 45",
            "city": "Lund",
            "country": "SE",
            "state": None,
        },
    )
    base.update(over)
    return base


class World:
    def __init__(self, stripe: FakeStripe | None = None, **settings: Any) -> None:
        self.settings = Settings(**settings)
        self.fortnox = FakeFortnox()
        self.links = InMemoryMappingStore()
        self.rec = Recorder()
        self.stripe = stripe
        self.processor = EventProcessor(
            self.settings,
            CustomerSync(self.settings, self.fortnox, self.links),
            self.fortnox,
            stripe=stripe,
            activity=self.rec,
            notifier=self.rec,
            observer=self.rec,
        )
        self._n = 0

    def send(self, kind: str, obj: dict[str, Any], created: int = 100) -> Any:
        self._n += 1
        return self.processor.apply(StripeEvent(f"evt_{self._n}", kind, created, False, obj))

    def only_customer(self) -> dict[str, Any]:
        (found,) = self.fortnox.customers.values()
        return found


def tax_id(value: str = "SE556677889901", country: str = "SE", cid: str = "cus_P1") -> dict[str, Any]:
    return {
        **fixture("stripe_tax_id.json"),
        "customer": cid,
        "value": value,
        "country": country,
        "type": "eu_vat",
    }


# Customer events -------------------------------------------------------------------------------


def test_with_a_key_the_current_customer_is_applied_not_the_stale_payload() -> None:
    w = World(FakeStripe(customer(name="Current Name", tax_ids={"data": [tax_id()]})))
    w.send("customer.updated", customer(name="Old Name in payload"))
    stored = w.only_customer()
    assert stored["Name"] == "Current Name"
    assert stored["VATNumber"] == "SE556677889901" and stored["OrganisationNumber"] == "556677-8899"
    assert stored["Type"] == "COMPANY"


def test_with_a_key_a_customer_deleted_meanwhile_is_deactivated() -> None:
    w = World(FakeStripe(customer()))
    w.send("customer.created", customer())
    w.stripe.customers["cus_P1"] = {"id": "cus_P1", "object": "customer", "deleted": True}  # type: ignore[union-attr]
    assert w.send("customer.updated", customer(), 200).outcome is Outcome.DEACTIVATED
    assert w.only_customer()["Active"] is False


# Tax ids ---------------------------------------------------------------------------------------


def test_tax_id_added_then_removed_without_a_key() -> None:
    w = World()
    w.send("customer.created", customer())
    assert w.send("customer.tax_id.created", tax_id(), 110).outcome is Outcome.UPDATED
    stored = w.only_customer()
    assert (stored["VATNumber"], stored["OrganisationNumber"], stored["Type"], stored["VATType"]) == (
        "SE556677889901",
        "556677-8899",
        "COMPANY",
        "SEVAT",
    )
    result = w.send("customer.tax_id.deleted", tax_id(), 120)
    assert result.outcome is Outcome.UPDATED and "VATType left" in result.detail
    stored = w.only_customer()
    assert stored["VATNumber"] == "" and stored["OrganisationNumber"] == ""
    assert w.rec.skipped  # what could not be known is reported


def test_eu_vat_id_sets_reverse_charge_for_an_eu_business() -> None:
    w = World()
    w.send(
        "customer.created",
        customer(address={"line1": "Str 1", "postal_code": "10117", "city": "Berlin", "country": "DE"}),
    )
    w.send("customer.tax_id.created", tax_id("DE123456789", "DE"), 110)
    assert w.only_customer()["VATType"] == "EUREVERSEDVAT"


def test_tax_id_events_are_ordered_among_themselves() -> None:
    w = World()
    w.send("customer.created", customer())
    w.send("customer.tax_id.deleted", tax_id(), 300)
    assert w.send("customer.tax_id.created", tax_id(), 200).outcome is Outcome.STALE


def test_tax_id_for_an_unsynced_customer_without_a_key_is_skipped_loudly() -> None:
    w = World()
    assert w.send("customer.tax_id.created", tax_id()).outcome is Outcome.IGNORED
    assert w.fortnox.total_calls == 0 and w.rec.skipped


def test_tax_id_with_a_key_syncs_the_whole_current_customer() -> None:
    w = World(FakeStripe(customer(tax_ids={"data": [tax_id()]})))
    assert w.send("customer.tax_id.created", tax_id()).outcome is Outcome.CREATED
    assert w.only_customer()["VATNumber"] == "SE556677889901" and w.stripe.fetches == ["cus_P1"]  # type: ignore[union-attr]


# Checkout --------------------------------------------------------------------------------------


def session(**over: Any) -> dict[str, Any]:
    base = fixture("stripe_checkout_session.json")
    base.update(
        mode="payment",
        customer=None,
        customer_details={
            "email": "Guest@Example.se",
            "name": "Gustav Guest",
            "phone": "+46 70 999 00 00",
            "address": {
                "line1": "Gästvägen 3",
                "postal_code": "753 20",
                "city": "Uppsala",
                "country": "SE",
                "line2": None,
                "state": None,
            },
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    base.update(over)
    return base


def test_guest_checkout_then_real_customer_with_the_same_email_is_one_fortnox_customer() -> None:
    w = World(match_rule=MatchRule.NONE)  # even without e-mail matching in Fortnox
    assert w.send("checkout.session.completed", session()).outcome is Outcome.CREATED
    link = w.links.links[guest_key("guest@example.se")]
    assert link.status is LinkStatus.ACTIVE
    assert w.only_customer()["Name"] == "Gustav Guest"
    # The same buyer checks out again as a guest: no second customer.
    w.send("checkout.session.completed", session(id="cs_second"), 150)
    # Later they become a Stripe customer with the same address.
    result = w.send("customer.created", customer("cus_G", email="guest@example.se", name="Gustav Guest"), 200)
    assert result.outcome is Outcome.UPDATED and "guest" in result.detail
    stored = w.only_customer()
    assert stored["ExternalReference"] == "cus_G"


def test_checkout_with_a_customer_syncs_that_customer() -> None:
    w = World(FakeStripe(customer("cus_C", name="Cecilia")))
    w.send("checkout.session.completed", session(customer="cus_C", mode="subscription"))
    assert w.only_customer()["Name"] == "Cecilia" and w.stripe.fetches == ["cus_C"]  # type: ignore[union-attr]


def test_checkout_with_a_customer_without_key_uses_the_details_without_blanking() -> None:
    w = World()
    w.send("customer.created", customer("cus_C", phone="+46 8 1"))
    details = session()["customer_details"] | {"phone": None}
    w.send("checkout.session.completed", session(customer="cus_C", customer_details=details), 200)
    stored = w.only_customer()
    assert stored["Phone1"] == "+46 8 1"  # absent from the snapshot: kept, not blanked
    assert stored["City"] == "Uppsala"


def test_checkout_modes_setting_filters() -> None:
    w = World(checkout_modes=("subscription",))
    assert w.send("checkout.session.completed", session(mode="payment")).outcome is Outcome.IGNORED
    assert w.fortnox.total_calls == 0


def test_guest_checkout_with_a_vat_number() -> None:
    w = World()
    details = session()["customer_details"] | {"tax_ids": [{"type": "eu_vat", "value": "SE556677889901"}]}
    w.send("checkout.session.completed", session(customer_details=details))
    assert w.only_customer()["OrganisationNumber"] == "556677-8899"


# Subscriptions -----------------------------------------------------------------------------------


def subscription(cid: str = "cus_S") -> dict[str, Any]:
    return {**fixture("stripe_subscription.json"), "customer": cid}


def test_subscription_for_an_unknown_customer_is_fetched_and_created() -> None:
    w = World(FakeStripe(customer("cus_S", name="Sara Subscriber")))
    assert w.send("customer.subscription.created", subscription()).outcome is Outcome.CREATED
    assert w.only_customer()["Name"] == "Sara Subscriber"
    assert w.rec.activity[0][:2] == ("cus_S", "customer.subscription.created")


def test_subscription_without_a_key_is_recorded_and_reported() -> None:
    w = World()
    result = w.send("customer.subscription.deleted", subscription())
    assert result.outcome is Outcome.IGNORED and "Stripe API key" in result.detail
    assert w.rec.activity and w.rec.skipped and w.fortnox.total_calls == 0
    w.send("customer.created", customer("cus_S"))
    calls = w.fortnox.total_calls
    result = w.send("customer.subscription.created", subscription(), 200)
    assert result.outcome is Outcome.UNCHANGED and result.fortnox_number and w.fortnox.total_calls == calls


# Payment failures --------------------------------------------------------------------------------


def invoice(**over: Any) -> dict[str, Any]:
    base = fixture("stripe_invoice.json")
    base.update(
        customer="cus_P1",
        customer_name="Per Persson",
        customer_email="per@example.se",
        amount_due=19900,
        currency="sek",
        attempt_count=2,
        next_payment_attempt=1_764_000_000,
        number="ABC-0001",
    )
    base.update(over)
    return base


def test_payment_failure_is_recorded_notified_and_commented() -> None:
    w = World(FakeStripe(customer()), payment_failure_comments=True)
    result = w.send("invoice.payment_failed", invoice(), 1_763_712_000)
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
    w.processor.apply(StripeEvent("evt_1", "invoice.payment_failed", 1_763_712_000, False, invoice()))
    assert w.only_customer()["Comments"].count("ABC-0001") == 1


def test_payment_failure_without_a_key_creates_the_customer_from_the_invoice() -> None:
    w = World()
    w.send("invoice.payment_failed", invoice())
    assert w.only_customer()["Name"] == "Per Persson" and w.rec.notes


def test_zero_decimal_currency_amounts() -> None:
    assert format_amount(5000, "jpy") == "5000 JPY"
    assert format_amount(5, "eur") == "0.05 EUR"


def test_comments_stay_within_fortnox_limit_dropping_oldest_lines() -> None:
    text = ""
    for i in range(100):
        text = append_comment(text, f"2026-01-{i:02d} Stripe payment failed: 100.00 SEK, invoice X-{i}")
    assert len(text) <= 1024 and text.endswith("invoice X-99") and "X-0\n" not in text


@pytest.mark.parametrize("kind", ["charge.succeeded", "payment_intent.created"])
def test_other_types_are_ignored(kind: str) -> None:
    assert World().send(kind, {"id": "x"}).outcome is Outcome.IGNORED


def test_an_invoice_snapshot_without_tax_ids_never_downgrades_a_company() -> None:
    w = World()
    w.send("customer.created", customer(tax_ids={"data": [tax_id()]}))
    assert w.only_customer()["Type"] == "COMPANY"
    w.send("invoice.payment_failed", invoice(customer_tax_ids=[]), 200)
    assert w.only_customer()["Type"] == "COMPANY"
