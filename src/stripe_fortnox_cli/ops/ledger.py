"""`stripe-fortnox ledger`: Stripe's balance against the Stripe clearing account in Fortnox, payout by
payout, with what differs and why. Exit 1 when something differs.

For every payout arriving in the period it reads the payout's transactions from Stripe, and from
Fortnox the documents the sync made for them: the payout's voucher (the state table names it), each
charge's sale and its payments, each refund's credit and its payback, a failed payout's reversal
(`ledger_check.py` does the arithmetic). Reading costs about two Fortnox requests per charge or
refund, within the stack's shared rate window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.fortnox_index import fortnox_client
from stripe_fortnox_cli.ops.ledger_check import PayoutCheck, check_payout
from stripe_fortnox_cli.ops.ledger_fortnox import FortnoxDocuments
from stripe_fortnox_cli.ops.progress import plural
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.stripe_source import stripe_client, stripe_errors
from stripe_fortnox_sync.mapping.balance import CATEGORIES, Entry, Kind, classify_all

if TYPE_CHECKING:
    import stripe

HEADER = (
    f"{'PAYOUT':<30} {'ARRIVAL':<10}  {'AMOUNT SEK':>12}  {'VOUCHER':<9} {'VIA 1580 SEK':>14}  "
    f"{'1580 NET':>10}  CHECK"
)


@dataclass
class LedgerOptions:
    stripe_key: str | None = None
    since: date | None = None
    until: date | None = None


def _sek(ore: int) -> str:
    return f"{Decimal(ore).scaleb(-2):,.2f}".replace(",", " ")


def _timestamp(day: date, end: bool = False) -> int:
    moment = datetime.combine(day, time.max if end else time.min, UTC)
    return int(moment.timestamp())


def _payouts(client: stripe.StripeClient, since: date, until: date) -> Iterator[dict[str, Any]]:
    params: Any = {
        "arrival_date": {"gte": _timestamp(since), "lte": _timestamp(until, end=True)},
        "limit": 100,
    }
    with stripe_errors():
        for payout in client.v1.payouts.list(params=params).auto_paging_iter():
            yield payout.to_dict()


def _transactions(client: stripe.StripeClient, payout_id: str) -> list[dict[str, Any]]:
    params: Any = {"payout": payout_id, "limit": 100, "expand": ["data.source"]}
    with stripe_errors():
        return [t.to_dict() for t in client.v1.balance_transactions.list(params=params).auto_paging_iter()]


def _stripe_balance(client: stripe.StripeClient, out: TextIO) -> None:
    with stripe_errors():
        balance = client.v1.balance.retrieve().to_dict()
    parts = {kind: sum(int(b["amount"]) for b in balance.get(kind) or [] if b.get("currency") == "sek")
             for kind in ("available", "pending")}  # fmt: skip
    print(
        f"Stripe holds {_sek(sum(parts.values()))} SEK now "
        f"(available {_sek(parts['available'])}, pending {_sek(parts['pending'])}).",
        file=out,
    )


def _check(
    docs: FortnoxDocuments, payout: Mapping[str, Any], txns: Sequence[Mapping[str, Any]]
) -> PayoutCheck:
    payout_id, amount = str(payout["id"]), int(payout["amount"])
    # A transaction of a kind the sync does not book is left out here: its payout is then not
    # booked either, which the check reports.
    known = [
        t
        for t in txns
        if str(t.get("reporting_category") or t.get("type")) in CATEGORIES or t.get("type") == "payout"
    ]
    entries: Sequence[Entry] = classify_all(known, payout_id, "sek")
    voucher = docs.voucher(payout_id)
    by_source: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.kind is Kind.CLEARING:
            by_source[entry.source_id].append(entry)
    movements = {source: docs.movement(group) for source, group in by_source.items()}
    return check_payout(
        payout_id,
        amount,
        entries,
        voucher.name if voucher else None,
        voucher.clearing if voucher else None,
        movements,
        voucher.sales if voucher else frozenset(),
        transfer=not payout.get("automatic"),
    )


def _print(check: PayoutCheck, arrival: date, out: TextIO) -> None:
    n = len(check.differences)
    verdict = "booked in full" if not n else plural(n, "difference")
    print(
        f"{check.payout_id:<30} {arrival.isoformat()}  {_sek(check.amount):>12}  {check.voucher or '-':<9} "
        f"{_sek(check.through_clearing):>14}  {_sek(check.net):>10}  {verdict}",
        file=out,
    )
    for difference in check.differences:
        print(f"    {difference.source:<26} {_sek(difference.amount):>12}  {difference.why}", file=out)


def _summary(checks: Sequence[PayoutCheck], requests: int, out: TextIO) -> None:
    full = sum(1 for c in checks if not c.differences)
    total = sum(c.net for c in checks)
    print(
        f"{full} of {plural(len(checks), 'payout')} booked in full; the clearing account nets to "
        f"{_sek(total)} SEK for their transactions ({plural(requests, 'Fortnox request')}).",
        file=out,
    )


def ledger(stack: Stack, options: LedgerOptions, out: TextIO, err: TextIO) -> int:
    client = stripe_client(stack, options.stripe_key, err)
    until = options.until or date.today()
    since = options.since or until - timedelta(days=30)
    docs = FortnoxDocuments.open(stack, fortnox_client(stack.settings, stack.tenant))
    _stripe_balance(client, out)
    payouts = sorted(_payouts(client, since, until), key=lambda p: (int(p.get("arrival_date") or 0), p["id"]))
    print(f"{plural(len(payouts), 'payout')} arriving {since} to {until}:", file=out)
    print(HEADER, file=out)
    checks = []
    for payout in payouts:
        arrival = datetime.fromtimestamp(int(payout.get("arrival_date") or 0), UTC).date()
        txns = _transactions(client, str(payout["id"])) if payout.get("automatic") else []
        check = _check(docs, payout, txns)
        checks.append(check)
        _print(check, arrival, out)
    _summary(checks, docs.requests, out)
    docs.print_simulator_balance(since, until, out)
    return EXIT_FAILED if any(c.differences for c in checks) else EXIT_OK
