"""sync/fifo_batch.py against Powertools' `process_partial_response` with
`SqsFifoPartialProcessor(skip_group_on_error=True)`, which it replaces in the sync function: the
same batches through both, with the same records failing, must handle the same records in the same
order, report the same failures and raise in the same cases. Then one example per rule."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError, UnexpectedBatchTypeError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from stripe_fortnox_sync.sync import fifo_batch
from stripe_fortnox_sync.sync.fifo_batch import BatchFailedError, NotABatchError, process_fifo_batch

NO_GROUP = object()  # a record without MessageGroupId in its attributes


def record(message_id: str, group: object = "g1") -> dict[str, Any]:
    attributes = {"ApproximateReceiveCount": "1"}
    if group is not NO_GROUP:
        attributes["MessageGroupId"] = str(group)
    return {"messageId": message_id, "body": "{}", "attributes": attributes, "eventSource": "aws:sqs"}


@dataclass
class Outcome:
    handled: list[str]  # message ids the record handler was called with, in order
    failures: list[str] | None  # batchItemFailures' ids; None: the call raised
    raised: str = ""  # "all failed", "not a batch"


def _run(call: Callable[[Callable[[str], None]], dict[str, Any]]) -> Outcome:
    handled: list[str] = []
    try:
        response = call(handled.append)
    # The subclass first: Powertools' UnexpectedBatchTypeError is a BatchProcessingError.
    except (UnexpectedBatchTypeError, NotABatchError):
        return Outcome(handled, None, "not a batch")
    except (BatchProcessingError, BatchFailedError):
        return Outcome(handled, None, "all failed")
    return Outcome(handled, [item["itemIdentifier"] for item in response["batchItemFailures"]])


def ours(records: list[dict[str, Any]], failing: set[str]) -> Outcome:
    def call(note: Callable[[str], None]) -> dict[str, Any]:
        def handler(rec: dict[str, Any]) -> None:
            note(rec["messageId"])
            if rec["messageId"] in failing:
                raise RuntimeError(f"failed {rec['messageId']}")

        return process_fifo_batch({"Records": records}, handler)

    return _run(call)


def powertools(records: list[dict[str, Any]], failing: set[str], skip_group_on_error: bool = True) -> Outcome:
    def call(note: Callable[[str], None]) -> dict[str, Any]:
        def handler(record: SQSRecord) -> None:
            note(record.message_id)
            if record.message_id in failing:
                raise RuntimeError(f"failed {record.message_id}")

        processor = SqsFifoPartialProcessor(skip_group_on_error=skip_group_on_error)
        return dict(process_partial_response({"Records": records}, handler, processor))

    return _run(call)


def random_batch(rng: random.Random) -> tuple[list[dict[str, Any]], set[str]]:
    size = rng.choice([0, *range(1, 11)])
    groups: list[object] = [f"g{i}" for i in range(rng.randint(1, 4))]
    if rng.random() < 0.2:
        groups += [NO_GROUP, ""]  # no group, and an empty one: neither names a group
    records = [record(f"m{i}", rng.choice(groups)) for i in range(size)]
    ids = [r["messageId"] for r in records]
    mode = rng.random()
    if mode < 0.1:
        failing = set(ids)  # every record fails
    elif mode < 0.2:
        failing = set()
    else:
        failing = {i for i in ids if rng.random() < 0.3}
    return records, failing


@pytest.mark.parametrize("seed", range(20))
def test_random_batches_come_out_as_powertools_has_them(seed: int) -> None:
    rng = random.Random(seed)
    seen: set[str] = set()
    for _ in range(50):
        records, failing = random_batch(rng)
        expected = powertools(records, failing)
        assert ours(records, failing) == expected, (records, failing)
        seen.add(expected.raised)
    assert "all failed" in seen and "" in seen


def test_a_failure_skips_the_rest_of_its_group_only() -> None:
    records = [record("a1", "a"), record("b1", "b"), record("a2", "a"), record("b2", "b"), record("a3", "a")]
    outcome = ours(records, failing={"a2"})
    assert outcome == Outcome(handled=["a1", "b1", "a2", "b2"], failures=["a2", "a3"])
    assert outcome == powertools(records, {"a2"})


def test_not_the_whole_batch_as_powertools_does_without_skip_group_on_error() -> None:
    # Without skip_group_on_error, Powertools fails every record after the first failure; the sync
    # keeps other customers' events going, as with skip_group_on_error=True.
    records = [record("b1", "b"), record("a1", "a"), record("b2", "b")]
    assert powertools(records, {"a1"}, skip_group_on_error=False).failures == ["a1", "b2"]
    assert ours(records, {"a1"}) == Outcome(handled=["b1", "a1", "b2"], failures=["a1"])
    assert ours(records, {"a1"}) == powertools(records, {"a1"})


def test_a_record_without_a_group_fails_alone() -> None:
    records = [record("x1", NO_GROUP), record("x2", NO_GROUP), record("y1", "")]
    outcome = ours(records, failing={"x1"})
    assert outcome == Outcome(handled=["x1", "x2", "y1"], failures=["x1"])
    assert outcome == powertools(records, {"x1"})


@pytest.mark.parametrize(
    ("records", "failing"),
    [
        ([record("a1")], {"a1"}),
        # The later records are skipped, not failed by their handler: still every record failed.
        ([record("a1", "a"), record("a2", "a"), record("b1", "b")], {"a1", "b1"}),
    ],
)
def test_every_record_failed_raises_so_lambda_returns_the_batch(
    records: list[dict[str, Any]], failing: set[str]
) -> None:
    with pytest.raises(BatchFailedError, match=f"All {len(records)} records failed"):
        process_fifo_batch({"Records": records}, _failing_on(failing))
    assert powertools(records, failing).raised == "all failed"


def test_a_clean_batch_reports_nothing() -> None:
    records = [record("a1"), record("a2"), record("b1", "b")]
    assert process_fifo_batch({"Records": records}, _failing_on(set())) == {"batchItemFailures": []}
    assert powertools(records, set()).failures == []


@pytest.mark.parametrize(
    "event", [{"Records": []}, {}, {"Records": {"m1": record("m1")}}, {"book_day": True}]
)
def test_an_event_without_records_is_not_a_batch(event: dict[str, Any]) -> None:
    # Lambda never sends an empty batch: such an event is a mistake, and fails the invocation.
    with pytest.raises(NotABatchError):
        process_fifo_batch(event, _failing_on(set()))
    with pytest.raises(UnexpectedBatchTypeError):
        process_partial_response(event, _failing_on(set()), SqsFifoPartialProcessor(skip_group_on_error=True))


def test_only_exceptions_fail_a_record() -> None:
    def interrupted(rec: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process_fifo_batch({"Records": [record("a1"), record("b1", "b")]}, interrupted)


class RecordingLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def warning(self, msg: str, extra: dict[str, Any]) -> None:
        self.lines.append(("warning", msg, extra))

    def debug(self, msg: str, extra: dict[str, Any]) -> None:
        self.lines.append(("debug", msg, extra))


def test_a_failure_is_one_log_line_with_its_message_id_and_error(monkeypatch: pytest.MonkeyPatch) -> None:
    log = RecordingLogger()
    monkeypatch.setattr(fifo_batch, "logger", log)
    process_fifo_batch(
        {"Records": [record("a1", "a"), record("a2", "a"), record("b1", "b")]}, _failing_on({"a1"})
    )
    warnings = [(msg, extra) for level, msg, extra in log.lines if level == "warning"]
    assert len(warnings) == 1
    assert warnings[0][1] == {"message_id": "a1", "error": "RuntimeError: failed a1"}
    assert [extra["message_id"] for level, _, extra in log.lines if level == "debug"] == ["a2"]


def _failing_on(failing: set[str]) -> Callable[[dict[str, Any]], None]:
    def handler(rec: dict[str, Any]) -> None:
        if rec["messageId"] in failing:
            raise RuntimeError(f"failed {rec['messageId']}")

    return handler
