"""The local stack's moto patch (local/moto_sqs.py): a queue's attributes, computed when read, are
exactly what moto's own property computes, for every kind of queue and state of its messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stripe_fortnox_cli.local import moto_sqs

ACCOUNT, REGION = "123456789012", "eu-north-1"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        moto_sqs.patch_moto_sqs(ACCOUNT, REGION)
        yield boto3.client("sqs", region_name=REGION)


def _queue(name: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT][REGION].get_queue(name)


QUEUES: dict[str, dict[str, str]] = {
    "plain": {},
    "delayed": {"DelaySeconds": "30", "VisibilityTimeout": "60"},
    "fifo.fifo": {"FifoQueue": "true"},
    "dedup.fifo": {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    "kms": {"KmsMasterKeyId": "alias/aws/sqs"},
    "policy": {"Policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
}


@pytest.mark.parametrize("name", [*QUEUES, "redriven.fifo"])
def test_the_attributes_are_moto_own(sqs: Any, name: str) -> None:
    dlq = sqs.create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})}
    attributes = QUEUES.get(name, {"FifoQueue": "true", **redrive})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    fifo = name.endswith(".fifo")
    for n in range(7):
        extra = {"MessageGroupId": f"g{n % 3}", "MessageDeduplicationId": f"d{n}"} if fifo else {}
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", **extra)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)  # two in flight
    queue = _queue(name)
    assert moto_sqs.MOTO_ATTRIBUTES is not None and moto_sqs.MOTO_ATTRIBUTES.fget is not None
    expected = moto_sqs.MOTO_ATTRIBUTES.fget(queue)
    assert dict(queue.attributes) == expected and list(queue.attributes) == list(expected)
    assert all(queue.attributes.get(k) == v for k, v in expected.items())
    assert queue.attributes.get("NoSuchAttribute") is None and "NoSuchAttribute" not in queue.attributes
    # Through the API as well: all of them, and some by name.
    answered = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(answered) <= set(expected)
    some = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert some["Attributes"] == {"ApproximateNumberOfMessages": str(expected["ApproximateNumberOfMessages"])}


def test_creating_an_existing_queue_again_compares_its_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="same.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert sqs.create_queue(QueueName="same.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName="same.fifo", Attributes={"FifoQueue": "true", "DelaySeconds": "5"})
