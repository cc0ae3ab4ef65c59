"""The reliability scenarios: each drives the local stack and returns its `Counts`.

Shared by the pytest tests (quick size) and `python -m tests.reliability.report` (quick or
soak). A scenario never asserts: it records every violated invariant in `Counts.problems`, so
the report can show what a run found and the tests can fail with the whole list.

Modules: scenario_common (sizes and shared steps), scenarios_delivery (1, 3, 4), scenarios_fortnox
(2), scenarios_data (6, 7); hostile and hostile_signed (5); scenarios_tenants (8); scenarios_bulk (9).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from stripe_fortnox_sync.core.settings import MatchRule

from .harness import Counts
from .hostile import hostile_input, unqueueable_characters
from .hostile_signed import signed_hostile_input
from .scenario_common import QUICK, SOAK, Size
from .scenarios_bulk import COMPARISON, bulk_versus_live
from .scenarios_data import crash_points, data_that_does_not_fit
from .scenarios_delivery import concurrency, duplicates_and_reordering, poison_events
from .scenarios_fortnox import fortnox_faults, refresh_token_chain, spent_refresh_token
from .scenarios_tenants import tenant_isolation

__all__ = [
    "QUICK",
    "SCENARIOS",
    "SOAK",
    "Scenario",
    "Size",
    "bulk_versus_live",
    "concurrency",
    "crash_points",
    "data_that_does_not_fit",
    "describe",
    "duplicates_and_reordering",
    "fortnox_faults",
    "poison_events",
    "refresh_token_chain",
    "spent_refresh_token",
    "tenant_isolation",
]

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
    "tenants": tenant_isolation,
    "bulk-vs-live": bulk_versus_live,
    # The comparison: the same backfill on the event queue, as a stack without the bulk queue.
    "bulk-on-live-queue": functools.partial(bulk_versus_live, bulk_queue=False, bulk=COMPARISON),
}


def describe(scenario: Scenario) -> str:
    """A scenario's docstring on one line (what the report says it does)."""
    function = scenario.func if isinstance(scenario, functools.partial) else scenario
    return " ".join((function.__doc__ or "").split())
