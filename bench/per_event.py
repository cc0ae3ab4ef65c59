"""Each event type alone through the local stack: the Fortnox requests counted at the simulator, the
AWS requests the functions make counted at botocore, the sync's duration and its log bytes."""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .common import AwsRequests, Result, customer, event, local_stack, sample, send, wait_processed


@dataclass
class Measured:
    """One event type's work, counted."""

    label: str
    fortnox: int
    aws: Counter[str] = field(default_factory=Counter)
    write_units: int = 0
    read_units: float = 0.0
    sync_ms: float = 0.0
    log_bytes: int = 0
    metrics_bytes: int = 0

    def requests(self, prefix: str) -> int:
        return sum(n for name, n in self.aws.items() if name.startswith(prefix))


class _MetricsBytes:
    """Powertools' metrics documents, counted where its CloudWatch module prints them (the local
    stack points that `print` elsewhere to keep them off the console; this counts them)."""

    def __init__(self) -> None:
        self.written = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.written += len(" ".join(str(a) for a in args).encode()) + 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[_MetricsBytes]:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

        module: Any = cloudwatch
        saved = vars(module).get("print")
        module.print = self
        try:
            yield self
        finally:
            if saved is None:
                del module.print
            else:
                module.print = saved


class _LogBytes(logging.Handler):
    """The bytes of the functions' JSON log lines, as CloudWatch would ingest them."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(formatter)
        self.written = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.written += len(self.format(record).encode()) + 1


class Probe:
    """Sends one event at a time to a running stack and counts what it cost."""

    def __init__(self, stack: Any, counter: AwsRequests) -> None:
        from stripe_fortnox_sync.core.observability import logger

        self._stack = stack
        self._counter = counter
        self._logger = logging.getLogger(logger.name)
        self._formatter = logger.registered_formatter

    def measure(self, label: str, evt: dict[str, Any]) -> Measured:
        sim, stack = self._stack.fortnox.simulator, self._stack
        time.sleep(0.2)  # nothing else in flight
        self._counter.clear()
        before, done = sim.stats()["api_requests"], len(stack.processed)
        # The functions' EMF metric documents: CloudWatch ingests them as log lines too.
        emf, lines = _MetricsBytes(), _LogBytes(self._formatter)
        self._logger.addHandler(lines)
        try:
            with emf.installed():
                send(stack, evt)
                wait_processed(stack, done + 1, 30)
                time.sleep(0.3)  # the webhook's and the sync's last writes, log lines and metrics
        finally:
            self._logger.removeHandler(lines)
        calls, write_units, read_units = self._counter.snapshot()
        return Measured(
            label,
            int(sim.stats()["api_requests"] - before),
            calls,
            write_units,
            read_units,
            stack.processed[-1].duration_ms,
            lines.written,
            emf.written,
        )


# The customer events run this many times (a customer each), and each figure is the median: one
# event's duration on a shared machine is too noisy for a cost that sits near its target.
CUSTOMER_ROUNDS = 7


def _customer_events(rule: str, n: int = 1) -> list[tuple[str, dict[str, Any]]]:
    phone = "+46 8 1"
    deleted = {"id": f"cus_Bench{n:06d}", "object": "customer", "deleted": True}
    if rule == "none":
        created = event(f"evt_nn{n}", "customer.created", 100, customer(n))
        return [("new customer (match rule none)", created)]
    return [
        ("new customer", event(f"evt_n{n}", "customer.created", 100, customer(n))),
        ("changed customer", event(f"evt_c{n}", "customer.updated", 200, customer(n, phone=phone))),
        ("unchanged customer", event(f"evt_s{n}", "customer.updated", 300, customer(n, phone=phone))),
        ("deleted customer", event(f"evt_d{n}", "customer.deleted", 400, deleted)),
    ]


def _rounds(rule: str) -> list[tuple[str, dict[str, Any]]]:
    return [e for n in range(1, CUSTOMER_ROUNDS + 1) for e in _customer_events(rule, n)]


def median_of(samples: list[Measured]) -> Measured:
    """One event type's samples as one: the median duration and byte counts; the Fortnox requests
    and DynamoDB units, which should not vary from one customer to the next, the most of any."""
    ordered = sorted(samples, key=lambda m: m.sync_ms)
    return replace(
        ordered[len(ordered) // 2],
        fortnox=max(m.fortnox for m in samples),
        write_units=max(m.write_units for m in samples),
        read_units=max(m.read_units for m in samples),
        log_bytes=int(statistics.median(m.log_bytes for m in samples)),
        metrics_bytes=int(statistics.median(m.metrics_bytes for m in samples)),
    )


def _by_label(measured: list[Measured]) -> list[Measured]:
    labels = list(dict.fromkeys(m.label for m in measured))
    return [median_of([m for m in measured if m.label == label]) for label in labels]


def _invoice_events() -> list[tuple[str, dict[str, Any]]]:
    paid = sample("14-invoice.paid.json")
    return [
        ("invoice.paid, new invoice", paid),
        ("invoice.paid again (new event id)", {**paid, "id": "evt_BenchInvPaidAgain"}),
        ("first partial refund", sample("16-refund.created-partial.json")),
        ("second refund", sample("17-refund.created-rest.json")),
    ]


# The local stack turns metrics off (no CloudWatch); here their documents are counted. The rate
# limit must not bind: events follow each other faster than Fortnox's 25 requests per 5 s, and the
# sync's time waiting for a slot is not what an event costs. (The limiter still writes its slot.)
METRICS_ON = {"POWERTOOLS_METRICS_DISABLED": "false", "FORTNOX_MAX_REQUESTS": "1000"}


def measure_all() -> list[Measured]:
    """Every event type, warm: a first event pays the cold start (secrets, the token)."""
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    measured: list[Measured] = []
    runs: list[tuple[dict[str, str], Callable[[], list[tuple[str, dict[str, Any]]]]]] = [
        ({**METRICS_ON, "CUSTOMER_MATCH_RULE": "email"}, lambda: _rounds("email")),
        ({**METRICS_ON, "CUSTOMER_MATCH_RULE": "none"}, lambda: _rounds("none")),
        ({**METRICS_ON, "ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES)}, _invoice_events),
    ]
    counter = AwsRequests()
    with counter.installed():
        for env, events in runs:
            with local_stack(settings=env) as stack:
                stack.fortnox.simulator.configure(rate_limit_enabled=False)
                probe = Probe(stack, counter)
                probe.measure("warm-up", sample("01-customer.created.json"))
                measured += [probe.measure(label, evt) for label, evt in events()]
    return _by_label(measured)


FORTNOX_TARGETS = {
    "new customer": (2, "search, create"),
    "changed customer": (1, "one PUT of the changed fields"),
    "unchanged customer": (0, "field hashes equal"),
    "deleted customer": (1, "PUT Active: false"),
    "new customer (match rule none)": (1, "create only"),
    "invoice.paid, new invoice": (
        6,
        "the invoice's newer customer details: 1 PUT; search, create, book, pay, book payment",
    ),
    "invoice.paid again (new event id)": (3, "search, read, list payments"),
    "first partial refund": (7, "search refund and payment, read sale, create credit, book, pay back, book"),
    "second refund": (8, "+1: reads the first credit"),
}


def fortnox_result(measured: list[Measured]) -> Result:
    result = Result("3. Fortnox requests per event, counted at the simulator")
    for m in measured:
        target, what = FORTNOX_TARGETS[m.label]
        result.row(f"{m.label} ({what})", str(m.fortnox), f"<= {target}", m.fortnox <= target)
    result.notes.append(
        "Each event alone through the local stack (real handlers, moto, the simulator), after a warm-up "
        "event that pays the cold start (secrets, the Fortnox token). The customer events run for "
        f"{CUSTOMER_ROUNDS} customers: the most requests of any, the median duration and log bytes."
    )
    result.notes.append(
        "Invoices: the demo's samples (events/stripe/01, 14, 16, 17) with every invoice event enabled and "
        "automatic bookkeeping; the redelivery is the same invoice.paid under a new event id (Stripe's "
        "id dedup would answer it with 0)."
    )
    return result


def aws_result(measured: list[Measured]) -> Result:
    result = Result("4. AWS requests per event, counted at botocore")
    for m in measured:
        reads = m.requests("dynamodb.GetItem") + m.requests("dynamodb.Query")
        writes = sum(m.requests(f"dynamodb.{op}") for op in ("PutItem", "UpdateItem", "DeleteItem"))
        others = ", ".join(
            f"{name} {n}" for name, n in sorted(m.aws.items()) if not name.startswith("dynamodb")
        )
        result.row(
            m.label,
            f"DynamoDB {reads} reads ({m.read_units:g} RRU), {writes} writes ({m.write_units} WRU); {others}",
        )
    result.notes.append(
        "Every call the webhook and sync functions make (their code, Powertools' idempotency layer, the "
        "rate limiter, the token store), counted where botocore sends it; the local stack's own polling is "
        "left out (in AWS the event source mapping's receive and delete are counted in the cost below). "
        "Write units: one per started KB of the item written; read units: one per strongly consistent read."
    )
    return result
