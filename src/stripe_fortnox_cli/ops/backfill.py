"""`stripe-fortnox backfill`: queue one synthetic customer.updated event per Stripe customer.

Unmapped customers are matched against one full Fortnox listing, so each costs about one
Fortnox request; the run is resumable from a cursor file.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.cursor import Cursor, default_cursor_path
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex, fortnox_client, list_fortnox_customers
from stripe_fortnox_cli.ops.plan import (
    ACTION_REQUESTS,
    ACTION_TEXT,
    Action,
    Planned,
    linked_by_number,
    plan_customer,
)
from stripe_fortnox_cli.ops.progress import Progress, about, estimate_seconds, plural, rate_text
from stripe_fortnox_cli.ops.queues import EventQueues, follow, read_links
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import SQS_BATCH_ENTRIES, FifoQueue, MappingRow, QueueError
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer, iter_stripe_customers, stripe_client
from stripe_fortnox_sync.core.settings import MatchRule

# Saved now and then, not per batch: a cursor a second behind only re-queues a few customers,
# whose second event the sync finds unchanged (0 Fortnox requests).
CURSOR_SAVE_SECONDS = 1.0
# Listed on every run, not only with --dry-run or --list: what an operator must know.
ALWAYS_LISTED = (Action.INVALID, Action.SKIP, Action.SHARE, Action.SHARED)
# How many of those lines a run prints before it only counts the rest.
LISTED_AT_MOST = 20


@dataclass
class BackfillOptions:
    stripe_key: str | None = None
    cursor: Path | None = None
    restart: bool = False
    dry_run: bool = False
    max_customers: int | None = None
    wait: bool = False
    wait_timeout: float | None = None
    list_customers: bool = False


def _open_cursor(stack: Stack, options: BackfillOptions, err: TextIO) -> Cursor:
    path = options.cursor or default_cursor_path(stack)
    cursor = None if options.restart else Cursor.load(path, stack)
    if cursor is None:
        return Cursor(path, stack.identity)
    print(
        f"Resuming after {cursor.after} ({plural(cursor.queued, 'customer')} already queued; "
        "--restart starts over)",
        file=err,
    )
    return cursor


def _plan(
    stack: Stack,
    customers: Sequence[FetchedCustomer],
    links: Mapping[str, MappingRow],
    created_keys: dict[str, str],
    err: TextIO,
) -> tuple[list[Planned], int]:
    """The plan, and the Fortnox requests spent listing Fortnox (only when someone is unmapped)."""
    settings = stack.settings
    index: FortnoxIndex | None = None
    list_requests = 0
    unmapped = sum(1 for c in customers if c.id not in links)
    if unmapped and settings.match_rule is not MatchRule.NONE:
        listing = list_fortnox_customers(fortnox_client(settings, stack.tenant), err)
        index, list_requests = FortnoxIndex(listing.customers, settings.match_rule), listing.requests
    linked = linked_by_number(links)
    plan = [
        plan_customer(c, links.get(c.id), index, settings, created_keys, linked=linked) for c in customers
    ]
    return plan, list_requests


def _print_plan(
    stack: Stack, plan: Sequence[Planned], list_requests: int, options: BackfillOptions, out: TextIO
) -> float:
    """What the backfill will do and cost; returns how long Fortnox's limit makes it take."""
    settings = stack.settings
    counts = Counter(p.action for p in plan)
    requests = sum(ACTION_REQUESTS[p.action] for p in plan)
    print(f"Backfill of {len(plan):,} Stripe customers into {stack.name} ({stack.mode} mode):", file=out)
    for action in Action:
        if counts[action]:
            print(f"  {counts[action]:>7,}  {ACTION_TEXT[action]}", file=out)
    queued = sum(1 for p in plan if p.message is not None)
    print(f"To queue: {_queue_text(queued, len(plan) - queued)}.", file=out)
    seconds = estimate_seconds(requests, settings)
    spent = f" (plus {list_requests} spent listing Fortnox)" if list_requests else ""
    print(
        f"Fortnox requests: about {requests:,}{spent}, about {requests / len(plan):.2f} per customer; "
        f"{about(seconds)} at Fortnox's {rate_text(settings)}.",
        file=out,
    )
    listed = list(plan) if options.list_customers else [p for p in plan if p.action in ALWAYS_LISTED]
    limit = None if options.dry_run or options.list_customers else LISTED_AT_MOST
    for p in listed[:limit]:
        number = p.fortnox_number or "-"
        detail = f"  {p.detail}" if p.detail else ""
        print(f"  {p.action.value:<10} {p.customer_id:<24} fortnox={number}{detail}", file=out)
    if limit is not None and len(listed) > limit:
        print(f"  ... and {len(listed) - limit:,} more (--dry-run lists them all)", file=out)
    return seconds


def _queue_text(queued: int, not_queued: int) -> str:
    """How many events, and how many customers need none: the plan's lines add up to both."""
    events = f"{queued:,} event{'' if queued == 1 else 's'}"
    rest = f"{not_queued:,} customer needs" if not_queued == 1 else f"{not_queued:,} customers need"
    return f"{events} ({rest} none)"


def _queue_plan(queue: FifoQueue, plan: Sequence[Planned], cursor: Cursor, err: TextIO) -> int:
    """Queue the plan's events in order, moving the cursor along; returns how many were queued."""
    progress = Progress("Queueing events", total=sum(1 for p in plan if p.message is not None), stream=err)
    queued = 0
    saved_at = time.monotonic()
    try:
        for start in range(0, len(plan), SQS_BATCH_ENTRIES):
            chunk = plan[start : start + SQS_BATCH_ENTRIES]
            messages = [p.message for p in chunk if p.message is not None]
            queue.send_many(messages)
            queued += len(messages)
            cursor.after = chunk[-1].customer_id
            cursor.queued += len(messages)
            progress.update(queued)
            if time.monotonic() - saved_at >= CURSOR_SAVE_SECONDS:
                cursor.save()
                saved_at = time.monotonic()
    except QueueError as exc:
        raise OperationError(
            f"{exc}; run the backfill again to resume after {cursor.after}", EXIT_FAILED
        ) from None
    finally:
        progress.close()  # `_finish` says what was queued: one summary line, not two
        if queued:
            # Also on Ctrl-C or an error: the next run resumes after what was queued.
            cursor.save()
    return queued


def backfill(stack: Stack, options: BackfillOptions, out: TextIO, err: TextIO) -> int:
    stack.require_event_types("customer.updated")
    cursor = _open_cursor(stack, options, err)
    client = stripe_client(stack, options.stripe_key, err)
    links = read_links(stack, err)
    customers = list(
        iter_stripe_customers(client, after=cursor.after, limit=options.max_customers, stream=err)
    )
    if not customers:
        print(
            "Nothing to backfill: no Stripe customers" + (" after the cursor." if cursor.after else "."),
            file=out,
        )
        if not options.dry_run:
            cursor.remove()
        return EXIT_OK
    created_keys = dict(cursor.created_keys)
    plan, list_requests = _plan(stack, customers, links, created_keys, err)
    seconds = _print_plan(stack, plan, list_requests, options, out)
    if options.dry_run:
        print("Dry run: nothing was queued.", file=out)
        return EXIT_OK
    queues = EventQueues.open(stack)
    cursor.created_keys = created_keys
    queued = _queue_plan(queues.queue, plan, cursor, err)
    more = options.max_customers is not None and len(customers) >= options.max_customers
    _finish(plan, queued, cursor, seconds, more, out)
    if not options.wait:
        return EXIT_OK
    expected = {p.customer_id for p in plan if p.message is not None}
    return follow(stack, queues, queued, seconds, options.wait_timeout, out, err, expected)


def _finish(
    plan: Sequence[Planned], queued: int, cursor: Cursor, seconds: float, more: bool, out: TextIO
) -> None:
    """Say what was queued; a finished backfill drops its cursor."""
    if not more:
        # Finished: the next backfill starts from the newest customer again.
        cursor.remove()
    print(
        f"Queued {_queue_text(queued, len(plan) - queued)}. The sync works through them in "
        f"{about(seconds)}; follow with `stripe-fortnox status`.",
        file=out,
    )
    if more:
        print(f"Stopped at --max-customers; run again to continue after {cursor.after}.", file=out)
