"""The operator commands' data-safety rules: shared Fortnox customers in the backfill plan and in
reconcile's findings, deleted versus unknown in Stripe, the confirmation before many
deactivations, and the Stripe account a stack serves."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_CONFIG
from stripe_fortnox_cli.ops.confirm import confirm_deactivations, needs_confirmation
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.findings import Category, Finding, reconcile_findings
from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.plan import Action, linked_by_number, plan_customer
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import MappingRow
from stripe_fortnox_cli.ops.stripe_account import check_account
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer
from stripe_fortnox_sync.core.models import HINT_KEY, LinkStatus, Sharing
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.sync.customer_sync import field_hashes

SETTINGS = Settings(state_table="state")
STACK = Stack("s", {}, {}, SETTINGS)


def fetched(customer_id: str, email: str = "anna@example.se") -> FetchedCustomer:
    return FetchedCustomer(
        {"id": customer_id, "object": "customer", "name": "Anna", "email": email}, 1_700_000_000
    )


def row(
    customer_id: str,
    number: str = "1",
    status: LinkStatus = LinkStatus.ACTIVE,
    sharing: Sharing | None = Sharing.ALONE,
    hashes: dict[str, str] | None = None,
) -> MappingRow:
    if hashes is None:
        hashes = field_hashes(map_customer(fetched(customer_id).data, SETTINGS).fields)
    return MappingRow(customer_id, status, number, hashes, 0, 0.0, sharing)


def hint_of(planned: Any) -> dict[str, Any]:
    message = planned.fix if isinstance(planned, Finding) else planned.message
    assert message is not None
    event: dict[str, Any] = json.loads(message.body)
    return dict(event[HINT_KEY])


# --------------------------------------------------------------------------- backfill plan


def test_a_match_on_a_linked_fortnox_customer_is_planned_as_a_share_not_an_update() -> None:
    index = FortnoxIndex([{"CustomerNumber": "1", "Email": "anna@example.se"}], MatchRule.EMAIL)
    links = {"cus_A": row("cus_A")}
    planned = plan_customer(
        fetched("cus_B", "ANNA@example.se"), None, index, SETTINGS, {}, linked=linked_by_number(links)
    )
    assert (planned.action, planned.fortnox_number) == (Action.SHARE, "1")
    assert planned.detail == "shares Fortnox customer 1 with cus_A"
    assert hint_of(planned) == {
        "source": "backfill",
        "match_checked": True,
        "fortnox_number": "1",
        "shared_with": ["cus_A"],
    }


def test_two_unmapped_customers_matching_one_fortnox_customer_adopt_once_then_share() -> None:
    index = FortnoxIndex([{"CustomerNumber": "1", "Email": "anna@example.se"}], MatchRule.EMAIL)
    created_keys: dict[str, str] = {}
    first = plan_customer(fetched("cus_A"), None, index, SETTINGS, created_keys)
    second = plan_customer(fetched("cus_B", "Anna@Example.se"), None, index, SETTINGS, created_keys)
    assert first.action is Action.ADOPT and second.action is Action.SHARE
    # Processed after the adoption, in its message group, naming it for the sync.
    assert second.message is not None and second.message.group_id == "cus_A"
    assert hint_of(second)["shared_with"] == ["cus_A"]


def test_mapped_sharers_are_left_alone_and_owners_planned_as_usual() -> None:
    owner, sharer = row("cus_A", sharing=Sharing.OWNER), row("cus_B", sharing=Sharing.SHARER, hashes={})
    linked = linked_by_number({"cus_A": owner, "cus_B": sharer})
    shared = plan_customer(fetched("cus_B"), sharer, None, SETTINGS, {}, linked=linked)
    assert (shared.action, shared.message) == (Action.SHARED, None)
    assert shared.detail == "shares Fortnox customer 1 with cus_A"
    assert (
        plan_customer(fetched("cus_A"), owner, None, SETTINGS, {}, linked=linked).action is Action.UNCHANGED
    )
    # Alone again (the owner was deleted): the sync sends every field once.
    alone = plan_customer(
        fetched("cus_B"), sharer, None, SETTINGS, {}, linked=linked_by_number({"cus_B": sharer})
    )
    assert alone.action is Action.UPDATE and alone.message is not None


def test_guest_links_are_no_sharers() -> None:
    guest = MappingRow("guest#abc", LinkStatus.ACTIVE, "1", {}, 0, 0.0)
    assert linked_by_number({"guest#abc": guest, "cus_A": row("cus_A")}) == {"1": ["cus_A"]}


# --------------------------------------------------------------------------- reconcile


def findings_for(
    links: dict[str, MappingRow], stripe: Mapping[str, dict[str, Any]], listed: tuple[str, ...] = ()
) -> dict[str, list[Finding]]:
    index = FortnoxIndex(
        [{"CustomerNumber": n, "Name": "Anna", "Email": "anna@example.se"} for n in ("1", "2", "3")],
        MatchRule.EMAIL,
    )
    found = reconcile_findings(STACK, [fetched(c) for c in listed], links, index, lambda cid: stripe.get(cid))
    by_id: dict[str, list[Finding]] = {}
    for finding in found:
        by_id.setdefault(finding.stripe_id, []).append(finding)
    return by_id


def test_deleted_in_stripe_deactivates_only_what_no_live_customer_still_maps_to() -> None:
    links = {
        "cus_A": row("cus_A", "1", sharing=Sharing.OWNER),
        "cus_B": row("cus_B", "1", sharing=Sharing.SHARER, hashes={}),
        "cus_C": row("cus_C", "2"),
    }
    deleted = {"cus_B": {"id": "cus_B", "deleted": True}, "cus_C": {"id": "cus_C", "deleted": True}}
    found = findings_for(links, deleted, listed=("cus_A",))
    (b,) = found["cus_B"]
    assert b.category is Category.ORPHANED and b.fix is not None and b.deactivates is None
    assert "Fortnox customer 1 stays active (cus_A still maps to it)" in b.detail
    (c,) = found["cus_C"]
    assert (
        c.deactivates == "2" and c.detail == "deleted in Stripe (the fix marks Fortnox customer 2 inactive)"
    )
    (a,) = found["cus_A"]
    assert a.category is Category.SHARED and a.fix is None
    assert a.detail == "shares Fortnox customer 1 with cus_B; linked first, it keeps it up to date"


def test_both_sharers_deleted_deactivate_their_customer() -> None:
    links = {"cus_A": row("cus_A", sharing=Sharing.OWNER), "cus_B": row("cus_B", sharing=Sharing.SHARER)}
    gone = {cid: {"id": cid, "deleted": True} for cid in links}
    found = findings_for(links, gone)
    assert {f.deactivates for fs in found.values() for f in fs} == {"1"}


def test_a_customer_stripe_does_not_know_is_not_found_with_no_fix() -> None:
    found = findings_for({"cus_A": row("cus_A"), "cus_B": row("cus_B", "2")}, {})
    for stripe_id in ("cus_A", "cus_B"):
        (finding,) = found[stripe_id]
        assert finding.category is Category.NOT_FOUND and finding.fix is None and finding.deactivates is None
        assert "is the Stripe key for another account?" in finding.detail


def test_a_sharer_is_not_compared_and_an_unmapped_match_on_a_linked_customer_is_fixed_as_a_share() -> None:
    links = {
        "cus_A": row("cus_A", sharing=Sharing.OWNER),
        "cus_B": row("cus_B", sharing=Sharing.SHARER, hashes={}),
    }
    found = findings_for(links, {}, listed=("cus_A", "cus_B", "cus_N"))
    assert [f.category for f in found["cus_B"]] == [Category.SHARED]
    assert found["cus_B"][0].detail.endswith("it writes nothing to it")
    (missing,) = found["cus_N"]
    assert (
        missing.category is Category.MISSING
        and "shares Fortnox customer 1 with cus_A, cus_B" in missing.detail
    )
    assert hint_of(missing)["shared_with"] == ["cus_A", "cus_B"]


# --------------------------------------------------------------------------- confirmation


def test_confirmation_above_a_handful_or_a_tenth_of_the_mapped() -> None:
    assert not needs_confirmation(0, 0)
    assert not needs_confirmation(5, 1000) and needs_confirmation(6, 1000)
    assert not needs_confirmation(1, 10) and needs_confirmation(2, 10) and needs_confirmation(1, 2)


def test_without_a_terminal_and_without_yes_many_deactivations_are_refused() -> None:
    out = io.StringIO()
    numbers = {str(n) for n in range(6)}
    with pytest.raises(OperationError, match="6 Fortnox customers inactive") as refused:
        confirm_deactivations(numbers, 100, yes=False, ask=None, out=out)
    assert refused.value.exit_code == EXIT_CONFIG
    assert confirm_deactivations(numbers, 100, yes=True, ask=None, out=out)
    assert confirm_deactivations({"1"}, 100, yes=False, ask=None, out=out)  # a handful: no question
    questions: list[str] = []

    def answer_no(question: str) -> str:
        questions.append(question)
        return "no"

    assert not confirm_deactivations(numbers, 100, yes=False, ask=answer_no, out=out)
    assert confirm_deactivations(numbers, 100, yes=False, ask=lambda q: "yes", out=out)
    assert questions and "6 Fortnox customers inactive (6% of the 100 mapped)" in out.getvalue()


# --------------------------------------------------------------------------- the Stripe account


class FakeStateTable:
    """get_item and a conditional put_item, as the state table answers them."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool) -> dict[str, Any]:
        item = self.items.get(Key["pk"]["S"])
        return {"Item": item} if item else {}

    def put_item(self, TableName: str, Item: dict[str, Any], ConditionExpression: str) -> None:
        if Item["pk"]["S"] in self.items:
            error = {"Error": {"Code": "ConditionalCheckFailedException"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        self.items[Item["pk"]["S"]] = Item


class FakeAccounts:
    def __init__(self, answer: str | Exception) -> None:
        self.answer = answer

    def retrieve_current(self) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return type("Account", (), {"id": self.answer})()


def stripe_with(answer: str | Exception) -> Any:
    client = type("Client", (), {})()
    client.v1 = type("V1", (), {})()
    client.v1.accounts = FakeAccounts(answer)
    return client


def test_the_first_key_records_the_account_and_a_key_for_another_is_refused() -> None:
    table, err = FakeStateTable(), io.StringIO()
    check_account(STACK, stripe_with("acct_1"), err, table)  # type: ignore[arg-type]
    assert "Recorded Stripe account acct_1" in err.getvalue()
    check_account(STACK, stripe_with("acct_1"), err, table)  # type: ignore[arg-type]
    with pytest.raises(
        OperationError, match="belongs to account acct_2, but this stack serves acct_1"
    ) as refused:
        check_account(STACK, stripe_with("acct_2"), err, table)  # type: ignore[arg-type]
    assert refused.value.exit_code == EXIT_CONFIG


def test_an_api_without_the_account_endpoint_is_noted_and_a_refused_key_is_exit_4() -> None:
    import stripe

    table, err = FakeStateTable(), io.StringIO()
    missing = stripe.APIError("Not Found", http_status=404)  # as localstripe answers
    check_account(STACK, stripe_with(missing), err, table)  # type: ignore[arg-type]
    assert "not checked: this Stripe API does not serve GET /v1/account" in err.getvalue()
    assert table.items == {}
    with pytest.raises(OperationError) as refused:
        check_account(STACK, stripe_with(stripe.AuthenticationError("bad key")), err, table)  # type: ignore[arg-type]
    assert refused.value.exit_code == EXIT_AUTH
