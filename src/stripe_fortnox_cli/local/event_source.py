"""Lambda's SQS event source mapping, emulated: polls the FIFO queue and invokes the sync function.

As in AWS: batches of up to 10, a received batch invisible while it is processed, one message
group never in two invocations at once, partial batch failures (failed records come back after
the visibility timeout, in order; the rest are deleted), and the queue's redrive policy parking a
record after its fifth receive.

One receive at a time, never a long poll inside moto: moto computes a FIFO queue's busy message
groups once per ReceiveMessage call, so a long poll that began before another consumer took a
group's message can hand that group's next message to a second consumer. Real SQS never does;
with one receive at a time and short polls it holds here too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3

from .aws import receive_messages
from .events import sqs_record
from .functions import SYNC_TIMEOUT_SECONDS, SyncFunction

SQS_BATCH_SIZE = 10
# template.yaml: the queue's VisibilityTimeout (6x the sync function's Timeout). A received batch
# stays invisible this long, as in AWS, so a slow invocation (a shared rate limit, Fortnox retries)
# never sees its own messages handed to another worker; a failed record is made visible again
# after `LocalConfig.visibility_timeout` instead.
IN_FLIGHT_VISIBILITY_SECONDS = 6 * SYNC_TIMEOUT_SECONDS
# How often an idle worker asks the queue again while emulating a long poll.
IDLE_POLL_SECONDS = 0.05

Message = dict[str, Any]


def _group_of(message: Message) -> str:
    return str(message.get("Attributes", {}).get("MessageGroupId", ""))


def _sent_at(message: Message) -> int:
    # moto's SequenceNumber is random digits, not increasing as in SQS: order by send time.
    return int(message.get("Attributes", {}).get("SentTimestamp", "0"))


def _in_tens(messages: list[Message]) -> Iterator[list[Message]]:
    for start in range(0, len(messages), 10):
        yield messages[start : start + 10]


def _make_visible(sqs: Any, queue_url: str, messages: list[Message]) -> None:
    for chunk in _in_tens(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


class SqsEventSource:
    """Polls the event queue into `sync`; counts deliveries, redeliveries and FIFO violations."""

    def __init__(self, queue_url: str, sync: SyncFunction, visibility_timeout: int) -> None:
        self._queue_url = queue_url
        self._sync = sync
        self._visibility_timeout = visibility_timeout
        self._stop = threading.Event()
        self._arrived = threading.Event()
        self._threads: list[threading.Thread] = []
        self._retry_timers: list[threading.Timer] = []
        self._receive_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._inflight_groups: dict[str, int] = {}
        # Per message group, the SentTimestamp of the newest message processed: an older one
        # delivered afterwards is a FIFO order violation (counted in `fifo_conflicts`).
        self._group_high_water: dict[str, int] = {}
        # Messages handed to the sync function, how many of those were redeliveries, and FIFO
        # violations caught (see `_claim_groups`): for tests and reports.
        self.deliveries = 0
        self.redeliveries = 0
        self.fifo_conflicts = 0

    def start(self, workers: int) -> None:
        for i in range(workers):
            worker = threading.Thread(target=self._poll_queue, name=f"sqs-event-source-{i}", daemon=True)
            worker.start()
            self._threads.append(worker)

    def signal_stop(self) -> None:
        self._stop.set()
        for timer in self._retry_timers:
            timer.cancel()

    def join(self, deadline: float) -> list[str]:
        """Wait for the workers until `deadline` (time.monotonic()); the names of those still busy.

        One deadline for all of them, not a timeout each: a worker stuck in a slow call must not
        multiply the time Ctrl-C takes. The workers are daemon threads, so a busy one ends with
        the process; its message stays in the queue, as after a Lambda timeout.
        """
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        busy = [t.name for t in self._threads if t.is_alive()]
        self._threads.clear()
        return busy

    def arrived(self) -> None:
        """A message was just sent to the queue: a waiting poll receives it now."""
        self._arrived.set()

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive-and-invoke round of the event source mapping; returns the batch size."""
        sqs: Any = boto3.client("sqs")
        deadline = time.monotonic() + wait_seconds
        while True:
            self._arrived.clear()
            messages = self._receive(sqs)
            if messages or time.monotonic() >= deadline or self._stop.is_set():
                break
            # Like a long poll, which SQS answers as soon as a message arrives: woken by `arrived`.
            self._arrived.wait(IDLE_POLL_SECONDS)
        if messages:
            self._deliver(sqs, messages)
        return len(messages)

    def _poll_queue(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                if self._stop.is_set():
                    return
                logging.getLogger(__name__).exception("polling the local queue failed")
                time.sleep(0.5)

    def _receive(self, sqs: Any) -> list[Message]:
        with self._receive_lock:
            messages = receive_messages(sqs, self._queue_url, IN_FLIGHT_VISIBILITY_SECONDS, SQS_BATCH_SIZE)
            # Claimed under the lock, so no other worker can start on these groups first.
            return self._claim_groups(sqs, messages)

    def _claim_groups(self, sqs: Any, messages: list[Message]) -> list[Message]:
        """Mark the batch's message groups busy; give back messages of a group already busy.

        The safety net behind the receive lock: SQS FIFO never hands a group's message to a
        consumer while another message of that group is in flight, and nothing here may either.
        """
        late = [m for m in messages if _sent_at(m) < self._group_high_water.get(_group_of(m), -1)]
        if late:
            self._add_conflicts(len(late))
            logging.getLogger(__name__).error("FIFO group delivered out of order")
        busy = [m for m in messages if _group_of(m) in self._inflight_groups]
        if busy:
            self._add_conflicts(len(busy))
            logging.getLogger(__name__).error("FIFO group delivered to two consumers; message returned")
            _make_visible(sqs, self._queue_url, busy)
        kept = [m for m in messages if m not in busy]
        for message in kept:
            group = _group_of(message)
            self._inflight_groups[group] = self._inflight_groups.get(group, 0) + 1
        return kept

    def _add_conflicts(self, count: int) -> None:
        with self._count_lock:
            self.fifo_conflicts += count

    def _release_groups(self, messages: list[Message]) -> None:
        with self._receive_lock:
            for message in messages:
                group = _group_of(message)
                left = self._inflight_groups.get(group, 0) - 1
                if left > 0:
                    self._inflight_groups[group] = left
                else:
                    self._inflight_groups.pop(group, None)

    def _deliver(self, sqs: Any, messages: list[Message]) -> None:
        with self._count_lock:
            self.deliveries += len(messages)
            self.redeliveries += sum(
                1 for m in messages if int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1
            )
        failed = self._sync.invoke({"Records": [sqs_record(m) for m in messages]})
        # The groups are free once the batch is settled. Released before the deletes: a failed
        # record stays in flight (invisible) in SQS, which keeps its group blocked there.
        self._release_groups(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        with self._receive_lock:
            for message in done:
                group = _group_of(message)
                self._group_high_water[group] = max(self._group_high_water.get(group, -1), _sent_at(message))
        for chunk in _in_tens(done):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        if retry:
            self._return_later(retry)

    def _return_later(self, messages: list[Message]) -> None:
        """Make failed records visible again after the visibility timeout, all at once.

        Not with a visibility timeout per message: moto counts a message's group as busy while
        any of its messages is still marked in flight, even one whose timeout has run out, so
        records of one group that come back a millisecond apart can be redelivered newest first.
        Made visible together (visibility 0, which clears moto's in-flight mark at once) and
        under the receive lock, they are received in their FIFO order, as SQS guarantees.
        """

        def release() -> None:
            if self._stop.is_set():
                return
            with self._receive_lock, contextlib.suppress(Exception):
                _make_visible(boto3.client("sqs"), self._queue_url, messages)

        timer = threading.Timer(self._visibility_timeout, release)
        timer.daemon = True
        self._retry_timers = [t for t in self._retry_timers if t.is_alive()] + [timer]
        timer.start()
