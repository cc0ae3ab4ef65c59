"""The invoice event tests run against a stack with every event type enabled (checks.invoice_stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stripe_fortnox_cli.local import LocalStack
from tests.integration.invoice_events.checks import invoice_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    """Without a Stripe API key: every event applies its own payload."""
    with invoice_stack(tmp_path) as running:
        yield running
