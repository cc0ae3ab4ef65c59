"""A tenant's items in the stack's tables: found by its key prefix, exported, purged, and the check
that tenant `default` needs no migration (docs/tenants.md).

Every tenant but `default` keeps its data under `{tenant}#` in the mapping, activity, idempotency
and state tables (`core/tenants.py` `tenant_key`); its Fortnox token, lock and rate window are
keyed by the company's TenantId. These scans read keys only (a projection), page by page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_fortnox_sync.adapters.aws.dynamodb import dynamodb_client
from stripe_fortnox_sync.core.tenants import is_default_key, key_prefix

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Table:
    """One of the stack's tables and its key attributes (partition key first)."""

    output: str  # the stack output naming it
    keys: tuple[str, ...]


MAPPING = Table("MappingTableName", ("stripe_id",))
ACTIVITY = Table("ActivityTableName", ("customer_id", "at"))
IDEMPOTENCY = Table("IdempotencyTableName", ("id",))
STATE = Table("StateTableName", ("pk",))
# What `remove --purge` empties of a tenant's items, in this order.
TENANT_TABLES = (MAPPING, ACTIVITY, IDEMPOTENCY, STATE)
# A purge deletes at most this many items per request (DynamoDB's BatchWriteItem limit).
BATCH = 25


def scan(
    table: str, partition: str, prefix: str, projection: str | None, client: DynamoDBClient | None = None
) -> Iterator[dict[str, Any]]:
    """The items whose partition key begins with `prefix` (all of them for ""), with the
    comma-separated `projection` attributes only (all for None)."""
    client = client or dynamodb_client()
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    names: dict[str, str] = {}
    if prefix:
        names["#k"] = partition
        params["FilterExpression"] = "begins_with(#k, :p)"
        params["ExpressionAttributeValues"] = {":p": {"S": prefix}}
    if projection:
        fields = projection.split(",")
        names.update({f"#a{i}": name for i, name in enumerate(fields)})
        params["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(fields)))
    if names:
        params["ExpressionAttributeNames"] = names
    for page in client.get_paginator("scan").paginate(**params):
        yield from page.get("Items", [])


def tenant_keys(
    table: str, spec: Table, tenant_id: str, client: DynamoDBClient | None = None
) -> list[dict[str, Any]]:
    """The keys of every item of `tenant_id` in one table (never tenant `default`'s: its keys
    have no prefix, and it is the stack's own)."""
    prefix = key_prefix(tenant_id)
    if not prefix:
        raise ValueError("tenant default's items have no prefix")
    items = scan(table, spec.keys[0], prefix, ",".join(spec.keys), client)
    return [{name: item[name] for name in spec.keys} for item in items]


def delete_keys(table: str, keys: list[dict[str, Any]], client: DynamoDBClient | None = None) -> int:
    """Delete the items, 25 a request, sending back what DynamoDB left unprocessed."""
    client = client or dynamodb_client()
    for start in range(0, len(keys), BATCH):
        requests: list[Any] = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH]]
        while requests:
            answer = client.batch_write_item(RequestItems={table: requests})
            requests = list(answer.get("UnprocessedItems", {}).get(table, []))
    return len(keys)


def _plain(value: Any) -> Any:
    """A DynamoDB value as JSON: integers stay exact, other numbers become strings."""
    from boto3.dynamodb.types import TypeDeserializer

    found = TypeDeserializer().deserialize(value) if isinstance(value, dict) else value  # type: ignore[arg-type]
    return _jsonable(found)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        ordered = sorted(value, key=str) if isinstance(value, set) else value
        return [_jsonable(v) for v in ordered]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def mapping_rows(
    table: str, tenant_id: str, client: DynamoDBClient | None = None
) -> Iterator[dict[str, Any]]:
    """A tenant's mapping items as plain values, its key prefix taken off the ids (an export
    reads as the company's own)."""
    prefix = key_prefix(tenant_id)
    for item in scan(table, "stripe_id", prefix, None, client):
        row = {name: _plain(value) for name, value in sorted(item.items())}
        if not prefix and not is_default_key(str(row["stripe_id"])):
            continue
        for name in ("stripe_id", "fortnox_number"):
            if isinstance(row.get(name), str):
                row[name] = row[name].removeprefix(prefix)
        yield row


def key_owners(table: str, partition: str, client: DynamoDBClient | None = None) -> dict[str, int]:
    """How many items of a table each tenant owns, by key prefix (`default` for unprefixed keys)."""
    counts: dict[str, int] = {}
    for item in scan(table, partition, "", partition, client):
        key = item[partition]["S"]
        owner = "default" if is_default_key(key) else key.partition("#")[0]
        counts[owner] = counts.get(owner, 0) + 1
    return counts
