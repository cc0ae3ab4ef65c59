"""The payout tests' stack: every event type enabled, the local Stripe API behind a key (books.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.payout_events.books import Books, books


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Books]:
    with books(tmp_path) as running:
        yield running
