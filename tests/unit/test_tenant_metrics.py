"""The per-tenant metrics: counted for tenants other than `default` only, one EMF document per
tenant and invocation, with dimensions (service, tenant)."""

from __future__ import annotations

import json
import re

import pytest

from stripe_fortnox_sync.core import observability
from stripe_fortnox_sync.core.observability import flush_tenant_metrics, set_tenant, tenant_count
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, TenantStatus
from tests.builders import event
from tests.fakes import FakeQueue, InMemoryTenantRegistry
from tests.template.translated import REPO
from tests.unit.test_tenants import ACME, Applied, router


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "stripe-fortnox-sync")
    flush_tenant_metrics()  # nothing left from another test


def _documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    flush_tenant_metrics()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_tenant_default_gets_no_extra_metric(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    set_tenant(DEFAULT_TENANT)
    for name in observability.TENANT_METRICS:
        tenant_count(name)
    assert _documents(capsys) == []


def test_one_document_per_tenant_with_its_counts(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    set_tenant("acme")
    tenant_count("FortnoxCalls")
    tenant_count("FortnoxCalls")
    tenant_count("Fortnox429")
    set_tenant("beta")
    tenant_count("EventsParked")
    documents = {str(d["tenant"]): d for d in _documents(capsys)}
    assert set(documents) == {"acme", "beta"}
    acme = documents["acme"]
    assert acme["FortnoxCalls"] == 2 and acme["Fortnox429"] == 1 and acme["service"] == "stripe-fortnox-sync"
    (directive,) = acme["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
    assert directive["Dimensions"] == [["service", "tenant"]]
    assert directive["Namespace"] == observability.metrics.namespace
    assert {m["Name"] for m in directive["Metrics"]} == {"FortnoxCalls", "Fortnox429"}
    assert _documents(capsys) == []  # flushed once


def test_nothing_printed_while_metrics_are_disabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    set_tenant("acme")
    tenant_count("FortnoxCalls")
    assert _documents(capsys) == []


def test_the_router_counts_a_parked_event_for_its_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    registry = InMemoryTenantRegistry(ACME)
    registry.set_status("acme", TenantStatus.SUSPENDED)
    sync = router(registry, Applied(), FakeQueue())
    capsys.readouterr()
    sync.handle(json.dumps(event("evt_a")), tenant="acme")
    sync.handle("not json")  # tenant default: parked too, but no per-tenant metric
    (document,) = _documents(capsys)
    assert document["tenant"] == "acme" and document["EventsParked"] == 1


def test_each_counted_name_is_one_of_the_operator_metrics() -> None:
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("layers/shared/stripe_fortnox_sync", "functions")
        for path in (REPO / folder).rglob("*.py")
    )
    counted = set(re.findall(r'tenant_count\("(\w+)"\)', code))
    assert counted == set(observability.TENANT_METRICS)
