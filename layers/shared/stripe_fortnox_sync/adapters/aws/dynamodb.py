"""DynamoDB adapters: the customer mapping and the activity log (state.py: the state table).

The only module that talks to DynamoDB; everything else sees the ports it implements.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from stripe_fortnox_sync.core.errors import ConflictError
from stripe_fortnox_sync.core.models import (
    CustomerLink,
    LinkStatus,
    Sharing,
    StripeEvent,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def dynamodb_client() -> DynamoDBClient:
    # AWS_ENDPOINT_URL (botocore's own setting) points this at moto in the local stack.
    return boto3.client("dynamodb")


def number_text(value: Any) -> str:
    return str(Decimal(str(value)))


# The mapping table's index by Fortnox customer number (template.yaml: MappingTable): which
# Stripe customers a Fortnox customer is linked to. It projects `status` only, and is sparse:
# links without a Fortnox number (deletion tombstones, pending creates) are not in it.
FORTNOX_NUMBER_INDEX = "by_fortnox_number"


class DynamoMappingStore:
    """Stripe id -> Fortnox customer number, with hashes of the fields last sent.

    `prefix`: a tenant's key prefix (core/tenants.py `key_prefix`; "" for tenant `default`). It
    prefixes the key and the Fortnox number the index is keyed by, so every tenant's Fortnox
    customer 1 is its own; the links handed out carry the bare values.
    """

    def __init__(self, table: str, client: DynamoDBClient | None = None, prefix: str = "") -> None:
        self._table = table
        self._client = client or dynamodb_client()
        self._prefix = prefix

    def _bare(self, value: str) -> str:
        return value[len(self._prefix) :] if self._prefix and value.startswith(self._prefix) else value

    def get(self, stripe_id: str) -> CustomerLink | None:
        item = self._client.get_item(
            TableName=self._table, Key={"stripe_id": {"S": self._prefix + stripe_id}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        number = item.get("fortnox_number", {}).get("S")
        return CustomerLink(
            stripe_id=self._bare(item["stripe_id"]["S"]),
            status=LinkStatus(item["status"]["S"]),
            fortnox_number=self._bare(number) if number is not None else None,
            last_event_id=item.get("last_event_id", {}).get("S"),
            last_event_created=int(item.get("last_event_created", {}).get("N", "0")),
            field_hashes={k: v["S"] for k, v in item.get("field_hashes", {}).get("M", {}).items()},
            intent_started_at=float(item["intent_started_at"]["N"]) if "intent_started_at" in item else None,
            updated_at=float(item.get("updated_at", {}).get("N", "0")),
            version=int(item.get("version", {}).get("N", "0")),
            tax_id_event_created=int(item.get("tax_id_event_created", {}).get("N", "0")),
            sharing=Sharing(item["sharing"]["S"]) if "sharing" in item else None,
        )

    def save(self, link: CustomerLink) -> CustomerLink:
        """Write `link` if nobody else wrote since we read it (optimistic, on `version`)."""
        new_version = link.version + 1
        item: dict[str, Any] = {
            "stripe_id": {"S": self._prefix + link.stripe_id},
            "status": {"S": link.status.value},
            "last_event_created": {"N": str(link.last_event_created)},
            "field_hashes": {"M": {k: {"S": v} for k, v in link.field_hashes.items()}},
            "updated_at": {"N": number_text(round(time.time(), 3))},
            "version": {"N": str(new_version)},
            "tax_id_event_created": {"N": str(link.tax_id_event_created)},
        }
        if link.fortnox_number:
            item["fortnox_number"] = {"S": self._prefix + link.fortnox_number}
        if link.last_event_id:
            item["last_event_id"] = {"S": link.last_event_id}
        if link.intent_started_at is not None:
            item["intent_started_at"] = {"N": number_text(round(link.intent_started_at, 3))}
        if link.sharing is not None:
            item["sharing"] = {"S": link.sharing.value}
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": item}
        if link.version == 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(stripe_id)"
        else:
            kwargs["ConditionExpression"] = "version = :v"
            kwargs["ExpressionAttributeValues"] = {":v": {"N": str(link.version)}}
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if conditional_failed(exc):
                raise ConflictError(f"mapping for {link.stripe_id} changed concurrently") from exc
            raise
        link.version = new_version
        return link

    def linked_to(self, fortnox_number: str) -> list[str]:
        """The keys whose active link names this Fortnox customer (the index: eventually consistent)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=FORTNOX_NUMBER_INDEX,
            KeyConditionExpression="fortnox_number = :n",
            ExpressionAttributeValues={":n": {"S": self._prefix + fortnox_number}},
        )
        return sorted(
            self._bare(item["stripe_id"]["S"])
            for page in pages
            for item in page.get("Items", [])
            if item.get("status", {}).get("S") == LinkStatus.ACTIVE.value
        )

    def count(self) -> int:
        paginator = self._client.get_paginator("scan")
        return sum(page["Count"] for page in paginator.paginate(TableName=self._table, Select="COUNT"))


class DynamoActivityLog:
    """Per-customer activity (payment failures, subscription events) an operator can look up."""

    # Long enough for a year's bookkeeping questions; DynamoDB's TTL removes older entries.
    RETENTION_SECONDS = 400 * 24 * 3600

    def __init__(self, table: str, client: DynamoDBClient | None = None, prefix: str = "") -> None:
        self._table = table
        self._client = client or dynamodb_client()
        # A tenant's key prefix on the customer id ("" for tenant `default`).
        self._prefix = prefix

    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.created))
        item: dict[str, Any] = {
            "customer_id": {"S": self._prefix + customer_id},
            # The event id makes the key unique and a redelivery an overwrite, not a second entry.
            "at": {"S": f"{at}#{event.id}"},
            "event_type": {"S": event.type},
            "event_id": {"S": event.id},
            "expires_at": {"N": str(int(time.time()) + self.RETENTION_SECONDS)},
        }
        for key, value in details.items():
            if isinstance(value, bool) or value is None:
                continue
            item[key] = {"N": str(value)} if isinstance(value, int | float) else {"S": str(value)}
        self._client.put_item(TableName=self._table, Item=item)
