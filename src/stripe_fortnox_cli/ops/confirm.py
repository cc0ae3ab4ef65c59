"""Asking before a reconcile fix marks many Fortnox customers inactive.

A wrong key, a wrong stack or a bulk deletion in Stripe looks like many customers deleted at
once; marking their Fortnox customers inactive is easy to do and tedious to undo. Above a
handful, or above a share of what is mapped, an operator confirms at a terminal or passes --yes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from typing import TextIO

from stripe_fortnox_cli.exits import EXIT_CONFIG
from stripe_fortnox_cli.ops.errors import OperationError

HANDFUL = 5
SHARE = 0.10

# Shows the question, returns the answer (`input` at a terminal).
Ask = Callable[[str], str]


def needs_confirmation(deactivations: int, mapped: int) -> bool:
    """More than a handful of Fortnox customers, or more than a tenth of the mapped ones."""
    return deactivations > HANDFUL or (deactivations > 0 and deactivations > SHARE * mapped)


def terminal_ask() -> Ask | None:
    """`input`, when someone is at a terminal to answer it; None otherwise (cron, CI, a pipe)."""
    return input if sys.stdin.isatty() else None


def confirm_deactivations(
    numbers: Collection[str], mapped: int, *, yes: bool, ask: Ask | None, out: TextIO
) -> bool:
    """Whether the fixes may be queued: True without asking below the threshold or with --yes.

    Without a terminal to ask at, refuses (exit 2): nothing answered is not a yes.
    """
    count = len(numbers)
    if yes or not needs_confirmation(count, mapped):
        return True
    share = f"{count / mapped:.0%} of the {mapped:,} mapped" if mapped else "none are mapped"
    customers = "Fortnox customer" if count == 1 else "Fortnox customers"
    what = f"the fixes would mark {count:,} {customers} inactive ({share})"
    if ask is None:
        raise OperationError(
            f"{what}: confirm at a terminal, or pass --yes once you have checked the list above",
            EXIT_CONFIG,
        )
    print(f"Careful: {what}.", file=out)
    return ask("Queue the fixes? Type yes to go on: ").strip().lower() in ("y", "yes")
