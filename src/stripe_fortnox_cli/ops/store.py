"""Whole-table reads and queue moves for the operator CLI (status, backfill, redrive, reconcile).

The functions' own adapters touch single items and single messages; an operator also needs to
read a whole table, peek at a queue and move messages between queues. Kept apart so the Lambda
code never gains these powers by accident (its IAM policy does not allow them either).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from stripe_fortnox_sync.adapters.aws.dynamodb import dynamodb_client
from stripe_fortnox_sync.adapters.aws.sqs import sqs_client
from stripe_fortnox_sync.core.models import LinkStatus, Sharing
from stripe_fortnox_sync.core.tenants import is_default_key

from .progress import plural

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

# SQS limits: 10 entries per batch call, and the whole batch counts against the message size
# limit. A margin leaves room for the attributes and the request's own envelope.
SQS_BATCH_ENTRIES = 10
SQS_BATCH_BYTES = 240 * 1024
SEND_ATTEMPTS = 4


class QueueError(Exception):
    """SQS refused messages even after retrying them."""


# CloudFormation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackDescription:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    status: str


def describe_stack(name: str, region: str | None = None) -> StackDescription:
    client: Any = boto3.client("cloudformation", region_name=region)
    (stack,) = client.describe_stacks(StackName=name)["Stacks"]
    return StackDescription(
        name=stack["StackName"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        status=stack.get("StackStatus", ""),
    )


# Mapping table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingRow:
    """One mapping item, as much as an operator needs: no field values are stored anyway."""

    stripe_id: str
    status: LinkStatus
    fortnox_number: str | None
    field_hashes: dict[str, str]
    last_event_created: int
    updated_at: float
    # None: written before sharing was tracked (sync/shared_links.py).
    sharing: Sharing | None = None

    @property
    def is_guest(self) -> bool:
        # Guest checkouts are keyed by a hash of the e-mail address, not by a Stripe customer id.
        return not self.stripe_id.startswith("cus_")


def _own_key(key: str, prefix: str) -> str | None:
    """The key without the tenant's prefix, or None when it is another tenant's."""
    if not prefix:
        return key if is_default_key(key) else None
    return key.removeprefix(prefix) if key.startswith(prefix) else None


def scan_mapping(table: str, client: DynamoDBClient | None = None, prefix: str = "") -> Iterator[MappingRow]:
    """Every mapping item of one tenant (`prefix`: its `{tenant}#`, "" for tenant `default`), page
    by page (a consistent scan: the sync may be writing), with the keys as the tenant knows them.
    Other tenants' items are skipped."""
    paginator = (client or dynamodb_client()).get_paginator("scan")
    pages = paginator.paginate(
        TableName=table,
        ConsistentRead=True,
        ProjectionExpression=(
            "stripe_id, #s, fortnox_number, field_hashes, last_event_created, updated_at, sharing"
        ),
        ExpressionAttributeNames={"#s": "status"},
    )
    for page in pages:
        for item in page.get("Items", []):
            stripe_id = _own_key(item["stripe_id"]["S"], prefix)
            if stripe_id is None:
                continue
            yield MappingRow(
                stripe_id=stripe_id,
                status=LinkStatus(item["status"]["S"]),
                fortnox_number=_number(item, prefix),
                field_hashes={
                    k: str(v.get("S", "")) for k, v in item.get("field_hashes", {}).get("M", {}).items()
                },
                last_event_created=int(item.get("last_event_created", {}).get("N", "0")),
                updated_at=float(item.get("updated_at", {}).get("N", "0")),
                sharing=Sharing(item["sharing"]["S"]) if "sharing" in item else None,
            )


def _number(item: dict[str, Any], prefix: str) -> str | None:
    # The index key carries the tenant's prefix too (each company's customer 17 is its own).
    number = item.get("fortnox_number", {}).get("S")
    return number.removeprefix(prefix) if number else None


# State table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRecord:
    """What the state table says about one Fortnox token chain, without the tokens themselves."""

    key: str
    expires_at: float
    refreshed_at: float | None
    has_refresh_token: bool
    version: int
    lock_until: float | None = None


def token_records(table: str, client: DynamoDBClient | None = None) -> list[TokenRecord]:
    """The token items of the state table (a handful of items: tokens, locks, rate windows).

    The projection leaves the token values out, so they never even reach this process.
    """
    client = client or dynamodb_client()
    items: list[dict[str, Any]] = []
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        ConsistentRead=True,
        ProjectionExpression="pk, token_expires_at, refreshed_at, version, lock_until",
    ):
        items.extend(page.get("Items", []))
    # Which items hold a refresh token, asked without reading the token.
    with_refresh_token = {
        item["pk"]["S"]
        for page in paginator.paginate(
            TableName=table,
            ConsistentRead=True,
            ProjectionExpression="pk",
            FilterExpression="attribute_exists(refresh_token)",
        )
        for item in page.get("Items", [])
    }
    locks = {
        item["pk"]["S"].removeprefix("lock#"): float(item["lock_until"]["N"])
        for item in items
        if item["pk"]["S"].startswith("lock#") and "lock_until" in item
    }
    records = []
    for item in items:
        key = item["pk"]["S"]
        if not key.startswith("token#") or "token_expires_at" not in item:
            continue
        records.append(
            TokenRecord(
                key=key,
                expires_at=float(item["token_expires_at"]["N"]),
                refreshed_at=float(item["refreshed_at"]["N"]) if "refreshed_at" in item else None,
                has_refresh_token=key in with_refresh_token,
                version=int(item.get("version", {}).get("N", "0")),
                lock_until=locks.get(key),
            )
        )
    return sorted(records, key=lambda r: r.key)


# Activity table ----------------------------------------------------------------------------------


def recent_activity(
    table: str, customer_id: str, limit: int = 10, client: DynamoDBClient | None = None
) -> list[dict[str, str]]:
    """The customer's latest activity entries, newest first, as plain strings."""
    response = (client or dynamodb_client()).query(
        TableName=table,
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": customer_id}},
        ScanIndexForward=False,
        Limit=limit,
    )
    entries = []
    for item in response.get("Items", []):
        entries.append({k: str(next(iter(v.values()))) for k, v in item.items()})
    return entries


# Queues ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueDepth:
    waiting: int
    in_flight: int
    delayed: int = 0

    @property
    def total(self) -> int:
        return self.waiting + self.in_flight + self.delayed


@dataclass(frozen=True)
class OutgoingMessage:
    body: str
    group_id: str
    dedup_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def size(self) -> int:
        return len(self.body.encode()) + sum(len(k) + len(v.encode()) for k, v in self.attributes.items())


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    group_id: str
    dedup_id: str
    receive_count: int
    sent_at: float
    attributes: dict[str, str]


class FifoQueue:
    """One FIFO queue, as the operator CLI uses it."""

    def __init__(self, url: str, client: SQSClient | None = None) -> None:
        self.url = url
        self._client = client or sqs_client()

    def depth(self) -> QueueDepth:
        attrs = self._client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return QueueDepth(
            waiting=int(attrs.get("ApproximateNumberOfMessages", "0")),
            in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", "0")),
            delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", "0")),
        )

    def send_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send in as few batch calls as SQS allows; the order of `messages` is kept."""
        batch: list[OutgoingMessage] = []
        size = 0
        for message in messages:
            if batch and (len(batch) == SQS_BATCH_ENTRIES or size + message.size() > SQS_BATCH_BYTES):
                self._send_batch(batch)
                batch, size = [], 0
            batch.append(message)
            size += message.size()
        if batch:
            self._send_batch(batch)

    def _send_batch(self, batch: Sequence[OutgoingMessage]) -> None:
        pending = dict(enumerate(batch))
        for attempt in range(SEND_ATTEMPTS):
            response = self._client.send_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {
                        "Id": str(i),
                        "MessageBody": m.body,
                        "MessageGroupId": m.group_id,
                        "MessageDeduplicationId": m.dedup_id,
                        "MessageAttributes": {
                            k: {"DataType": "String", "StringValue": v[:1024]}
                            for k, v in m.attributes.items()
                            if v
                        },
                    }
                    for i, m in pending.items()
                ],
            )
            failed = response.get("Failed", [])
            if not failed:
                return
            sender_faults = [f for f in failed if f.get("SenderFault")]
            if sender_faults:
                # The message itself is wrong (too big, bad characters): retrying cannot help.
                first = sender_faults[0]
                raise QueueError(f"SQS refused a message: {first.get('Code')}: {first.get('Message', '')}")
            pending = {int(f["Id"]): pending[int(f["Id"])] for f in failed}
            time.sleep(0.2 * 2**attempt)
        raise QueueError(f"SQS did not take {plural(len(pending), 'message')} after {SEND_ATTEMPTS} attempts")

    def receive(
        self, max_messages: int = 10, visibility_timeout: int = 60, wait_seconds: int = 1
    ) -> list[ReceivedMessage]:
        response = self._client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        received = []
        for m in response.get("Messages", []):
            system = m.get("Attributes", {})
            received.append(
                ReceivedMessage(
                    message_id=m["MessageId"],
                    receipt_handle=m["ReceiptHandle"],
                    body=m["Body"],
                    group_id=system.get("MessageGroupId", ""),
                    dedup_id=system.get("MessageDeduplicationId", ""),
                    receive_count=int(system.get("ApproximateReceiveCount", "1")),
                    sent_at=int(system.get("SentTimestamp", "0")) / 1000,
                    attributes={
                        name: str(value.get("StringValue", ""))
                        for name, value in m.get("MessageAttributes", {}).items()
                    },
                )
            )
        return received

    def delete(self, messages: Sequence[ReceivedMessage]) -> None:
        for start in range(0, len(messages), SQS_BATCH_ENTRIES):
            chunk = messages[start : start + SQS_BATCH_ENTRIES]
            response = self._client.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)],
            )
            if response.get("Failed"):
                failed = plural(len(response["Failed"]), "message")
                raise QueueError(f"could not delete {failed} from {self.url}")

    def release(self, messages: Sequence[ReceivedMessage]) -> None:
        """Make received messages visible again at once, for the next reader."""
        for start in range(0, len(messages), SQS_BATCH_ENTRIES):
            chunk = messages[start : start + SQS_BATCH_ENTRIES]
            self._client.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )
