"""The operator commands' progress line, durations and Fortnox time estimates (no stack needed)."""

from __future__ import annotations

import io

import pytest

from stripe_fortnox_cli.ops.progress import Progress, about, estimate_seconds, format_duration, rate_text
from stripe_fortnox_sync.core.settings import Settings


def test_progress_line_shows_rate_and_eta() -> None:
    now = [0.0]
    stream = io.StringIO()  # not a terminal: a line every 10 s, none before
    progress = Progress("Queueing", total=200, stream=stream, clock=lambda: now[0])
    now[0] = 5.0
    progress.update(25)
    assert stream.getvalue() == ""
    now[0] = 10.0
    progress.update(50)
    assert "[######------------------]" in stream.getvalue() and "50/200" in stream.getvalue()
    assert "5.0/s" in stream.getvalue() and "ETA 30 s" in stream.getvalue()
    assert format_duration(3 * 3600 + 125) == "3 h 2 min" and format_duration(328) == "5 min 28 s"


def test_progress_closes_once_with_its_summary() -> None:
    stream = io.StringIO()
    progress = Progress("Listing", stream=stream, clock=lambda: 0.0)
    progress.advance(3)
    progress.close("Listed 3")
    progress.close("again")
    assert stream.getvalue() == "Listed 3\n"


def test_estimate_uses_fortnox_rate_limit() -> None:
    assert estimate_seconds(1000, Settings()) == pytest.approx(1000 / 25 * 5.25)
    assert rate_text(Settings()) == "25 requests per 5.25 s"
    assert about(0.5) == "under a second" and about(90) == "about 1 min 30 s"
