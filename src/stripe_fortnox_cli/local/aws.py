"""AWS on this machine: moto's server, and in it the stack's queues, tables, topic and secrets.

Every boto3 client in this process, the functions' and Powertools' included, talks to it through
botocore's own `AWS_ENDPOINT_URL`. The resources mirror template.yaml (tests/integration checks
that they agree), except the event queue's visibility timeout: see `LocalConfig`.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3

from stripe_fortnox_sync.adapters.aws.dynamodb import FORTNOX_NUMBER_INDEX

from .config import ACCOUNT, REGION, STACK
from .environment import ProcessEnvironment
from .moto_sqs import patch_moto_sqs

QUEUE_ATTRIBUTES = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "MessageRetentionPeriod": "1209600",
    "MaximumMessageSize": "262144",
}
# Table kind -> (hash key, TTL attribute or None).
TABLES = {
    "mapping": ("stripe_id", None),
    "idempotency": ("id", "expiration"),
    "state": ("pk", "expires_at"),
}


class MotoServer:
    """moto's server on a free port, with this process's AWS settings pointed at it."""

    def __init__(self, environment: ProcessEnvironment) -> None:
        self._environment = environment
        self._server: Any = None
        self.endpoint_url = ""

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # botocore's own settings: every boto3 client, Powertools' included, talks to moto.
        self._environment.set(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
            }
        )
        self._environment.unset(("AWS_PROFILE", "AWS_DEFAULT_PROFILE"))
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto keeps its backends per process: a second stack in one process starts clean.
        reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset)
        patch_moto_sqs(ACCOUNT, REGION)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def create_resources(visibility_timeout: int, max_receives: int, endpoint_url: str) -> dict[str, str]:
    """The stack's queues, tables and payment-failure topic; returns the stack outputs naming them."""
    return {
        **_create_queues(visibility_timeout, max_receives),
        **_create_tables(),
        **_create_topic(),
        "AwsEndpointUrl": endpoint_url,
    }


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


def _create_queues(visibility_timeout: int, max_receives: int) -> dict[str, str]:
    sqs: Any = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{STACK}-dlq.fifo", Attributes=QUEUE_ATTRIBUTES)["QueueUrl"]
    redrive = {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": max_receives}
    attributes = {
        **QUEUE_ATTRIBUTES,
        "VisibilityTimeout": str(visibility_timeout),
        "RedrivePolicy": json.dumps(redrive),
    }
    queue_url = sqs.create_queue(QueueName=f"{STACK}-events.fifo", Attributes=attributes)["QueueUrl"]
    # Operator bulk work's queue (template.yaml BulkQueue): as the event queue, the same DLQ.
    bulk_url = sqs.create_queue(QueueName=f"{STACK}-bulk.fifo", Attributes=attributes)["QueueUrl"]
    return {"EventQueueUrl": queue_url, "BulkQueueUrl": bulk_url, "DeadLetterQueueUrl": dlq_url}


# The mapping table's index by Fortnox number, as template.yaml declares it (shared links).
MAPPING_INDEX = {
    "IndexName": FORTNOX_NUMBER_INDEX,
    "KeySchema": [{"AttributeName": "fortnox_number", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
}


def _create_table(
    dynamodb: Any,
    name: str,
    keys: list[tuple[str, str]],
    ttl: str | None,
    indexes: list[dict[str, Any]] | None = None,
) -> None:
    attributes = [key for key, _ in keys] + [i["KeySchema"][0]["AttributeName"] for i in indexes or []]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )


def _create_tables() -> dict[str, str]:
    dynamodb: Any = boto3.client("dynamodb")
    for kind, (key, ttl) in TABLES.items():
        indexes = [MAPPING_INDEX] if kind == "mapping" else None
        _create_table(dynamodb, f"{STACK}-{kind}", [(key, "HASH")], ttl, indexes)
    activity = f"{STACK}-activity"
    _create_table(dynamodb, activity, [("customer_id", "HASH"), ("at", "RANGE")], "expires_at")
    return {
        "MappingTableName": f"{STACK}-mapping",
        "IdempotencyTableName": f"{STACK}-idempotency",
        "StateTableName": f"{STACK}-state",
        "ActivityTableName": activity,
    }


def _create_topic() -> dict[str, str]:
    # The bookkeeper's e-mail subscription, here a queue anyone can read the notices from.
    sns: Any = boto3.client("sns")
    sqs: Any = boto3.client("sqs")
    topic_arn = sns.create_topic(Name=f"{STACK}-payment-failures")["TopicArn"]
    inbox_url = sqs.create_queue(QueueName=f"{STACK}-payment-failure-inbox")["QueueUrl"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=_queue_arn(sqs, inbox_url))
    return {"PaymentFailureTopicArn": topic_arn, "PaymentFailureInboxUrl": inbox_url}


def create_secrets(
    webhook_secrets: list[str],
    stripe_api_key: str | None,
    fortnox_credentials: Mapping[str, str],
    connect_webhook_secrets: list[str] | None = None,
) -> dict[str, str]:
    """The stack's four secrets; returns the stack outputs naming them (their ARNs)."""
    sm: Any = boto3.client("secretsmanager")

    def create(name: str, value: str) -> str:
        return str(sm.create_secret(Name=f"{STACK}/{name}", SecretString=value)["ARN"])

    return {
        "StripeWebhookSecretArn": create("stripe-webhook", ",".join(webhook_secrets)),
        "StripeApiKeySecretArn": create("stripe-api-key", stripe_api_key or "not-configured"),
        "FortnoxCredentialsSecretArn": create("fortnox-credentials", json.dumps(dict(fortnox_credentials))),
        "StripeConnectWebhookSecretArn": create(
            "stripe-connect-webhook", ",".join(connect_webhook_secrets or []) or "not-configured"
        ),
    }


def put_secret(arn: str, value: str) -> None:
    """A new value for one of the stack's secrets, as an operator's put-secret-value would store it."""
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=value)


# Inspection ---------------------------------------------------------------------------------------


def queue_depth(queue_url: str) -> int:
    """Messages in a queue, visible or in flight."""
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def take_notifications(inbox_url: str) -> list[dict[str, Any]]:
    """The notices published to the payment-failure topic so far (subject and message), consumed."""
    sqs: Any = boto3.client("sqs")
    notices: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return notices
        for message in batch:
            envelope = json.loads(message["Body"])
            notices.append({"subject": envelope.get("Subject", ""), "message": envelope.get("Message", "")})
            sqs.delete_message(QueueUrl=inbox_url, ReceiptHandle=message["ReceiptHandle"])


def peek_messages(queue_url: str) -> list[dict[str, Any]]:
    """Up to 10 messages of a queue, with their attributes, without consuming them."""
    return receive_messages(boto3.client("sqs"), queue_url)


def receive_messages(
    sqs: Any, queue_url: str, visibility_timeout: int = 0, max_messages: int = 10
) -> list[dict[str, Any]]:
    """Messages of a queue with all their attributes, at once (no long polling), hidden from other
    receivers for `visibility_timeout` seconds (0: they stay visible)."""
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=0,
        VisibilityTimeout=visibility_timeout,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    ).get("Messages", [])
    return messages
