"""Scenario 9 (issue 17): a tenant's backfill does not hold another tenant's live webhooks.

Tenant A backfills its Stripe customers with the real `backfill --tenant firm-a` (a local Stripe API
holding them, the plan, the bulk queue); tenant B then receives one live webhook a second through
its own URL. Both at Fortnox's real limit of 25 requests per 5 s (each company its own window), the
stack's default concurrency (2 for the event queue, 2 for the bulk queue). Measured: B's time from
its webhook to its customer written in its Fortnox company, and what A's backfill got done meanwhile.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from stripe_fortnox_cli.ops import backfill
from stripe_fortnox_cli.ops import tenants as tenant_commands
from stripe_fortnox_cli.ops.stack import Stack, settings_for
from stripe_fortnox_cli.ops.tenant_scope import scoped
from stripe_fortnox_cli.ops.tenants_args import add_parser
from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
from tests.builders import event, ingrid_integration

from .harness import Counts, Pipeline, stack_config
from .scenario_common import Size

A_COMPANY, B_COMPANY = "company-a", "company-b"
A_KEY, B_SECRET = "sk_test_bulk_a", "whsec_bulk_b"
# B's live webhooks must reach Fortnox within this, at the 99th percentile (issue 17).
P99_LIMIT_SECONDS = 30.0
LIVE_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class BulkSize:
    backfill_customers: int
    live_seconds: int


# Issue 17's figure, what the report (`make reliability`) runs at either size; CI's own size stays
# under half a minute; the comparison without the bulk queue needs only a backlog over 30 s.
FULL = BulkSize(5_000, 60)
CI = BulkSize(200, 12)
COMPARISON = BulkSize(500, 30)


def _tenant(stack: Stack, tenant_id: str, company: str, secret: str) -> None:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False), _sub, None)
    argv = ["tenants", "add", tenant_id, "--name", f"{tenant_id.upper()} AB"]
    args = parser.parse_args([*argv, "--fortnox-tenant-id", company, "--webhook-secret", secret])
    tenant_commands.tenants(stack, args, io.StringIO())


def _sub(sub: Any, name: str, target: argparse.ArgumentParser, summary: str, more: str) -> Any:
    return sub.add_parser(name, parents=[target], help=summary)


class _Writes:
    """When each of B's customers first appeared in B's Fortnox company (polled every 0.1 s)."""

    def __init__(self, line: Pipeline) -> None:
        self.seen: dict[str, float] = {}
        self._line = line
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="b-writes", daemon=True)

    def __enter__(self) -> _Writes:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            now = time.time()
            for customer in self._line.sim.customers(B_COMPANY):
                self.seen.setdefault(str(customer.get("Name")), now)


def _send_live(line: Pipeline, path: str, seconds: int, counts: Counts) -> dict[str, float]:
    """One webhook a second to B's URL; returns each customer's name and when it was sent."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    for n in range(seconds):
        name = f"B Kund {n}"
        evt = event(f"evt_b{n}", obj=ingrid_integration(f"cus_B{n:04}", name=name))
        body = json.dumps(evt)
        sent[name] = time.time()
        status, text = line.stack.invoke_webhook(
            body.encode(), {"Stripe-Signature": sign_payload(body, B_SECRET)}, path
        )
        line.deliveries += 1
        counts.check(status == 200, f"B's webhook {n}: {status} {text}")
        time.sleep(max(0.0, start + (n + 1) * LIVE_INTERVAL_SECONDS - time.monotonic()))
    return sent


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else 0.0


def bulk_versus_live(size: Size, workdir: Path, *, bulk_queue: bool = True, bulk: BulkSize = FULL) -> Counts:
    """Tenant A backfills its customers (`backfill --tenant firm-a`, onto the bulk queue) while
    tenant B receives one live webhook a second: B's p99 from webhook to Fortnox write stays under
    30 s, each company at its own real 25 requests per 5 s.

    `size` is not used: `bulk` is (FULL for the report, CI for the test). `bulk_queue=False` (the
    report's comparison): A's backfill on the event queue, as a stack
    without the bulk queue would queue it; B's p99 is then not expected under 30 s."""
    started = time.monotonic()
    where = "bulk queue" if bulk_queue else "event queue (no bulk queue)"
    counts = Counts(
        "9. Bulk work and live webhooks",
        f"A backfills {bulk.backfill_customers:,} on the {where}, B live 1/s",
    )
    workdir.mkdir(parents=True, exist_ok=True)
    # The pollers start once A's backfill is queued: B then runs behind A's whole backlog (with
    # real SQS, queueing 5,000 messages takes seconds; here moto would take minutes, while the
    # pollers already worked the backlog down).
    config = stack_config(workdir, workers=2, start_worker=False, rate_limit=True)
    config.bulk_workers = 2
    with LocalStack(config) as stack, FakeStripeApi(A_KEY) as stripe:
        assert stack.fortnox is not None and stack.fortnox.simulator is not None
        line = Pipeline(stack, stack.fortnox.simulator)
        outputs = {k: v for k, v in stack.outputs.items() if bulk_queue or k != "BulkQueueUrl"}
        operator = Stack("local", outputs, {}, settings_for(outputs, {}), local=True)
        _tenant(operator, "firm-a", A_COMPANY, "whsec_bulk_a")
        _tenant(operator, "firm-b", B_COMPANY, B_SECRET)
        b = DynamoTenantRegistry(stack.outputs["StateTableName"]).get("firm-b")
        assert b is not None
        for n in range(bulk.backfill_customers):
            stripe.add_customer(ingrid_integration(f"cus_A{n:05}", name=f"A Kund {n}"))
        queued_at = time.monotonic()
        _backfill(scoped(operator, "firm-a"), stripe, workdir, counts)
        counts.details["backfill_queue_seconds"] = round(time.monotonic() - queued_at, 1)
        counts.details["bulk_backlog_at_start"] = stack.bulk_depth()
        stack.event_source.start(workers=config.workers)
        stack.bulk_source.start(workers=config.bulk_workers)
        a_before = len(line.sim.customers(A_COMPANY))
        with _Writes(line) as writes:
            live_from = time.monotonic()
            sent = _send_live(line, f"/webhook/t/{b.webhook_slug}", bulk.live_seconds, counts)
            deadline = time.monotonic() + 2 * P99_LIMIT_SECONDS
            while len(writes.seen) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.2)
            live_seconds = time.monotonic() - live_from
        _measure(line, counts, sent, writes.seen, a_before, live_seconds, expect_fast=bulk_queue)
        counts.details["bulk_left"] = stack.bulk_depth()
        counts.processed = stack.deliveries
    counts.seconds = round(time.monotonic() - started, 1)
    return counts


def _backfill(a: Stack, stripe: FakeStripeApi, workdir: Path, counts: Counts) -> None:
    import os

    os.environ["STRIPE_API_BASE"] = stripe.base_url
    try:
        options = backfill.BackfillOptions(stripe_key=A_KEY, cursor=workdir / "a-cursor.json")
        code = backfill.backfill(a, options, io.StringIO(), io.StringIO())
    finally:
        os.environ.pop("STRIPE_API_BASE", None)
    counts.check(code == 0, f"A's backfill exited {code}")


def _measure(
    line: Pipeline,
    counts: Counts,
    sent: dict[str, float],
    seen: dict[str, float],
    a_before: int,
    seconds: float,
    *,
    expect_fast: bool,
) -> None:
    latencies = [seen[name] - at for name, at in sent.items() if name in seen]
    missing = len(sent) - len(latencies)
    p99 = _percentile(latencies, 0.99)
    a_written = len(line.sim.customers(A_COMPANY)) - a_before
    counts.http_429 = int(line.sim.stats()["rate_limited"])
    counts.fortnox_calls = int(line.sim.stats()["api_requests"])
    counts.stripe_customers = len(sent)
    counts.events_sent = len(sent)
    counts.deliveries = line.deliveries
    # Not lost: still queued behind A's backlog when the run ended (the comparison's point).
    counts.lost_events = 0
    written = "n/a: none written" if not latencies else None
    counts.details.update(
        b_events=len(sent),
        b_p50_seconds=written or round(_percentile(latencies, 0.5), 2),
        b_p99_seconds=written or round(p99, 2),
        b_max_seconds=written or round(max(latencies, default=0.0), 2),
        a_customers_written_meanwhile=a_written,
        # A's own window is 25 requests per 5 s (5 a second): its backfill keeps it about full.
        a_writes_per_5_seconds=round(5 * a_written / seconds, 1) if seconds else 0.0,
    )
    counts.details["b_still_queued_when_the_run_ended"] = missing
    if not expect_fast:
        return  # the comparison: what the bulk queue prevents
    counts.check(missing == 0, f"{missing} of B's events not written to B's Fortnox within the run")
    counts.check(p99 < P99_LIMIT_SECONDS, f"B's p99 {p99:.1f} s behind A's backfill (limit 30 s)")
    # The client waits and retries a 429; issue 17's bar for many tenants: under 1 % of calls.
    counts.check(
        counts.http_429 * 100 < counts.fortnox_calls,
        f"{counts.http_429} of {counts.fortnox_calls} answers 429",
    )
    counts.check(not line.sim.customers(B_COMPANY) or a_written > 0, "A's backfill made no progress")
