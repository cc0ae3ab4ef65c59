"""moto's SQS, patched to behave like SQS where the pipeline can tell the difference."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# SQS FIFO drops a message whose deduplication id it saw this recently.
SQS_DEDUPLICATION_SECONDS = 300
# What SQS accepts in a message (moto accepts anything): real SQS refuses the send, and the webhook
# would answer 500, so the local stack must refuse it too.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
# moto's own Queue.attributes property, kept when it is replaced: the equivalence tests compare.
MOTO_ATTRIBUTES: property | None = None
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

    - A queue's attributes are computed when read, one at a time (`QueueAttributes`): moto computes
      them all, three of them a pass over the queue, for every message sent, which made queueing
      a 5,000-message backfill quadratic (about 4 minutes for 2,000 messages, 1 s after this).

    Patched on the backend instance, so a moto reset (every new local stack, every `mock_aws`)
    drops the patches with the instance; the attributes on moto's Queue class, once per process
    (they give what moto's own property gives: tests/integration/test_moto_sqs_attributes.py).
    """
    from moto.sqs.models import Queue, sqs_backends

    global MOTO_ATTRIBUTES
    if not isinstance(Queue.__dict__.get("attributes"), _LazyAttributesProperty):
        MOTO_ATTRIBUTES = Queue.__dict__["attributes"]
        Queue.attributes = _LazyAttributesProperty(QueueAttributes)  # type: ignore[assignment,method-assign]

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


class QueueAttributes(Mapping[str, Any]):
    """moto's `Queue.attributes` as a mapping that computes an attribute when it is read."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def _names(self) -> list[str]:
        queue = self._queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        return names

    def __getitem__(self, name: str) -> Any:
        from moto.core.utils import camelcase_to_underscores

        if name not in self._names():
            raise KeyError(name)
        queue = self._queue
        if name == "Policy" and queue.policy:
            value = queue.policy
        elif name == "RedrivePolicy" and queue.redrive_policy:
            value = json.dumps(queue.redrive_policy)
        else:
            value = getattr(queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


class _LazyAttributesProperty(property):
    """The property put on moto's Queue class; its own type, so the patch is applied once."""
