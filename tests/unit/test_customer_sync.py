"""Sync decisions against in-memory fakes: Fortnox calls counted per outcome."""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.core.errors import FortnoxError, PermanentEventError
from stripe_fortnox_sync.core.models import LinkStatus, Outcome, StripeEvent
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.sync.customer_sync import CustomerSync
from tests.builders import anna_andersson, stripe_event
from tests.fakes import FakeFortnox, InMemoryMappingStore


class World:
    def __init__(self, rule: MatchRule = MatchRule.EMAIL) -> None:
        self.fortnox = FakeFortnox()
        self.links = InMemoryMappingStore()
        self.clock = 2_000_000_000.0
        self.sync = CustomerSync(
            Settings(match_rule=rule), self.fortnox, self.links, clock=lambda: self.clock
        )

    def apply(self, event: StripeEvent) -> tuple[Outcome, int]:
        before = self.fortnox.total_calls
        result = self.sync.apply(event)
        return result.outcome, self.fortnox.total_calls - before


def test_new_customer_costs_two_calls_and_is_mapped() -> None:
    w = World()
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100)) == (Outcome.CREATED, 2)
    (stored,) = w.fortnox.customers.values()
    assert stored["Name"] == "Anna Andersson" and stored["ExternalReference"] == "cus_A"
    assert stored["ZipCode"] == "111 22" and stored["CountryCode"] == "SE" and stored["Currency"] == "SEK"
    link = w.links.links["cus_A"]
    assert link.status is LinkStatus.ACTIVE and link.fortnox_number == stored["CustomerNumber"]
    assert all(len(h) == 16 for h in link.field_hashes.values())  # hashes, no personal data


def test_match_rule_none_costs_one_call() -> None:
    w = World(MatchRule.NONE)
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100)) == (Outcome.CREATED, 1)


def test_unchanged_costs_nothing_and_changed_costs_one_put_of_only_the_changed_fields() -> None:
    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    assert w.apply(stripe_event("customer.updated", anna_andersson(), 101)) == (Outcome.UNCHANGED, 0)
    assert w.apply(stripe_event("customer.updated", anna_andersson(phone="+46 8 555 000"), 102)) == (
        Outcome.UPDATED,
        1,
    )
    (stored,) = w.fortnox.customers.values()
    assert stored["Phone1"] == "+46 8 555 000"


def test_put_sends_only_changed_fields_and_blanks_removed_ones() -> None:
    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    before = len(w.fortnox.updates)
    w.apply(stripe_event("customer.updated", anna_andersson(phone=None, name="Anna B"), 101))
    sent = [fields for _, fields in w.fortnox.updates[before:]]
    assert sent == [{"Name": "Anna B", "Phone1": ""}]


def test_same_event_twice_and_older_event_change_nothing() -> None:
    w = World()
    first = stripe_event("customer.created", anna_andersson(), 100, "evt_same")
    w.apply(first)
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="New"), 200)) == (Outcome.UPDATED, 1)
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="Old"), 150)) == (Outcome.STALE, 0)
    assert w.apply(first) == (Outcome.STALE, 0)
    assert next(iter(w.fortnox.customers.values()))["Name"] == "New"


def test_two_events_for_one_change_apply_once() -> None:
    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="X"), 101)) == (Outcome.UPDATED, 1)
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="X"), 101)) == (Outcome.UNCHANGED, 0)


def test_existing_fortnox_customer_is_matched_by_exact_email_not_substring() -> None:
    w = World()
    w.fortnox.customers["1"] = {"CustomerNumber": "1", "Name": "Hanna", "Email": "hanna@example.se"}
    w.fortnox.customers["2"] = {"CustomerNumber": "2", "Name": "Anna", "Email": "ANNA@example.se"}
    w.fortnox._next = 3
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100)) == (Outcome.UPDATED, 2)
    assert w.links.links["cus_A"].fortnox_number == "2"
    assert w.fortnox.customers["2"]["ExternalReference"] == "cus_A" and len(w.fortnox.customers) == 2


def test_substring_hit_only_means_a_new_customer() -> None:
    w = World()
    w.fortnox.customers["1"] = {"CustomerNumber": "1", "Name": "Hanna", "Email": "hanna@example.se"}
    w.fortnox._next = 2
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100))[0] is Outcome.CREATED
    assert len(w.fortnox.customers) == 2


def test_match_by_organisation_number_compares_digits() -> None:
    w = World(MatchRule.ORGANISATION_NUMBER)
    w.fortnox.customers["5"] = {"CustomerNumber": "5", "Name": "AB", "OrganisationNumber": "556677-8899"}
    w.fortnox._next = 6
    c = anna_andersson(metadata={"organisation_number": "5566778899"})
    assert w.apply(stripe_event("customer.created", c, 100))[0] is Outcome.UPDATED
    assert w.links.links["cus_A"].fortnox_number == "5"


def test_delete_marks_inactive_with_one_call_and_later_updates_are_ignored() -> None:
    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    deleted = {"id": "cus_A", "object": "customer", "deleted": True}
    assert w.apply(stripe_event("customer.deleted", deleted, 200)) == (Outcome.DEACTIVATED, 1)
    (stored,) = w.fortnox.customers.values()
    assert stored["Active"] is False  # never deleted: bookkeeping keeps it
    assert w.apply(stripe_event("customer.updated", anna_andersson(), 150)) == (Outcome.STALE, 0)
    assert w.apply(stripe_event("customer.deleted", deleted, 200)) == (Outcome.UNCHANGED, 0)


def test_delete_of_a_never_synced_customer_is_ignored() -> None:
    w = World()
    assert w.apply(stripe_event("customer.deleted", {"id": "cus_Z", "deleted": True}, 1)) == (
        Outcome.IGNORED,
        0,
    )


def crash_after_the_fortnox_write(w: World, event: StripeEvent) -> None:
    """Apply `event`, killed between the Fortnox create and the mapping write (the second save)."""
    w.links.crash_on_save = w.links.saves + 2
    try:
        with pytest.raises(RuntimeError):
            w.sync.apply(event)
    finally:
        w.links.crash_on_save = None


@pytest.mark.parametrize("rule", [MatchRule.EMAIL, MatchRule.NONE])
def test_crash_between_create_and_mapping_write_is_recovered_without_a_duplicate(rule: MatchRule) -> None:
    w = World(rule)
    event = stripe_event("customer.created", anna_andersson(email=None), 100)
    crash_after_the_fortnox_write(w, event)
    crashed = w.links.links["cus_A"]
    assert crashed.status is LinkStatus.PENDING and len(w.fortnox.customers) == 1
    outcome, _ = w.apply(event)
    assert outcome is Outcome.UPDATED and len(w.fortnox.customers) == 1
    assert w.links.links["cus_A"].status is LinkStatus.ACTIVE


def _recent_customers(w: World, count: int) -> None:
    for i in range(count):
        w.apply(
            stripe_event(
                "customer.created",
                anna_andersson(f"cus_N{i}", name=f"Other {i}", email=f"o{i}@example.se"),
                1,
            )
        )


def test_recovery_reads_only_customers_that_look_like_the_interrupted_create() -> None:
    w = World(MatchRule.NONE)
    _recent_customers(w, 30)
    event = stripe_event("customer.created", anna_andersson(), 100)
    crash_after_the_fortnox_write(w, event)
    before = dict(w.fortnox.calls)
    assert w.sync.apply(event).outcome is Outcome.UPDATED and len(w.fortnox.customers) == 31
    # One listing, then only the customer whose name and e-mail hashes match is read.
    assert w.fortnox.calls["list"] - before.get("list", 0) == 1
    assert w.fortnox.calls["get"] - before.get("get", 0) == 1


def test_recovery_after_a_create_that_never_happened_reads_no_customer() -> None:
    w = World(MatchRule.NONE)
    _recent_customers(w, 30)
    w.fortnox.fail_with = FortnoxError("timed out", status=None, ambiguous=True)
    with pytest.raises(FortnoxError):
        w.sync.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_y"))
    w.fortnox.fail_with = None
    before = dict(w.fortnox.calls)
    assert (
        w.sync.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_y")).outcome
        is Outcome.CREATED
    )
    assert w.fortnox.calls["get"] - before.get("get", 0) == 0 and len(w.fortnox.customers) == 31


def test_failed_create_leaves_pending_and_the_retry_creates_once() -> None:
    w = World(MatchRule.NONE)
    w.fortnox.fail_with = FortnoxError("down", status=503)
    with pytest.raises(FortnoxError):
        w.sync.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_x"))
    w.fortnox.fail_with = None
    assert (
        w.sync.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_x")).outcome
        is Outcome.CREATED
    )
    assert len(w.fortnox.customers) == 1


def test_customer_removed_in_fortnox_by_hand_is_created_again() -> None:
    w = World(MatchRule.NONE)
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    w.fortnox.customers.clear()
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="Z"), 101))[0] is Outcome.CREATED
    assert len(w.fortnox.customers) == 1


def test_event_without_customer_id_is_permanent() -> None:
    with pytest.raises(PermanentEventError):
        World().sync.apply(stripe_event("customer.created", {"object": "customer"}, 1))


def test_values_that_do_not_fit_are_reported_as_warnings() -> None:
    w = World()
    result = w.sync.apply(
        stripe_event("customer.created", anna_andersson(email="not an email", name="x" * 2000), 1)
    )
    assert result.outcome is Outcome.CREATED
    assert {warning.field for warning in result.warnings} >= {"Email", "Name"}


def test_backfill_hint_skips_the_search_for_one_call_per_customer() -> None:
    from stripe_fortnox_sync.core.models import SyncHint

    w = World()
    w.fortnox.customers["9"] = {"CustomerNumber": "9", "Name": "Anna", "Email": "anna@example.se"}
    w.fortnox._next = 10
    matched = StripeEvent(
        "evt_b1",
        "customer.updated",
        100,
        False,
        anna_andersson(),
        hint=SyncHint("backfill", match_checked=True, fortnox_number="9"),
    )
    unmatched = StripeEvent(
        "evt_b2",
        "customer.updated",
        100,
        False,
        anna_andersson("cus_B"),
        hint=SyncHint("backfill", match_checked=True),
    )
    assert w.apply(matched) == (Outcome.UPDATED, 1)
    assert w.apply(unmatched) == (Outcome.CREATED, 1)
    assert w.links.links["cus_A"].fortnox_number == "9"


def test_force_hint_resends_every_field_after_a_hand_edit_in_fortnox() -> None:
    from stripe_fortnox_sync.core.models import SyncHint

    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    (number,) = w.fortnox.customers
    w.fortnox.customers[number]["Name"] = "Edited by hand"
    assert w.apply(stripe_event("customer.updated", anna_andersson(), 101)) == (Outcome.UNCHANGED, 0)
    forced = StripeEvent(
        "evt_f", "customer.updated", 102, False, anna_andersson(), hint=SyncHint("reconcile", force=True)
    )
    assert w.apply(forced) == (Outcome.UPDATED, 1)
    assert w.fortnox.customers[number]["Name"] == "Anna Andersson"


def test_a_refused_create_leaves_no_intent_so_the_redrive_does_not_search() -> None:
    w = World(MatchRule.NONE)
    w.fortnox.fail_with = FortnoxError("Ogiltig valuta", status=400, code=2000359)
    with pytest.raises(FortnoxError):
        w.sync.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_r"))
    assert w.links.links["cus_A"].intent_started_at is None
    w.fortnox.fail_with = None
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100, "evt_r")) == (
        Outcome.CREATED,
        1,
    )  # no recovery list


def test_delete_before_create_in_shuffled_delivery_keeps_the_customer_deleted() -> None:
    w = World()
    deleted = {"id": "cus_A", "object": "customer", "deleted": True}
    assert w.apply(stripe_event("customer.deleted", deleted, 300))[0] is Outcome.IGNORED
    assert w.apply(stripe_event("customer.created", anna_andersson(), 100)) == (Outcome.STALE, 0)
    assert w.apply(stripe_event("customer.updated", anna_andersson(name="B"), 200)) == (Outcome.STALE, 0)
    assert w.fortnox.customers == {}


def test_a_repeated_delivery_is_seen_in_the_mapping_and_costs_nothing() -> None:
    """Customer events need no idempotency record: the mapping names the last event applied."""
    w = World()
    created = stripe_event("customer.created", anna_andersson(), 100)
    w.apply(created)
    saves = w.links.saves
    result = w.sync.apply(created)
    assert result.outcome is Outcome.IGNORED and result.detail.startswith("duplicate delivery")
    assert w.fortnox.total_calls == 2 and w.links.saves == saves  # no request, no write
    deleted = stripe_event("customer.deleted", anna_andersson(), 200)
    assert w.apply(deleted) == (Outcome.DEACTIVATED, 1)
    assert w.apply(deleted) == (Outcome.IGNORED, 0)


def test_a_redelivery_after_a_crash_before_the_mapping_write_is_not_taken_for_a_duplicate() -> None:
    w = World()
    created = stripe_event("customer.created", anna_andersson(), 100)
    w.links.crash_on_save = 2  # the pending intent is saved, the mapping write after the create dies
    with pytest.raises(RuntimeError):
        w.sync.apply(created)
    w.links.crash_on_save = None
    outcome, _ = w.apply(created)
    assert outcome is not Outcome.IGNORED and len(w.fortnox.customers) == 1


def test_a_new_customer_takes_the_slots_of_its_search_and_create_in_one_reservation() -> None:
    w = World()
    w.apply(stripe_event("customer.created", anna_andersson(), 100))
    assert w.fortnox.reserved == [2]
    w_none = World(MatchRule.NONE)
    w_none.apply(stripe_event("customer.created", anna_andersson(), 100))
    assert w_none.fortnox.reserved == []  # one create: nothing to reserve together
