"""`stripe-fortnox`: the local stack, the Fortnox simulator, event signing, the demo, and
operating a stack (backfill, redrive, status, reconcile).

Exit codes: 0 success, 1 the demo's expectations were not met, or an operation found something
that needs attention or could not finish, 2 bad usage or configuration, 3 a port is in use,
4 Fortnox (or Stripe) refused the credentials.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from stripe_fortnox_cli.exits import EXIT_OK, EXIT_PORT, fail
from stripe_fortnox_cli.ops.commands import add_parsers as add_operation_parsers

DEV_SECRET = "whsec_local_development_only"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


# Commands ---------------------------------------------------------------------------------------


def cmd_sign(args: argparse.Namespace) -> int:
    from .local.commands import run_sign

    return run_sign(args.file, args.secret, args.apigw)


def cmd_sqs_event(args: argparse.Namespace) -> int:
    from .local.commands import run_sqs_event

    return run_sqs_event(args.files)


def cmd_fortnox_sim(args: argparse.Namespace) -> int:
    from fortnox_sim import serve

    try:
        serve(args.host, args.port)
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_PORT)
    return EXIT_OK


def cmd_dev(args: argparse.Namespace) -> int:
    from .local.commands import run_dev

    return run_dev(args.host, args.port, args.visibility_timeout)


def cmd_demo(args: argparse.Namespace) -> int:
    from .local.demo import run_demo

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
