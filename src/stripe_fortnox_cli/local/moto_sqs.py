"""moto's SQS, patched to behave like SQS where the pipeline can tell the difference."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

# SQS FIFO drops a message whose deduplication id it saw this recently.
SQS_DEDUPLICATION_SECONDS = 300
# What SQS accepts in a message (moto accepts anything): real SQS refuses the send, and the webhook
# would answer 500, so the local stack must refuse it too.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
_SQS_FORBIDDEN_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def patch_moto_sqs(account: str, region: str) -> None:
    """Make moto's SQS behave like SQS where the pipeline can tell the difference.

    - It refuses what SQS refuses: characters outside SQS's set, and messages over the queue's
      size in UTF-8 bytes with their attributes (moto checks neither).
    - FIFO deduplication lasts 5 minutes from the first send, also after that message was
      consumed (moto forgets a deduplication id once its message is deleted).
    - The retention check of every received message reads one attribute instead of computing
      all of them, each a pass over the queue: moto's way made a receive O(queue length) per
      message, minutes for a soak run.

    Patched on the backend instance, so a moto reset (every new local stack, every `mock_aws`)
    drops the patches with the instance.
    """
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[account][region]
    backend.send_message = _checked_send(backend)  # type: ignore[method-assign]
    retained = _retention_check(backend)
    backend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]


def _checked_send(backend: Any) -> Callable[..., Any]:
    """moto's send_message, refusing what SQS refuses and deduplicating for 5 minutes."""
    from moto.sqs.models import Message

    original_send = backend.send_message
    first_sends: dict[tuple[str, str], tuple[float, Message]] = {}

    def send_message(
        queue_name: str,
        message_body: str,
        message_attributes: dict[str, Any] | None = None,
        deduplication_id: str | None = None,
        **passed_on: Any,  # the rest of moto's arguments (delay_seconds, group_id, ...), as given
    ) -> Message:
        queue = backend.get_queue(queue_name)
        _refuse_what_sqs_refuses(queue, message_body, message_attributes)
        key = (queue_name, deduplication_id or "")
        now = time.time()
        if queue.fifo_queue and deduplication_id:
            seen = first_sends.get(key)
            if seen and now - seen[0] < SQS_DEDUPLICATION_SECONDS:
                return seen[1]  # accepted and dropped; SQS answers with the first message's id
        message: Message = original_send(
            queue_name,
            message_body,
            message_attributes=message_attributes,
            deduplication_id=deduplication_id,
            **passed_on,
        )
        if queue.fifo_queue and deduplication_id:
            first_sends[key] = (now, message)
        return message

    return send_message


def _retention_check(backend: Any) -> Callable[..., bool]:
    """Whether a message is within its queue's retention period, from one attribute."""

    def retained(queue_name: str, message: Any) -> bool:
        period = int(getattr(backend.get_queue(queue_name), "message_retention_period", 345_600))
        return period + float(message.sent_timestamp or 0) / 1000 > time.time()

    return retained


def _refuse_what_sqs_refuses(queue: Any, body: str, attributes: dict[str, Any] | None) -> None:
    from moto.sqs.exceptions import SQSException

    bad = _SQS_FORBIDDEN_CHARACTER.search(body)
    if bad:
        raise SQSException(
            "InvalidMessageContents",
            f"Invalid characters found. Deleted message body contains U+{ord(bad.group()):04X}",
        )
    # SQS counts the body and every attribute's name, type and value, in UTF-8 bytes.
    size = len(body.encode("utf-8", "surrogatepass")) + sum(
        len(f"{name}{value.get('DataType', '')}{value.get('StringValue') or ''}".encode())
        for name, value in (attributes or {}).items()
        if isinstance(value, dict)
    )
    limit = int(getattr(queue, "maximum_message_size", 262_144))
    if size > limit:
        raise SQSException(
            "InvalidParameterValue",
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
        )
