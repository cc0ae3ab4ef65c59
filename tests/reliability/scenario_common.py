"""What the reliability scenarios share: their sizes, the Fortnox fault rates, and the steps every
scenario takes (send Stripe's events, check each landed exactly once and as Stripe holds it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_sync.core.settings import Settings

from .harness import Counts, ExternalFortnox, Pipeline
from .stripe_data import History


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


def send_all(line: Pipeline, counts: Counts, events: Sequence[dict[str, Any]]) -> None:
    for evt in events:
        status, answer = line.send(evt)
        counts.check(status == 200 and answer == {"received": evt["id"]}, f"{evt['id']}: {status} {answer}")


def finish(
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
