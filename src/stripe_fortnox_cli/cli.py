"""`stripe-fortnox`: argument parsing only; each command's work is in `local/` and `ops/`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from stripe_fortnox_cli.exits import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PORT,
    exit_codes_help,
    fail,
)
from stripe_fortnox_cli.local_state import DEFAULT_STATE_DIR
from stripe_fortnox_cli.ops.commands import add_parsers as add_operation_parsers

if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]  # what `add_subparsers` returns

DEV_SECRET = "whsec_local_development_only"
DESCRIPTION = """\
stripe-fortnox: the command of stripe-fortnox-sync, a self-hosted sync from Stripe to Fortnox.

Run the whole pipeline on this machine (dev, demo), the Fortnox simulator on its own
(fortnox-sim), sign sample events (sign, sqs-event), and operate a deployed or local
stack (backfill, redrive, status, reconcile, ledger, book-day) and its tenants (tenants).
`stripe-fortnox COMMAND --help` says more."""


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _version() -> str:
    try:
        return version("stripe-fortnox-sync")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


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

    return run_dev(args.host, args.port, args.visibility_timeout, Path(args.state_dir))


def cmd_demo(args: argparse.Namespace) -> int:
    from .local.demo import run_demo

    state_dir = Path(args.state_dir) if args.state_dir else None
    if args.tenants:
        from .local.demo_tenants import run_tenants_demo

        return run_tenants_demo(Path(args.events), port=args.port, state_dir=state_dir)
    return run_demo(Path(args.events), port=args.port, state_dir=state_dir, booking_mode=args.booking_mode)


# Parser -----------------------------------------------------------------------------------------


def _subparser(
    sub: Subcommands, name: str, text: str, *codes: int, said: dict[int, str] | None = None
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=exit_codes_help(codes, said),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_local_parsers(sub: Subcommands) -> None:
    dev = _subparser(
        sub,
        "dev",
        "run the whole pipeline locally until Ctrl-C, one line per request and event",
        EXIT_OK,
        EXIT_CONFIG,
        EXIT_PORT,
        EXIT_AUTH,
    )
    dev.add_argument("--host", default="127.0.0.1", help="address the webhook listens on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=3000, help="webhook port (default 3000)")
    dev.add_argument(
        "--visibility-timeout",
        type=int,
        default=5,
        metavar="SECONDS",
        help="seconds before a failed event is retried (default 5; 360 in AWS)",
    )
    dev.add_argument(
        "--state-dir",
        default=str(DEFAULT_STATE_DIR),
        metavar="DIR",
        help=f"where its logs and outputs go, which `--local` reads (default {DEFAULT_STATE_DIR}); "
        "refused while another stack runs there",
    )
    dev.set_defaults(func=cmd_dev)

    sim = _subparser(
        sub, "fortnox-sim", "run the Fortnox API simulator on its own", EXIT_OK, EXIT_CONFIG, EXIT_PORT
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    sim.set_defaults(func=cmd_fortnox_sim)

    sign = _subparser(
        sub, "sign", "print the Stripe-Signature header for an event file, signed now", EXIT_OK, EXIT_CONFIG
    )
    sign.add_argument("file", help="a Stripe event as JSON, e.g. events/stripe/01-customer.created.json")
    sign.add_argument(
        "--secret",
        metavar="WHSEC",
        default=DEV_SECRET,
        help=f"endpoint signing secret, or several comma-separated (the first signs; default {DEV_SECRET}); "
        "`dev` prints the line to use",
    )
    sign.add_argument(
        "--apigw", action="store_true", help="print the API Gateway event for `sam local invoke` instead"
    )
    sign.set_defaults(func=cmd_sign)

    sqs = _subparser(
        sub,
        "sqs-event",
        "print Stripe event files as the SQS event the sync function gets",
        EXIT_OK,
        EXIT_CONFIG,
    )
    sqs.add_argument("files", nargs="+", metavar="FILE", help="Stripe events as JSON, queued in this order")
    sqs.set_defaults(func=cmd_sqs_event)

    demo = _subparser(
        sub,
        "demo",
        "run a local stack of its own on the sample events and check the Fortnox result",
        EXIT_OK,
        EXIT_FAILED,
        EXIT_CONFIG,
        EXIT_PORT,
        said={EXIT_FAILED: "an event did not land as the expectations (expected.json) say"},
    )
    demo.add_argument(
        "--events",
        default=str(_repo_root() / "events" / "stripe"),
        metavar="DIR",
        help="the sample events (default events/stripe; expectations in the parent's expected.json)",
    )
    demo.add_argument("--port", type=int, default=0, help="webhook port (default: any free one)")
    demo.add_argument(
        "--state-dir",
        metavar="DIR",
        help="keep its logs and outputs there (default: a temporary directory, kept only if the demo fails)",
    )
    demo.add_argument(
        "--booking-mode",
        choices=("invoices", "summary"),
        default="invoices",
        help="invoices (default): an invoice per sale; summary: one voucher per day, booked at the end "
        "(docs/summary-booking.md; expectations in expected-summary.json)",
    )
    demo.add_argument(
        "--tenants",
        action="store_true",
        help="two Fortnox companies side by side: the same events to each tenant's URL "
        "(expectations in expected-tenants.json)",
    )
    demo.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stripe-fortnox",
        description=DESCRIPTION,
        epilog=exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    _add_local_parsers(sub)
    add_operation_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
