"""The demo's second week: with a Stripe key stored, two more sales, a dispute, the payout that holds
the week's sales, refunds, fees and the dispute, and the dispute lost. The books are printed at the
end: the payout's voucher and the general ledger, where the Stripe clearing account closes at 0.00.

What the local Stripe API holds for it is in `events/stripe-api.json`: the customers as Stripe has
them now, the payout with the balance transactions it paid out, the dispute as it closed.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from .console import render_table
from .stack import LocalStack
from .stripe_fake import FakeStripeApi

TENANT = "local-tenant"  # the embedded simulator's tenant (fortnox_target.start_fortnox)
VOUCHER_COLUMNS = ("Account", "Debit", "Credit", "TransactionInformation", "Description")
# The accounts a payout touches, in the order the bookkeeper reads them.
LEDGER_ACCOUNTS = (1580, 1930, 1515, 6570, 2645, 2614)


def load_stripe_api(api: FakeStripeApi, path: Path) -> None:
    """Put `events/stripe-api.json`'s objects in the local Stripe API."""
    held = json.loads(path.read_text(encoding="utf-8"))
    for customer in held.get("customers", []):
        api.add_customer(customer)
    for entry in held.get("payouts", []):
        api.add_payout(entry["payout"], entry["transactions"])
    for dispute in held.get("disputes", []):
        api.add_dispute(dispute)


def _balances(stack: LocalStack) -> dict[int, Decimal]:
    assert stack.fortnox is not None and stack.fortnox.simulator is not None
    accounts = stack.fortnox.simulator.ledger(TENANT, accounts=LEDGER_ACCOUNTS)["accounts"]
    return {a: Decimal(str(accounts.get(str(a), {}).get("closing_balance", 0))) for a in LEDGER_ACCOUNTS}


def _payout_vouchers(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.fortnox is not None and stack.fortnox.simulator is not None
    return [v for v in stack.fortnox.simulator.vouchers(TENANT) if v.get("VoucherSeries") == "A"]


def book_summary_days(stack: LocalStack, first: date, last: date) -> None:
    """Summary booking (`--booking-mode summary`): book every day from `first` to `last` as the
    schedule would after midnight (`stripe-fortnox book-day --local`)."""
    from stripe_fortnox_cli.ops.book_day import BookDayOptions, book_days
    from stripe_fortnox_cli.ops.stack import open_local

    days = tuple(first + timedelta(days=n) for n in range((last - first).days + 1))
    print(f"\nThe days are over: stripe-fortnox book-day {first} ... {last} (summary booking)")
    out = io.StringIO()
    book_days(open_local(stack.state_dir), BookDayOptions(days), out, sys.stderr)
    for line in out.getvalue().splitlines():
        if "no payments" not in line:
            print(f"  {line}")


def report_books(stack: LocalStack, expected: Mapping[str, Any]) -> list[str]:
    """Print the payout vouchers and the ledger; how they differ from `expected`."""
    vouchers = _payout_vouchers(stack)
    for voucher in vouchers:
        name = f"{voucher['VoucherSeries']} {voucher['VoucherNumber']}"
        print(f"\nVoucher {name} {voucher['TransactionDate']}: {voucher['Description']}")
        print(render_table(voucher["VoucherRows"], VOUCHER_COLUMNS))
    balances = _balances(stack)
    print("\nGeneral ledger (simulator), closing balances, debit positive:")
    for account, balance in balances.items():
        print(f"  {account}  {balance:>10.2f} SEK")
    problems = []
    wanted = [v["Description"] for v in expected.get("vouchers", [])]
    found = [v["Description"] for v in vouchers]
    if sorted(found) != sorted(wanted):
        problems.append(f"vouchers {found}, expected exactly {wanted}")
    for account, value in expected.get("ledger", {}).items():
        if balances.get(int(account)) != Decimal(str(value)):
            problems.append(f"account {account} closes at {balances.get(int(account))}, expected {value}")
    return problems
