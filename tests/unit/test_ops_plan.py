"""What a backfill plans for each Stripe customer, and the cursor it resumes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_cli.ops.cursor import Cursor
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.plan import Action, plan_customer
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import MappingRow
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer
from stripe_fortnox_sync.core.models import HINT_KEY, LinkStatus
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.sync.customer_sync import field_hashes

SETTINGS = Settings()


def fetched(customer_id: str, email: str = "anna@example.se") -> FetchedCustomer:
    customer = {"id": customer_id, "object": "customer", "name": "Anna", "email": email}
    return FetchedCustomer(customer, 1_700_000_000)


def link(customer: FetchedCustomer, status: LinkStatus = LinkStatus.ACTIVE, **changes: Any) -> MappingRow:
    hashes = field_hashes(map_customer(customer.data, SETTINGS).fields)
    row: dict[str, Any] = {
        "stripe_id": customer.id,
        "status": status,
        "fortnox_number": "5",
        "field_hashes": hashes,
    }
    row.update(changes)
    return MappingRow(last_event_created=0, updated_at=0.0, **row)


def body(planned: Any) -> dict[str, Any]:
    assert planned.message is not None
    event: dict[str, Any] = json.loads(planned.message.body)
    return event


def test_unmapped_customers_are_adopted_or_created_with_a_hint() -> None:
    index = FortnoxIndex([{"CustomerNumber": "9", "Email": "ANNA@example.se"}], MatchRule.EMAIL)
    adopted = plan_customer(fetched("cus_a"), None, index, SETTINGS, {})
    assert (adopted.action, adopted.fortnox_number) == (Action.ADOPT, "9")
    assert body(adopted)[HINT_KEY] == {"source": "backfill", "match_checked": True, "fortnox_number": "9"}
    created = plan_customer(fetched("cus_b", "bo@example.se"), None, index, SETTINGS, {})
    assert created.action is Action.CREATE and body(created)[HINT_KEY]["fortnox_number"] is None
    assert body(created)["id"] == "evt_backfill_cus_b_1700000000"


def test_a_second_customer_with_the_same_key_waits_behind_the_first() -> None:
    created_keys: dict[str, str] = {}
    first = plan_customer(fetched("cus_1", "twin@example.se"), None, None, SETTINGS, created_keys)
    second = plan_customer(fetched("cus_2", "twin@example.se"), None, None, SETTINGS, created_keys)
    assert first.action is Action.CREATE and second.action is Action.AFTER_TWIN
    assert second.message is not None and second.message.group_id == "cus_1"
    assert body(second)[HINT_KEY] == {"source": "backfill", "shared_with": ["cus_1"]}  # the sync searches
    assert "twin@example.se" not in json.dumps(created_keys)  # kept hashed in the cursor


def test_mapped_customers_are_updated_only_when_changed() -> None:
    customer = fetched("cus_m")
    unchanged = plan_customer(customer, link(customer), None, SETTINGS, {})
    assert unchanged.action is Action.UNCHANGED and unchanged.message is None  # nothing to queue
    changed = plan_customer(customer, link(customer, field_hashes={"Name": "x"}), None, SETTINGS, {})
    assert changed.action is Action.UPDATE and HINT_KEY not in body(changed)
    pending = plan_customer(customer, link(customer, LinkStatus.PENDING), None, SETTINGS, {})
    assert pending.action is Action.RECOVER
    deleted = plan_customer(customer, link(customer, LinkStatus.DELETED), None, SETTINGS, {})
    assert deleted.action is Action.SKIP and deleted.message is None
    invalid = plan_customer(FetchedCustomer({"object": "customer"}, 0), None, None, SETTINGS, {})
    assert invalid.action is Action.INVALID and invalid.message is None


def stack(queue_url: str) -> Stack:
    return Stack("s", {"EventQueueUrl": queue_url}, {}, SETTINGS)


def test_a_cursor_resumes_only_on_its_own_stack(tmp_path: Path) -> None:
    path = tmp_path / "cursor.json"
    assert Cursor.load(path, stack("q1")) is None
    Cursor(path, "q1", after="cus_9", queued=10, created_keys={"k": "cus_1"}).save()
    loaded = Cursor.load(path, stack("q1"))
    assert loaded is not None and (loaded.after, loaded.queued, loaded.created_keys) == (
        "cus_9",
        10,
        {"k": "cus_1"},
    )
    with pytest.raises(OperationError, match="belongs to another stack"):
        Cursor.load(path, stack("q2"))
    loaded.remove()
    assert not path.exists()
    path.write_text("{not json")
    with pytest.raises(OperationError, match="use --restart"):
        Cursor.load(path, stack("q1"))
