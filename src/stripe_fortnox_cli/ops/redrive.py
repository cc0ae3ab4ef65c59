"""`stripe-fortnox redrive`: move parked events back to the event queue (same message group, new
deduplication id), or with --dry-run list them and why they failed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from stripe_fortnox_cli.exits import EXIT_OK
from stripe_fortnox_cli.ops.progress import Progress, plural
from stripe_fortnox_cli.ops.queues import BULK_QUEUE_OUTPUT
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import SQS_BATCH_ENTRIES, FifoQueue, OutgoingMessage, ReceivedMessage
from stripe_fortnox_cli.ops.tenant_scope import message_tenant
from stripe_fortnox_sync.mapping.identity import customer_key

# Held invisible while we read the queue, long enough for a slow run; released at the end.
REDRIVE_VISIBILITY_SECONDS = 300
# From this many parked events a redrive is bulk work: it goes to the bulk queue, so that it holds
# no tenant's live webhooks behind it (docs/operations.md: bulk work). Fewer go back where they
# came from and are worked through at once.
REDRIVE_BULK_AT = 100


@dataclass
class RedriveOptions:
    dry_run: bool = False
    reasons: frozenset[str] = frozenset()
    max_messages: int | None = None
    # `--tenant`: only this tenant's events; None: every tenant's, as before tenants.
    tenant: str | None = None
    # `--to`: "live" (the event queue), "bulk", or "auto" (bulk from REDRIVE_BULK_AT events).
    to: str = "auto"


def _failure(message: ReceivedMessage) -> tuple[str, str]:
    reason = message.attributes.get("failure_reason")
    if reason:
        return reason, message.attributes.get("failure_message", "")
    # No reason attached: SQS moved it after maxReceiveCount failed receives (transient errors).
    return "receive_limit", f"receive count {message.receive_count}; moved by the queue's redrive policy"


def _event_summary(body: str) -> tuple[str, str, str]:
    """Id, type and customer of a queued event; nothing else of the body is shown."""
    try:
        event = json.loads(body)
    except ValueError:
        return ("(not JSON)", "", "")
    if not isinstance(event, dict):
        return ("(not an event)", "", "")
    return (str(event.get("id") or "-"), str(event.get("type") or "-"), customer_key(event) or "-")


def _moved(message: ReceivedMessage) -> OutgoingMessage:
    """The parked message as it goes back to the event queue."""
    return OutgoingMessage(
        body=message.body,
        # The customer's group: its events stay in order behind each other.
        group_id=message.group_id or "redrive",
        # New: the original id may still be inside SQS's 5-minute dedup window. Derived from the
        # DLQ message, so retrying a redrive that died before deleting cannot queue the event
        # twice in that window.
        dedup_id=f"redrive-{message.message_id}",
        attributes={
            **{k: v for k, v in message.attributes.items() if k not in ("failure_reason", "failure_message")},
            "redriven_after": _failure(message)[0],
        },
    )


class _Redrive:
    """One pass over the dead-letter queue: what it held, moved, kept and listed."""

    def __init__(self, stack: Stack, options: RedriveOptions, out: TextIO, err: TextIO) -> None:
        self.stack = stack
        self.dlq = FifoQueue(stack.output("DeadLetterQueueUrl"))
        self.queue = FifoQueue(stack.output("EventQueueUrl"))
        self.options = options
        self.out, self.err = out, err
        self.held: list[ReceivedMessage] = []
        self.seen: set[str] = set()
        self.moved: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()
        self.listed = 0
        self.progress: Progress | None = None

    def choose_queue(self, depth: int) -> str:
        """Which queue the events go back to: "bulk" for a large redrive (or `--to bulk`)."""
        to = self.options.to
        bulk = to == "bulk" or (
            to == "auto" and min(depth, self.options.max_messages or depth) >= REDRIVE_BULK_AT
        )
        if bulk and self.stack.outputs.get(BULK_QUEUE_OUTPUT):
            self.queue = FifoQueue(self.stack.outputs[BULK_QUEUE_OUTPUT])
            return "bulk"
        return "event"

    def selects(self, message: ReceivedMessage) -> bool:
        if self.options.tenant is not None and message_tenant(message.attributes) != self.options.tenant:
            return False
        return not self.options.reasons or _failure(message)[0] in self.options.reasons

    def _room(self) -> int:
        if self.options.max_messages is None:
            return SQS_BATCH_ENTRIES
        return self.options.max_messages - sum(self.moved.values()) - self.listed

    def run(self, depth: int) -> None:
        if not self.options.dry_run:
            # Progress only: `print_moved` is the summary.
            self.progress = Progress("Moving events back", total=depth, stream=self.err)
        empty_rounds = 0
        try:
            while (room := self._room()) > 0:
                received = self.dlq.receive(
                    min(SQS_BATCH_ENTRIES, room), REDRIVE_VISIBILITY_SECONDS, wait_seconds=1
                )
                batch = [m for m in received if m.message_id not in self.seen]
                if not batch:
                    empty_rounds += 1
                    if empty_rounds >= 2:
                        break
                    continue
                empty_rounds = 0
                self._handle(batch)
        finally:
            if self.progress is not None:
                self.progress.close()
            if self.held:
                # Visible again at once, for the sync's parking and the next redrive.
                self.dlq.release(self.held)

    def _handle(self, batch: Sequence[ReceivedMessage]) -> None:
        self.seen.update(m.message_id for m in batch)
        selected = [m for m in batch if self.selects(m)]
        for m in batch:
            if m not in selected:
                self.kept[_failure(m)[0]] += 1
        if self.options.dry_run:
            self.held.extend(batch)
            for m in selected:
                self._list(m)
            return
        self.held.extend(m for m in batch if m not in selected)
        if selected:
            self.queue.send_many([_moved(m) for m in selected])
            self.dlq.delete(selected)
            for m in selected:
                self.moved[_failure(m)[0]] += 1
            if self.progress is not None:
                self.progress.update(sum(self.moved.values()))

    def _list(self, message: ReceivedMessage) -> None:
        event_id, event_type, customer = _event_summary(message.body)
        reason, detail = _failure(message)
        detail = " ".join(detail.split())[:300]
        print(f"{event_id:<36} {event_type:<30} {customer:<22} {reason:<14} {detail}", file=self.out)
        self.listed += 1

    def print_dry_run(self, depth: int) -> None:
        reasons = Counter(_failure(m)[0] for m in self.held if self.selects(m))
        summary = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items()))
        print(f"Dry run: {plural(self.listed, 'event')} would be moved back ({summary}).", file=self.out)
        if self.listed < depth and not self.options.reasons and self.options.tenant is None:
            print(
                "Some events were not listed: a customer's later events stay hidden while its earlier "
                "ones are held (FIFO); they move with a real redrive.",
                file=self.out,
            )

    def print_moved(self, queue: str) -> None:
        by_reason = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.moved.items()))
        total = sum(self.moved.values())
        print(
            f"Moved {plural(total, 'event')} back to the {queue} queue ({by_reason or 'none'}).",
            file=self.out,
        )
        if self.kept:
            print(
                f"Left {sum(self.kept.values()):,} in the dead-letter queue (not selected by --reason "
                "or --tenant).",
                file=self.out,
            )
        left = self.dlq.depth().total
        if left and not self.kept:
            print(
                f"{plural(left, 'event')} {'is' if left == 1 else 'are'} still in the dead-letter queue "
                "(just parked, or hidden): run again.",
                file=self.out,
            )


def redrive(stack: Stack, options: RedriveOptions, out: TextIO, err: TextIO) -> int:
    run = _Redrive(stack, options, out, err)
    depth = run.dlq.depth()
    if depth.total == 0:
        print("The dead-letter queue is empty.", file=out)
        return EXIT_OK
    print(f"The dead-letter queue holds about {plural(depth.total, 'event')}.", file=out)
    if options.dry_run:
        print(f"{'EVENT':<36} {'TYPE':<30} {'CUSTOMER':<22} {'REASON':<14} DETAIL", file=out)
    queue = run.choose_queue(depth.total)
    run.run(depth.total)
    if options.dry_run:
        run.print_dry_run(depth.total)
    else:
        run.print_moved(queue)
    return EXIT_OK
