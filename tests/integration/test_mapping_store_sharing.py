"""The DynamoDB mapping store's side of shared links, against moto with the local stack's table:
the sharing flag round-trips, and `linked_to` finds the active links to a Fortnox customer."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_fortnox_cli.local.aws import MAPPING_INDEX, _create_table
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus, Sharing


@pytest.fixture
def store(dynamodb: Any) -> DynamoMappingStore:
    _create_table(dynamodb, "mapping", [("stripe_id", "HASH")], None, [MAPPING_INDEX])
    return DynamoMappingStore("mapping", client=dynamodb)


def test_sharing_round_trips_and_old_items_read_as_unknown(store: DynamoMappingStore) -> None:
    store.save(CustomerLink("cus_A", LinkStatus.ACTIVE, fortnox_number="1", sharing=Sharing.OWNER))
    store.save(CustomerLink("cus_B", LinkStatus.ACTIVE, fortnox_number="1"))
    a, b = store.get("cus_A"), store.get("cus_B")
    assert a is not None and a.sharing is Sharing.OWNER
    assert b is not None and b.sharing is None  # as an item written before sharing was tracked


def test_linked_to_lists_the_active_links_of_one_fortnox_customer(store: DynamoMappingStore) -> None:
    store.save(CustomerLink("cus_B", LinkStatus.ACTIVE, fortnox_number="1"))
    store.save(CustomerLink("cus_A", LinkStatus.ACTIVE, fortnox_number="1"))
    store.save(CustomerLink("cus_C", LinkStatus.DELETED, fortnox_number="1"))
    store.save(CustomerLink("cus_D", LinkStatus.ACTIVE, fortnox_number="10"))
    store.save(CustomerLink("cus_E", LinkStatus.DELETED))  # a tombstone: not in the index
    assert store.linked_to("1") == ["cus_A", "cus_B"]
    assert store.linked_to("10") == ["cus_D"]
    assert store.linked_to("2") == []
