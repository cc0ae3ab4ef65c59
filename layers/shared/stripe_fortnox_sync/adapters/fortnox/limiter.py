"""A sliding-window limiter shared by every invocation that talks to one Fortnox tenant.

Fortnox allows 25 requests in any 5 s window per client and tenant. A token bucket or fixed
windows can let up to twice that through across a window edge, so we keep the exact log of the
last N request times in a shared store and take a slot with a conditional write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from stripe_fortnox_sync.core.errors import RateLimitTimeout
from stripe_fortnox_sync.core.ports import SlotStore

# Our clock and Fortnox's differ by the network delay; a small margin added to the window keeps
# the server-side window from seeing 26. (The operator commands' time estimates add it too.)
MARGIN_SECONDS = 0.25


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
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0

    def acquire(self) -> float:
        """Take a request slot, sleeping as long as needed; returns the seconds waited."""
        start = self._clock()
        while True:
            slots, version = self._store.load_slots(self._key)
            now = self._clock()
            recent = sorted(t for t in slots if t > now - self._window)
            if len(recent) < self._max:
                if self._store.save_slots(self._key, [*recent, now], version):
                    waited = now - start
                    self.waited += waited
                    return waited
                # Another worker took a slot between our read and write: look again soon.
                self._sleep(random.uniform(0.005, 0.03))
                continue
            wait = recent[len(recent) - self._max] + self._window - now
            if now - start + wait > self._max_wait:
                raise RateLimitTimeout(f"no Fortnox request slot within {self._max_wait:g} s")
            self._sleep(max(wait, 0.001))
