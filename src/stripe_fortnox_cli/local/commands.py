"""`stripe-fortnox dev`, `sign` and `sqs-event`: what they do once their arguments are parsed."""

from __future__ import annotations

import faulthandler
import json
import signal
import time
from pathlib import Path
from types import FrameType

from stripe_fortnox_cli.exits import EXIT_CONFIG, EXIT_OK, fail

from .config import LocalConfig, LocalStackError
from .console import print_dev_banner, print_event_line, print_request_line
from .events import api_gateway_event, sample_sqs_record, sign_payload
from .stack import LocalStack


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM as Ctrl-C: whatever is starting or running stops the same way, state cleaned up.
    raise KeyboardInterrupt


def run_dev(host: str, port: int, visibility_timeout: int, state_dir: Path) -> int:
    """The local stack until Ctrl-C or SIGTERM, one line per request and per processed event."""
    signal.signal(signal.SIGTERM, _interrupt)
    # `kill -USR1 <pid>` prints every thread's stack: how a hung local stack is diagnosed.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        config = LocalConfig.from_env(host, port, state_dir)
        config.visibility_timeout = visibility_timeout
        stack = LocalStack(config, on_event=print_event_line, on_request=print_request_line)
        stack.start()  # stops what it started when interrupted
    except LocalStackError as exc:
        return fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return EXIT_OK
    try:
        print_dev_banner(stack)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        # Deaf to a second Ctrl-C or SIGTERM while it stops: the outputs file must go.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("Stopped.", flush=True)
    return EXIT_OK


def read_event_file(path: str) -> str:
    """A Stripe event file's text; exits 2 when it cannot be read or is not JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(fail(f"cannot read {path}: {exc.strerror}", EXIT_CONFIG)) from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(fail(f"{path} is not JSON: {exc}", EXIT_CONFIG)) from None
    return text


def run_sign(path: str, secret: str, apigw: bool) -> int:
    """Print the Stripe-Signature header for the event file, or the API Gateway event carrying it.
    `secret` may be STRIPE_WEBHOOK_SECRET's comma-separated list: the first one signs."""
    payload = read_event_file(path)
    first = next((s.strip() for s in secret.split(",") if s.strip()), "")
    if not first:
        return fail("--secret is empty (is STRIPE_WEBHOOK_SECRET set in this shell?)", EXIT_CONFIG)
    if not first.startswith("whsec_"):
        return fail("the signing secret must be a whsec_... value", EXIT_CONFIG)
    header = sign_payload(payload, first)
    if apigw:
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        print(json.dumps(api_gateway_event(payload.encode(), headers), indent=2))
    else:
        print(header)
    return EXIT_OK


def run_sqs_event(paths: list[str]) -> int:
    """Print the SQS event the sync function would get for the event files, queued in order."""
    records = [sample_sqs_record(i, read_event_file(path)) for i, path in enumerate(paths, start=1)]
    print(json.dumps({"Records": records}, indent=2))
    return EXIT_OK
