"""`stripe-fortnox ledger`'s arithmetic: for one payout, what its transactions did to the Stripe
clearing account in Fortnox, against what Stripe says moved through Stripe's balance.

Each transaction on the clearing account has its other side in a Fortnox document the sync made: a
charge in its sale's payment (a debit of 1580), a refund in its credit's payback (a credit), a failed
payout returning in the reversal voucher; the payout voucher takes every one of them out again. When
all is booked, each Stripe object's documents move 1580 by exactly its transactions' amounts, the
voucher by minus their sum, and 1580 nets to 0.00 for the payout. Every way it does not is a
`Difference`: the object, by how much 1580 is off (positive: Fortnox holds more than Stripe), and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from stripe_fortnox_sync.mapping.balance import Entry, Kind

# Why an object's documents moved 1580 otherwise than its transactions, by what is missing.
WHY_MISSING: Mapping[str, str] = {
    "charge": "no Fortnox sale paid into the clearing account (its invoice.paid or payment_intent.succeeded "
    "is parked or never came)",
    "refund": "no Fortnox credit paid back through the clearing account (its refund.created is parked or "
    "never came)",
    "payout": "the failed payout's reversal voucher is not booked",
}


@dataclass(frozen=True)
class Difference:
    source: str
    amount: int
    why: str


@dataclass(frozen=True)
class Movement:
    """What the Fortnox documents of one Stripe object did to 1580 (öre, debit positive), or None
    when there is none; `note` says what was found (invoice numbers, unbooked payments)."""

    amount: int | None
    note: str = ""


@dataclass
class PayoutCheck:
    payout_id: str
    amount: int
    voucher: str | None
    # What Stripe moved through its balance on the clearing account's objects, öre.
    through_clearing: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def net(self) -> int:
        """1580's net for the payout's transactions: zero when everything is booked."""
        return sum(d.amount for d in self.differences)


def clearing_by_source(entries: Sequence[Entry]) -> dict[str, int]:
    """The payout's transactions on the clearing account, summed per Stripe object (a charge with its
    partial-capture reversal, a refund with its failure)."""
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.kind is Kind.CLEARING:
            totals[entry.source_id] += entry.amount
    return dict(totals)


def _kind(source: str) -> str:
    prefix = source.split("_", 1)[0]
    return {"ch": "charge", "py": "charge", "re": "refund", "pyr": "refund", "po": "payout"}.get(prefix, "")


def check_payout(
    payout_id: str,
    amount: int,
    entries: Sequence[Entry],
    voucher: str | None,
    voucher_clearing: int | None,
    movements: Mapping[str, Movement],
    booked_as_sales: frozenset[str] = frozenset(),
    *,
    transfer: bool = False,
) -> PayoutCheck:
    """One payout: its transactions (`entries`), the 1580 net of its voucher (None: not booked), and
    each Stripe object's documents' movement of 1580. `booked_as_sales`: charges the voucher booked
    as sales (from before SalesStartDate), which never touch 1580. `transfer`: a manual payout,
    which Stripe does not break down: only its own amount is checked."""
    expected = {s: a for s, a in clearing_by_source(entries).items() if s not in booked_as_sales}
    check = PayoutCheck(payout_id, amount, voucher, amount if transfer else sum(expected.values()))
    for source, stripe_amount in expected.items():
        moved = movements.get(source, Movement(None))
        if moved.amount == stripe_amount:
            continue
        kind = _kind(source)
        if moved.amount is None:
            why = WHY_MISSING.get(kind, "not booked by the sync: book its other side by hand")
            check.differences.append(Difference(source, -stripe_amount, why))
        else:
            why = f"Fortnox moved {_sek(moved.amount)}, Stripe {_sek(stripe_amount)}"
            check.differences.append(Difference(source, moved.amount - stripe_amount, f"{why}{_note(moved)}"))
    if voucher_clearing is None:
        why = "payout not booked: no voucher (is its payout.paid parked?)"
        check.differences.append(Difference(payout_id, check.through_clearing, why))
    elif voucher_clearing != -check.through_clearing:
        stripe_side = _sek(-check.through_clearing)
        why = f"voucher {voucher} moves {_sek(voucher_clearing)} on 1580, Stripe's transactions {stripe_side}"
        check.differences.append(Difference(payout_id, voucher_clearing + check.through_clearing, why))
    return check


def _note(moved: Movement) -> str:
    return f" ({moved.note})" if moved.note else ""


def _sek(ore: int) -> str:
    return f"{Decimal(ore).scaleb(-2):.2f} SEK"
