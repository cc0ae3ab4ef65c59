"""AWS cost per million Stripe events, per event type, from the requests counted in `per_event`."""

from __future__ import annotations

import re

from .common import ROOT, Result
from .per_event import Measured

PRICES = {  # USD, eu-north-1 list prices (2026-11), arm64
    "lambda_gb_s": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
    "sns_publish": 0.50 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "secrets_call": 0.05 / 1e4,
    "logs_gb": 0.50,
}
# What API Gateway puts in for each $context variable of the access log format, typically.
_ACCESS_LOG_VALUES = {
    "requestId": "JZs1ai2KgjMEMAw=",
    "identity.sourceIp": "54.187.174.169",
    "status": "200",
    "integrationLatency": "23",
    "integrationErrorMessage": "-",
    "error.message": "-",
}
# A warm webhook invocation's SQS send, which the in-process measurement stubs out.
WEBHOOK_SQS_MS = 8.0
TARGETS = {"new customer": 6.00, "changed customer": 5.00, "invoice.paid, new invoice": 8.00}


def _memory() -> tuple[int, int]:
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    memory = [int(m) for m in re.findall(r"MemorySize:\s*(\d+)", template)]
    webhook_mb, sync_mb = [*memory, 256, 512][:2]
    return webhook_mb, sync_mb


def access_log_bytes() -> int:
    """The HTTP API's access log line per request: the template's format, filled in."""
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    block = template.split("AccessLogSettings:", 1)[1].split("Format: >-", 1)[1].split("\n\n", 1)[0]
    line = "".join(part.strip() for part in block.splitlines() if part.strip().startswith(("{", '"')))
    for name, value in _ACCESS_LOG_VALUES.items():
        line = line.replace(f"$context.{name}", value)
    return len(line.encode()) + 1


def per_event_usd(m: Measured, webhook_us: float) -> dict[str, float]:
    webhook_mb, sync_mb = _memory()
    webhook_ms = max(1.0, webhook_us / 1000) + WEBHOOK_SQS_MS
    log_bytes = m.log_bytes + m.metrics_bytes + access_log_bytes()
    return {
        "API Gateway": PRICES["http_api_request"],
        "Lambda": 2 * PRICES["lambda_request"]
        + (webhook_mb * webhook_ms + sync_mb * m.sync_ms) / 1024 / 1000 * PRICES["lambda_gb_s"],
        # The webhook's send (counted), and the event source's receive and delete (a batch of one).
        "SQS": (m.requests("sqs.SendMessage") + 2) * PRICES["sqs_fifo_request"],
        "SNS": m.requests("sns.Publish") * PRICES["sns_publish"],
        "DynamoDB": m.write_units * PRICES["dynamodb_write_unit"]
        + m.read_units * PRICES["dynamodb_read_unit"],
        "Logs": log_bytes / 1e9 * PRICES["logs_gb"],
        "Secrets Manager": m.requests("secretsmanager.") * PRICES["secrets_call"],
    }


def cost_result(measured: list[Measured], webhook_us: float) -> Result:
    result = Result("7. AWS cost per million Stripe events, from the counted requests")
    for m in measured:
        usd = per_event_usd(m, webhook_us)
        total = sum(usd.values()) * 1e6
        parts = ", ".join(f"{name} {value * 1e6:.2f}" for name, value in usd.items() if value)
        target = TARGETS.get(m.label)
        result.row(
            m.label,
            f"${total:.2f} ({parts})",
            f"<= ${target:.2f}" if target else "",
            None if target is None else total <= target,
        )
    webhook_mb, sync_mb = _memory()
    result.notes.append(
        f"Lambda: the webhook {webhook_us / 1000:.2f} ms in-process plus {WEBHOOK_SQS_MS:g} ms for its SQS "
        f"send, at {webhook_mb} MB; the sync as measured per event on the local stack (moto round trips "
        f"included, so an upper bound), at {sync_mb} MB; one event per invocation (the worst case: under "
        "load batches of up to 10 share an invocation and its request charge)."
    )
    result.notes.append(
        "Logs: the bytes the two functions wrote for the event (their JSON log lines and their EMF "
        "metric documents; the platform's START/END/REPORT lines are off: SystemLogLevel WARN), plus "
        f"{access_log_bytes()} bytes of the "
        "HTTP API's access log. SQS: the webhook's send and the event source's receive and delete, a "
        "batch of one. DynamoDB on demand: the write and read units counted in section 4."
    )
    result.notes.append(
        "Fixed monthly costs, not per event: 4 secrets $1.60, the dashboard $3.00, alarms $0.10 each, "
        "X-Ray beyond its free tier $5 per million traces recorded (sampling keeps it to about 1 per second)."
    )
    return result
