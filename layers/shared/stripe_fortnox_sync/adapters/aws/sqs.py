"""SQS adapters: the webhook's event queue and the sync's dead-letter parking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def sqs_client() -> SQSClient:
    return boto3.client("sqs")


class SqsFifoPublisher:
    """Sends one accepted Stripe event to the FIFO queue."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client = client or sqs_client()

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageGroupId=group_id,
            MessageDeduplicationId=dedup_id,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value[:1024]}
                for name, value in (attributes or {}).items()
                if value
            },
        )
