"""End-to-end latency on the local stack, as a ratio to the floor of this architecture measured in
the same run and through the same emulators: one SQS send, one receive and one Fortnox POST."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from .common import Result, customer, event, local_stack, median, percentile, send, wait_processed

TARGET_P99 = 3.0


def _fortnox_token(stack: Any) -> str:
    target = stack.fortnox
    creds = target.credentials
    response = requests.post(
        f"{target.auth_url}/token",
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
        headers={"TenantId": creds["tenant_id"]},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _floor(stack: Any, count: int) -> list[float]:
    """The least any design of this shape does per event: the queue's send and receive, and the
    one Fortnox write, each a round trip to the same emulators the pipeline uses."""
    import boto3

    sqs: Any = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName=f"bench-floor-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    session = requests.Session()
    headers = {"Authorization": f"Bearer {_fortnox_token(stack)}", "Accept": "application/json"}
    api = stack.fortnox.api_url
    samples = []
    for i in range(count):
        started = time.perf_counter()
        sqs.send_message(
            QueueUrl=url, MessageBody="{}", MessageGroupId=f"g{i}", MessageDeduplicationId=f"d{i}"
        )
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        session.post(
            f"{api}/customers", json={"Customer": {"Name": f"Floor {i}"}}, headers=headers, timeout=10
        )
        samples.append((time.perf_counter() - started) * 1000)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_queue(QueueUrl=url)
    return samples


def bench_latency(count: int) -> tuple[Result, float]:
    with local_stack(FORTNOX_MAX_REQUESTS="10000", CUSTOMER_MATCH_RULE="none") as stack:
        sim = stack.fortnox.simulator
        sim.configure(rate_limit_enabled=False, latency_ms=0)
        send(stack, event("evt_warm", "customer.created", 100, customer(999_999)))  # the cold start
        wait_processed(stack, 1, 30)
        floor: list[float] = []
        latencies: list[float] = []
        durations: list[float] = []
        for chunk in range(4):  # interleaved: noise hits both alike
            floor += _floor(stack, count // 4)
            more, took = _pipeline_chunk(stack, chunk, count // 4)
            latencies += more
            durations += took
    result = Result("6. End-to-end latency on the local stack, ratio to the floor")
    for p in (50, 99):
        base, measured = percentile(floor, p), percentile(latencies, p)
        target = f"<= {TARGET_P99:g}x" if p == 99 else ""
        met = measured / base <= TARGET_P99 if p == 99 else None
        result.row(f"floor (SQS send + receive + Fortnox POST), p{p}", f"{base:.1f} ms", "1.0x")
        result.row(
            f"webhook request -> Fortnox write, p{p}",
            f"{measured:.1f} ms = {measured / base:.2f}x",
            target,
            met,
        )
    result.notes.append(
        f"{count} new customers, one at a time (match rule none: one Fortnox request), rate limit not "
        "binding, simulator at zero latency; the floor measured in the same run, through the same moto "
        "server and simulator, interleaved in four rounds. The pipeline adds the webhook's verification, "
        "the local event source's poll, and the sync's DynamoDB round trips (mapping read, pending "
        "intent, rate-limit slot, mapping write)."
    )
    return result, median(durations)


def _pipeline_chunk(stack: Any, chunk: int, count: int) -> tuple[list[float], list[float]]:
    offset = chunk * count
    latencies, durations = [], []
    sim = stack.fortnox.simulator
    for i in range(offset, offset + count):
        done = len(stack.processed)
        started = time.time()
        send(stack, event(f"evt_l{i}", "customer.created", 100, customer(i)))
        wait_processed(stack, done + 1, 30)
        processed = stack.processed[-1]
        written = sim.last_modified("local-tenant", str(processed.fortnox_number))
        if written is not None:
            latencies.append((written.timestamp() - started) * 1000)
        durations.append(processed.duration_ms)
    return latencies, durations
