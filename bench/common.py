"""What the benchmarks share: results and statistics, the local stack, sample Stripe events, and
counting the AWS requests the functions make."""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_bench_secret"


@dataclass
class Result:
    name: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, measured, target, verdict
    notes: list[str] = field(default_factory=list)

    def row(self, what: str, measured: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "NOT met")
        self.rows.append((what, measured, target, verdict))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# The local stack ---------------------------------------------------------------------------------


@contextlib.contextmanager
def local_stack(
    workers: int = 1,
    settings: dict[str, str] | None = None,
    simulator_options: dict[str, Any] | None = None,
    start_worker: bool = True,
    **env: str,
) -> Iterator[Any]:
    from stripe_fortnox_cli.local import LocalConfig, LocalStack

    with tempfile.TemporaryDirectory() as state:
        config = LocalConfig(
            port=0,
            webhook_secrets=[SECRET],
            state_dir=Path(state),
            workers=workers,
            visibility_timeout=120,
            extra_env={**(settings or {}), **env},
            simulator_options=simulator_options or {},
            start_worker=start_worker,
        )
        stack = LocalStack(config)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def customer(i: int, **over: Any) -> dict[str, Any]:
    return {
        "id": f"cus_Bench{i:06d}",
        "object": "customer",
        "name": f"Bench Kund {i}",
        "email": f"kund{i}@example.se",
        "phone": f"+46 70 {i:07d}",
        "address": {
            "line1": f"Benchgatan {i}",
            "line2": None,
            "postal_code": "111 22",
            "city": "Stockholm",
            "country": "SE",
            "state": None,
        },
        "shipping": None,
        "currency": "sek",
        "tax_exempt": "none",
        "metadata": {},
        "livemode": False,
        **over,
    }


def event(eid: str, kind: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": eid,
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": False,
        "data": {"object": obj},
    }


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "events" / "stripe" / name).read_text(encoding="utf-8"))
    return data


def send(stack: Any, evt: dict[str, Any]) -> int:
    from stripe_fortnox_cli.local.events import sign_payload

    body = json.dumps(evt)
    status, _ = stack.invoke_webhook(body.encode(), {"Stripe-Signature": sign_payload(body, SECRET)})
    return int(status)


def wait_processed(stack: Any, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while len(stack.processed) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return len(stack.processed) >= count


# Counting AWS requests ---------------------------------------------------------------------------

# Where a call comes from decides whether the functions made it (billed per event) or the local
# stack's own machinery did (in AWS: the event source mapping, billed as its SQS receive and delete).
_FUNCTION_CODE = ("/functions/", "stripe_fortnox_sync", "aws_lambda_powertools")


def _item_kb(api_params: dict[str, Any]) -> int:
    """DynamoDB bills a write per started KB of the item (name and value bytes), at least 1."""
    item = api_params.get("Item") or {}
    size = len(json.dumps(item, separators=(",", ":")).encode())
    return max(1, math.ceil(size / 1024))


class AwsRequests:
    """Counts the AWS requests made by the functions' code, by service and operation, and the
    DynamoDB capacity units they consume, while installed."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0
        self.read_units = 0.0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.write_units, self.read_units = 0, 0.0

    def snapshot(self) -> tuple[Counter[str], int, float]:
        with self._lock:
            return Counter(self.calls), self.write_units, self.read_units

    @contextlib.contextmanager
    def installed(self) -> Iterator[AwsRequests]:
        import botocore.client

        base: Any = botocore.client.BaseClient  # its stubs do not declare the private method
        real = base._make_api_call
        counter = self

        def counted(client: Any, operation: str, api_params: dict[str, Any]) -> Any:
            if _from_functions():
                counter._count(client.meta.service_model.service_name, operation, api_params)
            return real(client, operation, api_params)

        base._make_api_call = counted
        try:
            yield self
        finally:
            base._make_api_call = real

    def _count(self, service: str, operation: str, api_params: dict[str, Any]) -> None:
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            if service != "dynamodb":
                return
            if operation in ("PutItem", "UpdateItem", "DeleteItem"):
                self.write_units += _item_kb(api_params)
            elif operation in ("GetItem", "Query"):
                # A strongly consistent read of up to 4 KB is one read unit, an eventual one half.
                self.read_units += 1.0 if api_params.get("ConsistentRead") else 0.5


def _from_functions() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if any(part in frame.f_code.co_filename for part in _FUNCTION_CODE):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
