"""Scenarios 1, 3 and 4: Stripe's duplicates and reordering, poison events parked and redriven,
concurrent workers on one tenant."""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from fortnox_sim import DEFAULT_CURRENCIES, FortnoxSimulator
from tests.builders import event

from .harness import Counts, moto_fifo_probe, pipeline
from .scenario_common import (
    Size,
    finish,
    in_order,
    own_simulator,
    send_all,
)
from .stripe_data import BASE_CREATED, History, histories

# 1 ------------------------------------------------------------------------------------------


def duplicates_and_reordering(size: Size, workdir: Path, seed: int = 1) -> Counts:
    """Every event delivered 1 to 3 times in shuffled order, some also straight onto the queue.

    SQS FIFO deduplication drops repeats of one event id within 5 minutes; the copies put on the
    queue under another deduplication id stand for Stripe retries after that window, which only
    the idempotency table can catch. Afterwards: one Fortnox customer per Stripe customer with
    the latest state (by event `created`), inactive where deleted.
    """
    started = time.monotonic()
    rng = random.Random(seed)
    counts = Counts("1. Duplicates and reordering")
    lives = histories(rng, size.customers, "Dup")
    plan: list[tuple[str, dict[str, Any], str]] = []
    injected = 0
    for life in lives:
        for evt in life.events:
            plan.extend(("webhook", evt, "") for _ in range(rng.randint(1, 3)))
            if rng.random() < size.inject_share:
                plan.append(("queue", evt, f"{evt['id']}-after-5-minutes"))
                injected += 1
    rng.shuffle(plan)
    with pipeline(workdir) as line:
        for kind, evt, dedup in plan:
            if kind == "queue":
                line.inject(evt, dedup)
            else:
                send_all(line, counts, [evt])
        counts.check(line.drain(timeout=300), "the event queue did not drain")
        line.take_dead_letters()
        finish(line, counts, lives, started)
    deleted_first = sum(
        1 for life in lives if life.deleted and _first_delivered(plan, life) == life.events[-1]["id"]
    )
    counts.details.update(
        injected_copies=injected,
        deleted_customers=sum(life.deleted for life in lives),
        deletion_delivered_first=deleted_first,
    )
    counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} events in the DLQ")
    # Every message beyond an event's first that reached the sync was caught as a duplicate: the
    # late copies always, and webhook repeats SQS let through because the run outlasted its
    # 5-minute deduplication window (a soak run does).
    caught = counts.details["duplicate_deliveries_caught"]
    first_receives = counts.processed - counts.retries
    counts.details["sqs_deduplicated"] = counts.deliveries - first_receives
    counts.check(
        first_receives == counts.events_sent + caught and caught >= injected,
        f"{first_receives} messages reached the sync for {counts.events_sent} events, "
        f"{caught} caught as duplicates ({injected} late copies sent)",
    )
    return counts


def _first_delivered(plan: Sequence[tuple[str, dict[str, Any], str]], life: History) -> str:
    ids = {evt["id"] for evt in life.events}
    return next(str(evt["id"]) for _, evt, _ in plan if evt["id"] in ids)


# 3 ------------------------------------------------------------------------------------------


def poison_events(size: Size, workdir: Path, seed: int = 3) -> Counts:
    """Events Fortnox refuses for good (a currency its company has not enabled), and one with no
    customer id: parked at once with their reason, the rest flows; after the fix, a redrive."""
    started = time.monotonic()
    counts = Counts("3. Poison events")
    lives = histories(random.Random(seed), size.poison_customers, "Poi", delete_share=0.2)
    poisoned = lives[:2]
    for life in poisoned:
        for evt in life.events:
            evt["data"]["object"]["currency"] = "jpy"  # ISO 4217, not enabled in the simulator
    broken = event(
        "evt_Poi_no_customer", "customer.updated", BASE_CREATED, {"object": "customer", "name": "?"}
    )
    # Poison first, so every batch has it ahead of healthy customers.
    events = [broken, *[e for life in poisoned for e in life.events], *in_order(lives[2:])]
    with pipeline(workdir) as line:
        send_all(line, counts, events)
        counts.check(line.drain(), "the event queue did not drain")
        parked = line.take_dead_letters()
        reasons = Counter(letter.reason for letter in parked)
        counts.details["parked"] = dict(reasons)
        poison_ids = {e["id"] for life in poisoned for e in life.events if e["type"] != "customer.deleted"}
        parked_ids = {letter.event_id for letter in parked}
        counts.check(
            parked_ids == {*poison_ids, broken["id"]}, f"parked {sorted(parked_ids)}, expected the poison"
        )
        counts.check(
            reasons.get("bad_payload") == 1, "the event without a customer id was not parked as such"
        )
        retries = line.stack.event_source.redeliveries
        counts.check(retries == 0, f"{retries} retries: poison not parked at once")
        healthy = lives[2:]
        line.check_customers(
            counts,
            {life.stripe_id: life.final for life in healthy},
            deleted=[life.stripe_id for life in healthy if life.deleted],
        )
        # Fixed in Fortnox (the currency enabled): redrive what can now succeed.
        line.sim.configure(currencies=[*DEFAULT_CURRENCIES, "JPY"])
        fixable = [letter for letter in parked if letter.reason == "validation"]
        line.redrive(fixable)
        counts.check(line.drain(), "the redriven events did not drain")
        again = line.take_dead_letters()
        counts.check(not again, f"{len(again)} redriven events parked again")
        counts.details["left_in_dlq_unfixable"] = len(parked) - len(fixable)
        finish(line, counts, lives, started)
    counts.events_sent += 1
    return counts


# 4 ------------------------------------------------------------------------------------------


def concurrency(size: Size, workdir: Path, seed: int = 4, *, probe_moto: bool = False) -> Counts:
    """Four sync workers on the same customers and the same Fortnox tenant, the real 25-per-5-s
    limit, the refresh-token flow and a revocation mid-run: one refresh, no 429, events of one
    customer strictly in order (no stale outcome), the latest state everywhere.

    `probe_moto` (the report sets it; it costs CPU-seconds the CI run does without): also count
    how often plain moto, long-polled by four consumers, breaks FIFO group ordering, which is
    why the local stack's event source does not long-poll it."""
    started = time.monotonic()
    counts = Counts("4. Concurrency", "4 workers, 25 requests / 5 s")
    lives = histories(random.Random(seed), size.concurrency_customers, "Con", delete_share=0.2)
    events = in_order(lives)
    with (
        own_simulator(seed) as (sim, fortnox),
        pipeline(workdir, fortnox=fortnox, rate_limit=True, workers=4, start_worker=True) as line,
        admissions(sim) as admitted,
    ):
        half = len(events) // 2
        send_all(line, counts, events[:half])
        # Revoke once the workers are busy, so several of them meet the 401 together.
        deadline = time.monotonic() + 60
        while len(line.stack.processed) < half // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sim.expire_access_tokens()
        send_all(line, counts, events[half:])
        counts.check(line.wait_idle(timeout=300), "the workers did not finish")
        line.take_dead_letters()
        finish(line, counts, lives, started)
        delta = line.sim_delta()
        counts.details.update(
            workers=4,
            max_concurrent_invocations=line.stack.sync.max_concurrent_invocations,
            # 25 means the workers kept Fortnox's window full, and still met no 429.
            peak_requests_in_5_seconds=_peak(admitted, 5.0),
            refreshes=delta["token_grants"].get("refresh_token", 0),
            invalid_grant=delta["invalid_grant"],
        )
        if probe_moto:
            rounds = max(5, size.concurrency_customers // 2)
            counts.details["moto_long_poll_group_overlaps"] = moto_fifo_probe(rounds=rounds)
    stale = counts.details["outcomes"].get("stale", 0)
    counts.check(stale == 0, f"{stale} events seen out of order within their customer")
    counts.check(counts.http_429 == 0, f"{counts.http_429} answers 429 with the shared limiter")
    counts.check(counts.details["peak_requests_in_5_seconds"] <= 25, "more than 25 requests in 5 s")
    counts.check(
        counts.details["refreshes"] == 1, f"{counts.details['refreshes']} refreshes for 1 revocation"
    )
    counts.check(counts.details["invalid_grant"] == 0, "a spent refresh token was presented")
    counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} events in the DLQ")
    return counts


@contextlib.contextmanager
def admissions(sim: FortnoxSimulator) -> Iterator[list[float]]:
    """The times the simulator let an API request through its rate window.

    Wraps the simulator's private admission check: the only place that knows the moment a
    request entered Fortnox's 25-per-5-s window.
    """
    times: list[float] = []
    admit = sim._admit

    def recording(key: tuple[str, str]) -> bool:
        admitted = admit(key)
        if admitted:
            times.append(time.monotonic())
        return admitted

    with mock.patch.object(sim, "_admit", recording):
        yield times


def _peak(times: Sequence[float], window: float) -> int:
    """The most of `times` that fall in any `window` seconds."""
    ordered, peak, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak
