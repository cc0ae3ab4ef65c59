"""Which AWS failures a later attempt may not meet: the sync retries those and parks the rest."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# What AWS refuses because of the request's own content: retrying the same event cannot help.
_REQUEST_REFUSED = frozenset(
    {"ValidationException", "SerializationException", "ItemCollectionSizeLimitExceededException"}
)


def transient(exc: BaseException) -> bool:
    """True for throttling, 5xx, access and network failures (an outage or a setup to fix, not the
    event's fault), False for a refusal of what the event asked to store. Follows wrapped causes
    (Powertools' idempotency layer wraps DynamoDB's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ClientError):
            code = str(current.response.get("Error", {}).get("Code", ""))
            return code not in _REQUEST_REFUSED
        if isinstance(current, BotoCoreError):
            return True
        current = current.__cause__ or current.__context__
    return False
