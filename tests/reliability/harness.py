"""The machinery the scenarios share: a local stack to drive, and the counting and checking.

A `Pipeline` wraps a running `LocalStack`: it delivers signed events through the real webhook
handler (or straight onto the queue), steps the queue like Lambda's event source, reads the
dead-letter queue, and checks the invariants every scenario cares about: each event applied
exactly once or parked with a reason, one Fortnox customer per Stripe customer holding the
latest state.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_cli.local.aws import receive_messages
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS

SECRET = "whsec_reliability"
# Without limits on either side, a scenario is bounded by the pipeline, not by 5 requests/s.
UNLIMITED_REQUESTS = "1000"
# Outcomes that changed Fortnox: an event may have one at most, however often it is delivered.
EFFECTS = frozenset({"created", "updated", "deactivated"})


@dataclass
class Counts:
    """What one scenario run did and found; the report's row, the tests' assertions."""

    scenario: str
    variant: str = ""
    stripe_customers: int = 0
    events_sent: int = 0  # distinct Stripe events
    deliveries: int = 0  # webhook requests, messages put straight on the queue, redrives
    processed: int = 0  # messages the sync function was handed (SQS receives)
    retries: int = 0  # of those, redeliveries after a failed attempt
    fortnox_calls: int = 0  # requests to the Fortnox API (simulator count)
    http_429: int = 0
    faults_injected: int = 0  # 5xx, timeouts and revoked tokens the simulator dealt out
    dlq_entries: int = 0
    duplicates_found: int = 0  # extra Fortnox customers, and events applied more than once
    lost_events: int = 0  # accepted events neither applied nor parked
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    @property
    def label(self) -> str:
        return f"{self.scenario} ({self.variant})" if self.variant else self.scenario


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    group_id: str
    # failure_reason from the sync, or "max_receives" when SQS moved it after 5 receives.
    reason: str
    message: str
    receive_count: int
    body: str


@dataclass
class ExternalFortnox:
    """A simulator the scenario runs itself (the refresh-token flow needs its own tokens)."""

    simulator: FortnoxSimulator
    credentials: dict[str, str]


def stack_config(
    workdir: Path,
    *,
    workers: int = 1,
    start_worker: bool = False,
    visibility_timeout: int = 1,
    extra_env: Mapping[str, str] | None = None,
    fortnox: ExternalFortnox | None = None,
    rate_limit: bool = False,
    sim_seed: int = 0,
) -> LocalConfig:
    env = dict(extra_env or {})
    if not rate_limit:
        # The limiter still runs (its DynamoDB reads and writes are part of every call), over
        # a 1 s window so the stored list of recent request times stays short.
        env.setdefault("FORTNOX_MAX_REQUESTS", UNLIMITED_REQUESTS)
        env.setdefault("FORTNOX_WINDOW_SECONDS", "1")
    config = LocalConfig(
        port=0,
        webhook_secrets=[SECRET],
        state_dir=workdir,
        start_worker=start_worker,
        workers=workers,
        visibility_timeout=visibility_timeout,
        extra_env=env,
        # The embedded simulator's fault dice: each scenario its own sequence.
        simulator_options={"seed": sim_seed},
    )
    if fortnox is not None:
        config.fortnox_api_url = fortnox.simulator.api_url
        config.fortnox_auth_url = fortnox.simulator.auth_url
        config.fortnox_credentials = dict(fortnox.credentials)
    return config


@contextlib.contextmanager
def pipeline(
    workdir: Path,
    *,
    fortnox: ExternalFortnox | None = None,
    rate_limit: bool = False,
    **options: Any,
) -> Iterator[Pipeline]:
    workdir.mkdir(parents=True, exist_ok=True)
    config = stack_config(workdir, fortnox=fortnox, rate_limit=rate_limit, **options)
    stack = LocalStack(config)
    stack.start()
    try:
        sim = fortnox.simulator if fortnox else stack.fortnox.simulator if stack.fortnox else None
        assert sim is not None, "the scenarios need the Fortnox simulator"
        if not rate_limit:
            sim.configure(rate_limit_enabled=False)
        yield Pipeline(stack, sim)
    finally:
        stack.stop()


class Pipeline:
    def __init__(self, stack: LocalStack, sim: FortnoxSimulator) -> None:
        self.stack = stack
        self.sim = sim
        self.deliveries = 0
        self.answers: Counter[int] = Counter()
        # Accepted by the webhook or put on the queue: what must be applied or parked.
        self.accepted: set[str] = set()
        self.dead: list[DeadLetter] = []
        self._stats_at_start = sim.stats()

    # Sending ----------------------------------------------------------------------------------

    def send(self, evt: Mapping[str, Any], *, secret: str = SECRET) -> tuple[int, dict[str, Any]]:
        """Deliver one event through the webhook handler, signed as Stripe signs it."""
        body = json.dumps(evt, ensure_ascii=False)
        headers = {"Stripe-Signature": sign_payload(body, secret), "Content-Type": "application/json"}
        status, text = self.stack.invoke_webhook(body.encode(), headers)
        self.deliveries += 1
        self.answers[status] += 1
        answer: dict[str, Any] = json.loads(text) if text else {}
        if status == 200 and "received" in answer:
            self.accepted.add(str(evt["id"]))
        return status, answer

    def inject(self, evt: Mapping[str, Any], dedup_id: str) -> None:
        """Put an event straight on the queue under another deduplication id: a Stripe retry
        more than SQS's 5-minute deduplication window after the first delivery."""
        obj = evt["data"]["object"]
        boto3.client("sqs").send_message(
            QueueUrl=self.stack.outputs["EventQueueUrl"],
            MessageBody=json.dumps(evt, ensure_ascii=False),
            MessageGroupId=str(obj.get("id") or evt["id"]),
            MessageDeduplicationId=dedup_id,
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": str(evt["type"])}},
        )
        self.deliveries += 1
        self.accepted.add(str(evt["id"]))

    # The queue --------------------------------------------------------------------------------

    def drain(self, timeout: float = 120.0) -> bool:
        """Step the queue until it is empty, waiting out retries; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stack.poll_once() == 0:
                if self.stack.queue_depths()["EventQueueUrl"] == 0:
                    return True
                time.sleep(0.1)  # only messages waiting out a failure's visibility timeout
        return False

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """With worker threads running: wait until the event queue has stayed empty."""
        return self.stack.wait_until_idle(timeout=timeout, settle=0.5)

    def take_dead_letters(self) -> list[DeadLetter]:
        """Empty the dead-letter queue; what was in it is also kept in `self.dead`."""
        sqs: Any = boto3.client("sqs")
        url = self.stack.outputs["DeadLetterQueueUrl"]
        taken: list[DeadLetter] = []
        while True:
            messages = receive_messages(sqs, url, visibility_timeout=60)
            if not messages:
                break
            for message in messages:
                attributes = {
                    k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()
                }
                system = message.get("Attributes", {})
                try:
                    event_id = str(json.loads(message["Body"]).get("id"))
                except ValueError:
                    event_id = "unparseable"
                taken.append(
                    DeadLetter(
                        event_id=event_id,
                        group_id=str(system.get("MessageGroupId", "")),
                        reason=attributes.get("failure_reason") or "max_receives",
                        message=attributes.get("failure_message", ""),
                        receive_count=int(system.get("ApproximateReceiveCount", "1")),
                        body=message["Body"],
                    )
                )
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.dead.extend(taken)
        return taken

    def redrive(self, letters: Iterable[DeadLetter], tag: str = "redrive") -> int:
        """What the console's "Start DLQ redrive" does: back onto the event queue, in order."""
        sqs: Any = boto3.client("sqs")
        count = 0
        for n, letter in enumerate(letters):
            sqs.send_message(
                QueueUrl=self.stack.outputs["EventQueueUrl"],
                MessageBody=letter.body,
                MessageGroupId=letter.group_id,
                MessageDeduplicationId=f"{tag}-{n}-{letter.event_id}"[:128],
            )
            count += 1
        self.deliveries += count
        return count

    # Fortnox ----------------------------------------------------------------------------------

    def fortnox_by_reference(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in self.sim.customers():
            found[str(item.get("ExternalReference") or "")].append(item)
        return found

    def sim_delta(self) -> dict[str, Any]:
        """Simulator counters since the pipeline started (other scenarios may share a simulator)."""
        now, start = self.sim.stats(), self._stats_at_start
        codes = Counter(now["status_codes"])
        codes.subtract(start["status_codes"])
        grants = Counter(now["token_grants"])
        grants.subtract(start["token_grants"])
        routes = Counter(now["requests"])
        routes.subtract(start["requests"])
        keys = ("api_requests", "rate_limited", "forced_429", "unauthorized", "injected_5xx")
        delta: dict[str, Any] = {key: now[key] - start[key] for key in keys}
        delta.update(
            injected_timeouts=now["injected_timeouts"] - start["injected_timeouts"],
            invalid_grant=now["invalid_grant"] - start["invalid_grant"],
            status_codes={k: v for k, v in codes.items() if v},
            token_grants={k: v for k, v in grants.items() if v},
            requests={k: v for k, v in routes.items() if v},
        )
        return delta

    # Counting and checking --------------------------------------------------------------------

    def fill(self, counts: Counts, started: float) -> None:
        """The columns every scenario reports, from the stack and the simulator."""
        delta = self.sim_delta()
        counts.deliveries = self.deliveries
        source = self.stack.event_source
        counts.processed = source.deliveries
        counts.retries = source.redeliveries
        counts.fortnox_calls = delta["api_requests"]
        counts.http_429 = delta["rate_limited"]
        counts.faults_injected = delta["injected_5xx"] + delta["injected_timeouts"] + delta["unauthorized"]
        counts.dlq_entries = len(self.dead)
        counts.seconds = round(time.monotonic() - started, 1)
        counts.details.setdefault("fifo_conflicts", source.fifo_conflicts)
        counts.check(source.fifo_conflicts == 0, f"{source.fifo_conflicts} FIFO group conflicts")

    def check_exactly_once(self, counts: Counts, events: Iterable[str] | None = None) -> dict[str, list[str]]:
        """Every accepted event applied exactly once, or parked in the DLQ; returns outcomes.

        A repeated delivery must change nothing: it is caught by the idempotency table ("duplicate
        delivery"), or finds its work done (the mapping names the event, Fortnox the Stripe id) and
        reports unchanged, stale or ignored. Applied twice means two outcomes that changed Fortnox.
        """
        outcomes: dict[str, list[str]] = defaultdict(list)
        for record in list(self.stack.processed):
            outcomes[record.event_id].append(record.outcome)
        parked = {letter.event_id for letter in self.dead}
        wanted = set(events) if events is not None else self.accepted
        lost = applied_twice = repeats_absorbed = 0
        for event_id in sorted(wanted):
            handled = [o for o in outcomes.get(event_id, []) if o != "failed"]
            effects = [o for o in handled if o in EFFECTS]
            if len(effects) > 1:
                applied_twice += len(effects) - 1
                counts.problems.append(f"{event_id} applied {len(effects)} times: {handled}")
            elif not handled and event_id not in parked:
                lost += 1
                counts.problems.append(f"{event_id} lost: neither applied nor in the DLQ")
            repeats_absorbed += max(0, len(handled) - 1)
        counts.lost_events += lost
        counts.duplicates_found += applied_twice
        counts.details["duplicate_deliveries_caught"] = repeats_absorbed
        firsts = Counter(outcomes[event_id][0] for event_id in wanted if outcomes.get(event_id))
        counts.details["outcomes"] = dict(sorted(firsts.items()))
        return outcomes

    def check_customers(
        self,
        counts: Counts,
        expected: Mapping[str, Mapping[str, Any] | None],
        *,
        deleted: Iterable[str] = (),
        settings: Settings | None = None,
    ) -> None:
        """One Fortnox customer per Stripe customer, holding `expected` (the latest Stripe
        customer; None: any state) and inactive exactly where `deleted`."""
        settings = settings or Settings()
        gone = set(deleted)
        by_reference = self.fortnox_by_reference()
        wrong_state = missing = never_synced = 0
        for stripe_id, latest in sorted(expected.items()):
            found = by_reference.get(stripe_id, [])
            if len(found) > 1:
                counts.duplicates_found += len(found) - 1
                counts.problems.append(f"{stripe_id}: {len(found)} Fortnox customers")
            if not found and stripe_id in gone:
                # Deleted in Stripe before any of its events could reach Fortnox (its events
                # were parked, say): nothing to keep inactive.
                never_synced += 1
                continue
            if not found:
                missing += 1
                counts.problems.append(f"{stripe_id}: no Fortnox customer")
                continue
            stored = found[0]
            if stored.get("Active") is not (stripe_id not in gone):
                wrong_state += 1
                state = "active" if stored.get("Active") else "inactive"
                counts.problems.append(f"{stripe_id}: Fortnox customer {stored['CustomerNumber']} is {state}")
            if latest is None or stripe_id in gone:
                continue
            differences = field_differences(stored, latest, settings)
            if differences:
                wrong_state += 1
                counts.problems.append(f"{stripe_id}: not the latest Stripe state: {differences}")
        counts.details["missing_customers"] = missing
        counts.details["wrong_state"] = wrong_state
        counts.details["deleted_never_in_fortnox"] = never_synced


def field_differences(stored: Mapping[str, Any], latest: Mapping[str, Any], settings: Settings) -> list[str]:
    """Fortnox fields that differ from what the latest Stripe customer maps to."""
    mapped = map_customer(latest, settings).fields
    differences = [k for k, v in mapped.items() if stored.get(k) != v]
    # A value Stripe no longer has must be blank in Fortnox too.
    differences += [k for k in CLEARABLE_FIELDS if k not in mapped and stored.get(k) not in (None, "")]
    return sorted(differences)


def moto_fifo_probe(consumers: int = 4, groups: int = 4, rounds: int = 5, max_seconds: float = 4.0) -> int:
    """How often plain moto hands one FIFO message group to two long-polling consumers at once.

    Real SQS never does. The local stack's event source no longer long-polls moto (see
    `LocalStack.poll_once`); this probe, on a queue of its own in the running moto, shows why.
    Returns the number of overlaps seen (timing-dependent: informational only). Stops after
    `max_seconds`: moto's long poll spins while every visible message's group is busy.
    """
    import threading

    sqs: Any = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName=f"fifo-probe-{time.monotonic_ns()}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    holders: dict[str, int] = {}
    lock = threading.Lock()
    overlaps = 0
    stop = threading.Event()

    def consume(me: int) -> None:
        nonlocal overlaps
        client: Any = boto3.client("sqs")
        while not stop.is_set():
            messages = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            mine = {m["Attributes"]["MessageGroupId"] for m in messages}
            with lock:
                overlaps += sum(1 for group in mine if group in holders)
                holders.update(dict.fromkeys(mine, me))
            time.sleep(0.05)  # "processing"
            with lock:
                for group in mine:
                    holders.pop(group, None)
            for message in messages:
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    threads = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(consumers)]
    for thread in threads:
        thread.start()
    for n in range(rounds):
        for group in range(groups):
            for k in range(3):
                sqs.send_message(
                    QueueUrl=url,
                    MessageBody=str(n),
                    MessageGroupId=f"g{group}",
                    MessageDeduplicationId=f"{group}-{n}-{k}",
                )
        time.sleep(0.02)
    started = time.monotonic()
    while time.monotonic() - started < max_seconds:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if (
            int(attributes["ApproximateNumberOfMessages"])
            + int(attributes["ApproximateNumberOfMessagesNotVisible"])
            == 0
        ):
            break
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    sqs.delete_queue(QueueUrl=url)
    return overlaps
