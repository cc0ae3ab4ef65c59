"""The local stack as the integration tests drive it: real webhook and sync handlers, SQS and
DynamoDB in moto, the Fortnox simulator; the queue stepped by hand (`poll_once`), so every test sees
exactly which batches ran."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_cli.local.events import sign_payload

SECRET = "whsec_integration"


@contextlib.contextmanager
def local_stack(state_dir: Path, **config: Any) -> Iterator[LocalStack]:
    """A stack signed with SECRET, without a worker thread; `config` sets any other LocalConfig field."""
    settings: dict[str, Any] = {"port": 0, "webhook_secrets": [SECRET], "start_worker": False, **config}
    with LocalStack(LocalConfig(state_dir=state_dir, **settings)) as running:
        yield running


def unlimited_stack(state_dir: Path) -> contextlib.AbstractContextManager[LocalStack]:
    """A local stack with the rate limit out of the way (limiter and simulator) and a 1-s visibility
    timeout: for tests of routing and isolation, not of pacing."""
    return local_stack(
        state_dir,
        visibility_timeout=1,
        extra_env={"FORTNOX_MAX_REQUESTS": "100000"},
        simulator_options={"max_requests": 100000},
    )


def send(stack: LocalStack, evt: dict[str, Any], secret: str = SECRET) -> tuple[int, dict[str, Any]]:
    """POST the event, signed, to the webhook; its status and JSON answer."""
    body = json.dumps(evt)
    status, text = stack.invoke_webhook(body.encode(), {"Stripe-Signature": sign_payload(body, secret)})
    return status, json.loads(text)


def enqueue(stack: LocalStack, body: str, group: str, dedup: str) -> None:
    """Put a message on the event queue past the webhook, as a redelivery after SQS's deduplication
    window or an operator's redrive would."""
    boto3.client("sqs").send_message(
        QueueUrl=stack.outputs["EventQueueUrl"],
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=dedup,
    )


def drain(stack: LocalStack, rounds: int = 20) -> None:
    idle = 0
    for _ in range(rounds):
        if stack.poll_once() == 0:
            idle += 1
            if idle >= 2:
                return
            time.sleep(0.05)


def drain_until(stack: LocalStack, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Step the queue until `done()`, also through records that wait out their visibility timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.poll_once() == 0:
            if done():
                return
            time.sleep(0.05)
    raise AssertionError(f"not done after {timeout} s; processed: {outcomes(stack)}")


def simulator(stack: LocalStack) -> FortnoxSimulator:
    assert stack.fortnox and stack.fortnox.simulator
    return stack.fortnox.simulator


def fortnox_customers(stack: LocalStack) -> list[dict[str, Any]]:
    return simulator(stack).customers()


def api_calls(stack: LocalStack) -> int:
    return int(simulator(stack).stats()["api_requests"])


def outcomes(stack: LocalStack) -> dict[str, str]:
    return {e.event_id: e.outcome for e in stack.processed}


def parked(stack: LocalStack, event_id: str) -> dict[str, str]:
    """The message attributes of the parked event `event_id` (it must be parked exactly once)."""
    (message,) = [m for m in stack.dead_letters() if json.loads(m["Body"])["id"] == event_id]
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
