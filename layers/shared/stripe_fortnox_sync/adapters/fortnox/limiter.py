"""A sliding-window limiter shared by every invocation that talks to one Fortnox tenant.

Fortnox allows 25 requests in any 5 s window per client and tenant. A token bucket or fixed
windows can let up to twice that through across a window edge, so we keep the exact log of the
last N request times in a shared store and take a slot with one conditional write. The log as this
worker last saw it is kept between calls, so a slot costs no read: when another worker wrote in
between, the write is refused and the refusal carries the log as it is now.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stripe_fortnox_sync.core.errors import RateLimitTimeout
from stripe_fortnox_sync.core.ports import SlotStore

# Our clock and Fortnox's differ by the network delay; a small margin added to the window keeps
# the server-side window from seeing 26. (The operator commands' time estimates add it too.)
MARGIN_SECONDS = 0.25
# Reserved slots are stamped this far apart: a stamp must not be earlier than the request that
# uses it (a later stamp only holds its slot a little longer), and one Fortnox call of a flow takes
# a few hundred ms. A request later than its stamp takes a slot of its own instead.
RESERVED_SPACING_SECONDS = 0.5


class SlidingWindowLimiter:
    def __init__(
        self,
        store: SlotStore,
        key: str,
        *,
        max_requests: int = 25,
        window_seconds: float = 5.0,
        margin_seconds: float = MARGIN_SECONDS,
        max_wait_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._key = key
        self._max = max_requests
        self._window = window_seconds + margin_seconds
        self._margin = margin_seconds
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0
        # The stored log and its version as last seen: a stale copy only costs a refused write.
        self._slots: list[float] = []
        self._version = 0
        # Slots taken ahead by `reserve`, stamped with the latest time their request may start.
        self._reserved: list[float] = []

    def acquire(self) -> float:
        """Take a request slot, sleeping as long as needed; returns the seconds waited."""
        now = self._clock()
        while self._reserved:
            stamp = self._reserved.pop(0)
            if now <= stamp + self._margin:
                return 0.0
        started = self._clock()
        self._take(1)
        return self._clock() - started

    def reserve(self, count: int) -> None:
        """Take `count` slots in one write for requests that follow at once, each stamped
        RESERVED_SPACING_SECONDS after the one before; unused ones lapse with their window."""
        if count > 1:
            self._reserved = self._take(min(count, self._max))

    def _take(self, count: int) -> list[float]:
        """Write `count` new stamps into the shared log, waiting for room; returns them."""
        start = self._clock()
        while True:
            now = self._clock()
            # Stamps ahead of now count too: they are reserved requests still to come.
            recent = sorted(t for t in self._slots if t > now - self._window)
            if len(recent) + count > self._max:
                wait = recent[len(recent) + count - 1 - self._max] + self._window - now
                if now - start + wait > self._max_wait:
                    raise RateLimitTimeout(f"no Fortnox request slot within {self._max_wait:g} s")
                self._sleep(max(wait, 0.001))
                continue
            stamps = [now + i * RESERVED_SPACING_SECONDS for i in range(count)]
            taken = sorted([*recent, *stamps])
            current = self._store.swap_slots(self._key, taken, self._version)
            if current is None:
                self._slots, self._version = taken, self._version + 1
                self.waited += now - start
                return stamps
            # Another worker wrote since we last looked: decide again on what it stored.
            self._slots, self._version = current
