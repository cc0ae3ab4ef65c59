"""sync/checkout.py: Checkout Sessions against fakes: the buyer as a customer (a guest by e-mail),
and in payment mode, when checkout payments are invoiced, the sale."""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import LinkStatus, Outcome
from stripe_fortnox_sync.core.settings import MatchRule
from stripe_fortnox_sync.mapping.identity import guest_key
from tests.builders import (
    balance_transaction,
    bo_buyer_charge,
    bo_buyer_payment_intent,
    gustav_guest_checkout,
    gustav_paid_checkout,
    line_item,
    per_persson,
)
from tests.fakes import FakeStripe
from tests.unit.handlers import World, booking_world, calls

# The buyer ----------------------------------------------------------------------------------------


def test_guest_checkout_then_real_customer_with_the_same_email_is_one_fortnox_customer() -> None:
    w = World(match_rule=MatchRule.NONE)  # even without e-mail matching in Fortnox
    assert w.send("checkout.session.completed", gustav_guest_checkout()).outcome is Outcome.CREATED
    link = w.links.links[guest_key("guest@example.se")]
    assert link.status is LinkStatus.ACTIVE
    assert w.only_customer()["Name"] == "Gustav Guest"
    # The same buyer checks out again as a guest: no second customer.
    w.send("checkout.session.completed", gustav_guest_checkout(id="cs_second"), 150)
    # Later they become a Stripe customer with the same address.
    gustav = per_persson("cus_G", email="guest@example.se", name="Gustav Guest")
    result = w.send("customer.created", gustav, 200)
    assert result.outcome is Outcome.UPDATED and "guest" in result.detail
    stored = w.only_customer()
    assert stored["ExternalReference"] == "cus_G"


def test_checkout_with_a_customer_syncs_that_customer() -> None:
    w = World(FakeStripe(per_persson("cus_C", name="Cecilia")))
    w.send("checkout.session.completed", gustav_guest_checkout(customer="cus_C", mode="subscription"))
    assert w.only_customer()["Name"] == "Cecilia" and w.fetched() == ["cus_C"]


def test_checkout_with_a_customer_without_key_uses_the_details_without_blanking() -> None:
    w = World()
    w.send("customer.created", per_persson("cus_C", phone="+46 8 1"))
    details = gustav_guest_checkout()["customer_details"] | {"phone": None}
    w.send(
        "checkout.session.completed", gustav_guest_checkout(customer="cus_C", customer_details=details), 200
    )
    stored = w.only_customer()
    assert stored["Phone1"] == "+46 8 1"  # absent from the snapshot: kept, not blanked
    assert stored["City"] == "Uppsala"


def test_checkout_modes_setting_filters() -> None:
    w = World(checkout_modes=("subscription",))
    assert (
        w.send("checkout.session.completed", gustav_guest_checkout(mode="payment")).outcome is Outcome.IGNORED
    )
    assert w.fortnox.total_calls == 0


def test_guest_checkout_with_a_vat_number() -> None:
    w = World()
    vat_id = {"tax_ids": [{"type": "eu_vat", "value": "SE556677889901"}]}
    details = gustav_guest_checkout()["customer_details"] | vat_id
    w.send("checkout.session.completed", gustav_guest_checkout(customer_details=details))
    assert w.only_customer()["OrganisationNumber"] == "556677-8899"


# The sale (payment mode) --------------------------------------------------------------------------


def test_a_paid_checkout_is_only_a_customer_unless_checkout_payments_are_invoiced() -> None:
    w = booking_world(FakeStripe())
    result = w.send("checkout.session.completed", gustav_paid_checkout())
    assert result.outcome is Outcome.CREATED and calls(w) == []
    assert w.stripe is not None and w.stripe.calls == []


def test_a_paid_checkout_is_invoiced_with_its_line_items() -> None:
    stripe = FakeStripe()
    stripe.session_line_items["cs_paid"] = [line_item(id="li_1"), line_item(id="li_2")]
    w = booking_world(stripe, invoice_checkout_payments=True)
    result = w.send("checkout.session.completed", gustav_paid_checkout())
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
    settled = bo_buyer_charge(balance_transaction=balance_transaction(11_600))
    stripe = FakeStripe().add_intent(bo_buyer_payment_intent(currency="eur", latest_charge=settled))
    w = booking_world(stripe, invoice_checkout_payments=True)
    w.send("checkout.session.completed", gustav_paid_checkout(currency="eur"))
    assert calls(w)[0][1]["settlement"] == 11_600


def test_checkout_invoicing_without_a_stripe_key_parks_for_the_key() -> None:
    w = booking_world(invoice_checkout_payments=True)
    with pytest.raises(PermanentEventError) as parked:
        w.send("checkout.session.completed", gustav_paid_checkout())
    assert parked.value.reason == "needs_stripe_key" and "StripeApiKey" in str(parked.value)
    assert calls(w) == []


def test_an_unpaid_checkout_is_a_customer_now_and_invoiced_when_paid() -> None:
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    result = w.send("checkout.session.completed", gustav_paid_checkout(payment_status="unpaid"))
    assert result.outcome is Outcome.CREATED and "not paid yet" in result.detail
    assert calls(w) == [] and w.stripe is not None and w.stripe.calls == []
    # The delayed payment succeeds (checkout.session.async_payment_succeeded): now it is invoiced.
    w.send("checkout.session.async_payment_succeeded", gustav_paid_checkout(), 200)
    assert [c for c, _ in calls(w)] == ["checkout_paid"]


def test_a_paid_guest_checkout_without_an_email_has_nobody_to_invoice() -> None:
    details = gustav_guest_checkout()["customer_details"] | {"email": None}
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    with pytest.raises(PermanentEventError) as parked:
        w.send(
            "checkout.session.completed", gustav_paid_checkout(customer_details=details, customer_email=None)
        )
    assert parked.value.reason == "no_customer"


def test_a_subscription_checkout_is_left_to_invoice_paid() -> None:
    w = booking_world(FakeStripe(), invoice_checkout_payments=True)
    w.send("checkout.session.completed", gustav_paid_checkout(mode="subscription"))
    assert calls(w) == []


def test_a_checkout_that_stripe_invoiced_itself_is_booked_once_from_invoice_paid() -> None:
    """invoice_creation: Stripe makes a paid invoice for the session and sends invoice.paid for it."""
    stripe = FakeStripe()
    stripe.session_line_items["cs_paid"] = [line_item(id="li_1")]
    w = booking_world(
        stripe, invoice_checkout_payments=True, event_types=("checkout.session.completed", "invoice.paid")
    )
    result = w.send("checkout.session.completed", gustav_paid_checkout(invoice="in_from_checkout"))
    assert calls(w) == [] and "in_from_checkout" in result.detail
    # Without invoice.paid enabled, the session is what books the sale.
    w = booking_world(stripe, invoice_checkout_payments=True)
    w.send("checkout.session.completed", gustav_paid_checkout(invoice="in_from_checkout"))
    assert [c for c, _ in calls(w)] == ["checkout_paid"]
