"""DynamoDB adapters: the customer mapping, Fortnox token state, the shared rate-limit window.

The only module that talks to DynamoDB; everything else sees the ports it implements.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import date
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
    TokenState,
    VoucherRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def dynamodb_client() -> DynamoDBClient:
    # AWS_ENDPOINT_URL (botocore's own setting) points this at moto in the local stack.
    return boto3.client("dynamodb")


def _num(value: Any) -> str:
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
            "updated_at": {"N": _num(round(time.time(), 3))},
            "version": {"N": str(new_version)},
            "tax_id_event_created": {"N": str(link.tax_id_event_created)},
        }
        if link.fortnox_number:
            item["fortnox_number"] = {"S": self._prefix + link.fortnox_number}
        if link.last_event_id:
            item["last_event_id"] = {"S": link.last_event_id}
        if link.intent_started_at is not None:
            item["intent_started_at"] = {"N": _num(round(link.intent_started_at, 3))}
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
            if _conditional_failed(exc):
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


class DynamoStateStore:
    """Token state, the refresh lock, the rate-limit window and the vouchers posted, one item each in
    the state table.

    `prefix`: a tenant's key prefix, on its voucher records. Token, lock and rate-window keys are
    Fortnox's own identity already (client id and TenantId), so they take none.
    """

    def __init__(self, table: str, client: DynamoDBClient | None = None, prefix: str = "") -> None:
        self._table = table
        self._client = client or dynamodb_client()
        self._prefix = prefix

    # TokenStore -------------------------------------------------------------------------------

    def load_token(self, key: str) -> TokenState | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True).get(
            "Item"
        )
        if not item or "access_token" not in item:
            return None
        return TokenState(
            access_token=item["access_token"]["S"],
            expires_at=float(item["token_expires_at"]["N"]),
            refresh_token=item.get("refresh_token", {}).get("S"),
            seed_refresh_token=item.get("seed_refresh_token", {}).get("S"),
            version=int(item["version"]["N"]),
        )

    def save_token(self, key: str, state: TokenState) -> bool:
        item: dict[str, Any] = {
            "pk": {"S": key},
            "access_token": {"S": state.access_token},
            "token_expires_at": {"N": _num(round(state.expires_at, 3))},
            "version": {"N": str(state.version)},
            "refreshed_at": {"N": _num(round(time.time(), 3))},
        }
        if state.refresh_token:
            item["refresh_token"] = {"S": state.refresh_token}
        if state.seed_refresh_token:
            item["seed_refresh_token"] = {"S": state.seed_refresh_token}
        return self._conditional_put(item, state.version - 1) is None

    def try_lock(self, key: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"lock#{key}"},
                    "owner": {"S": owner},
                    "lock_until": {"N": _num(round(now + ttl_seconds, 3))},
                    "expires_at": {"N": str(int(now + ttl_seconds + 3600))},
                },
                # A holder that died frees the lock when its lease runs out.
                ConditionExpression="attribute_not_exists(pk) OR lock_until < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": _num(round(now, 3))}, ":me": {"S": owner}},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def unlock(self, key: str, owner: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": f"lock#{key}"}},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": owner}},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    # VoucherRecords ---------------------------------------------------------------------------

    def load_voucher(self, key: str) -> VoucherRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"{self._prefix}voucher#{key}"}}, ConsistentRead=True
        ).get("Item")
        if not item or "body_hash" not in item:
            return None
        number = item.get("voucher_number", {}).get("N")
        year = item.get("financial_year", {}).get("N")
        return VoucherRecord(
            key=key,
            body_hash=item["body_hash"]["S"],
            series=item.get("voucher_series", {}).get("S"),
            number=int(number) if number is not None else None,
            year=int(year) if year is not None else None,
            attached=bool(item.get("attached", {}).get("BOOL", False)),
        )

    def save_voucher(self, record: VoucherRecord) -> None:
        """Overwrite the record: one payout's events are serialised by its FIFO message group."""
        item: dict[str, Any] = {
            "pk": {"S": f"{self._prefix}voucher#{record.key}"},
            "body_hash": {"S": record.body_hash},
            "attached": {"BOOL": record.attached},
            "updated_at": {"N": _num(round(time.time(), 3))},
        }
        if record.series is not None:
            item["voucher_series"] = {"S": record.series}
        if record.number is not None:
            item["voucher_number"] = {"N": str(record.number)}
        if record.year is not None:
            item["financial_year"] = {"N": str(record.year)}
        self._client.put_item(TableName=self._table, Item=item)

    # DaySales (summary booking) --------------------------------------------------------------

    # A day's entries are spread over this many items (by a hash of the id), each a map of entries:
    # about 2,000 entries fit in one item's 400 KB, so a day holds some 30,000 payments and refunds.
    DAY_SHARDS = 16

    def _shard(self, day: date, entry_id: str) -> str:
        number = int(hashlib.sha256(entry_id.encode()).hexdigest()[:8], 16) % self.DAY_SHARDS
        return f"summary-day#{day.isoformat()}#{number}"

    def add_entry(self, day: date, entry_id: str, entry: str) -> None:
        key = {"pk": {"S": self._shard(day, entry_id)}}
        # Into the shard's map when it has one, else the map made with it; a concurrent first
        # entry makes the second fail, and the first is then tried again.
        for _ in range(3):
            if self._update_if(
                key,
                "SET #e.#id = :v",
                "attribute_exists(#e)",
                {"#e": "entries", "#id": entry_id},
                {"S": entry},
            ) or self._update_if(
                key,
                "SET #e = :v",
                "attribute_not_exists(#e)",
                {"#e": "entries"},
                {"M": {entry_id: {"S": entry}}},
            ):
                return
        raise ConflictError(f"the entries of {day} changed concurrently")

    def _update_if(
        self, key: dict[str, Any], update: str, condition: str, names: dict[str, str], value: Any
    ) -> bool:
        """One conditional update: False when its condition did not hold."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":v": value},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False
        return True

    def day_entries(self, day: date) -> dict[str, str]:
        found: dict[str, str] = {}
        for number in range(self.DAY_SHARDS):
            key = {"pk": {"S": f"summary-day#{day.isoformat()}#{number}"}}
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            found |= {k: v["S"] for k, v in (item or {}).get("entries", {}).get("M", {}).items()}
        return found

    def _text(self, pk: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True).get(
            "Item"
        )
        return item["value"]["S"] if item and "value" in item else None

    def _put_text(self, pk: str, value: str) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={"pk": {"S": pk}, "value": {"S": value}, "updated_at": {"N": _num(round(time.time(), 3))}},
        )

    def save_sale(self, sale_id: str, entry: str) -> None:
        self._put_text(f"summary-sale#{sale_id}", entry)

    def load_sale(self, sale_id: str) -> str | None:
        return self._text(f"summary-sale#{sale_id}")

    def load_booked(self, day: date) -> str | None:
        return self._text(f"summary-booked#{day.isoformat()}")

    def save_booked(self, day: date, booked: str) -> None:
        self._put_text(f"summary-booked#{day.isoformat()}", booked)

    # SlotStore --------------------------------------------------------------------------------

    def swap_slots(
        self, key: str, slots: list[float], expected_version: int
    ) -> tuple[list[float], int] | None:
        item = {
            "pk": {"S": f"rate#{key}"},
            "slots": {"L": [{"N": _num(round(t, 4))} for t in slots]},
            "version": {"N": str(expected_version + 1)},
        }
        refused = self._conditional_put(item, expected_version, return_current=True)
        if refused is None:
            return None
        stored = [float(v["N"]) for v in refused.get("slots", {}).get("L", [])]
        return stored, int(refused.get("version", {}).get("N", "0"))

    def _conditional_put(
        self, item: dict[str, Any], expected_version: int, *, return_current: bool = False
    ) -> dict[str, Any] | None:
        """None when `item` was stored over `expected_version` (0: over nothing); otherwise the
        item stored now ({} without `return_current`, or when it is gone)."""
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": item}
        if expected_version <= 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            kwargs["ConditionExpression"] = "version = :v"
            kwargs["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
        if return_current:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self._client.put_item(**kwargs)
            return None
        except ClientError as exc:
            if _conditional_failed(exc):
                # With ReturnValuesOnConditionCheckFailure, the refusal carries the stored item.
                current = exc.response.get("Item")
                return dict(current) if isinstance(current, Mapping) else {}
            raise


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
