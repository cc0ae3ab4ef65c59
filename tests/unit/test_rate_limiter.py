from __future__ import annotations

import pytest

from stripe_fortnox_sync.adapters.fortnox.limiter import SlidingWindowLimiter
from stripe_fortnox_sync.core.errors import RateLimitTimeout
from tests.fakes import FakeClock, InMemoryStateStore


def limiter(store: InMemoryStateStore, clock: FakeClock, **kw: float) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(store, "tenant", clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_no_window_of_five_seconds_ever_holds_more_than_25() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    taken = []
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
    real_save = store.save_slots
    calls = {"n": 0}

    def flaky(key: str, slots: list[float], expected_version: int) -> bool:
        calls["n"] += 1
        return False if calls["n"] == 1 else real_save(key, slots, expected_version)

    store.save_slots = flaky  # type: ignore[method-assign]
    limiter(store, clock).acquire()
    assert calls["n"] == 2 and len(store.load_slots("tenant")[0]) == 1
