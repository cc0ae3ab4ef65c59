"""sync/customers.py: customer and tax id events against fakes, with and without a Stripe API key."""

from __future__ import annotations

from stripe_fortnox_sync.core.models import Outcome
from tests.builders import per_persson, tax_id
from tests.fakes import FakeStripe
from tests.unit.handlers import World

PER = "cus_P1"

# Customer events -------------------------------------------------------------------------------


def test_with_a_key_the_current_customer_is_applied_not_the_stale_payload() -> None:
    current = per_persson(name="Current Name", tax_ids={"data": [tax_id(customer_id=PER)]})
    w = World(FakeStripe(current))
    w.send("customer.updated", per_persson(name="Old Name in payload"))
    stored = w.only_customer()
    assert stored["Name"] == "Current Name"
    assert stored["VATNumber"] == "SE556677889901" and stored["OrganisationNumber"] == "556677-8899"
    assert stored["Type"] == "COMPANY"


def test_with_a_key_a_customer_deleted_meanwhile_is_deactivated() -> None:
    stripe = FakeStripe(per_persson())
    w = World(stripe)
    w.send("customer.created", per_persson())
    stripe.customers[PER] = {"id": PER, "object": "customer", "deleted": True}
    assert w.send("customer.updated", per_persson(), 200).outcome is Outcome.DEACTIVATED
    assert w.only_customer()["Active"] is False


# Tax ids ---------------------------------------------------------------------------------------


def test_tax_id_added_then_removed_without_a_key() -> None:
    w = World()
    w.send("customer.created", per_persson())
    assert w.send("customer.tax_id.created", tax_id(customer_id=PER), 110).outcome is Outcome.UPDATED
    stored = w.only_customer()
    assert (stored["VATNumber"], stored["OrganisationNumber"], stored["Type"], stored["VATType"]) == (
        "SE556677889901",
        "556677-8899",
        "COMPANY",
        "SEVAT",
    )
    result = w.send("customer.tax_id.deleted", tax_id(customer_id=PER), 120)
    assert result.outcome is Outcome.UPDATED and "VATType left" in result.detail
    stored = w.only_customer()
    assert stored["VATNumber"] == "" and stored["OrganisationNumber"] == ""
    assert w.rec.skipped  # what could not be known is reported


def test_eu_vat_id_sets_reverse_charge_for_an_eu_business() -> None:
    w = World()
    berlin = {"line1": "Str 1", "postal_code": "10117", "city": "Berlin", "country": "DE"}
    w.send("customer.created", per_persson(address=berlin))
    w.send("customer.tax_id.created", tax_id("DE123456789", "DE", customer_id=PER), 110)
    assert w.only_customer()["VATType"] == "EUREVERSEDVAT"


def test_tax_id_events_are_ordered_among_themselves() -> None:
    w = World()
    w.send("customer.created", per_persson())
    w.send("customer.tax_id.deleted", tax_id(customer_id=PER), 300)
    assert w.send("customer.tax_id.created", tax_id(customer_id=PER), 200).outcome is Outcome.STALE


def test_tax_id_for_an_unsynced_customer_without_a_key_is_skipped_loudly() -> None:
    w = World()
    assert w.send("customer.tax_id.created", tax_id(customer_id=PER)).outcome is Outcome.IGNORED
    assert w.fortnox.total_calls == 0 and w.rec.skipped


def test_tax_id_with_a_key_syncs_the_whole_current_customer() -> None:
    w = World(FakeStripe(per_persson(tax_ids={"data": [tax_id(customer_id=PER)]})))
    assert w.send("customer.tax_id.created", tax_id(customer_id=PER)).outcome is Outcome.CREATED
    assert w.only_customer()["VATNumber"] == "SE556677889901" and w.fetched() == [PER]
