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
