"""A Fortnox customer linked to more than one live Stripe customer is never renamed or deactivated
by one of them alone: the sync's sharing rules against in-memory fakes."""

from __future__ import annotations

from typing import Any

from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus, Outcome, Sharing, StripeEvent, SyncHint
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.identity import guest_key
from stripe_fortnox_sync.sync.customer_sync import CustomerSync
from tests.fakes import FakeFortnox, InMemoryMappingStore


def customer(cid: str, email: str = "anna@example.se", **over: Any) -> dict[str, Any]:
    base = {
        "id": cid,
        "object": "customer",
        "name": f"Name of {cid}",
        "email": email,
        "address": {"line1": "Storgatan 1", "postal_code": "111 22", "city": "Stockholm", "country": "SE"},
        "metadata": {},
    }
    return {**base, **over}


class World:
    def __init__(self, rule: MatchRule = MatchRule.EMAIL) -> None:
        self.fortnox = FakeFortnox()
        self.links = InMemoryMappingStore()
        self.sync = CustomerSync(Settings(match_rule=rule), self.fortnox, self.links)
        self._seq = 0

    def event(
        self, kind: str, obj: dict[str, Any], created: int, hint: SyncHint | None = None
    ) -> StripeEvent:
        self._seq += 1
        return StripeEvent(f"evt_{self._seq}", kind, created, False, obj, hint=hint)

    def apply(self, kind: str, obj: dict[str, Any], created: int, hint: SyncHint | None = None) -> Any:
        """The result, and the Fortnox requests it cost."""
        before = self.fortnox.total_calls
        result = self.sync.apply(self.event(kind, obj, created, hint))
        return result, self.fortnox.total_calls - before

    def delete(self, cid: str, created: int) -> Any:
        return self.apply("customer.deleted", {"id": cid, "object": "customer", "deleted": True}, created)

    def link(self, cid: str) -> CustomerLink:
        return self.links.links[cid]

    def shared_pair(self) -> str:
        """A linked first, then B, whose e-mail differs only in case, matched to A's customer."""
        self.apply("customer.created", customer("cus_A"), 100)
        self.apply("customer.created", customer("cus_B", "ANNA@Example.se"), 101)
        number = self.link("cus_A").fortnox_number
        assert number is not None and self.link("cus_B").fortnox_number == number
        return number


def test_a_match_on_a_customer_another_live_customer_owns_links_without_writing() -> None:
    w = World()
    w.apply("customer.created", customer("cus_A"), 100)
    (number,) = w.fortnox.customers
    result, requests = w.apply("customer.created", customer("cus_B", "ANNA@Example.se"), 101)
    assert result.outcome is Outcome.UNCHANGED and result.fortnox_number == number
    assert requests == 1  # the search; no write
    assert "shared with cus_A" in result.detail and "no fields written" in result.detail
    stored = w.fortnox.customers[number]
    assert stored["Name"] == "Name of cus_A" and stored["ExternalReference"] == "cus_A"
    assert (w.link("cus_A").sharing, w.link("cus_B").sharing) == (Sharing.OWNER, Sharing.SHARER)
    assert w.link("cus_B").field_hashes == {}  # nothing of B's was sent
    assert len(w.fortnox.customers) == 1


def test_a_sharer_never_writes_and_the_owner_still_updates() -> None:
    w = World()
    number = w.shared_pair()
    result, requests = w.apply("customer.updated", customer("cus_B", "anna@EXAMPLE.se", name="Bertil"), 200)
    assert (result.outcome, requests) == (Outcome.UNCHANGED, 0)
    assert result.detail == f"Fortnox customer {number} is shared with cus_A: no fields written"
    result, requests = w.apply("customer.updated", customer("cus_A", name="Anna Ny"), 201)
    assert (result.outcome, requests) == (Outcome.UPDATED, 1)
    assert "shared with cus_B" in result.detail and "linked first" in result.detail
    assert w.fortnox.customers[number]["Name"] == "Anna Ny"


def test_forced_updates_and_tax_ids_of_a_sharer_write_nothing() -> None:
    w = World()
    number = w.shared_pair()
    forced = SyncHint("reconcile", force=True)
    result, requests = w.apply("customer.updated", customer("cus_B", name="Bertil"), 200, forced)
    assert (result.outcome, requests) == (Outcome.UNCHANGED, 0)
    tax_id = {"id": "txi_1", "customer": "cus_B", "type": "eu_vat", "value": "SE556677889901"}
    tax_id["country"] = "SE"
    before = w.fortnox.total_calls
    result = w.sync.apply_tax_id(w.event("customer.tax_id.created", tax_id, 201), tax_id, deleted=False)
    assert result.outcome is Outcome.UNCHANGED and w.fortnox.total_calls == before
    assert "VATNumber" not in w.fortnox.customers[number]


def test_deleting_one_of_two_keeps_the_fortnox_customer_active() -> None:
    w = World()
    number = w.shared_pair()
    result, requests = w.delete("cus_B", 300)
    assert (result.outcome, requests) == (Outcome.UNCHANGED, 0)
    assert "stays active: cus_A still maps to it" in result.detail
    assert w.fortnox.customers[number]["Active"] is True
    assert w.link("cus_B").status is LinkStatus.DELETED and w.link("cus_A").status is LinkStatus.ACTIVE
    result, requests = w.delete("cus_A", 301)
    assert (result.outcome, requests) == (Outcome.DEACTIVATED, 1)
    assert w.fortnox.customers[number]["Active"] is False


def test_the_owner_deleted_first_leaves_the_customer_active_and_the_survivor_takes_it_over() -> None:
    w = World()
    number = w.shared_pair()
    result, _ = w.delete("cus_A", 300)
    assert result.outcome is Outcome.UNCHANGED and "cus_B still maps to it" in result.detail
    assert w.fortnox.customers[number]["Active"] is True
    # B is the only live link now: an ordinary one again, and it sends every field once.
    result, requests = w.apply("customer.updated", customer("cus_B", "ANNA@Example.se"), 301)
    assert (result.outcome, requests) == (Outcome.UPDATED, 1) and result.detail == ""
    stored = w.fortnox.customers[number]
    assert stored["Name"] == "Name of cus_B" and stored["ExternalReference"] == "cus_B"
    assert w.link("cus_B").sharing is Sharing.ALONE


def test_a_backfill_hint_onto_a_linked_customer_makes_a_sharer_without_any_request() -> None:
    w = World()
    w.apply("customer.created", customer("cus_A"), 100)
    (number,) = w.fortnox.customers
    hint = SyncHint("backfill", match_checked=True, fortnox_number=number)
    result, requests = w.apply("customer.updated", customer("cus_B", "Anna@example.se"), 101, hint)
    assert (result.outcome, requests) == (Outcome.UNCHANGED, 0)
    assert "matched by backfill" in result.detail and "shared with cus_A" in result.detail


def test_the_tool_named_sharer_counts_even_before_the_index_shows_it() -> None:
    w = World()
    w.apply("customer.created", customer("cus_A"), 100)
    (number,) = w.fortnox.customers
    w.links.linked_to = lambda fortnox_number: []  # type: ignore[method-assign]  # the index lags
    hint = SyncHint("backfill", match_checked=True, fortnox_number=number, shared_with=("cus_A",))
    result, requests = w.apply("customer.updated", customer("cus_B"), 101, hint)
    assert (result.outcome, requests) == (Outcome.UNCHANGED, 0) and "shared with cus_A" in result.detail
    assert w.fortnox.customers[number]["ExternalReference"] == "cus_A"


def test_an_organisation_number_match_shares_too() -> None:
    w = World(MatchRule.ORGANISATION_NUMBER)
    org = {"metadata": {"organisation_number": "556677-8899"}}
    w.apply("customer.created", customer("cus_A", "a@example.se", **org), 100)
    result, _ = w.apply("customer.created", customer("cus_B", "b@example.se", **org), 101)
    assert result.outcome is Outcome.UNCHANGED and "shared with cus_A" in result.detail
    assert next(iter(w.fortnox.customers.values()))["Email"] == "a@example.se"


def test_taking_over_a_guest_checkouts_customer_is_no_share() -> None:
    w = World()
    number = w.fortnox.create_customer({"Name": "Guest", "Email": "anna@example.se"})["CustomerNumber"]
    guest = CustomerLink(guest_key("anna@example.se"), LinkStatus.ACTIVE, fortnox_number=number)
    w.links.save(guest)
    result, _ = w.apply("customer.created", customer("cus_A"), 100)
    assert result.outcome is Outcome.UPDATED and result.detail == "matched an earlier guest checkout"
    assert w.fortnox.customers[number]["ExternalReference"] == "cus_A"
    assert w.link("cus_A").sharing is Sharing.ALONE


def test_unshared_customers_cost_what_they_did_and_updates_read_no_index() -> None:
    w = World()
    assert w.apply("customer.created", customer("cus_A"), 100)[1] == 2
    assert w.apply("customer.updated", customer("cus_A", name="X"), 101)[1] == 1
    assert w.apply("customer.updated", customer("cus_A", name="X"), 102)[1] == 0
    # A match that finds the customer first asks whether anyone has it; creates and updates never.
    assert w.links.lookups == 0
    result, requests = w.delete("cus_A", 103)
    assert (result.outcome, requests) == (Outcome.DEACTIVATED, 1)
    assert w.links.lookups == 1  # a deletion always asks (one query, no Fortnox request)


def test_links_stored_before_sharing_was_tracked_are_looked_up_once() -> None:
    w = World()
    w.apply("customer.created", customer("cus_A"), 100)
    w.links.links["cus_A"].sharing = None  # as an item written by an earlier version
    w.apply("customer.updated", customer("cus_A", name="X"), 101)
    assert w.links.lookups == 1 and w.link("cus_A").sharing is Sharing.ALONE
    w.apply("customer.updated", customer("cus_A", name="Y"), 102)
    assert w.links.lookups == 1


def test_two_old_links_to_one_customer_both_stop_writing() -> None:
    w = World()
    w.apply("customer.created", customer("cus_A"), 100)
    (number,) = w.fortnox.customers
    # An earlier version linked B to A's customer by adopting it (and overwrote it).
    w.links.save(CustomerLink("cus_B", LinkStatus.ACTIVE, fortnox_number=number, field_hashes={"Name": "x"}))
    w.links.links["cus_A"].sharing = None
    for cid, created in (("cus_A", 101), ("cus_B", 102)):
        result, requests = w.apply("customer.updated", customer(cid, name="Changed"), created)
        assert (result.outcome, requests) == (Outcome.UNCHANGED, 0), cid
        assert w.link(cid).sharing is Sharing.SHARER
    # Neither alone deactivates it: the first deletion only marks its own link.
    assert w.delete("cus_A", 200)[0].outcome is Outcome.UNCHANGED
    assert w.fortnox.customers[number]["Active"] is True


def test_the_hint_carries_its_sharers() -> None:
    raw = {"source": "backfill", "match_checked": True, "fortnox_number": "7", "shared_with": ["cus_A", ""]}
    hint = SyncHint.from_dict(raw)
    assert hint is not None and hint.shared_with == ("cus_A",)
    assert SyncHint.from_dict({"shared_with": "cus_A"}) == SyncHint()
