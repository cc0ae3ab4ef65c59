"""The operator commands on the command line: `backfill`, `redrive`, `status`, `reconcile`, `ledger`,
`book-day`.

Each works on a deployed stack (`--stack`, `--outputs`) or on the local stack (`--local`). Only
argparse is imported here: the commands' own modules (boto3, Stripe, the layer) load when one of
them runs, so `stripe-fortnox sign` and friends start quickly.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, exit_codes_help, fail
from stripe_fortnox_cli.local_state import DEFAULT_STATE_DIR, NotRunning, require_running
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.tenants_args import add_parser as add_tenants_parser

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from stripe_fortnox_cli.ops.stack import Stack

_Options = TypeVar("_Options", bound="DataclassInstance")

EXIT_CODES = exit_codes_help(
    (EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_AUTH),
    {EXIT_FAILED: "something needs attention (see the command's description) or it could not finish"},
)


def _command(sub: Any, name: str, target: argparse.ArgumentParser, summary: str, more: str) -> Any:
    """An operator command's parser: the stack options, its help, and the exit codes."""
    return sub.add_parser(
        name,
        parents=[target],
        help=summary,
        description=textwrap.fill(f"{more} {_LOCAL_NOTE}", width=88),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


_LOCAL_NOTE = (
    "With --local it works on the stack `stripe-fortnox dev` runs, and exits 2 at once when that is "
    "not running."
)


def _target() -> argparse.ArgumentParser:
    """The options that choose the stack, shared by every operator command."""
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
        const=str(DEFAULT_STATE_DIR),
        metavar="STATE_DIR",
        help="the local stack of `stripe-fortnox dev` (its STATE_DIR/outputs.json; "
        f"default {DEFAULT_STATE_DIR})",
    )
    target.add_argument(
        "--region", help="AWS region of a deployed stack (default: the usual AWS configuration)"
    )
    return target


def _stripe_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stripe-key",
        help="Stripe key with read access to Customers (default $STRIPE_API_KEY, else the stack's "
        "secret); $STRIPE_API_BASE points at another API (localstripe)",
    )


def _tenant(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--tenant", metavar="ID", help=f"{what} (docs/tenants.md; default: tenant `default`, the stack's own)"
    )


def _waiting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="follow the sync until the queue is empty")
    parser.add_argument(
        "--wait-timeout", type=float, metavar="SECONDS", help="give up waiting after this long"
    )


def _backfill_options(parser: argparse.ArgumentParser) -> None:
    _stripe_key(parser)
    _tenant(parser, "the tenant whose customers to sync: its Stripe account, keys and Fortnox company")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be created, updated, left alone"
    )
    parser.add_argument("--list", action="store_true", help="one line per customer (ids only)")
    parser.add_argument("--cursor", metavar="FILE", help="where progress is kept (default: per stack)")
    parser.add_argument(
        "--restart", action="store_true", help="ignore a saved cursor and start from the newest"
    )
    parser.add_argument(
        "--max-customers", type=int, metavar="N", help="queue at most N customers in this run"
    )
    _waiting(parser)


def _redrive_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="list the events and why they failed; move nothing"
    )
    parser.add_argument(
        "--reason", action="append", metavar="REASON", help="only events parked for this reason (repeatable)"
    )
    parser.add_argument("--max-messages", type=int, metavar="N", help="move or list at most N events")
    parser.add_argument(
        "--tenant",
        metavar="ID",
        help="only this tenant's events (`default` for the stack's own; default: all)",
    )
    parser.add_argument(
        "--to",
        choices=("auto", "live", "bulk"),
        default="auto",
        help="where the events go: the event queue (live), the bulk queue, or auto: the bulk queue "
        "from 100 events, so a large redrive holds no tenant's live webhooks behind it",
    )


def _status_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    _tenant(parser, "the tenant whose mapping, customers and Fortnox token to show")
    parser.add_argument("--customer", metavar="CUS_ID", help="one customer's mapping and recent activity")


def _reconcile_options(parser: argparse.ArgumentParser) -> None:
    _stripe_key(parser)
    _tenant(parser, "the tenant to compare: its Stripe account, mapping and Fortnox company")
    parser.add_argument("--csv", metavar="FILE", help="also write the findings as CSV")
    parser.add_argument("--fix", action="store_true", help="queue synthetic events that fix the differences")
    parser.add_argument(
        "--show-values", action="store_true", help="show drifted values, not only field names (personal data)"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --fix: queue fixes that mark more than 5 Fortnox customers (or 10%% of the mapped) "
        "inactive without asking; without a terminal they are refused otherwise",
    )
    _waiting(parser)


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {raw!r}") from None


def _ledger_options(parser: argparse.ArgumentParser) -> None:
    _stripe_key(parser)
    _tenant(parser, "the tenant whose payouts or day to check: its Stripe account, records, Fortnox")
    parser.add_argument("--since", type=_day, metavar="DATE", help="first arrival day (default: 30 days ago)")
    parser.add_argument("--until", type=_day, metavar="DATE", help="last arrival day (default: today)")
    parser.add_argument(
        "--day",
        type=_day,
        metavar="DATE",
        help="summary booking: the day's sales per bucket, Stripe's figures beside the voucher's",
    )


def _book_day_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("days", nargs="+", type=_day, metavar="DATE", help="the day (YYYY-MM-DD)")
    _tenant(parser, "the tenant whose day to book: its records and Fortnox company")


# Each operator command: its name, one line for the list of commands, its description, its options.
COMMANDS: tuple[tuple[str, str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    (
        "backfill",
        "sync every existing Stripe customer through the queue (resumable)",
        "Queue one synthetic customer.updated event per Stripe customer. Unmapped customers are "
        "matched against one full Fortnox listing, so each costs about one Fortnox request. It prints "
        "the plan and how long Fortnox's rate limit makes it take before it queues anything.",
        _backfill_options,
    ),
    (
        "redrive",
        "move dead-letter events back to the event queue",
        "Move parked events back to the event queue (same message group, new deduplication id), "
        "or with --dry-run list them and why they were parked.",
        _redrive_options,
    ),
    (
        "status",
        "mapped customers, queues, last sync, Fortnox token health",
        "Show mapped customers by state, guest buyers, the last sync, the queues and the Fortnox "
        "token's health. Exit 1 when something needs attention (dead letters, an expiring refresh token).",
        _status_options,
    ),
    (
        "reconcile",
        "compare Stripe, the mapping and Fortnox; --fix queues the fixes",
        "Report missing, orphaned and drifted customers (Name, Email, ZipCode, City, Address1, "
        "OrganisationNumber). Exit 1 when there are differences that were not queued for fixing.",
        _reconcile_options,
    ),
    (
        "ledger",
        "Stripe's balance against the Stripe clearing account in Fortnox, payout by payout",
        "For every Stripe payout arriving in the period, compare what its transactions moved through "
        "Stripe's balance with what the Fortnox documents the sync made (the payout's voucher, each "
        "charge's sale and payments, each refund's credit) did to the Stripe clearing account (1580), "
        "and say what differs and why. Exit 1 when something differs.",
        _ledger_options,
    ),
    (
        "book-day",
        "summary booking: book a Stockholm day's sales voucher now (a redo books only what is new)",
        "Book the sales voucher of each day given, as the schedule does after midnight: one voucher per "
        "day, then a correction voucher for payments or refunds recorded after it; a day booked in full "
        "books nothing again (docs/summary-booking.md). Exit 1 when a day could not be booked.",
        _book_day_options,
    ),
)


def add_parsers(sub: Any) -> None:
    """Add `backfill`, `redrive`, `status`, `reconcile`, `ledger`, `book-day` and `tenants` to the
    CLI's sub-parsers."""
    target = _target()
    for name, summary, description, options in COMMANDS:
        parser = _command(sub, name, target, summary, description)
        options(parser)
        parser.set_defaults(func=run_command)
    add_tenants_parser(sub, target, _command, run_command)


# Running one ------------------------------------------------------------------------------------


def _options(kind: type[_Options], args: argparse.Namespace, **given: Any) -> _Options:
    """A command's options: each field from the parsed argument of its name, unless `given`."""
    parsed = {f.name: getattr(args, f.name) for f in dataclasses.fields(kind) if hasattr(args, f.name)}
    return kind(**{**parsed, **given})


def _dispatch(stack: Stack, args: argparse.Namespace) -> int:
    from stripe_fortnox_cli.ops import backfill, ledger, reconcile, redrive, status
    from stripe_fortnox_cli.ops.tenant_scope import require_consent, scoped

    out, err = sys.stdout, sys.stderr
    if args.command in ("backfill", "status", "reconcile", "ledger", "book-day"):
        stack = scoped(stack, args.tenant)
    if args.command in ("backfill", "reconcile", "ledger", "book-day"):
        require_consent(stack)
    if args.command == "backfill":
        cursor = Path(args.cursor) if args.cursor else None
        backfill_options = _options(backfill.BackfillOptions, args, cursor=cursor, list_customers=args.list)
        return backfill.backfill(stack, backfill_options, out, err)
    if args.command == "redrive":
        redrive_options = _options(redrive.RedriveOptions, args, reasons=frozenset(args.reason or ()))
        return redrive.redrive(stack, redrive_options, out, err)
    if args.command == "status":
        return status.status(stack, _options(status.StatusOptions, args), out)
    if args.command == "reconcile":
        csv_path = Path(args.csv) if args.csv else None
        return reconcile.reconcile(
            stack, _options(reconcile.ReconcileOptions, args, csv_path=csv_path), out, err
        )
    if args.command == "tenants":
        from stripe_fortnox_cli.ops import tenants

        return tenants.tenants(stack, args, out)
    if args.command == "book-day":
        from stripe_fortnox_cli.ops import book_day

        return book_day.book_days(stack, book_day.BookDayOptions(tuple(args.days)), out, err)
    if args.command == "ledger" and args.day is not None:
        from stripe_fortnox_cli.ops import book_day

        return book_day.ledger_day(stack, args.day, out, err)
    if args.command == "ledger":
        return ledger.ledger(stack, _options(ledger.LedgerOptions, args), out, err)
    raise OperationError(f"unknown command {args.command}")


def run_command(args: argparse.Namespace) -> int:
    """The CLI's operator commands; errors become exit codes."""
    if args.local is not None:
        # Before boto3 is even imported: a stopped stack's port refuses at once, while botocore
        # would retry it for half a minute.
        try:
            require_running(Path(args.local))
        except NotRunning as exc:
            return fail(str(exc), EXIT_CONFIG)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from stripe_fortnox_cli import metrics_output
    from stripe_fortnox_cli.ops.stack import open_stack
    from stripe_fortnox_cli.ops.store import QueueError
    from stripe_fortnox_sync.core.errors import ConfigError, FortnoxAuthError, FortnoxError, RateLimitTimeout

    # The sync's Fortnox client counts into Powertools' metrics here too: never onto stdout.
    metrics_output.hold()
    try:
        return _dispatch(open_stack(args), args)
    except OperationError as exc:
        return fail(str(exc), exc.exit_code)
    except FortnoxAuthError as exc:
        return fail(f"Fortnox refused the credentials: {exc}", EXIT_AUTH)
    except (FortnoxError, RateLimitTimeout, QueueError) as exc:
        return fail(str(exc), EXIT_FAILED)
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    except NoCredentialsError:
        return fail("no AWS credentials found (profile, environment or SSO)", EXIT_CONFIG)
    except NoRegionError:
        return fail("no AWS region: pass --region or set AWS_REGION", EXIT_CONFIG)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return fail(
            f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}", EXIT_FAILED
        )
    except BotoCoreError as exc:
        hint = " (is `stripe-fortnox dev` running?)" if os.environ.get("AWS_ENDPOINT_URL") else ""
        return fail(f"cannot reach AWS: {exc}{hint}", EXIT_FAILED)
    finally:
        metrics_output.release()
