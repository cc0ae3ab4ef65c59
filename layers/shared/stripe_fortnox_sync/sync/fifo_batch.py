"""An SQS FIFO batch, one record at a time, with partial failures reported: the sync function's loop.

It does what Powertools' `process_partial_response` with `SqsFifoPartialProcessor(skip_group_on_error=True)`
does, without importing it: that import cost the sync's cold start about 20 ms (every event
source's data classes, and asyncio, which the X-Ray SDK imports anyway).
tests/unit/test_fifo_batch.py runs both on the same batches and compares them. The rules:

- Records are handled in the batch's order. A record whose handler raises fails; every later record
  of its message group (`attributes.MessageGroupId`) is failed without being handled, so a
  customer's events never apply out of order. Other groups go on.
- A record without a message group fails alone: nothing after it is skipped.
- The answer lists the failed records' message ids, in the batch's order (Lambda's
  `batchItemFailures`; SQS deletes the others). None failed: an empty list.
- An event without records (no `Records`, an empty or a non-list one) is not a batch: Lambda never
  sends one, so `NotABatchError` is raised.
- Every record failed (handled or skipped): `BatchFailedError` is raised instead, so the invocation
  fails, Lambda gives the whole batch back and the function's Errors metric counts it.
- Only `Exception` fails a record; anything else (SystemExit, KeyboardInterrupt) ends the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stripe_fortnox_sync.core.observability import logger

RecordHandler = Callable[[dict[str, Any]], object]


class BatchFailedError(Exception):
    """Every record of a batch failed: the whole batch goes back (Powertools' BatchProcessingError)."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(f"All {len(errors)} records failed processing; each is logged above.")
        self.errors = errors


class NotABatchError(ValueError):
    """The event has no SQS records (Powertools' UnexpectedBatchTypeError)."""


class SkippedError(Exception):
    """A record not handled because an earlier record of its message group failed."""


def process_fifo_batch(
    event: dict[str, Any], record_handler: RecordHandler
) -> dict[str, list[dict[str, str]]]:
    """`record_handler` on each of the SQS event's records, as the module docstring says.

    Returns `{"batchItemFailures": [{"itemIdentifier": message_id}, ...]}`."""
    records = event.get("Records")
    if not records or not isinstance(records, list):
        raise NotABatchError(f"not an SQS batch: no records in an event with keys {sorted(event)}")
    failed: list[str] = []
    errors: list[Exception] = []
    failed_groups: set[str] = set()
    for record in records:
        group = record.get("attributes", {}).get("MessageGroupId")
        if group in failed_groups:
            error: Exception = SkippedError(f"an earlier record of message group {group} failed")
            logger.debug("record skipped", extra={"message_id": record["messageId"], "error": str(error)})
        else:
            try:
                record_handler(record)
                continue
            except Exception as exc:
                error = exc
            logger.warning(
                "record failed; later records of its message group wait for the retry",
                extra={"message_id": record["messageId"], "error": f"{type(error).__name__}: {error}"},
            )
        # A group id that is empty or absent names no group: nothing is skipped for it.
        if group:
            failed_groups.add(group)
        failed.append(record["messageId"])
        errors.append(error)
    if failed and len(failed) == len(records):
        raise BatchFailedError(errors)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
