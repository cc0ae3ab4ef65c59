"""`stripe-fortnox status`: mapped customers, queues, last sync and Fortnox token health; with
--customer, one customer's mapping and recent activity. Exit 1 when something needs attention."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.progress import format_duration, plural
from stripe_fortnox_cli.ops.queues import BULK_QUEUE_OUTPUT
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import (
    FifoQueue,
    QueueDepth,
    TokenRecord,
    recent_activity,
    scan_mapping,
    token_records,
)
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus
from stripe_fortnox_sync.core.tenants import tenant_key

# A refresh token lives 45 days from its issue (Fortnox); warn well before it lapses unused.
REFRESH_TOKEN_DAYS = 45
REFRESH_TOKEN_WARN_DAYS = 38


def _when(timestamp: float | None, now: float) -> str:
    if not timestamp:
        return "never"
    stamp = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = now - timestamp
    relative = f"{format_duration(delta)} ago" if delta >= 0 else f"in {format_duration(-delta)}"
    return f"{stamp} ({relative})"


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None


@dataclass
class TokenHealth:
    flow: str
    access_token_expires_at: float
    refreshed_at: float | None
    has_refresh_token: bool
    refreshing: bool
    problem: str | None
    text: str


def _refresh_problem(record: TokenRecord, now: float) -> str | None:
    """What is wrong with a refresh-token chain, if anything."""
    if not record.has_refresh_token:
        return "no refresh token stored: put a new one in the Fortnox credentials secret"
    if not record.refreshed_at:
        return None
    age_days = (now - record.refreshed_at) / 86400
    if age_days >= REFRESH_TOKEN_DAYS:
        return (
            f"the refresh token is {age_days:.0f} days old and has expired: authorise the "
            "integration again and put the new refresh token in the Fortnox credentials secret"
        )
    if age_days >= REFRESH_TOKEN_WARN_DAYS:
        return (
            f"the refresh token expires in {REFRESH_TOKEN_DAYS - age_days:.0f} days unless the "
            "sync refreshes it (any customer event does)"
        )
    return None


def token_health(record: TokenRecord, now: float) -> TokenHealth:
    refresh_flow = record.key.endswith("#authorization-code")
    flow = "refresh token (authorization code)" if refresh_flow else "service account (client credentials)"
    left = record.expires_at - now
    parts = [
        f"access token valid for {format_duration(left)}"
        if left > 0
        else f"access token expired {format_duration(-left)} ago (the next sync gets a new one)"
    ]
    if record.refreshed_at:
        parts.append(f"last refresh {_when(record.refreshed_at, now)}")
    refreshing = bool(record.lock_until and record.lock_until > now)
    if refreshing:
        parts.append("a refresh is in progress")
    return TokenHealth(
        flow=flow,
        access_token_expires_at=record.expires_at,
        refreshed_at=record.refreshed_at,
        has_refresh_token=record.has_refresh_token,
        refreshing=refreshing,
        problem=_refresh_problem(record, now) if refresh_flow else None,
        text="; ".join(parts),
    )


@dataclass
class StatusOptions:
    json: bool = False
    customer: str | None = None


@dataclass
class _Overview:
    """Everything `status` reports, read once."""

    customers: int
    by_status: Counter[str]
    guests: int
    last_sync: float | None
    queue: QueueDepth
    dlq: QueueDepth
    tokens: list[TokenHealth]
    # The bulk queue (backfill, reconcile --fix, large redrives); None on a stack without one.
    bulk: QueueDepth | None = None
    attention: list[str] = field(default_factory=list)


def _tokens(stack: Stack) -> list[TokenRecord]:
    """The token chains to report: a tenant's own company's (`--tenant`), else every one."""
    records = token_records(stack.settings.state_table)
    if stack.tenant is None:
        return records
    return [r for r in records if r.key.endswith(f"#{stack.tenant.fortnox_tenant_id}")]


def _overview(stack: Stack, now: float) -> _Overview:
    rows = list(scan_mapping(stack.settings.mapping_table, prefix=stack.key_prefix))
    bulk_url = stack.outputs.get(BULK_QUEUE_OUTPUT)
    customers = [r for r in rows if not r.is_guest]
    synced = [r.updated_at for r in rows if r.status is not LinkStatus.PENDING and r.updated_at]
    overview = _Overview(
        customers=len(customers),
        by_status=Counter(r.status.value for r in customers),
        guests=sum(1 for r in rows if r.is_guest),
        last_sync=max(synced) if synced else None,
        queue=FifoQueue(stack.output("EventQueueUrl")).depth(),
        dlq=FifoQueue(stack.output("DeadLetterQueueUrl")).depth(),
        tokens=[token_health(r, now) for r in _tokens(stack)],
        bulk=FifoQueue(bulk_url).depth() if bulk_url else None,
    )
    if overview.dlq.total:
        overview.attention.append(
            f"{plural(overview.dlq.total, 'event')} in the dead-letter queue: "
            "`stripe-fortnox redrive --dry-run`"
        )
    overview.attention.extend(t.problem for t in overview.tokens if t.problem)
    return overview


def _token_json(t: TokenHealth) -> dict[str, Any]:
    return {
        "flow": t.flow,
        "access_token_expires_at": datetime.fromtimestamp(t.access_token_expires_at, UTC).isoformat(),
        "refreshed_at": _iso(t.refreshed_at),
        "has_refresh_token": t.has_refresh_token,
        "refreshing": t.refreshing,
        "problem": t.problem,
    }


def _overview_json(stack: Stack, o: _Overview) -> dict[str, Any]:
    scope = {"tenant": stack.tenant_id} if stack.tenant is not None else {}
    bulk = {"bulk_queue": {"waiting": o.bulk.waiting, "in_flight": o.bulk.in_flight}} if o.bulk else {}
    return {
        "stack": stack.name,
        **scope,
        "mode": stack.mode,
        "mapped": {"total": o.customers, **dict(sorted(o.by_status.items()))},
        "guests": o.guests,
        "last_sync": _iso(o.last_sync),
        "queue": {"waiting": o.queue.waiting, "in_flight": o.queue.in_flight, "delayed": o.queue.delayed},
        **bulk,
        "dead_letters": o.dlq.total,
        "fortnox_tokens": [_token_json(t) for t in o.tokens],
        "attention": o.attention,
    }


def _print_overview(stack: Stack, o: _Overview, now: float, out: TextIO) -> None:
    detail = ", ".join(f"{n:,} {name}" for name, n in sorted(o.by_status.items()))
    print(f"Stack:         {stack.name} ({stack.mode} mode)", file=out)
    if stack.tenant is not None:
        # The queues are the stack's, shared by every tenant; the rest is this tenant's own.
        print(
            f"Tenant:        {stack.tenant.id} ({stack.tenant.status.value}); queues: all tenants", file=out
        )
    print(
        f"Mapped:        {plural(o.customers, 'customer')} ({detail or 'none'}); "
        f"{plural(o.guests, 'guest buyer')}",
        file=out,
    )
    print(f"Last sync:     {_when(o.last_sync, now)}", file=out)
    print(f"Event queue:   {o.queue.waiting:,} waiting, {o.queue.in_flight:,} in flight", file=out)
    if o.bulk is not None:
        print(f"Bulk queue:    {o.bulk.waiting:,} waiting, {o.bulk.in_flight:,} in flight", file=out)
    print(f"Dead letters:  {o.dlq.total:,}", file=out)
    if not o.tokens:
        print("Fortnox token: none yet (the first event that reaches Fortnox gets one)", file=out)
    for t in o.tokens:
        print(f"Fortnox token: {t.flow}; {t.text}", file=out)
    for line in o.attention:
        print(f"Attention:     {line}", file=out)
    if not o.attention:
        print("Health:        OK", file=out)


def status(stack: Stack, options: StatusOptions, out: TextIO) -> int:
    if options.customer:
        return customer_status(stack, options.customer, options.json, out)
    now = time.time()
    overview = _overview(stack, now)
    if options.json:
        print(json.dumps(_overview_json(stack, overview), indent=2), file=out)
    else:
        _print_overview(stack, overview, now, out)
    return EXIT_FAILED if overview.attention else EXIT_OK


# One customer -----------------------------------------------------------------------------------


def _customer_json(
    customer_id: str, link: CustomerLink | None, shared_with: list[str], entries: list[dict[str, str]]
) -> str:
    report: dict[str, Any] = {"customer": customer_id, "mapping": None, "activity": entries}
    if link is not None:
        report["mapping"] = {
            "status": link.status.value,
            "fortnox_number": link.fortnox_number,
            "shared_with": shared_with,
            "last_event_id": link.last_event_id,
            "last_event_created": link.last_event_created,
            "updated_at": link.updated_at,
        }
    return json.dumps(report, indent=2)


def _print_customer(
    customer_id: str, link: CustomerLink | None, shared_with: list[str], now: float, out: TextIO
) -> None:
    if link is None:
        print(f"{customer_id}: not in the mapping (never synced to Fortnox)", file=out)
        return
    print(f"{customer_id}: {link.status.value}, Fortnox customer {link.fortnox_number or '-'}", file=out)
    if shared_with:
        # Why a delete or a rename of this customer may leave the Fortnox customer as it is.
        print(f"  shared with: {', '.join(shared_with)} (linked to the same Fortnox customer)", file=out)
    print(
        f"  last event:  {link.last_event_id or '-'} of {_when(link.last_event_created or None, now)}",
        file=out,
    )
    print(f"  written:     {_when(link.updated_at or None, now)}", file=out)


def customer_status(stack: Stack, customer_id: str, as_json: bool, out: TextIO) -> int:
    from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore

    now = time.time()
    store = DynamoMappingStore(stack.settings.mapping_table, prefix=stack.key_prefix)
    link = store.get(customer_id)
    shared_with = (
        [key for key in store.linked_to(link.fortnox_number) if key != customer_id]
        if link is not None and link.fortnox_number
        else []
    )
    activity = (
        recent_activity(stack.settings.activity_table, tenant_key(stack.tenant_id, customer_id))
        if stack.settings.activity_table
        else []
    )
    # Ids, times and event types only: the activity items may hold amounts or names.
    entries = [
        {
            "at": a.get("at", "").split("#", 1)[0],
            "event_type": a.get("event_type", ""),
            "event_id": a.get("event_id", ""),
        }
        for a in activity
    ]
    if as_json:
        print(_customer_json(customer_id, link, shared_with, entries), file=out)
    else:
        _print_customer(customer_id, link, shared_with, now, out)
        for entry in entries:
            print(f"  {entry['at']}  {entry['event_type']:<30} {entry['event_id']}", file=out)
    return EXIT_OK if link else EXIT_FAILED
