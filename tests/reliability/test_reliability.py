"""Issue #8 in CI: the quick size of every reliability scenario, with its counts asserted.

`python -m tests.reliability.report` runs the same scenarios and writes docs/RELIABILITY.md;
`--soak` runs them bigger. Each scenario lists every invariant it saw broken in
`Counts.problems`, so a failure here shows all of them at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stripe_fortnox_sync.core.settings import MatchRule

from .harness import Counts
from .hostile import hostile_input, unqueueable_characters
from .hostile_signed import signed_hostile_input
from .scenarios import (
    QUICK,
    bulk_versus_live,
    concurrency,
    crash_points,
    data_that_does_not_fit,
    duplicates_and_reordering,
    fortnox_faults,
    poison_events,
    refresh_token_chain,
    spent_refresh_token,
    tenant_isolation,
)
from .scenarios_bulk import CI

pytestmark = pytest.mark.slow


def no_problems(counts: Counts) -> None:
    assert not counts.problems, f"{counts.label}:\n" + "\n".join(counts.problems)


def nothing_lost_or_doubled(counts: Counts) -> None:
    no_problems(counts)
    assert (counts.lost_events, counts.duplicates_found) == (0, 0)


def test_duplicates_and_reordering(tmp_path: Path) -> None:
    counts = duplicates_and_reordering(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.stripe_customers >= 100 and counts.dlq_entries == 0
    # Every kind of repeat happened and was absorbed.
    assert counts.deliveries > counts.events_sent + counts.details["injected_copies"]
    assert counts.details["duplicate_deliveries_caught"] >= counts.details["injected_copies"] > 0
    assert counts.details["sqs_deduplicated"] > 0
    assert counts.details["outcomes"]["stale"] > 0
    assert counts.details["deleted_customers"] > 0 and counts.details["deletion_delivered_first"] > 0


def test_fortnox_faults_with_a_service_account(tmp_path: Path) -> None:
    counts = fortnox_faults(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.retries > 0 and counts.details["injected_5xx"] + counts.details["injected_timeouts"] > 0
    assert counts.details["forced_429"] > 0


def test_fortnox_faults_keep_the_refresh_token_chain(tmp_path: Path) -> None:
    counts = refresh_token_chain(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.details["invalid_grant"] == 0 and counts.details["refreshes"] == 2


def test_spent_refresh_token_parks_with_reason_auth_and_a_new_token_recovers(tmp_path: Path) -> None:
    counts = spent_refresh_token(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert set(counts.details["parked"]) == {"auth"}


def test_poison_events_are_parked_at_once_and_redriven(tmp_path: Path) -> None:
    counts = poison_events(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.retries == 0 and counts.details["parked"]["validation"] > 0
    assert counts.details["left_in_dlq_unfixable"] == 1


def test_concurrent_workers_share_one_token_and_the_rate_limit(tmp_path: Path) -> None:
    counts = concurrency(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.http_429 == 0 and counts.details["refreshes"] == 1
    assert counts.details["max_concurrent_invocations"] > 1
    assert counts.details["fifo_conflicts"] == 0 and counts.details["outcomes"].get("stale", 0) == 0


def test_hostile_input_is_refused_and_never_queued(tmp_path: Path) -> None:
    counts = hostile_input(QUICK, tmp_path)
    no_problems(counts)
    assert counts.events_sent >= 1_000 and counts.details["queued"] == 0
    assert not any(status.startswith("5") for status in counts.details["statuses"])


def test_signed_events_sqs_cannot_carry_are_not_answered_5xx(tmp_path: Path) -> None:
    counts = unqueueable_characters(QUICK, tmp_path)
    no_problems(counts)


def test_signed_hostile_events_get_no_5xx_no_hint_and_none_stuck_without_a_reason(tmp_path: Path) -> None:
    counts = signed_hostile_input(QUICK, tmp_path)
    no_problems(counts)
    details = counts.details
    assert details["answered_5xx"] == 0 and details["forged_stale_future_processed"] == 0
    assert details["hints_honoured"] == 0 and details["stuck_without_reason"] == 0
    assert details["accepted"] > 0 and sum(details["parked"].values()) > 0
    assert set(details["operator_commands"].values()) <= {0, 1}


def test_data_that_does_not_fit_never_earns_a_fortnox_400(tmp_path: Path) -> None:
    counts = data_that_does_not_fit(QUICK, tmp_path)
    nothing_lost_or_doubled(counts)
    assert counts.details["fortnox_400"] == 0 and counts.details["field_adjustments"] > 0


@pytest.mark.parametrize("rule", [MatchRule.EMAIL, MatchRule.NONE], ids=lambda rule: rule.value)
def test_crash_between_fortnox_write_and_mapping_write(tmp_path: Path, rule: MatchRule) -> None:
    counts = crash_points(QUICK, tmp_path, match_rule=rule)
    nothing_lost_or_doubled(counts)
    assert counts.details["crashes"] > 0 and counts.retries > 0


def test_randomized_events_never_reach_another_tenants_company(tmp_path: Path) -> None:
    counts = tenant_isolation(QUICK, tmp_path)
    no_problems(counts)
    assert counts.details["written_to_another_company"] == 0 and counts.dlq_entries == 0
    assert counts.details["wrong_url_400"] == counts.details["wrong_url_posts"] > 0


def test_a_tenants_backfill_does_not_hold_another_tenants_live_webhooks(tmp_path: Path) -> None:
    counts = bulk_versus_live(QUICK, tmp_path, bulk=CI)
    no_problems(counts)
    assert counts.details["b_p99_seconds"] < 30 and counts.details["b_still_queued_when_the_run_ended"] == 0
    # A's backfill went on meanwhile, and had work left: B ran behind a full bulk queue.
    assert counts.details["a_customers_written_meanwhile"] > 0 and counts.details["bulk_left"] > 0
