from __future__ import annotations

import pytest

from stripe_fortnox_sync.adapters.fortnox.limiter import SlidingWindowLimiter
from stripe_fortnox_sync.core.errors import RateLimitTimeout
from tests.fakes import FakeClock, InMemoryStateStore


def limiter(
    store: InMemoryStateStore,
    clock: FakeClock,
    *,
    max_requests: int = 25,
    window_seconds: float = 5.0,
    max_wait_seconds: float = 30.0,
) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(
        store,
        "tenant",
        max_requests=max_requests,
        window_seconds=window_seconds,
        max_wait_seconds=max_wait_seconds,
        clock=clock,
        sleep=clock.sleep,
    )


def test_no_window_of_five_seconds_ever_holds_more_than_25() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    taken: list[float] = []
    for _ in range(200):
        limiter(store, clock).acquire()
        taken.append(clock.now)
    for i, start in enumerate(taken):
        assert sum(1 for t in taken[i:] if t < start + 5.0) <= 25
    # ... and it is not needlessly slow: 200 requests in about 200 / (25 / 5.25) seconds.
    assert taken[-1] - taken[0] < 200 / (25 / 5.25) + 1


def test_two_workers_share_one_window() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    a, b = limiter(store, clock), limiter(store, clock)
    for _ in range(13):
        a.acquire()
        b.acquire()
    assert a.waited + b.waited > 0  # the 26th request had to wait


def test_gives_up_after_max_wait() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    lim = limiter(store, clock, max_requests=1, window_seconds=60, max_wait_seconds=1)
    lim.acquire()
    with pytest.raises(RateLimitTimeout):
        lim.acquire()


def test_lost_write_race_retries() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    store.lose_next_slot_race = True
    limiter(store, clock).acquire()
    assert store.slot_writes == 2 and len(store.load_slots("tenant")[0]) == 1
