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
from typing import Any

from stripe_fortnox_cli.exits import EXIT_OK, EXIT_PORT, fail

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
    from .fortnox_sim import serve

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


def cmd_operation(args: argparse.Namespace) -> int:
    from .operations import run_command

    return run_command(args)


def _add_operation_parsers(sub: Any) -> None:
    target = argparse.ArgumentParser(add_help=False)
    choice = target.add_mutually_exclusive_group()
    choice.add_argument(
        "--stack", help="CloudFormation stack name (default $STRIPE_FORTNOX_STACK or stripe-fortnox-sync)"
    )
    choice.add_argument(
        "--outputs", metavar="FILE", help="stack outputs as JSON (describe-stacks output or a flat object)"
    )
    choice.add_argument(
        "--local",
        nargs="?",
        const=".local-stack",
        metavar="STATE_DIR",
        help="the local stack of `stripe-fortnox dev` (its outputs.json; default .local-stack)",
    )
    target.add_argument(
        "--region", help="AWS region of a deployed stack (default: the usual AWS configuration)"
    )

    def stripe_key(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--stripe-key",
            help="Stripe key with read access to Customers (default $STRIPE_API_KEY, else the stack's "
            "secret); $STRIPE_API_BASE points at another API (localstripe)",
        )

    def waiting(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--wait", action="store_true", help="follow the sync until the queue is empty")
        parser.add_argument(
            "--wait-timeout", type=float, metavar="SECONDS", help="give up waiting after this long"
        )

    backfill = sub.add_parser(
        "backfill",
        parents=[target],
        help="sync every existing Stripe customer through the queue (resumable)",
        description="Queue one synthetic customer.updated event per Stripe customer. Unmapped customers are "
        "matched against one full Fortnox listing, so each costs about one Fortnox request.",
    )
    stripe_key(backfill)
    backfill.add_argument(
        "--dry-run", action="store_true", help="show what would be created, updated, left alone"
    )
    backfill.add_argument("--list", action="store_true", help="one line per customer (ids only)")
    backfill.add_argument("--cursor", metavar="FILE", help="where progress is kept (default: per stack)")
    backfill.add_argument(
        "--restart", action="store_true", help="ignore a saved cursor and start from the newest"
    )
    backfill.add_argument(
        "--max-customers", type=int, metavar="N", help="queue at most N customers in this run"
    )
    waiting(backfill)
    backfill.set_defaults(func=cmd_operation)

    redrive = sub.add_parser(
        "redrive",
        parents=[target],
        help="move dead-letter events back to the event queue",
        description="Move parked events back to the event queue (same message group, new deduplication id).",
    )
    redrive.add_argument(
        "--dry-run", action="store_true", help="list the events and why they failed; move nothing"
    )
    redrive.add_argument(
        "--reason", action="append", metavar="REASON", help="only events parked for this reason (repeatable)"
    )
    redrive.add_argument("--max-messages", type=int, metavar="N", help="move or list at most N events")
    redrive.set_defaults(func=cmd_operation)

    status = sub.add_parser(
        "status", parents=[target], help="mapped customers, queues, last sync, Fortnox token health"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--customer", metavar="CUS_ID", help="one customer's mapping and recent activity")
    status.set_defaults(func=cmd_operation)

    reconcile = sub.add_parser(
        "reconcile",
        parents=[target],
        help="compare Stripe, the mapping and Fortnox; --fix queues the fixes",
        description="Report missing, orphaned and drifted customers (Name, Email, ZipCode, City, Address1, "
        "OrganisationNumber). Exit 1 when there are differences that were not queued for fixing.",
    )
    stripe_key(reconcile)
    reconcile.add_argument("--csv", metavar="FILE", help="also write the findings as CSV")
    reconcile.add_argument(
        "--fix", action="store_true", help="queue synthetic events that fix the differences"
    )
    reconcile.add_argument(
        "--show-values", action="store_true", help="show drifted values, not only field names (personal data)"
    )
    waiting(reconcile)
    reconcile.set_defaults(func=cmd_operation)


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

    _add_operation_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
