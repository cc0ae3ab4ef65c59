"""The webhook's cost per request, in-process with SQS stubbed, as ratios to a bare HMAC check."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from .common import ROOT, SECRET, Result, median


class _StubPublisher:
    def __init__(self) -> None:
        self.sent = 0

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        self.sent += 1


class _Context:
    function_name = "bench-webhook"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-north-1:123456789012:function:bench-webhook"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _per_call_us(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def bench_webhook(n: int, repeats: int) -> tuple[Result, float]:
    """The webhook's own work per request, and the whole handler's (its log line and metrics)."""
    import importlib

    os.environ.update(
        {
            "POWERTOOLS_SERVICE_NAME": "stripe-fortnox-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "STRIPE_WEBHOOK_SECRET_NAME": "bench",
            "QUEUE_URL": "bench",
            "AWS_DEFAULT_REGION": "eu-north-1",
        }
    )
    sys.path[:0] = [str(ROOT / "functions/webhook")]
    from stripe_fortnox_cli.local.events import api_gateway_event, sign_payload
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
    from stripe_fortnox_sync.webhook.accept import handle_webhook

    handler = importlib.import_module("webhook_handler")
    publisher = _StubPublisher()
    handler._publisher = lambda: publisher  # type: ignore[attr-defined]
    handler.webhook_secrets = lambda name, age: [SECRET]  # type: ignore[attr-defined]

    body = (ROOT / "events/stripe/01-customer.created.json").read_text(encoding="utf-8")
    raw = body.encode()
    header = sign_payload(body, SECRET)
    timestamp = header.split(",")[0].split("=")[1]
    signature = header.split("v1=")[1]
    key = SECRET.encode()
    event = api_gateway_event(raw, {"Stripe-Signature": header, "Content-Type": "application/json"})

    def baseline() -> None:
        mac = hmac.new(key, f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(mac, signature)
        json.loads(body)

    def logic() -> None:
        handle_webhook(
            raw, header, [SECRET], livemode=False, event_types=SUPPORTED_TYPES, publisher=publisher
        )

    def full() -> None:
        handler.lambda_handler(event, _Context())

    from stripe_fortnox_sync.core.observability import logger

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives for the run; CloudWatch would take these lines
    for h in logging.getLogger(logger.name).handlers:
        if isinstance(h, logging.StreamHandler):
            h.setStream(sink)
    samples: dict[str, list[float]] = {"baseline": [], "logic": [], "full": []}
    with contextlib.redirect_stdout(sink):
        full()  # warm: the first call builds settings and caches
        for _ in range(repeats):
            samples["baseline"].append(_per_call_us(baseline, n))
            samples["logic"].append(_per_call_us(logic, n))
            samples["full"].append(_per_call_us(full, max(1, n // 4)))
    base = median(samples["baseline"])
    logic_us, full_us = median(samples["logic"]), median(samples["full"])
    result = Result("2. Webhook cost per event (SQS stubbed in-process), ratio to HMAC-SHA256 + `json.loads`")
    result.row("bare HMAC-SHA256 check + `json.loads` (baseline)", f"{base:.1f} µs", "1.0x")
    result.row(
        "`handle_webhook`: size, signature (`webhook/verify.py`), UTF-8, parse, validate, route, queue",
        f"{logic_us:.1f} µs = {logic_us / base:.2f}x",
        "<= 3x",
        logic_us / base <= 3,
    )
    result.row(
        "the whole Lambda handler, with Powertools' JSON log line and EMF metrics flush",
        f"{full_us:.1f} µs = {full_us / base:.2f}x",
        "(for cost)",
    )
    result.notes.append(
        f"Body: events/stripe/01-customer.created.json ({len(raw)} bytes); {repeats} rounds of {n} calls, "
        "interleaved, medians. Validation walks the whole event once (nesting depth, numbers, text), "
        "so that nothing later meets a value no Stripe object holds."
    )
    result.notes.append(
        "The whole handler's extra over the logic is Powertools' structured log line and the EMF metrics "
        "document written per invocation: the operator's view of every request, kept on purpose."
    )
    return result, full_us
