"""The reliability scenarios: each drives the local stack and returns its `Counts`.

Shared by the pytest tests (quick size) and `python -m tests.reliability.report` (quick or
soak). A scenario never asserts: it records every violated invariant in `Counts.problems`, so
the report can show what a run found and the tests can fail with the whole list.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import requests

from fortnox_sim import DEFAULT_CURRENCIES, FortnoxSimulator
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore, DynamoStateStore
from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from tests.builders import event

from .harness import Counts, ExternalFortnox, Pipeline, moto_fifo_probe, pipeline
from .hostile import hostile_input, unqueueable_characters
from .hostile_signed import signed_hostile_input
from .stripe_data import BASE_CREATED, History, histories, messy_customer


@dataclass(frozen=True)
class Size:
    name: str
    customers: int  # 1: duplicates and reordering
    inject_share: float  # 1: share of events also put straight on the queue (a late Stripe retry)
    fault_customers: int  # 2: Fortnox faults, per variant
    poison_customers: int  # 3
    concurrency_customers: int  # 4
    hostile_cases: int  # 5: generated webhook requests, all strategies together
    messy_customers: int  # 6
    crash_customers: int  # 7: per crash point and match rule


QUICK = Size("quick", 100, 0.15, 6, 10, 8, 1_200, 60, 2)
# About 15 minutes here (2 CPUs): moto gets slower per message as its queues grow.
SOAK = Size("soak", 500, 0.15, 40, 60, 40, 10_000, 500, 10)

# Scenario 2: one Fortnox call in five fails, half with a 500, half by hanging past the
# client's timeout (FORTNOX_TIMEOUT_SECONDS, whole seconds only).
ERROR_RATE = 0.1
TIMEOUT_RATE = 0.1
CLIENT_TIMEOUT_SECONDS = 1
SIMULATOR_HANG_SECONDS = 1.5
BURST_OF_429 = 3
CLIENT_ID, CLIENT_SECRET = "reliability-client", "reliability-secret"


def in_order(lives: Sequence[History]) -> list[dict[str, Any]]:
    """Every customer's events in Stripe's order, customers interleaved (creates first)."""
    rows = [(step, index, evt) for index, life in enumerate(lives) for step, evt in enumerate(life.events)]
    return [evt for _, _, evt in sorted(rows, key=lambda row: (row[0], row[1]))]


def _send_all(line: Pipeline, counts: Counts, events: Sequence[dict[str, Any]]) -> None:
    for evt in events:
        status, answer = line.send(evt)
        counts.check(status == 200 and answer == {"received": evt["id"]}, f"{evt['id']}: {status} {answer}")


def _finish(
    line: Pipeline, counts: Counts, lives: Sequence[History], started: float, settings: Settings | None = None
) -> None:
    line.check_exactly_once(counts)
    line.check_customers(
        counts,
        {life.stripe_id: life.final for life in lives},
        deleted=[life.stripe_id for life in lives if life.deleted],
        settings=settings,
    )
    line.fill(counts, started)
    counts.stripe_customers = len(lives)
    counts.events_sent = sum(len(life.events) for life in lives)


@contextlib.contextmanager
def own_simulator(seed: int, **options: Any) -> Iterator[tuple[FortnoxSimulator, ExternalFortnox]]:
    """A simulator outside the stack, with the refresh-token (authorization-code) flow."""
    with FortnoxSimulator(seed=seed, **options) as sim:
        sim.register_client(CLIENT_ID, CLIENT_SECRET)
        token = sim.issue_refresh_token(CLIENT_ID, "reliability-tenant")
        yield (
            sim,
            ExternalFortnox(
                sim, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": token}
            ),
        )


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
                _send_all(line, counts, [evt])
        counts.check(line.drain(timeout=300), "the event queue did not drain")
        line.take_dead_letters()
        _finish(line, counts, lives, started)
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


# 2 ------------------------------------------------------------------------------------------


def _faults_on(sim: FortnoxSimulator, lost_writes: bool) -> None:
    sim.configure(
        error_rate=ERROR_RATE,
        timeout_rate=TIMEOUT_RATE,
        timeout_seconds=SIMULATOR_HANG_SECONDS,
        timeout_applies_write=lost_writes,
    )


def _faults_off(sim: FortnoxSimulator) -> None:
    sim.configure(error_rate=0.0, timeout_rate=0.0)


def _run_disrupted(line: Pipeline, counts: Counts, events: Sequence[dict[str, Any]], expiries: int) -> None:
    """Deliver in three parts: a burst of 429s before the second, revoked tokens before the
    last `expiries` parts; the queue drains (retries included) after each part."""
    third = max(1, len(events) // 3)
    parts = [events[:third], events[third : 2 * third], events[2 * third :]]
    for index, part in enumerate(parts):
        if index == 1:
            line.sim.force_429(BURST_OF_429)
        if index >= len(parts) - expiries:
            line.sim.expire_access_tokens()
        _send_all(line, counts, part)
        counts.check(line.drain(timeout=600), f"the event queue did not drain after part {index + 1}")


def _settle_faults(line: Pipeline, counts: Counts) -> None:
    """What the fault phase parked, by reason; then, faults over, the operator's redrive."""
    parked = line.take_dead_letters()
    counts.details["dlq_reasons"] = dict(Counter(letter.reason for letter in parked))
    _faults_off(line.sim)
    if parked:
        line.redrive(parked)
        counts.check(line.drain(timeout=120), "the redriven events did not drain")
        again = line.take_dead_letters()
        counts.check(not again, f"{len(again)} redriven events parked again")


def fortnox_faults(size: Size, workdir: Path, seed: int = 2) -> Counts:
    """Service account: 20% of Fortnox calls fail (500, or a hang past the client's timeout that
    writes nothing), a burst of 429s, the access token revoked mid-run."""
    started = time.monotonic()
    counts = Counts("2. Fortnox faults", "service account; timeouts write nothing")
    lives = histories(random.Random(seed), size.fault_customers, "Flt", delete_share=0.3)
    env = {"FORTNOX_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_SECONDS)}
    with pipeline(workdir, extra_env=env, sim_seed=seed) as line:
        _faults_on(line.sim, lost_writes=False)
        _run_disrupted(line, counts, in_order(lives), expiries=1)
        _settle_faults(line, counts)
        _finish(line, counts, lives, started)
        delta = line.sim_delta()
    counts.details.update(
        injected_5xx=delta["injected_5xx"],
        injected_timeouts=delta["injected_timeouts"],
        forced_429=delta["forced_429"],
        token_grants=delta["token_grants"],
        fortnox_requests=delta["requests"],
    )
    counts.check(delta["forced_429"] == BURST_OF_429, f"{delta['forced_429']} forced 429s dealt")
    return counts


def refresh_token_chain(size: Size, workdir: Path, seed: int = 21) -> Counts:
    """The faults of `fortnox_faults`, but timeouts lose the answer of a write Fortnox applied
    (the retry must find the customer its first attempt created), with the single-use
    refresh-token flow and two revocations: each costs exactly one refresh, and no spent
    refresh token is ever presented."""
    started = time.monotonic()
    counts = Counts("2. Fortnox faults", "refresh-token chain; timeouts lose the answer")
    lives = histories(random.Random(seed), size.fault_customers, "Rtc", delete_share=0.3)
    env = {"FORTNOX_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_SECONDS)}
    with own_simulator(seed) as (sim, fortnox), pipeline(workdir, fortnox=fortnox, extra_env=env) as line:
        _faults_on(sim, lost_writes=True)
        _run_disrupted(line, counts, in_order(lives), expiries=2)
        _settle_faults(line, counts)
        _finish(line, counts, lives, started)
        delta = line.sim_delta()
    refreshes = delta["token_grants"].get("refresh_token", 0)
    counts.details.update(
        refreshes=refreshes, invalid_grant=delta["invalid_grant"], fortnox_requests=delta["requests"]
    )
    counts.check(delta["invalid_grant"] == 0, f"{delta['invalid_grant']} spent refresh tokens presented")
    counts.check(refreshes == 2, f"{refreshes} refreshes for 2 revocations")
    return counts


def spent_refresh_token(size: Size, workdir: Path, seed: int = 22) -> Counts:
    """Another installation used our stored refresh token: events park with reason `auth`; an
    operator puts a new refresh token in the secret and redrives, and everything lands."""
    started = time.monotonic()
    counts = Counts("2. Fortnox faults", "spent refresh token, operator fix")
    lives = histories(random.Random(seed), size.fault_customers, "Spt", delete_share=0.0)
    events = in_order(lives)
    before = [e for e in events if e["type"] == "customer.created"][: len(lives) // 2]
    after = [e for e in events if e not in before]
    # Read the secret on every use, so the fix is not hidden behind the 5-minute secret cache.
    env = {"SECRETS_MAX_AGE_SECONDS": "0"}
    with own_simulator(seed) as (sim, fortnox), pipeline(workdir, fortnox=fortnox, extra_env=env) as line:
        _send_all(line, counts, before)
        counts.check(line.drain(), "the first events did not drain")
        _spend_stored_refresh_token(line, sim, fortnox.credentials)
        sim.expire_access_tokens()
        _send_all(line, counts, after)
        counts.check(line.drain(), "the events after the spent token did not drain")
        parked = line.take_dead_letters()
        reasons = Counter(letter.reason for letter in parked)
        counts.details["parked"] = dict(reasons)
        counts.check(bool(parked) and set(reasons) == {"auth"}, f"parked with reasons {dict(reasons)}")
        # The operator's fix: re-authorise, put the new refresh token in the secret, redrive.
        fixed = {
            **fortnox.credentials,
            "refresh_token": sim.issue_refresh_token(CLIENT_ID, "reliability-tenant"),
        }
        boto3.client("secretsmanager").put_secret_value(
            SecretId=os.environ["FORTNOX_CREDENTIALS_SECRET_NAME"], SecretString=json.dumps(fixed)
        )
        line.redrive(parked, tag="after-new-token")
        counts.check(line.drain(), "the redriven events did not drain")
        again = line.take_dead_letters()
        # Known defect (see the report): a warm sync container keeps the credentials it read at
        # its first event, so the new token is only used by new containers.
        counts.details["parked_again_by_warm_containers"] = len(again)
        if again:
            line.stack.recycle_sync_containers()
            line.redrive(again, tag="after-recycle")
            counts.check(line.drain(), "the events redriven after the recycle did not drain")
            left = line.take_dead_letters()
            counts.check(not left, f"{len(left)} events still parked after new containers")
        _finish(line, counts, lives, started)
        delta = line.sim_delta()
    counts.details["invalid_grant"] = delta["invalid_grant"]
    return counts


def _spend_stored_refresh_token(line: Pipeline, sim: FortnoxSimulator, credentials: dict[str, str]) -> None:
    """Use the refresh token the sync stored, as a second installation sharing it would."""
    key = FortnoxCredentials.from_secret(credentials).store_key
    state = DynamoStateStore(line.stack.outputs["StateTableName"]).load_token(key)
    assert state is not None and state.refresh_token
    response = requests.post(
        sim.auth_url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": state.refresh_token},
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=5,
    )
    response.raise_for_status()


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
        _send_all(line, counts, events)
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
        counts.check(
            line.stack.redeliveries == 0, f"{line.stack.redeliveries} retries: poison not parked at once"
        )
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
        _finish(line, counts, lives, started)
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
        _send_all(line, counts, events[:half])
        # Revoke once the workers are busy, so several of them meet the 401 together.
        deadline = time.monotonic() + 60
        while len(line.stack.processed) < half // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        sim.expire_access_tokens()
        _send_all(line, counts, events[half:])
        counts.check(line.wait_idle(timeout=300), "the workers did not finish")
        line.take_dead_letters()
        _finish(line, counts, lives, started)
        delta = line.sim_delta()
        counts.details.update(
            workers=4,
            max_concurrent_invocations=line.stack.max_concurrent_invocations,
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


# 6 ------------------------------------------------------------------------------------------


def data_that_does_not_fit(size: Size, workdir: Path, seed: int = 6) -> Counts:
    """Names and addresses in many scripts, emoji, 2,000-character fields, invalid e-mails,
    unknown countries and currencies, empty names: Fortnox never answers 400, all land."""
    started = time.monotonic()
    rng = random.Random(seed)
    counts = Counts("6. Data that doesn't fit")
    lives: list[History] = []
    for index in range(size.messy_customers):
        stripe_id = f"cus_Mes{index:05d}"
        created = BASE_CREATED + index * 1_000
        evts = [
            event(f"evt_Mes{index:05d}_0", "customer.created", created, messy_customer(rng, stripe_id, index))
        ]
        if rng.random() < 0.5:  # and then changed into something else that does not fit
            evts.append(
                event(
                    f"evt_Mes{index:05d}_1",
                    "customer.updated",
                    created + 10,
                    messy_customer(rng, stripe_id, index),
                )
            )
        lives.append(History(stripe_id, evts, deleted=False))
    with pipeline(workdir) as line:
        _send_all(line, counts, in_order(lives))
        counts.check(line.drain(), "the event queue did not drain")
        line.take_dead_letters()
        _finish(line, counts, lives, started)
        refused = line.sim_delta()["status_codes"].get("400", 0)
    settings = Settings()
    counts.details.update(
        fortnox_400=refused,
        field_adjustments=sum(
            len(map_customer(e["data"]["object"], settings).warnings) for life in lives for e in life.events
        ),
    )
    counts.check(refused == 0, f"Fortnox refused {refused} requests")
    counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} events in the DLQ")
    return counts


# 7 ------------------------------------------------------------------------------------------


class SimulatedCrash(ConnectionError):
    """The mapping write after the Fortnox write never lands (the connection to DynamoDB drops, or
    the process dies there): a failure outside the event, so the sync retries it, and the retry must
    neither lose nor duplicate the customer."""


class CrashPlan:
    """Fails the mapping write once right after a Fortnox write, per planned customer."""

    def __init__(self, points: dict[str, str]) -> None:
        self.points = points  # Stripe id -> "create" | "update" | "deactivate"
        self.crashed: list[str] = []
        self._last: dict[str, LinkStatus] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        real_save = DynamoMappingStore.save
        plan = self

        def save(store: DynamoMappingStore, link: CustomerLink) -> CustomerLink:
            point = plan.points.get(link.stripe_id)
            before = plan._last.get(link.stripe_id)
            hit = (
                (point == "create" and before is LinkStatus.PENDING and link.status is LinkStatus.ACTIVE)
                or (point == "update" and before is LinkStatus.ACTIVE and link.status is LinkStatus.ACTIVE)
                or (
                    point == "deactivate"
                    and before is LinkStatus.ACTIVE
                    and link.status is LinkStatus.DELETED
                )
            )
            if hit and link.stripe_id not in plan.crashed:
                plan.crashed.append(link.stripe_id)
                raise SimulatedCrash(f"killed after the Fortnox write ({point}) for {link.stripe_id}")
            saved = real_save(store, link)
            plan._last[link.stripe_id] = link.status
            return saved

        with mock.patch.object(DynamoMappingStore, "save", save):
            yield


def crash_points(size: Size, workdir: Path, *, match_rule: MatchRule, seed: int = 7) -> Counts:
    """The sync dies between a Fortnox write (create, update, deactivation) and the mapping
    write; the retry must find what the first attempt did instead of creating a second customer."""
    started = time.monotonic()
    with_email = match_rule is not MatchRule.NONE
    counts = Counts(
        "7. Crash points", f"match rule {match_rule.value}, {'with' if with_email else 'no'} e-mail"
    )
    rng = random.Random(seed)
    per_point = size.crash_customers
    lives: list[History] = []
    for index, life in enumerate(
        histories(rng, per_point * 4, f"Cr{match_rule.value[:2]}", delete_share=0.0)
    ):
        events = life.events[:2]  # created, one update
        for evt in events:
            if not with_email:
                evt["data"]["object"]["email"] = None
        if index // per_point == 2:  # the deactivation crash needs a deletion
            gone = {**events[-1]["data"]["object"], "deleted": True}
            events.append(
                event(f"{events[0]['id']}_del", "customer.deleted", events[-1]["created"] + 10, gone)
            )
        lives.append(History(life.stripe_id, events, deleted=index // per_point == 2))
    points = {}
    for index, life in enumerate(lives):
        point = ("create", "update", "deactivate", None)[index // per_point]
        if point:
            points[life.stripe_id] = point
    plan = CrashPlan(points)
    env = {"CUSTOMER_MATCH_RULE": match_rule.value}
    with pipeline(workdir, extra_env=env) as line, plan.installed():
        _send_all(line, counts, in_order(lives))
        counts.check(line.drain(), "the event queue did not drain")
        line.take_dead_letters()
        _finish(line, counts, lives, started, Settings(match_rule=match_rule))
    recovered = sum(
        1 for record in line.stack.processed if "recovered an interrupted create" in record.detail
    )
    creates = sum(1 for point in points.values() if point == "create")
    counts.details.update(crashes=len(plan.crashed), recovered_creates=recovered)
    counts.check(len(plan.crashed) == len(points), f"{len(plan.crashed)} of {len(points)} crashes happened")
    counts.check(recovered == creates, f"{recovered} of {creates} interrupted creates recovered")
    counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} events in the DLQ")
    return counts


# Registry -----------------------------------------------------------------------------------

Scenario = Callable[[Size, Path], Counts]

# Name -> scenario, in report order; the names are `report.py --only` choices.
SCENARIOS: dict[str, Scenario] = {
    "duplicates": duplicates_and_reordering,
    "faults": fortnox_faults,
    "faults-refresh-chain": refresh_token_chain,
    "faults-spent-refresh-token": spent_refresh_token,
    "poison": poison_events,
    "concurrency": functools.partial(concurrency, probe_moto=True),
    "hostile": hostile_input,
    "hostile-unqueueable": unqueueable_characters,
    "hostile-signed": signed_hostile_input,
    "data-fit": data_that_does_not_fit,
    "crash-email": functools.partial(crash_points, match_rule=MatchRule.EMAIL),
    "crash-none": functools.partial(crash_points, match_rule=MatchRule.NONE),
}


def describe(scenario: Scenario) -> str:
    """A scenario's docstring on one line (what the report says it does)."""
    function = scenario.func if isinstance(scenario, functools.partial) else scenario
    return " ".join((function.__doc__ or "").split())
