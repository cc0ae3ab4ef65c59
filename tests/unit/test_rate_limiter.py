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


def test_a_worker_alone_takes_each_slot_with_one_write_and_no_read() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    lim = limiter(store, clock)
    for _ in range(60):
        lim.acquire()
    # The first write finds nothing stored; every later one goes through on the copy it keeps.
    assert store.slot_writes == 60 and len(store.slots["tenant"][0]) <= 25


def test_a_lost_race_is_decided_again_on_what_the_refusal_returns() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    a, b = limiter(store, clock), limiter(store, clock)
    a.acquire()
    b.acquire()  # b's copy is empty: refused once, then written over a's slot
    assert store.slot_writes == 3 and len(store.slots["tenant"][0]) == 2


def test_a_full_window_seen_in_a_refusal_is_waited_out() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    a, b = limiter(store, clock, max_requests=2), limiter(store, clock, max_requests=2)
    a.acquire()
    a.acquire()
    started = clock.now
    b.acquire()  # refused with a full window: waits for its oldest slot to leave the window
    assert clock.now - started >= 5.0 and store.slot_writes == 4


def test_a_flow_reserves_its_slots_in_one_write_each_stamped_no_earlier_than_its_request() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    lim = limiter(store, clock)
    lim.reserve(4)
    used = []
    for _ in range(4):
        lim.acquire()
        used.append(clock.now)
        clock.now += 0.2  # a Fortnox call
    assert store.slot_writes == 1
    stamps = sorted(store.slots["tenant"][0])
    assert len(stamps) == 4 and all(stamp >= request for stamp, request in zip(stamps, used, strict=True))


def test_a_request_later_than_its_reserved_stamp_takes_a_slot_of_its_own() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    lim = limiter(store, clock)
    lim.reserve(3)
    lim.acquire()
    clock.now += 5.0  # the flow stalled: the reserved stamps lie in the past
    lim.acquire()
    assert store.slot_writes == 2


def test_reserved_slots_count_against_other_workers() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    a, b = limiter(store, clock, max_requests=4), limiter(store, clock, max_requests=4)
    a.reserve(4)
    started = clock.now
    b.acquire()
    assert clock.now - started > 5.0  # b waited for a reserved slot to leave the window


def test_lost_write_race_retries() -> None:
    clock, store = FakeClock(1000.0), InMemoryStateStore()
    store.lose_next_slot_race = True
    limiter(store, clock).acquire()
    assert store.slot_writes == 2 and len(store.slots["tenant"][0]) == 1
