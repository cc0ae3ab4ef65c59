"""How an accepted Stripe event fits an SQS message."""

from __future__ import annotations

import json
from typing import Any

from stripe_fortnox_sync.core.models import HINT_KEY

# The queue's MaximumMessageSize; SQS counts message attributes too, so leave them room.
QUEUE_MAX_MESSAGE_BYTES = 262_144
MAX_BODY_BYTES = QUEUE_MAX_MESSAGE_BYTES - 2_048
# What SQS refuses in a message body (it allows #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-).
# Strict JSON text holds no raw control characters (inside strings they must be escaped), and a lone
# surrogate never gets this far: of what SQS refuses, only these two can be left.
_SQS_REFUSES = ("\ufffe", "\uffff")


def queueable(payload: str, event: dict[str, Any]) -> str | None:
    """The body as SQS takes it: as sent, or re-serialised where SQS refuses a character or where it
    carries our operator-only sync hint; None when the result no longer fits a message."""
    if HINT_KEY in event:
        # Only the operator commands may tell the sync which Fortnox customer to use: a hint that
        # comes through the public endpoint is dropped, however well signed.
        event = {key: value for key, value in event.items() if key != HINT_KEY}
    elif payload.isascii() or not any(char in payload for char in _SQS_REFUSES):
        return payload
    # JSON escapes keep the event as it is.
    escaped = json.dumps(event)
    return escaped if len(escaped.encode()) <= MAX_BODY_BYTES else None
