"""One tenant's Fortnox trouble stays its own (issue 17): its consent revoked, then its company
answering 500s, while the other tenants' events go on through the same stack and workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_sync.core.tenants import TenantStatus
from tests.builders import event, ingrid_integration
from tests.integration.stack import drain, simulator, unlimited_stack
from tests.integration.test_tenants_pipeline import COMPANIES, SECRETS, add_tenants, names, post, registry


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with unlimited_stack(tmp_path) as running:
        yield running


def _send_round(stack: LocalStack, paths: dict[str, str], n: int) -> None:
    for tenant, path in paths.items():
        obj = ingrid_integration(f"cus_{tenant}{n}", name=f"{tenant} {n}")
        assert post(stack, path, event(f"evt_{tenant}{n}", obj=obj), SECRETS[tenant])[0] == 200


def _parked_by_tenant(stack: LocalStack) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for message in stack.dead_letters():
        attributes = {k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()}
        found.setdefault(attributes.get("tenant", "default"), set()).add(attributes.get("failure_reason", ""))
    return found


def test_a_revoked_then_failing_company_holds_only_its_own_events(stack: LocalStack) -> None:
    tenants = add_tenants(stack)
    paths = {t: f"/webhook/t/{tenants[t].webhook_slug}" for t in SECRETS}
    sim = simulator(stack)
    sim.revoke_tenant(COMPANIES["acme"])
    for n in range(3):
        _send_round(stack, paths, n)
    drain(stack, rounds=60)
    # acme's events parked `auth` without touching its company; beta's all applied.
    assert registry(stack).get("acme").status is TenantStatus.AUTH_BROKEN  # type: ignore[union-attr]
    assert _parked_by_tenant(stack) == {"acme": {"auth"}}
    assert names(stack, "company-beta") == {"beta 0", "beta 1", "beta 2"}
    assert names(stack, "company-acme") == set()
    # Consent given again, then acme's company fails: its events retried, beta's go on.
    sim.revoke_tenant(COMPANIES["acme"], revoked=False)
    registry(stack).set_status("acme", TenantStatus.ACTIVE)
    sim.fail_tenant(COMPANIES["acme"])
    for n in range(3, 6):
        _send_round(stack, paths, n)
    drain(stack, rounds=60)
    assert names(stack, "company-beta") == {f"beta {n}" for n in range(6)}
    assert names(stack, "company-acme") == set()
    assert "beta" not in _parked_by_tenant(stack)
    assert sim.stats()["injected_5xx"] > 0
