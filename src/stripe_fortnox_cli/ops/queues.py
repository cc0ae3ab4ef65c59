"""What backfill and reconcile share: the mapping they plan against, the queue they feed, and
following the sync until it has worked through what they queued."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.progress import Progress, plural
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import FifoQueue, MappingRow, OutgoingMessage, scan_mapping
from stripe_fortnox_cli.ops.tenant_scope import stamped
from stripe_fortnox_sync.core.models import LinkStatus

# The stack output of the queue for operator bulk work (docs/operations.md: bulk work). A stack
# deployed before it existed has none: its bulk work goes to the event queue, as it always did.
BULK_QUEUE_OUTPUT = "BulkQueueUrl"


def read_links(stack: Stack, stream: TextIO) -> dict[str, MappingRow]:
    """The whole mapping table by Stripe id, with a progress line."""
    progress = Progress("Reading the mapping table", stream=stream)
    links: dict[str, MappingRow] = {}
    for row in scan_mapping(stack.settings.mapping_table, prefix=stack.key_prefix):
        links[row.stripe_id] = row
        progress.update(len(links))
    progress.close(f"Mapping: {plural(len(links), 'entry', 'entries')}")
    return links


class TenantQueue(FifoQueue):
    """A queue whose messages are stamped with one tenant's ids and attribute on the way in."""

    def __init__(self, url: str, tenant_id: str) -> None:
        super().__init__(url)
        self.tenant_id = tenant_id

    def send_many(self, messages: Sequence[OutgoingMessage]) -> None:
        super().send_many([stamped(m, self.tenant_id) for m in messages])


def bulk_queue_url(stack: Stack) -> str:
    """Where operator bulk work goes: the bulk queue, whose own event source mapping and lower
    MaximumConcurrency keep it from holding any tenant's live webhooks behind it."""
    return stack.outputs.get(BULK_QUEUE_OUTPUT) or stack.settings.queue_url


@dataclass
class EventQueues:
    """The queue a command feeds (the bulk queue), and the dead-letter queue as it was before we
    queued anything: what is parked after that was parked by our events."""

    queue: FifoQueue
    dlq: FifoQueue | None
    parked_before: int

    @classmethod
    def open(cls, stack: Stack) -> EventQueues:
        settings = stack.settings
        dlq = FifoQueue(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None
        queue = TenantQueue(bulk_queue_url(stack), stack.tenant_id)
        return cls(queue, dlq, dlq.depth().total if dlq else 0)

    def parked_since(self) -> int:
        return (self.dlq.depth().total if self.dlq else 0) - self.parked_before

    def wait_until_empty(self, queued: int, deadline: float, out: TextIO, err: TextIO) -> bool:
        """Poll until the queue is empty twice in a row, with a progress bar; False at the deadline."""
        progress = Progress("Syncing", total=max(queued, 1), stream=err)
        empty_polls = 0
        while True:
            remaining = self.queue.depth().total
            progress.update(max(0, queued - remaining))
            empty_polls = empty_polls + 1 if remaining == 0 else 0
            if empty_polls >= 2:
                break
            if time.monotonic() > deadline:
                progress.close()
                print(f"Gave up waiting: {plural(remaining, 'event')} still in the queue.", file=out)
                return False
            time.sleep(1.0)
        progress.close(f"The sync worked through {plural(queued, 'event')}")
        return True


def _report_linked(stack: Stack, expected: Collection[str], out: TextIO) -> None:
    rows = scan_mapping(stack.settings.mapping_table, prefix=stack.key_prefix)
    links = {row.stripe_id: row for row in rows}
    done = sum(
        1
        for customer_id in expected
        if (row := links.get(customer_id)) is not None
        and row.status is LinkStatus.ACTIVE
        and row.fortnox_number
    )
    linked = f"{done:,} of {plural(len(expected), 'customer')}"
    print(f"{linked} {'is' if len(expected) == 1 else 'are'} now linked to a Fortnox customer.", file=out)


def follow(
    stack: Stack,
    queues: EventQueues,
    queued: int,
    estimate: float,
    timeout: float | None,
    out: TextIO,
    err: TextIO,
    expected: Collection[str] = (),
) -> int:
    """Wait until the sync has worked the queue empty; then check the `expected` customers are
    linked and nothing was parked."""
    deadline = time.monotonic() + (timeout if timeout is not None else max(120.0, estimate * 3 + 60))
    if not queues.wait_until_empty(queued, deadline, out, err):
        return EXIT_FAILED
    parked = queues.parked_since()
    if expected:
        _report_linked(stack, expected, out)
    if parked > 0:
        print(
            f"{plural(parked, 'event')} {'was' if parked == 1 else 'were'} parked in the dead-letter queue: "
            "`stripe-fortnox redrive --dry-run` says why.",
            file=out,
        )
        return EXIT_FAILED
    return EXIT_OK
