"""Classification of failures: retry (raise) or park with a reason; duplicates; fail-fast."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from stripe_fortnox_sync.core.errors import (
    ConfigError,
    FortnoxAuthError,
    FortnoxError,
    PermanentEventError,
    StripeUnavailable,
    WaitingForInvoice,
)
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.observability import metrics
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync.service import SyncService
from tests.builders import event
from tests.fakes import FakeQueue


class ScriptedSync:
    """Stands in for the route dispatcher: raises or answers as told, counting calls."""

    def __init__(self, *steps: Exception | Outcome) -> None:
        self.steps = list(steps)
        self.calls = 0

    def __call__(self, event: StripeEvent) -> SyncResult:
        self.calls += 1
        step = self.steps.pop(0) if self.steps else Outcome.CREATED
        if isinstance(step, Exception):
            raise step
        return SyncResult(event.id, event.type, "cus_1", step, "42")


def body(eid: str = "evt_1", kind: str = "customer.created", livemode: bool = False) -> str:
    return json.dumps(event(eid, kind, 1, livemode=livemode))


def service(sync: ScriptedSync, parker: FakeQueue | None = None) -> SyncService:
    fake: Any = sync
    return SyncService(Settings(), lambda: fake, parker if parker is not None else FakeQueue(), None)


def test_success_is_reported() -> None:
    result = service(ScriptedSync(Outcome.UPDATED)).handle(body())
    assert (result.outcome, result.fortnox_number) == (Outcome.UPDATED, "42")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (FortnoxError("Ogiltig valuta", status=400, code=2000359), "validation"),
        (FortnoxError("no licence", status=403, code=2001103), "forbidden"),
        (FortnoxAuthError("invalid_grant", status=400), "auth"),
        (PermanentEventError("bad_payload", "no id"), "bad_payload"),
        (ConfigError("secret missing"), "config"),
    ],
)
def test_permanent_failures_are_parked_with_reason_not_retried(error: Exception, reason: str) -> None:
    parker = FakeQueue()
    result = service(ScriptedSync(error), parker).handle(body())
    assert result.outcome is Outcome.FAILED
    (parked,) = parker.sent
    assert parked["attributes"]["failure_reason"] == reason and parked["group"] == "cus_1"
    assert parked["body"] == body()  # the original event, ready to redrive


@pytest.mark.parametrize(
    "error",
    [FortnoxError("down", status=503), FortnoxError("slow", ambiguous=True), FortnoxError("x", status=429)],
)
def test_transient_failures_raise_so_sqs_retries(error: FortnoxError) -> None:
    parker = FakeQueue()
    with pytest.raises(FortnoxError):
        service(ScriptedSync(error), parker).handle(body())
    assert parker.sent == []


def test_after_an_outage_the_rest_of_the_batch_fails_fast_and_next_batch_tries_again() -> None:
    down = FortnoxError("down", status=503)
    sync = ScriptedSync(down, down)
    svc = service(sync)
    for eid in ("evt_1", "evt_2", "evt_3"):
        with pytest.raises(FortnoxError):
            svc.handle(body(eid))
    assert sync.calls == 2  # two failures in a row make an outage: the third is not tried
    svc.start_batch()
    assert svc.handle(body("evt_3")).outcome is Outcome.CREATED


def test_one_transient_failure_alone_does_not_hold_the_batch() -> None:
    sync = ScriptedSync(FortnoxError("blip", status=503), Outcome.CREATED, FortnoxError("blip", status=503))
    svc = service(sync)
    with pytest.raises(FortnoxError):
        svc.handle(body("evt_1"))
    assert svc.handle(body("evt_2")).outcome is Outcome.CREATED
    with pytest.raises(FortnoxError):
        svc.handle(body("evt_3"))
    assert svc.handle(body("evt_4")).outcome is Outcome.CREATED  # a success reset the count
    assert sync.calls == 4


def test_parked_messages_never_share_a_dedup_id_and_keep_attributes_small() -> None:
    parker = FakeQueue()
    svc = service(ScriptedSync(PermanentEventError("invoice_mapping", "x" * 5000)), parker)
    svc.handle("not json")
    svc.handle("also not json")
    svc.handle(body("evt_big"))
    first, second, third = parker.sent
    assert first["dedup"] != second["dedup"] and all(len(p["dedup"]) <= 128 for p in parker.sent)
    assert len(third["attributes"]["failure_message"]) <= 1000


@pytest.mark.parametrize("reason", ["needs_stripe_key", "stripe_auth"])
def test_a_missing_or_refused_stripe_key_is_read_again_after_the_fix(reason: str) -> None:
    built: list[int] = []

    def factory() -> Any:
        built.append(1)
        return ScriptedSync(PermanentEventError(reason, "store a key")) if len(built) == 1 else ScriptedSync()

    svc = SyncService(Settings(), factory, FakeQueue(), None, forget_secrets=lambda: None)
    assert svc.handle(body("evt_1")).outcome is Outcome.FAILED
    assert svc.handle(body("evt_1")).outcome is Outcome.CREATED  # the redrive, in the same container
    assert built == [1, 1]


def test_unparseable_message_is_parked() -> None:
    parker = FakeQueue()
    assert service(ScriptedSync(), parker).handle("not json").outcome is Outcome.FAILED
    assert parker.sent[0]["attributes"]["failure_reason"] == "bad_payload"


def test_disabled_type_or_other_mode_is_ignored_without_calling_fortnox() -> None:
    sync = ScriptedSync()
    svc = service(sync)
    assert svc.handle(body(kind="charge.succeeded")).outcome is Outcome.IGNORED
    assert svc.handle(body(livemode=True)).outcome is Outcome.IGNORED
    assert sync.calls == 0


def test_customer_sync_is_built_once_and_lazily() -> None:
    built: list[int] = []

    def factory() -> Any:
        built.append(1)
        fake: Any = ScriptedSync()
        return fake

    svc = SyncService(Settings(), factory, FakeQueue(), None)
    assert built == []
    svc.handle(body("evt_1"))
    svc.handle(body("evt_2"))
    assert built == [1]


def test_metrics_have_a_namespace_even_without_the_variable() -> None:
    # Without one, Powertools fails the flush and with it every batch.
    from stripe_fortnox_sync.core.observability import metrics

    assert metrics.namespace


def test_refused_credentials_rebuild_the_fortnox_side_and_forget_cached_secrets() -> None:
    built: list[int] = []
    forgotten: list[int] = []
    steps = [FortnoxAuthError("invalid_grant", status=400)]

    def factory() -> Any:
        built.append(1)
        return ScriptedSync(*steps[len(built) - 1 : len(built)])

    svc = SyncService(Settings(), factory, FakeQueue(), None, forget_secrets=lambda: forgotten.append(1))
    assert svc.handle(body("evt_1")).outcome is Outcome.FAILED
    assert forgotten == [1]
    assert svc.handle(body("evt_2")).outcome is Outcome.CREATED  # the operator's fix is read
    assert built == [1, 1]


class FakeLambdaContext(LambdaContext):
    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class MemoryPersistence(BasePersistenceLayer):
    """The idempotency table in memory, with DynamoDB's conditional put."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        stored = self.records.get(data_record.idempotency_key)
        if stored is not None and not stored.is_expired:
            raise IdempotencyItemAlreadyExistsError(old_data_record=stored)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


def refund_body(eid: str = "evt_r1") -> str:
    refund = {"id": "re_1", "object": "refund", "payment_intent": "pi_1"}
    return json.dumps(event(eid, "refund.created", 1, refund))


def test_a_refund_waiting_for_its_invoice_is_retried_not_parked_nor_remembered() -> None:
    parker = FakeQueue()
    sync = ScriptedSync(WaitingForInvoice("payment pi_1 has no Fortnox invoice yet"), Outcome.CREATED)
    persistence = MemoryPersistence()
    fake: Any = sync
    svc = SyncService(Settings(event_types=("refund.created",)), lambda: fake, parker, persistence)
    svc.idempotency_config.register_lambda_context(FakeLambdaContext())
    metrics.clear_metrics()
    with pytest.raises(WaitingForInvoice):
        svc.handle(refund_body())
    assert parker.sent == [] and persistence.records == {}
    assert "RefundWaiting" in metrics.metric_set
    assert not any(name.startswith("EventsParked") for name in metrics.metric_set)
    # SQS delivers it again once the sale is booked: it runs. A refund needs no idempotency record:
    # a repeat finds its credit in Fortnox (the refund id is the credit's external reference).
    assert svc.handle(refund_body()).outcome is Outcome.CREATED
    svc.handle(refund_body())
    assert sync.calls == 3 and persistence.records == {}


def test_an_event_whose_repeat_would_act_again_is_remembered_in_the_idempotency_table() -> None:
    sync = ScriptedSync(Outcome.UPDATED)
    persistence = MemoryPersistence()
    fake: Any = sync
    svc = SyncService(Settings(), lambda: fake, FakeQueue(), persistence)
    svc.idempotency_config.register_lambda_context(FakeLambdaContext())
    failure = body("evt_pf1", kind="invoice.payment_failed")  # a repeat would e-mail again
    assert svc.handle(failure).outcome is Outcome.UPDATED
    again = svc.handle(failure)
    assert again.outcome is Outcome.IGNORED and "duplicate delivery" in again.detail
    assert sync.calls == 1 and len(persistence.records) == 1


def test_a_refund_waiting_for_its_invoice_does_not_hold_the_rest_of_the_batch() -> None:
    sync = ScriptedSync(WaitingForInvoice("not yet"), Outcome.UPDATED)
    svc = service(sync)
    with pytest.raises(WaitingForInvoice):
        svc.handle(body("evt_1"))
    # Fortnox answered fine: the next event in the batch goes to it at once.
    assert svc.handle(body("evt_2")).outcome is Outcome.UPDATED
    assert sync.calls == 2


def test_a_stripe_outage_is_retried_not_parked() -> None:
    parker = FakeQueue()
    with pytest.raises(StripeUnavailable):
        service(ScriptedSync(StripeUnavailable("Stripe API unavailable: APIConnectionError")), parker).handle(
            body()
        )
    assert parker.sent == []


@pytest.mark.parametrize("reason", ["needs_stripe_key", "no_customer", "invoice_mapping", "stripe_auth"])
def test_invoice_problems_a_human_must_fix_are_parked_with_their_reason(reason: str) -> None:
    parker = FakeQueue()
    result = service(ScriptedSync(PermanentEventError(reason, "why")), parker).handle(body())
    assert result.outcome is Outcome.FAILED
    assert parker.sent[0]["attributes"]["failure_reason"] == reason


def test_a_parked_refund_keeps_its_payment_group() -> None:
    parker = FakeQueue()
    fake: Any = ScriptedSync(PermanentEventError("invoice_mapping", "exceeds"))
    SyncService(Settings(event_types=("refund.created",)), lambda: fake, parker, None).handle(refund_body())
    assert parker.sent[0]["group"] == "pi_1"
