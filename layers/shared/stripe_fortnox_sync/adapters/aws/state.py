"""The state table's adapter: Fortnox token state and its refresh lock, the shared rate-limit window,
the outage hold, voucher records and summary booking's days. Part of the only code that talks to
DynamoDB (dynamodb.py: the mapping and the activity log)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stripe_fortnox_sync.adapters.aws.dynamodb import conditional_failed, dynamodb_client, number_text
from stripe_fortnox_sync.core.errors import ConflictError
from stripe_fortnox_sync.core.models import TokenState, VoucherRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoStateStore:
    """Token state, the refresh lock, the rate-limit window and the vouchers posted, one item each in
    the state table.

    `prefix`: a tenant's key prefix, on its voucher records and summary booking's days and sales, so
    one tenant's sales never reach another's day voucher. Token, lock and rate-window keys are
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
            "token_expires_at": {"N": number_text(round(state.expires_at, 3))},
            "version": {"N": str(state.version)},
            "refreshed_at": {"N": number_text(round(time.time(), 3))},
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
                    "lock_until": {"N": number_text(round(now + ttl_seconds, 3))},
                    "expires_at": {"N": str(int(now + ttl_seconds + 3600))},
                },
                # A holder that died frees the lock when its lease runs out.
                ConditionExpression="attribute_not_exists(pk) OR lock_until < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": number_text(round(now, 3))}, ":me": {"S": owner}},
            )
            return True
        except ClientError as exc:
            if conditional_failed(exc):
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
            if not conditional_failed(exc):
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
            "updated_at": {"N": number_text(round(time.time(), 3))},
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
        return self._day_shard(day, number)

    def _day_shard(self, day: date, number: int) -> str:
        return f"{self._prefix}summary-day#{day.isoformat()}#{number}"

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
            if not conditional_failed(exc):
                raise
            return False
        return True

    def day_entries(self, day: date) -> dict[str, str]:
        found: dict[str, str] = {}
        for number in range(self.DAY_SHARDS):
            key = {"pk": {"S": self._day_shard(day, number)}}
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
            Item={
                "pk": {"S": pk},
                "value": {"S": value},
                "updated_at": {"N": number_text(round(time.time(), 3))},
            },
        )

    def save_sale(self, sale_id: str, entry: str) -> None:
        self._put_text(f"{self._prefix}summary-sale#{sale_id}", entry)

    def load_sale(self, sale_id: str) -> str | None:
        return self._text(f"{self._prefix}summary-sale#{sale_id}")

    def load_booked(self, day: date) -> str | None:
        return self._text(f"{self._prefix}summary-booked#{day.isoformat()}")

    def save_booked(self, day: date, booked: str) -> None:
        self._put_text(f"{self._prefix}summary-booked#{day.isoformat()}", booked)

    # SlotStore --------------------------------------------------------------------------------

    def swap_slots(
        self, key: str, slots: list[float], expected_version: int
    ) -> tuple[list[float], int] | None:
        item = {
            "pk": {"S": f"rate#{key}"},
            "slots": {"L": [{"N": number_text(round(t, 4))} for t in slots]},
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
            if conditional_failed(exc):
                # With ReturnValuesOnConditionCheckFailure, the refusal carries the stored item.
                current = exc.response.get("Item")
                return dict(current) if isinstance(current, Mapping) else {}
            raise
