"""Progress on stderr, and counts and durations as an operator reads them (also how long Fortnox
will take)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from stripe_fortnox_sync.adapters.fortnox.limiter import MARGIN_SECONDS
from stripe_fortnox_sync.core.settings import Settings

# Beyond two days, hours and minutes only get in the way: "371 days", not "8909 h 56 min".
DAYS_FROM_HOURS = 48


def plural(count: int, word: str, words: str | None = None) -> str:
    """`count` and the noun that goes with it: "1 event", "2 events", "1,000 entries"."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def format_duration(seconds: float) -> str:
    """A duration as an operator reads it: "45 s", "5 min 28 s", "2 h 5 min", "371 days"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours >= DAYS_FROM_HOURS:
        return plural(hours // 24, "day")
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def about(seconds: float) -> str:
    return "under a second" if seconds < 1 else f"about {format_duration(seconds)}"


def _window(settings: Settings) -> float:
    # What the shared limiter really waits: Fortnox's window plus its margin.
    return settings.fortnox_window_seconds + MARGIN_SECONDS


def estimate_seconds(requests: int, settings: Settings) -> float:
    """How long Fortnox's rate limit makes `requests` take (25 per 5.25 s with the defaults)."""
    return requests * _window(settings) / max(1, settings.fortnox_max_requests)


def rate_text(settings: Settings) -> str:
    return f"{settings.fortnox_max_requests} requests per {_window(settings):g} s"


class Progress:
    """A progress line on stderr: a bar with rate and ETA when the total is known.

    On a terminal it redraws in place; elsewhere (CI logs, a pipe) it prints a line now and then.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._clock = clock
        self._started = clock()
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = 0.1 if self._tty else 10.0
        # In a log, a line every 10 s (the closing summary says the rest); on a terminal, at once.
        self._last_draw = -math.inf if self._tty else self._started
        self._closed = False

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        self.done = done
        now = self._clock()
        if now - self._last_draw >= self._interval:
            self._draw(now)

    def eta(self, now: float | None = None) -> float | None:
        elapsed = (now if now is not None else self._clock()) - self._started
        if not self.total or self.done <= 0 or elapsed <= 0:
            return None
        return (self.total - self.done) / (self.done / elapsed)

    def line(self, now: float | None = None) -> str:
        now = now if now is not None else self._clock()
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            fraction = min(1.0, self.done / self.total)
            width = 24
            filled = round(fraction * width)
            bar = "#" * filled + "-" * (width - filled)
            eta = self.eta(now)
            eta_text = f"  ETA {format_duration(eta)}" if eta is not None and self.done < self.total else ""
            return (
                f"{self.label} [{bar}] {self.done:,}/{self.total:,} {fraction:4.0%}  {rate:,.1f}/s{eta_text}"
            )
        return f"{self.label} {self.done:,}  {rate:,.1f}/s"

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if self._tty:
            self._stream.write("\r\033[K" + self.line(now))
        else:
            self._stream.write(self.line(now) + "\n")
        self._stream.flush()

    def close(self, summary: str | None = None) -> None:
        """End the progress line: with `summary`, the one line that says what was done; without,
        the bar is cleared and nothing is added (the caller's own summary follows on stdout, and
        two lines for one action are one too many in a log)."""
        if self._closed:
            return
        self._closed = True
        prefix = "\r\033[K" if self._tty else ""
        if summary is None and not self._tty:
            return
        self._stream.write(prefix + (summary + "\n" if summary is not None else ""))
        self._stream.flush()
