"""What a Stripe event must look like before anything reads it, and how it fits an SQS message."""

from __future__ import annotations

import json
import re
from typing import Any

# The queue's MaximumMessageSize; SQS counts message attributes too, so leave them room.
QUEUE_MAX_MESSAGE_BYTES = 262_144
MAX_BODY_BYTES = QUEUE_MAX_MESSAGE_BYTES - 2_048
# What SQS refuses in a message body (it allows #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-).
_SQS_REFUSES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def event_problem(event: Any) -> str | None:
    """Why a parsed body is not a Stripe event we can queue, or None."""
    if not isinstance(event, dict):
        return "the body is not a JSON object"
    if event.get("object") != "event":
        return 'the body is not a Stripe event (object != "event")'
    if not isinstance(event.get("id"), str) or not event["id"].startswith("evt_"):
        return "the event has no evt_ id"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return "the event has no type"
    if not isinstance(event.get("created"), int) or isinstance(event.get("created"), bool):
        return "the event has no created timestamp"
    if not isinstance(event.get("livemode"), bool):
        return "the event has no livemode flag"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "the event has no data.object"
    return None


def queueable(payload: str, event: dict[str, Any]) -> str | None:
    """The body as SQS takes it: as sent, or JSON-escaped where SQS refuses a character; None when
    the escaped body no longer fits a message."""
    if not _SQS_REFUSES.search(payload):
        return payload
    # JSON escapes keep the event as it is.
    escaped = json.dumps(event)
    return escaped if len(escaped.encode()) <= MAX_BODY_BYTES else None
