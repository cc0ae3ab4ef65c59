"""Scenarios 6 and 7: data that does not fit Fortnox, and a crash between the Fortnox write and the
mapping write."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from tests.builders import event

from .harness import Counts, pipeline
from .scenario_common import (
    Size,
    finish,
    in_order,
    send_all,
)
from .stripe_data import BASE_CREATED, History, histories, messy_customer

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
        send_all(line, counts, in_order(lives))
        counts.check(line.drain(), "the event queue did not drain")
        line.take_dead_letters()
        finish(line, counts, lives, started)
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
        send_all(line, counts, in_order(lives))
        counts.check(line.drain(), "the event queue did not drain")
        line.take_dead_letters()
        finish(line, counts, lives, started, Settings(match_rule=match_rule))
    recovered = sum(
        1 for record in line.stack.processed if "recovered an interrupted create" in record.detail
    )
    creates = sum(1 for point in points.values() if point == "create")
    counts.details.update(crashes=len(plan.crashed), recovered_creates=recovered)
    counts.check(len(plan.crashed) == len(points), f"{len(plan.crashed)} of {len(points)} crashes happened")
    counts.check(recovered == creates, f"{recovered} of {creates} interrupted creates recovered")
    counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} events in the DLQ")
    return counts
