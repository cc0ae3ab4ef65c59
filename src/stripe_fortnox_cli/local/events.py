"""What the functions are given: Stripe's signed request, API Gateway's event, the SQS records."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from stripe import WebhookSignature

from .config import ACCOUNT, REGION, STACK

EVENT_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-events.fifo"


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with `payload` for an endpoint with `secret`."""
    return str(WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp))


def _route_key(path: str) -> str:
    # template.yaml's routes: a tenant's URL matches `/webhook/t/{slug}`.
    return "POST /webhook/t/{slug}" if path.startswith("/webhook/t/") else f"POST {path}"


def api_gateway_event(body: bytes, headers: dict[str, str], path: str = "/webhook") -> dict[str, Any]:
    """The HTTP API (payload format 2.0) event for a `POST` to `path` (`/webhook` and the tenants')."""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": _route_key(path),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": _route_key(path),
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    if path.startswith("/webhook/t/"):
        event["pathParameters"] = {"slug": path[len("/webhook/t/") :]}
    return event


def sqs_record(message: dict[str, Any], queue_arn: str = EVENT_QUEUE_ARN) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sample_sqs_record(number: int, payload: str) -> dict[str, Any]:
    """The record the sync function would get for a Stripe event file, queued by the webhook."""
    from stripe_fortnox_sync.sync.routes import message_group_id

    event = json.loads(payload)
    return {
        "messageId": f"00000000-0000-4000-8000-{number:012d}",
        "receiptHandle": f"local-receipt-{number}",
        "body": payload,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(int(event.get("created", 0)) * 1000),
            "MessageGroupId": message_group_id(event),
            "MessageDeduplicationId": event.get("id", ""),
            "SequenceNumber": str(18_800_000_000_000_000_000 + number),
        },
        "messageAttributes": {"event_type": {"stringValue": event.get("type", ""), "dataType": "String"}},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": EVENT_QUEUE_ARN,
        "awsRegion": REGION,
    }
