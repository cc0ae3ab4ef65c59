"""The columns of `stripe-fortnox tenants status` beyond a tenant's record: its last sync, its
events in the last 24 hours, its parked events and how long the oldest has waited.

One scan of the mapping table (`updated_at`: the last time the sync wrote a tenant's customer), one
of the idempotency table (every event a tenant's sync finished, its record expiring DEDUPE_SECONDS
after), and a look at the dead-letter queue (each parked message carries its tenant, `default`
none). The event queue itself is not looked into: receiving from a FIFO queue holds the messages'
groups from the sync, so waiting there is the stack's `stripe-fortnox status`, not per tenant.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.tenants_data import IDEMPOTENCY, MAPPING, scan
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, TENANT_ATTRIBUTE, is_default_key
from stripe_fortnox_sync.sync.service import DEDUPE_SECONDS

DAY = 24 * 3600
# A look at the dead-letter queue keeps what it read invisible this long, then gives it back.
PEEK_VISIBILITY_SECONDS = 30
PEEK_MAX_MESSAGES = 1000


@dataclass
class Health:
    last_sync: float | None = None
    events_24h: int = 0
    parked: int = 0
    oldest_parked: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The tenants status row's columns (and its JSON keys)."""
        columns = asdict(self)
        columns["parked_reasons"] = columns.pop("reasons")
        return columns


def owner(key: str) -> str:
    return DEFAULT_TENANT if is_default_key(key) else key.partition("#")[0]


def _idempotency_owner(key: str) -> str:
    # Tenant default's records are `stripe-event#…`, the others' `{tenant}#stripe-event#…`.
    return DEFAULT_TENANT if key.startswith("stripe-event#") else key.partition("#")[0]


def gather(
    stack: Stack, tenant_ids: Iterable[str], now: float | None = None
) -> tuple[dict[str, Health], bool]:
    """Each tenant's health, and whether the dead-letter queue was read to its end."""
    now = time.time() if now is None else now
    health = {tenant_id: Health() for tenant_id in tenant_ids}
    for item in scan(stack.output(MAPPING.output), "stripe_id", "", "stripe_id,updated_at"):
        found = health.get(owner(item["stripe_id"]["S"]))
        at = float(item.get("updated_at", {}).get("N", "0"))
        if found is not None and at and (found.last_sync is None or at > found.last_sync):
            found.last_sync = at
    since = now - DAY + DEDUPE_SECONDS  # a record written 24 h ago expires then
    for item in scan(stack.output(IDEMPOTENCY.output), "id", "", "id,expiration,status"):
        found = health.get(_idempotency_owner(item["id"]["S"]))
        if found is not None and item.get("status", {}).get("S") == "COMPLETED":
            found.events_24h += float(item.get("expiration", {}).get("N", "0")) >= since
    complete = _parked(stack, health)
    return health, complete


def _parked(stack: Stack, health: dict[str, Health]) -> bool:
    from stripe_fortnox_cli.ops.store import FifoQueue

    dlq = FifoQueue(stack.output("DeadLetterQueueUrl"))
    depth = dlq.depth().total
    held: list[Any] = []
    seen: set[str] = set()
    try:
        while len(seen) < min(depth, PEEK_MAX_MESSAGES):
            batch = [
                m
                for m in dlq.receive(10, PEEK_VISIBILITY_SECONDS, wait_seconds=1)
                if m.message_id not in seen
            ]
            if not batch:
                break
            held += batch
            for message in batch:
                seen.add(message.message_id)
                found = health.get(message.attributes.get(TENANT_ATTRIBUTE) or DEFAULT_TENANT)
                if found is None:
                    continue
                found.parked += 1
                reason = message.attributes.get("failure_reason") or "receive_count"
                found.reasons[reason] = found.reasons.get(reason, 0) + 1
                if message.sent_at and (found.oldest_parked is None or message.sent_at < found.oldest_parked):
                    found.oldest_parked = message.sent_at
    finally:
        if held:
            dlq.release(held)  # visible again at once, for a redrive
    return len(seen) >= depth


def age(timestamp: float | None, now: float) -> str:
    if timestamp is None:
        return "-"
    seconds = max(0, int(now - timestamp))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def status_line(*cells: str) -> str:
    """A row of `tenants status`: tenant, status, mode, last sync, 24 h, parked, oldest, token."""
    widths = (-20, -13, -5, 9, 6, 6, 6)
    padded = [cell.ljust(-w) if w < 0 else cell.rjust(w) for cell, w in zip(cells, widths, strict=False)]
    return " ".join(padded) + "  " + cells[-1] + "\n"
