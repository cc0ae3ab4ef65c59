"""`stripe-fortnox demo --tenants`: two Fortnox companies side by side from one stack, each fed the
same sample events through its own URL (events/expected-tenants.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_demo

pytestmark = pytest.mark.e2e


def test_the_tenants_demo_gives_each_company_the_same_books_and_none_of_the_others(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--tenants")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Demo OK" in out
    assert "Norr Konsult AB (tenant norrbyra, Fortnox company-norr): customers" in out
    assert "Syd Handel AB (tenant sydhandel, Fortnox company-syd): customers" in out
    assert "to sydhandel signed by norrbyra -> 400" in out
    assert "The stack's own company: 0 customers; dead-letter queue: 0" in out
    # Every processed event's line names its tenant.
    processed = [line for line in out.splitlines() if " fortnox=" in line]
    assert processed and all("[norrbyra]" in line or "[sydhandel]" in line for line in processed)
