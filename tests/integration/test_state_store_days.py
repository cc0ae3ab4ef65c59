"""The DynamoDB state store's summary days, against moto with the local stack's table: the first
entry of a shard makes its map, later ones go into it, a repeat overwrites, and a day reads back
whole across its shards."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from stripe_fortnox_cli.local.aws import _create_table
from stripe_fortnox_sync.adapters.aws.state import DynamoStateStore


@pytest.fixture
def store(dynamodb: Any) -> DynamoStateStore:
    _create_table(dynamodb, "state", [("pk", "HASH")], "expires_at")
    return DynamoStateStore("state", client=dynamodb)


def test_a_days_entries_are_kept_over_its_shards_and_a_repeat_overwrites(store: DynamoStateStore) -> None:
    day, other = date(2025, 11, 21), date(2025, 11, 22)
    entries = {f"in_{n}": f'{{"n": {n}}}' for n in range(60)}  # more entries than shards
    for entry_id, entry in entries.items():
        store.add_entry(day, entry_id, entry)
    store.add_entry(day, "in_7", '{"n": 70}')
    store.add_entry(other, "in_x", "{}")
    assert store.day_entries(day) == {**entries, "in_7": '{"n": 70}'}
    assert store.day_entries(other) == {"in_x": "{}"}
    assert store.day_entries(date(2025, 11, 23)) == {}


def test_each_tenants_days_sales_and_bookings_are_its_own(store: DynamoStateStore, dynamodb: Any) -> None:
    acme = DynamoStateStore("state", client=dynamodb, prefix="acme#")
    day = date(2025, 11, 21)
    store.add_entry(day, "in_1", "own")
    acme.add_entry(day, "in_1", "acme's")
    store.save_sale("in_1", "own")
    store.save_booked(day, "own")
    assert acme.day_entries(day) == {"in_1": "acme's"} and store.day_entries(day) == {"in_1": "own"}
    assert acme.load_sale("in_1") is None and acme.load_booked(day) is None
    acme.save_sale("in_1", "acme's")
    assert (store.load_sale("in_1"), acme.load_sale("in_1")) == ("own", "acme's")
    # Tenant default keeps the keys it always had: a one-tenant stack's days read back unchanged.
    keys = {i["pk"]["S"] for i in dynamodb.scan(TableName="state")["Items"]}
    assert "summary-sale#in_1" in keys and "acme#summary-sale#in_1" in keys
    assert {k.split("#", 1)[0] for k in keys} == {"summary-day", "summary-sale", "summary-booked", "acme"}
