"""What an authenticated /3 request meets before a resource: Fortnox's rate window and the faults
tests inject on purpose (forced 429s, 5xx, hangs and lost responses).

Every method expects the caller to hold the state lock.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

from .replies import Response, error_response
from .state import SimState

__all__ = ["Faults", "RateWindow"]


class RateWindow:
    """Fortnox's sliding window per (client, tenant): max_requests per window_seconds."""

    def __init__(self, state: SimState) -> None:
        self._state = state
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def admit(self, key: tuple[str, str]) -> bool:
        """Refused requests do not enter the window."""
        now = self._state.clock.now()
        knobs = self._state.knobs
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        while window and window[0] <= now - knobs.window_seconds:
            window.popleft()
        if len(window) >= knobs.max_requests:
            return False
        window.append(now)
        return True

    def clear(self) -> None:
        self._windows.clear()


class Faults:
    def __init__(self, state: SimState, seed: int) -> None:
        self._state = state
        self._seed = seed
        self._rng = random.Random(seed)
        self.pending_429 = 0
        # TenantIds whose every /3 request answers 500 (one company's outage).
        self.failing_tenants: set[str] = set()

    def reset(self) -> None:
        """Back to the start: no forced 429s, and the same random faults as a fresh simulator."""
        self.pending_429 = 0
        self.failing_tenants.clear()
        self._rng = random.Random(self._seed)

    def refusal(self, key: tuple[str, str], admit: Callable[[tuple[str, str]], bool]) -> Response | None:
        """A forced 429, a 429 from the rate window, or an injected 500; None lets the request on."""
        stats, knobs = self._state.stats, self._state.knobs
        if self.pending_429 > 0:
            self.pending_429 -= 1
            stats.forced_429 += 1
            stats.rate_limited += 1
            return error_response(429, "rate_limited", "Too many requests")
        if knobs.rate_limit_enabled and not admit(key):
            stats.rate_limited += 1
            return error_response(429, "rate_limited", "Too many requests")
        failing = key[1] in self.failing_tenants
        if failing or (knobs.error_rate > 0 and self._rng.random() < knobs.error_rate):
            stats.injected_5xx += 1
            return error_response(500, "internal_error", "Internal server error (injected)")
        return None

    def hang(self) -> float | None:
        """Seconds an admitted request should hang (knob timeout_rate), None for no hang."""
        knobs = self._state.knobs
        if knobs.timeout_rate > 0 and self._rng.random() < knobs.timeout_rate:
            self._state.stats.injected_timeouts += 1
            return knobs.timeout_seconds
        return None
