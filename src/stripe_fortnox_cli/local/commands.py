"""`stripe-fortnox dev`, `sign` and `sqs-event`: what they do once their arguments are parsed."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from stripe_fortnox_cli.exits import EXIT_CONFIG, EXIT_OK, fail

from .config import LocalConfig, LocalStackError
from .console import print_dev_banner, print_event_line
from .events import api_gateway_event, sample_sqs_record, sign_payload
from .stack import LocalStack


def run_dev(host: str, port: int, visibility_timeout: int) -> int:
    """The local stack until Ctrl-C or SIGTERM, one line per processed event."""
    try:
        config = LocalConfig.from_env(host, port)
        config.visibility_timeout = visibility_timeout
        stack = LocalStack(config, on_event=print_event_line)
        stack.start()
    except LocalStackError as exc:
        return fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return EXIT_OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print_dev_banner(stack)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
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
    """Print the Stripe-Signature header for the event file, or the API Gateway event carrying it."""
    payload = read_event_file(path)
    header = sign_payload(payload, secret)
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
