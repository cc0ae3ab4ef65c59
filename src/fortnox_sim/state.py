"""The state the simulator's parts share: one lock, the knobs, the counters, the clock, the tenants.

Everything mutable sits behind `SimState.lock`; sleeps (latency, hangs) happen outside it so a
hanging request never stalls the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from .knobs import Knobs, checked_changes
from .stats import Stats
from .zone import FORTNOX_TIMEZONE

__all__ = ["FORTNOX_TIMEZONE", "Clock", "SimState", "Tenant"]


_Part = TypeVar("_Part")


class Clock:
    """Real time plus an offset that tests move forward (advance_clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Monotonic seconds: token expiry and rate windows."""
        return time.monotonic() + self.offset

    def wall(self) -> float:
        """Wall-clock epoch seconds: lastmodified and today's date."""
        return time.time() + self.offset


class Tenant:
    """One Fortnox company's data. Each resource module keeps its own part (customers, invoices,
    ...), created on first use, so a new resource needs no change here."""

    def __init__(self) -> None:
        self._parts: dict[type[Any], Any] = {}

    def part(self, kind: type[_Part]) -> _Part:
        found = self._parts.get(kind)
        if not isinstance(found, kind):
            found = self._parts[kind] = kind()
        return found


class SimState:
    def __init__(self, knobs: Knobs) -> None:
        self.lock = threading.Lock()
        self.knobs = knobs
        self.initial_knobs = replace(knobs)
        self.stats = Stats()
        self.clock = Clock()
        self.tenants: dict[str, Tenant] = {}

    def configure(self, changes: Mapping[str, Any]) -> None:
        checked = checked_changes(changes)
        with self.lock:
            for name, value in checked.items():
                setattr(self.knobs, name, value)

    def reset(self, customers: bool, knobs: bool) -> None:
        """Caller holds the lock."""
        self.stats = Stats()
        if customers:
            self.tenants.clear()
        if knobs:
            self.knobs = replace(self.initial_knobs)
