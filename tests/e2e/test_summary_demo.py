"""`stripe-fortnox demo --booking-mode summary`: the sample events make no invoice; each day's sales,
refunds and the lost dispute are one voucher, and the clearing accounts close at zero as in invoices
mode (events/expected-summary.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_demo

pytestmark = pytest.mark.e2e


def test_the_demo_in_summary_mode_books_a_voucher_a_day_and_no_invoice(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--booking-mode", "summary")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo OK" in result.stdout and "Fortnox invoices" not in result.stdout
    assert "Stripe försäljning 2025-11-21" in result.stdout
    assert "  1580        0.00 SEK" in result.stdout and "  1515        0.00 SEK" in result.stdout
