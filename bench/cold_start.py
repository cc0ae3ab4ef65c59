"""Cold start: importing each handler module in a fresh interpreter, as Lambda starts one."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

from .common import ROOT, Result, median

LAYER_CACHE = ROOT / "bench" / ".layer"
# What Lambda sets in a function's environment with active tracing. Libraries look at these: the
# X-Ray SDK, for one, builds a local sampler in Lambda but two botocore clients elsewhere (about
# 100 ms), so a bench without them measures a start Lambda never makes.
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "AWS_LAMBDA_FUNCTION_NAME": "stripe-fortnox-sync-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_DEFAULT_REGION": "eu-north-1",
    "AWS_REGION": "eu-north-1",
    "POWERTOOLS_SERVICE_NAME": "stripe-fortnox-sync",
    "POWERTOOLS_METRICS_NAMESPACE": "StripeFortnoxSync",
}


def lambda_like_layer() -> Path:
    """The layer's locked requirements alone, as `sam build` packs them: the dev venv has extras
    (aiohttp, for one) that would make imports look slower than in Lambda."""
    requirements = ROOT / "layers" / "shared" / "requirements.txt"
    stamp = LAYER_CACHE / ".requirements-sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--upgrade",
                "--target",
                str(LAYER_CACHE),
                "-r",
                str(requirements),
            ],
            check=True,
        )
        stamp.write_text(digest)
    return LAYER_CACHE


def import_ms(statement: str, layer: Path) -> float:
    paths = [
        str(layer),
        str(ROOT / "layers/shared"),
        str(ROOT / "functions/webhook"),
        str(ROOT / "functions/sync"),
    ]
    code = (
        f"import sys, time; sys.path[:0] = {paths!r}\n"
        f"t = time.perf_counter()\n{statement}\n"
        "print((time.perf_counter() - t) * 1000)"
    )
    env = {"PATH": os.environ.get("PATH", ""), **LAMBDA_ENVIRONMENT}
    # -I -S: no site-packages, no user environment: only what the Lambda would have.
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench_cold_start(rounds: int) -> Result:
    layer = lambda_like_layer()
    targets = {"boto3": "import boto3", "webhook": "import webhook_handler", "sync": "import sync_handler"}
    samples: dict[str, list[float]] = {k: [] for k in targets}
    for _ in range(rounds):
        for name, statement in targets.items():  # interleaved: noise hits all three alike
            samples[name].append(import_ms(statement, layer))
    base = median(samples["boto3"])
    result = Result("1. Cold start: import and init of each handler module, ratio to `import boto3`")
    result.row("`import boto3` (the floor)", f"{base:.0f} ms", "1.0x")
    for name, limit in (("webhook", 1.3), ("sync", 1.6)):
        ms = median(samples[name])
        result.row(f"{name} handler", f"{ms:.0f} ms = {ms / base:.2f}x", f"<= {limit}x", ms / base <= limit)
    result.notes.append(
        f"Median of {rounds} fresh interpreters each (`python -I -S`, the layer's locked requirements only, "
        f"installed as `sam build` would; Python {platform.python_version()}), in the environment Lambda "
        "sets: `LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`, `AWS_EXECUTION_ENV`, the X-Ray daemon "
        "address and a sampled `_X_AMZN_TRACE_ID`, tracing on (as the template's `Tracing: Active`)."
    )
    result.notes.append(
        "Webhook: on top of boto3, Powertools' logger and metrics and our own modules; the Stripe "
        "signature is checked by `webhook/verify.py` (tests prove it equal to stripe's for every header "
        "Stripe makes), so the stripe package is not imported. Sync: Powertools' idempotency and tracer "
        "(the X-Ray SDK with Lambda's local sampler; its `wrapt` imports asyncio), requests and tenacity; "
        "the FIFO batch loop is `sync/fifo_batch.py` (tests prove it equal to Powertools' "
        "`SqsFifoPartialProcessor`, whose import costs asyncio and every event source's data classes); "
        "stripe is imported only when a Stripe key is configured, on the first event that reads Stripe. "
        "The route table names its handlers by module and imports each on the first event of its type "
        "(the customer handlers: under 1 ms); the invoice, payout and summary machinery is imported only "
        "when its family is enabled (about 25 ms more, on the first event of a stack that books sales): "
        "this figure is the template's default, customers only."
    )
    return result
