"""Each Stripe event type against in-memory fakes, with and without a Stripe API key."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import LinkStatus, Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.identity import guest_key
from stripe_fortnox_sync.mapping.money import format_amount
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.context import Context
from stripe_fortnox_sync.sync.customer_sync import CustomerSync
from stripe_fortnox_sync.sync.subscriptions import append_comment
from tests.fakes import FakeFortnox, FakeStripe, InMemoryMappingStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


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


class FakeInvoices:
    """Stands in for InvoiceSync: records what the processor asks it to book, answers CREATED."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _booked(self, event: StripeEvent, call: str, stripe_id: str, **details: Any) -> SyncResult:
        self.calls.append((call, {"id": stripe_id, **details}))
        return SyncResult(
            event.id, event.type, stripe_id, Outcome.CREATED, "900", f"{call} {stripe_id} booked"
        )

    def paid(
        self,
        event: StripeEvent,
        invoice: Mapping[str, Any],
        customer_number: str,
        *,
        vat_type: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        return self._booked(
            event,
            "paid",
            invoice["id"],
            customer=customer_number,
            lines=None if lines is None else [line["id"] for line in lines],
            settlement=settlement_sek_minor,
        )

    def checkout_paid(
        self,
        event: StripeEvent,
        session: Mapping[str, Any],
        line_items: Sequence[Mapping[str, Any]],
        customer_number: str,
        *,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        return self._booked(
            event,
            "checkout_paid",
            session["id"],
            customer=customer_number,
            items=[item["id"] for item in line_items],
            settlement=settlement_sek_minor,
        )

    def payment_intent_paid(
        self,
        event: StripeEvent,
        intent: Mapping[str, Any],
        customer_number: str,
        *,
        vat_rate: int,
        vat_type: str | None = None,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        return self._booked(
            event,
            "payment_intent_paid",
            intent["id"],
            customer=customer_number,
            vat_rate=vat_rate,
            vat_type=vat_type,
            settlement=settlement_sek_minor,
        )

    def refund(
        self, event: StripeEvent, refund: Mapping[str, Any], *, settlement_sek_minor: int | None = None
    ) -> SyncResult:
        return self._booked(
            event,
            "refund",
            refund["id"],
            amount=refund["amount"],
            payment=refund.get("payment_intent"),
            settlement=settlement_sek_minor,
        )


class World:
    def __init__(
        self, stripe: FakeStripe | None = None, *, invoices: FakeInvoices | None = None, **settings: Any
    ) -> None:
        self.settings = Settings(**settings)
        self.fortnox = FakeFortnox()
        self.links = InMemoryMappingStore()
        self.rec = Recorder()
        self.stripe = stripe
        self.invoices = invoices
        booker: Any = invoices
        self.context = Context(
            self.settings,
            routes.enabled_types(self.settings),
            CustomerSync(self.settings, self.fortnox, self.links),
            self.fortnox,
            stripe=stripe,
            activity=self.rec,
            notifier=self.rec,
            observer=self.rec,
            invoices=booker,
        )
        self._n = 0

    def send(self, kind: str, obj: dict[str, Any], created: int = 100) -> Any:
        self._n += 1
        return routes.apply(self.context, StripeEvent(f"evt_{self._n}", kind, created, False, obj))

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
    routes.apply(w.context, StripeEvent("evt_1", "invoice.payment_failed", 1_763_712_000, False, invoice()))
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


# Invoices: sales and refunds ---------------------------------------------------------------------

INVOICE_TYPES = [
    "invoice.paid",
    "payment_intent.succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
]


def balance(amount: int, currency: str = "sek") -> dict[str, Any]:
    """An expanded balance transaction: what Stripe booked, in the account's currency."""
    return {"id": "txn_1", "object": "balance_transaction", "amount": amount, "currency": currency}


def charge(**over: Any) -> dict[str, Any]:
    base = fixture("stripe_charge.json")
    base.update(
        id="ch_1",
        payment_intent="pi_1",
        currency="sek",
        amount=12500,
        amount_refunded=0,
        refunds=None,
        billing_details={
            "email": "Bo@Example.se",
            "name": "Bo Buyer",
            "phone": None,
            "tax_id": None,
            "address": {
                "line1": "Bovägen 2",
                "line2": None,
                "postal_code": "411 01",
                "city": "Göteborg",
                "country": "SE",
                "state": None,
            },
        },
    )
    base.update(over)
    return base


def intent(**over: Any) -> dict[str, Any]:
    base = fixture("stripe_payment_intent.json")
    base.update(
        id="pi_1",
        status="succeeded",
        amount=12500,
        amount_received=12500,
        currency="sek",
        customer=None,
        invoice=None,
        latest_charge=charge(),
    )
    base.update(over)
    return base


def refund(**over: Any) -> dict[str, Any]:
    base = fixture("stripe_refund.json")
    base.update(
        id="re_1", amount=5000, currency="sek", charge="ch_1", payment_intent="pi_1", status="succeeded"
    )
    base.update(over)
    return base


def line_item(item_id: str = "li_1") -> dict[str, Any]:
    return {**fixture("stripe_checkout_line_item.json"), "id": item_id}


def paid_session(**over: Any) -> dict[str, Any]:
    return session(
        **{
            "id": "cs_paid",
            "payment_status": "paid",
            "status": "complete",
            "currency": "sek",
            "amount_total": 1000,
            "payment_intent": "pi_1",
            "invoice": None,
            **over,
        }
    )


def booking_world(stripe: FakeStripe | None = None, **settings: Any) -> World:
    return World(stripe, invoices=FakeInvoices(), **settings)


def calls(w: World) -> list[tuple[str, dict[str, Any]]]:
    assert w.invoices is not None
    return w.invoices.calls


@pytest.mark.parametrize("kind", INVOICE_TYPES)
def test_invoice_events_without_invoice_sync_are_ignored(kind: str) -> None:
    w = World(FakeStripe(customer()).add_intent(intent()).add_refund(refund()))
    obj = {"invoice.paid": invoice(), "payment_intent.succeeded": intent(), "charge.refunded": charge()}.get(
        kind, refund()
    )
    result = w.send(kind, obj)
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "invoice sync is not enabled")
    assert w.fortnox.total_calls == 0 and w.stripe is not None and w.stripe.calls == []


# Checkout Sessions in payment mode


def test_a_paid_checkout_is_only_a_customer_unless_checkout_payments_are_invoiced() -> None:
    w = booking_world(FakeStripe())
    result = w.send("checkout.session.completed", paid_session())
    assert result.outcome is Outcome.CREATED and calls(w) == []
    assert w.stripe is not None and w.stripe.calls == []


def test_a_paid_checkout_is_invoiced_with_its_line_items() -> None:
    stripe = FakeStripe()
    stripe.session_line_items["cs_paid"] = [line_item("li_1"), line_item("li_2")]
    w = booking_world(stripe, invoice_checkout_payments=True)
    result = w.send("checkout.session.completed", paid_session())
    number = w.only_customer()["CustomerNumber"]
    assert calls(w) == [
        (
            "checkout_paid",
            {"id": "cs_paid", "customer": number, "items": ["li_1", "li_2"], "settlement": None},
        )
    ]
    assert result.outcome is Outcome.CREATED and result.fortnox_number == "900"
    assert result.detail == "customer created; checkout_paid cs_paid booked"
    assert ("payment_intent", "pi_1") not in stripe.calls  # SEK: no settlement to look up


def test_a_foreign_currency_checkout_passes_the_sek_stripe_settled() -> None:
    stripe = FakeStripe().add_intent(
        intent(currency="eur", latest_charge=charge(balance_transaction=balance(11_600)))
    )
    w = booking_world(stripe, invoice_checkout_payments=True)
    w.send("checkout.session.completed", paid_session(currency="eur"))
    assert calls(w)[0][1]["settlement"] == 11_600


def test_checkout_invoicing_without_a_stripe_key_parks_for_the_key() -> None:
    w = booking_world(invoice_checkout_payments=True)
    with pytest.raises(PermanentEventError) as parked:
        w.send("checkout.session.completed", paid_session())
    assert parked.value.reason == "needs_stripe_key" and "StripeApiKey" in str(parked.value)
    assert calls(w) == []


def test_an_unpaid_checkout_is_a_customer_now_and_invoiced_when_paid() -> None:
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    result = w.send("checkout.session.completed", paid_session(payment_status="unpaid"))
    assert result.outcome is Outcome.CREATED and "not paid yet" in result.detail
    assert calls(w) == [] and w.stripe is not None and w.stripe.calls == []
    # The delayed payment succeeds (checkout.session.async_payment_succeeded): now it is invoiced.
    w.send("checkout.session.async_payment_succeeded", paid_session(), 200)
    assert [c for c, _ in calls(w)] == ["checkout_paid"]


def test_a_paid_guest_checkout_without_an_email_has_nobody_to_invoice() -> None:
    details = session()["customer_details"] | {"email": None}
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    with pytest.raises(PermanentEventError) as parked:
        w.send("checkout.session.completed", paid_session(customer_details=details, customer_email=None))
    assert parked.value.reason == "no_customer"


def test_a_subscription_checkout_is_left_to_invoice_paid() -> None:
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    w.send("checkout.session.completed", paid_session(mode="subscription"))
    assert calls(w) == []


def test_a_checkout_that_stripe_invoiced_itself_is_booked_once_from_invoice_paid() -> None:
    """invoice_creation: Stripe makes a paid invoice for the session and sends invoice.paid for it."""
    stripe = FakeStripe()
    stripe.session_line_items["cs_paid"] = [line_item()]
    w = booking_world(
        stripe, invoice_checkout_payments=True, event_types=("checkout.session.completed", "invoice.paid")
    )
    result = w.send("checkout.session.completed", paid_session(invoice="in_from_checkout"))
    assert calls(w) == [] and "in_from_checkout" in result.detail
    # Without invoice.paid enabled, the session is what books the sale.
    w = booking_world(stripe, invoice_checkout_payments=True)
    w.send("checkout.session.completed", paid_session(invoice="in_from_checkout"))
    assert [c for c, _ in calls(w)] == ["checkout_paid"]


# invoice.paid


def test_invoice_paid_books_the_invoice_for_the_synced_customer() -> None:
    w = booking_world(FakeStripe(customer()))
    result = w.send("invoice.paid", invoice())
    assert result.outcome is Outcome.CREATED
    assert calls(w) == [
        (
            "paid",
            {
                "id": invoice()["id"],
                "customer": w.only_customer()["CustomerNumber"],
                "lines": None,
                "settlement": None,
            },
        )
    ]


def test_invoice_paid_with_more_lines_than_the_event_needs_the_key_for_them() -> None:
    long = invoice(lines={**invoice()["lines"], "has_more": True})
    with pytest.raises(PermanentEventError) as parked:
        booking_world().send("invoice.paid", long)
    assert parked.value.reason == "needs_stripe_key"
    stripe = FakeStripe(customer())
    stripe.invoice_line_items[long["id"]] = [{"id": "il_1"}, {"id": "il_2"}]
    w = booking_world(stripe)
    w.send("invoice.paid", long)
    assert calls(w)[0][1]["lines"] == ["il_1", "il_2"]


def test_a_foreign_currency_invoice_finds_its_payment_for_the_sek_settled() -> None:
    stripe = FakeStripe(customer()).add_intent(
        intent(id="pi_inv", currency="eur", latest_charge=charge(balance_transaction=balance(23_300)))
    )
    stripe.invoices_by_intent["pi_inv"] = invoice()["id"]  # API versions from 2025: no payment_intent field
    w = booking_world(stripe)
    w.send("invoice.paid", invoice(currency="eur"))
    assert calls(w)[0][1]["settlement"] == 23_300


# payment_intent.succeeded


def test_a_payment_intent_needs_the_stripe_key_to_know_whether_something_else_booked_it() -> None:
    with pytest.raises(PermanentEventError) as parked:
        booking_world().send("payment_intent.succeeded", intent())
    assert parked.value.reason == "needs_stripe_key"


@pytest.mark.parametrize(
    ("setup", "detail"),
    [
        (lambda s: s.add_intent(intent(invoice="in_1")), "paid in_1: booked from invoice.paid"),
        (lambda s: s.add_intent(intent()).invoices_by_intent.update(pi_1="in_2"), "paid in_2"),
        (lambda s: s.add_intent(intent()).sessions_by_intent.update(pi_1="cs_1"), "taken by cs_1"),
        (lambda s: s.add_intent(intent(status="processing")), "not a succeeded payment"),
        (lambda s: None, "not a succeeded payment"),
    ],
    ids=["invoice field", "invoice payment", "checkout session", "not succeeded now", "unknown"],
)
def test_a_payment_intent_that_something_else_books_is_skipped(setup: Any, detail: str) -> None:
    stripe = FakeStripe()
    setup(stripe)
    w = booking_world(stripe, invoice_checkout_payments=True)
    result = w.send("payment_intent.succeeded", intent())
    assert result.outcome is Outcome.IGNORED and detail in result.detail
    assert calls(w) == [] and w.fortnox.total_calls == 0


def test_a_checkout_payment_is_booked_from_its_payment_intent_when_sessions_are_not_invoiced() -> None:
    stripe = FakeStripe().add_intent(intent())
    stripe.sessions_by_intent.update(pi_1="cs_1")
    w = booking_world(stripe)
    w.send("payment_intent.succeeded", intent())
    assert [name for name, _ in calls(w)] == ["payment_intent_paid"]


def test_a_guest_payment_intent_invoices_the_billing_email() -> None:
    w = booking_world(FakeStripe().add_intent(intent()))
    result = w.send("payment_intent.succeeded", intent())
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
    bare = intent(receipt_email="kvitto@example.se", latest_charge=charge(billing_details={"email": None}))
    w = booking_world(FakeStripe().add_intent(bare))
    w.send("payment_intent.succeeded", bare)
    assert w.only_customer()["Email"] == "kvitto@example.se"
    assert calls(w)[0][1]["vat_type"] is None and calls(w)[0][1]["vat_rate"] == 25


def test_a_payment_intent_without_a_customer_or_an_email_has_nobody_to_invoice() -> None:
    bare = intent(receipt_email=None, latest_charge=charge(billing_details={"email": None}))
    w = booking_world(FakeStripe().add_intent(bare))
    with pytest.raises(PermanentEventError) as parked:
        w.send("payment_intent.succeeded", bare)
    assert parked.value.reason == "no_customer" and w.fortnox.total_calls == 0


EU_ADDRESS = {
    "line1": "Str 1",
    "line2": None,
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "state": None,
}
US_ADDRESS = {
    "line1": "1 Main St",
    "line2": None,
    "postal_code": "10001",
    "city": "New York",
    "country": "US",
    "state": None,
}


@pytest.mark.parametrize(
    ("buyer", "rate", "vat_type"),
    [
        (customer("cus_B"), 25, "SEVAT"),
        (
            customer("cus_B", address=EU_ADDRESS, tax_ids={"data": [tax_id("DE123456789", "DE", "cus_B")]}),
            0,
            "EUREVERSEDVAT",
        ),
        (customer("cus_B", address=EU_ADDRESS), 25, "EUVAT"),
        (customer("cus_B", address=US_ADDRESS), 0, "EXPORT"),
        (customer("cus_B", tax_exempt="reverse"), 0, "SEREVERSEDVAT"),
    ],
    ids=["Swedish buyer", "EU business with a VAT id", "EU consumer", "export", "Swedish reverse charge"],
)
def test_a_payment_intent_of_a_customer_charges_vat_by_the_buyer(
    buyer: dict[str, Any], rate: int, vat_type: str
) -> None:
    paid = intent(customer="cus_B")
    w = booking_world(FakeStripe(buyer).add_intent(paid))
    result = w.send("payment_intent.succeeded", paid)
    assert result.outcome is Outcome.CREATED
    (call,) = calls(w)
    assert (call[1]["vat_rate"], call[1]["vat_type"]) == (rate, vat_type)
    assert call[1]["customer"] == w.only_customer()["CustomerNumber"]


def test_the_payment_intent_vat_rate_setting_applies_to_swedish_buyers() -> None:
    w = booking_world(FakeStripe().add_intent(intent()), payment_intent_vat_rate=12)
    w.send("payment_intent.succeeded", intent())
    assert calls(w)[0][1]["vat_rate"] == 12


@pytest.mark.parametrize(
    ("currency", "settled", "expected"),
    [
        ("eur", balance(57_000), 57_000),
        ("eur", balance(5_000, "eur"), None),  # an EUR balance: Fortnox's rate prices it
        ("eur", "txn_not_expanded", None),
        ("sek", balance(12_500), None),
    ],
)
def test_a_payment_intent_passes_the_sek_settled_only_from_a_sek_balance(
    currency: str, settled: Any, expected: int | None
) -> None:
    paid = intent(currency=currency, latest_charge=charge(balance_transaction=settled))
    w = booking_world(FakeStripe().add_intent(paid))
    w.send("payment_intent.succeeded", paid)
    assert calls(w)[0][1]["settlement"] == expected


# refund.created / refund.updated


def test_a_pending_refund_waits_for_its_update() -> None:
    w = booking_world()
    result = w.send("refund.created", refund(status="pending"))
    assert result.outcome is Outcome.IGNORED and "refund pending" in result.detail and calls(w) == []


def test_a_refund_without_a_key_is_credited_from_the_event() -> None:
    w = booking_world()
    result = w.send("refund.updated", refund())
    assert result.outcome is Outcome.CREATED
    assert calls(w) == [("refund", {"id": "re_1", "amount": 5000, "payment": "pi_1", "settlement": None})]


def test_with_a_key_the_refund_as_stripe_has_it_now_decides() -> None:
    now = refund(status="succeeded", currency="eur", balance_transaction=balance(-5_800))
    w = booking_world(FakeStripe().add_refund(now))
    result = w.send("refund.created", refund(status="pending", currency="eur"))
    assert result.outcome is Outcome.CREATED and w.stripe is not None and ("refund", "re_1") in w.stripe.calls
    assert calls(w)[0][1]["settlement"] == 5_800  # the SEK it cost, positive
    # A refund that failed since the event was sent is not credited.
    w = booking_world(FakeStripe().add_refund(refund(status="failed")))
    assert w.send("refund.created", refund()).outcome is Outcome.IGNORED and calls(w) == []
    # Nor one Stripe does not know.
    result = booking_world(FakeStripe()).send("refund.created", refund())
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "not found in Stripe")


# charge.refunded


@pytest.mark.parametrize(
    "listing",
    [None, {"object": "list", "data": [refund()], "has_more": True}],
    ids=["not listed (API 2022-11-15 and later)", "listed in part"],
)
def test_a_refunded_charge_without_a_key_or_its_refunds_is_skipped_loudly(listing: Any) -> None:
    w = booking_world()
    result = w.send("charge.refunded", charge(refunds=listing))
    assert result.outcome is Outcome.IGNORED and "refund.created" in result.detail
    assert calls(w) == [] and w.rec.skipped and "refunds" in w.rec.skipped[0]


def test_a_refunded_charge_credits_each_succeeded_refund_it_lists() -> None:
    listed = [
        refund(id="re_a", amount=1000, payment_intent=None),
        refund(id="re_b", amount=2000, status="pending"),
        refund(id="re_c", amount=3000),
    ]
    w = booking_world()
    result = w.send("charge.refunded", charge(refunds={"object": "list", "data": listed, "has_more": False}))
    assert [(c[1]["id"], c[1]["payment"]) for c in calls(w)] == [("re_a", "pi_1"), ("re_c", "pi_1")]
    assert (result.outcome, result.stripe_id) == (Outcome.CREATED, "ch_1")
    assert result.detail == "refund re_a booked; refund re_c booked"


def test_with_a_key_a_refunded_charge_credits_stripe_s_list_of_its_refunds() -> None:
    stripe = FakeStripe().add_refund(refund(id="re_api", balance_transaction=balance(-900)))
    stripe.add_refund(refund(id="re_other_charge", charge="ch_2"))
    w = booking_world(stripe)
    w.send(
        "charge.refunded",
        charge(refunds={"object": "list", "data": [refund(id="re_stale")], "has_more": False}),
    )
    assert [c[1]["id"] for c in calls(w)] == ["re_api"]


def test_a_refunded_charge_with_no_succeeded_refund_is_ignored() -> None:
    w = booking_world()
    listing = {"object": "list", "data": [refund(status="pending")], "has_more": False}
    result = w.send("charge.refunded", charge(refunds=listing))
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "no succeeded refund")


@pytest.mark.parametrize(
    ("currency", "settled", "expected"),
    [
        ("eur", balance(-5_800), 5_800),
        ("eur", balance(-500, "eur"), None),
        ("eur", "txn_1", None),
        ("sek", balance(-5_000), None),
    ],
)
def test_a_refund_passes_the_sek_settled_only_from_a_sek_balance(
    currency: str, settled: Any, expected: int | None
) -> None:
    w = booking_world()
    w.send("refund.created", refund(currency=currency, balance_transaction=settled))
    assert calls(w)[0][1]["settlement"] == expected
