"""`stripe-fortnox`: the local stack, the Fortnox simulator, event signing, the demo, and
operating a stack (backfill, redrive, status, reconcile).

Exit codes: 0 success, 1 the demo's expectations were not met, or an operation found something
that needs attention or could not finish, 2 bad usage or configuration, 3 a port is in use,
4 Fortnox (or Stripe) refused the credentials.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stripe import WebhookSignature

from stripe_fortnox_cli.exits import EXIT_CONFIG, EXIT_OK, EXIT_PORT, fail
from stripe_fortnox_cli.ops.commands import add_parsers as add_operation_parsers

DEV_SECRET = "whsec_local_development_only"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    return str(WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp))


def _read_event_file(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(fail(f"cannot read {path}: {exc.strerror}", EXIT_CONFIG)) from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(fail(f"{path} is not JSON: {exc}", EXIT_CONFIG)) from None
    return text


def _print_event_line(event: Any) -> None:
    number = event.fortnox_number or "-"
    detail = f"  ({event.detail})" if event.detail else ""
    print(
        f"{time.strftime('%H:%M:%S')}  {event.event_type:<29} {event.stripe_id or '-':<22} "
        f"{event.outcome:<11} fortnox={number:<6} {event.duration_ms:7.1f} ms{detail}",
        flush=True,
    )


# Commands ---------------------------------------------------------------------------------------


def cmd_sign(args: argparse.Namespace) -> int:
    from .local_stack import api_gateway_event

    payload = _read_event_file(args.file)
    header = sign_payload(payload, args.secret)
    if args.apigw:
        print(
            json.dumps(
                api_gateway_event(
                    payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}
                ),
                indent=2,
            )
        )
    else:
        print(header)
    return EXIT_OK


def cmd_sqs_event(args: argparse.Namespace) -> int:
    from stripe_fortnox_sync.sync.routes import message_group_id

    from .local_stack import ACCOUNT, REGION, STACK

    records = []
    for i, path in enumerate(args.files, start=1):
        payload = _read_event_file(path)
        event = json.loads(payload)
        records.append(
            {
                "messageId": f"00000000-0000-4000-8000-{i:012d}",
                "receiptHandle": f"local-receipt-{i}",
                "body": payload,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(event.get("created", 0)) * 1000),
                    "MessageGroupId": message_group_id(event),
                    "MessageDeduplicationId": event.get("id", ""),
                    "SequenceNumber": str(18_800_000_000_000_000_000 + i),
                },
                "messageAttributes": {
                    "event_type": {"stringValue": event.get("type", ""), "dataType": "String"}
                },
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-events.fifo",
                "awsRegion": REGION,
            }
        )
    print(json.dumps({"Records": records}, indent=2))
    return EXIT_OK


def cmd_fortnox_sim(args: argparse.Namespace) -> int:
    from fortnox_sim import serve

    try:
        serve(args.host, args.port)
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_PORT)
    return EXIT_OK


def cmd_dev(args: argparse.Namespace) -> int:
    from .local_stack import LocalConfig, LocalStack, LocalStackError

    try:
        config = LocalConfig.from_env(args.host, args.port)
        config.visibility_timeout = args.visibility_timeout
        stack = LocalStack(config, on_event=_print_event_line)
        stack.start()
    except LocalStackError as exc:
        return fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return EXIT_OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    assert stack.fortnox is not None
    print(f"Webhook:   POST {stack.webhook_url}")
    if not config.webhook_secrets:
        print(f"Secret:    {stack.webhook_secrets[0]}  (generated; set STRIPE_WEBHOOK_SECRET to choose)")
    if stack.fortnox.simulator:
        print(f"Fortnox:   embedded simulator at {stack.fortnox.api_url} (no Fortnox credentials given)")
    else:
        print(f"Fortnox:   {stack.fortnox.api_url}")
    print(
        f"Mode:      {'live' if config.livemode else 'test'};",
        f"function logs in {config.state_dir / 'functions.log'}",
    )
    print("Stripe CLI: stripe listen --forward-to " + stack.webhook_url.replace("127.0.0.1", "localhost"))
    print("Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.events), port=args.port)


# Parser -----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stripe-fortnox", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole pipeline locally until Ctrl-C")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument(
        "--visibility-timeout", type=int, default=5, help="seconds before a failed event is retried"
    )
    dev.set_defaults(func=cmd_dev)

    sim = sub.add_parser("fortnox-sim", help="run the Fortnox API simulator on its own")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.set_defaults(func=cmd_fortnox_sim)

    sign = sub.add_parser("sign", help="sign a Stripe event file with a fresh timestamp")
    sign.add_argument("file")
    sign.add_argument("--secret", default=DEV_SECRET, help=f"endpoint secret (default {DEV_SECRET})")
    sign.add_argument("--apigw", action="store_true", help="print an API Gateway event for sam local invoke")
    sign.set_defaults(func=cmd_sign)

    sqs = sub.add_parser("sqs-event", help="wrap Stripe event files as the SQS event the sync function gets")
    sqs.add_argument("files", nargs="+")
    sqs.set_defaults(func=cmd_sqs_event)

    demo = sub.add_parser("demo", help="run the local stack on the sample events and show the Fortnox result")
    demo.add_argument("--events", default=str(_repo_root() / "events" / "stripe"))
    demo.add_argument("--port", type=int, default=0, help="webhook port (default: any free one)")
    demo.set_defaults(func=cmd_demo)

    add_operation_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
