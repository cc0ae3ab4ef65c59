"""Throughput against Fortnox's rate limit: two sync workers, one shared window."""

from __future__ import annotations

import threading
import time

from .common import Result, customer, event, local_stack, send


def bench_throughput(customers: int) -> Result:
    events = customers * 2
    with local_stack(workers=2, CUSTOMER_MATCH_RULE="none") as stack:
        sim = stack.fortnox.simulator
        first: list[float] = []
        stop = threading.Event()

        def watch() -> None:
            # The workers start calling Fortnox while events are still being sent: the clock must
            # start at the first Fortnox request, not when sending ends.
            while not stop.is_set() and not first:
                if sim.stats()["api_requests"] > 0:
                    first.append(time.monotonic())
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        sent = 0
        for i in range(customers):
            sent += send(stack, event(f"evt_tc{i}", "customer.created", 1000, customer(i))) == 200
            updated = customer(i, phone="+46 8 2")
            sent += send(stack, event(f"evt_tu{i}", "customer.updated", 2000, updated)) == 200
        deadline = time.monotonic() + events * 1.5 + 120
        while len(stack.processed) < events and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        last = time.monotonic()
        stats = sim.stats()
        calls = int(stats["api_requests"])
        throttled = int(stats["rate_limited"])
        lost = events - len({e.event_id for e in stack.processed})
        stored = {c["ExternalReference"]: c for c in sim.customers()}
        wrong = sum(
            1 for i in range(customers) if stored.get(f"cus_Bench{i:06d}", {}).get("Phone1") != "+46 8 2"
        )
        dead = stack.queue_depths()["DeadLetterQueueUrl"]
    seconds = last - (first[0] if first else last)
    rps = calls / seconds if seconds > 0 else float("nan")
    result = Result(f"5. Throughput against the rate limit: {events} events through the local stack")
    result.row(
        "Fortnox requests per second / 5 (25 per 5 s)",
        f"{rps:.2f} rps = {rps / 5:.2f}",
        ">= 0.9",
        rps / 5 >= 0.9,
    )
    result.row(
        "requests answered 429",
        f"{throttled} of {calls + throttled} = {throttled / max(1, calls + throttled):.2%}",
        "< 1%",
        throttled / max(1, calls + throttled) < 0.01,
    )
    result.row(
        "events lost (accepted, never applied), wrong final state, DLQ",
        f"{lost}, {wrong}, {dead}",
        "0",
        lost == 0 and wrong == 0 and dead == 0,
    )
    result.notes.append(
        f"{customers} customers, each `customer.created` then `customer.updated` "
        f"({sent} accepted by the webhook), match rule none, two sync workers (the stack's "
        "MaximumConcurrency) sharing the DynamoDB sliding "
        "window, the simulator enforcing 25 requests per 5 s. The limiter keeps a 0.25 s margin on the "
        "window (25 per 5.25 s = 0.95 of the limit) so network delay never makes Fortnox count 26. "
        f"Took {seconds:.0f} s."
    )
    return result
