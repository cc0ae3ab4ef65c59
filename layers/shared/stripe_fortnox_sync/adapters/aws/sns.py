"""SNS adapter: tells the bookkeeper (e-mail subscription on the topic) about payment failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotifier:
    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None:
        self._client.publish(
            TopicArn=self._topic_arn,
            # SNS e-mail subjects: at most 100 characters, no line breaks.
            Subject=subject.replace("\n", " ")[:100],
            Message=message,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v
            },
        )
