"""Classification of failures: retry (raise) or park with a reason; duplicates; fail-fast."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stripe_fortnox_sync.customer_sync import CustomerSync, PermanentEventError
from stripe_fortnox_sync.fortnox_client import FortnoxAuthError, FortnoxError
from stripe_fortnox_sync.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.settings import ConfigError, Settings
from stripe_fortnox_sync.sync_service import SyncService


class Parker:
    def __init__(self) -> None:
        self.parked: list[dict[str, Any]] = []

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        self.parked.append({"body": body, "group": group_id, "attributes": attributes or {}})


class ScriptedSync:
    """Stands in for CustomerSync: raises or answers as told, counting calls."""

    def __init__(self, *steps: Exception | Outcome) -> None:
        self.steps = list(steps)
        self.calls = 0

    def apply(self, event: StripeEvent) -> SyncResult:
        self.calls += 1
        step = self.steps.pop(0) if self.steps else Outcome.CREATED
        if isinstance(step, Exception):
            raise step
        return SyncResult(event.id, event.type, "cus_1", step, "42")


def body(eid: str = "evt_1", kind: str = "customer.created", livemode: bool = False) -> str:
    return json.dumps(
        {
            "id": eid,
            "object": "event",
            "type": kind,
            "created": 1,
            "livemode": livemode,
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    )


def service(sync: ScriptedSync, parker: Parker | None = None) -> SyncService:
    fake: Any = sync
    return SyncService(Settings(), lambda: fake, parker if parker is not None else Parker(), None)


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
    parker = Parker()
    result = service(ScriptedSync(error), parker).handle(body())
    assert result.outcome is Outcome.FAILED
    (parked,) = parker.parked
    assert parked["attributes"]["failure_reason"] == reason and parked["group"] == "cus_1"
    assert parked["body"] == body()  # the original event, ready to redrive


@pytest.mark.parametrize(
    "error",
    [FortnoxError("down", status=503), FortnoxError("slow", ambiguous=True), FortnoxError("x", status=429)],
)
def test_transient_failures_raise_so_sqs_retries(error: FortnoxError) -> None:
    parker = Parker()
    with pytest.raises(FortnoxError):
        service(ScriptedSync(error), parker).handle(body())
    assert parker.parked == []


def test_after_an_outage_the_rest_of_the_batch_fails_fast_and_next_batch_tries_again() -> None:
    sync = ScriptedSync(FortnoxError("down", status=503))
    svc = service(sync)
    with pytest.raises(FortnoxError):
        svc.handle(body("evt_1"))
    with pytest.raises(FortnoxError):
        svc.handle(body("evt_2"))
    assert sync.calls == 1
    svc.start_batch()
    assert svc.handle(body("evt_2")).outcome is Outcome.CREATED


def test_unparseable_message_is_parked() -> None:
    parker = Parker()
    assert service(ScriptedSync(), parker).handle("not json").outcome is Outcome.FAILED
    assert parker.parked[0]["attributes"]["failure_reason"] == "bad_payload"


def test_disabled_type_or_other_mode_is_ignored_without_calling_fortnox() -> None:
    sync = ScriptedSync()
    svc = service(sync)
    assert svc.handle(body(kind="charge.succeeded")).outcome is Outcome.IGNORED
    assert svc.handle(body(livemode=True)).outcome is Outcome.IGNORED
    assert sync.calls == 0


def test_customer_sync_is_built_once_and_lazily() -> None:
    built: list[int] = []

    def factory() -> CustomerSync:
        built.append(1)
        fake: Any = ScriptedSync()
        return fake  # type: ignore[no-any-return]

    svc = SyncService(Settings(), factory, Parker(), None)
    assert built == []
    svc.handle(body("evt_1"))
    svc.handle(body("evt_2"))
    assert built == [1]


def test_metrics_have_a_namespace_even_without_the_variable() -> None:
    # Without one, Powertools fails the flush and with it every batch.
    from stripe_fortnox_sync.observability import metrics

    assert metrics.namespace


def test_refused_credentials_rebuild_the_fortnox_side_and_forget_cached_secrets() -> None:
    built: list[int] = []
    forgotten: list[int] = []
    steps = [FortnoxAuthError("invalid_grant", status=400)]

    def factory() -> Any:
        built.append(1)
        return ScriptedSync(*steps[len(built) - 1 : len(built)])

    svc = SyncService(Settings(), factory, Parker(), None, forget_secrets=lambda: forgotten.append(1))
    assert svc.handle(body("evt_1")).outcome is Outcome.FAILED
    assert forgotten == [1]
    assert svc.handle(body("evt_2")).outcome is Outcome.CREATED  # the operator's fix is read
    assert built == [1, 1]
