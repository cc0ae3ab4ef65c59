"""A Stripe payout as one Fortnox voucher, and the reversal of a payout that failed.

The payout voucher, dated on the arrival day: the bank account gets the payout amount (debit; a
negative payout is a credit: every side follows the sign); each transaction's `amount` leaves the
account `balance.classify` names for it (a charge credits the clearing account, a refund debits it,
a withdrawn dispute debits dispute clearing); Stripe's fees go to the fees account, with the
reverse-charge pair (input VAT debit, output VAT credit, 25 %) when that setting is on. Because the
payout is the sum of the transactions' nets, the rows balance to the öre by construction.

Up to `itemised_rows` transactions get a row each, their Stripe id in TransactionInformation; a
larger payout gets one row per category and an itemised report (CSV) to attach to the voucher.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.balance import Entry, Kind, reverse_charged
from stripe_fortnox_sync.mapping.money import minor_to_decimal
from stripe_fortnox_sync.mapping.voucher import Voucher, VoucherRow

REVERSE_CHARGE_RATE = 25
# Row texts in Swedish, like the rest of the Fortnox company.
LABELS: Mapping[str, str] = {
    "charge": "Betalning",
    "refund": "Återbetalning",
    "partial_capture_reversal": "Ej dragen del av betalning",
    "refund_failure": "Misslyckad återbetalning",
    "payout_reversal": "Misslyckad utbetalning åter",
    "risk_reserved_funds": "Reserv hos Stripe",
    "topup": "Påfyllning av Stripe-saldo",
    "topup_reversal": "Påfyllning återförd",
    "dispute": "Tvist: belopp draget",
    "dispute_reversal": "Tvist: belopp återfört",
    "fee": "Stripe-avgift",
    "network_cost": "Kortnätverkets avgift",
    "tax": "Skatt på Stripe-avgift",
    "other_adjustment": "Justering från Stripe",
}


def description(payout_id: str) -> str:
    """The payout voucher's Description: exact and unique, how the sync finds it again."""
    return f"Stripe utbetalning {payout_id}"


def reversal_description(payout_id: str) -> str:
    return f"Stripe utbetalning {payout_id} misslyckad"


@dataclass(frozen=True)
class PayoutPlan:
    """The voucher of a payout, and the itemised report when its rows were summed by category."""

    voucher: Voucher
    report: str | None = None
    summary: str = ""


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero (öre)."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    whole, rest = divmod(abs(numerator), abs(denominator))
    return sign * (whole + (1 if 2 * rest >= abs(denominator) else 0))


def _sale_rows(entry: Entry, vat_rate: int, accounts: BookkeepingAccounts) -> list[VoucherRow]:
    """A charge from before invoices were synced, booked as the sale it was: sales and output VAT."""
    vat = _half_up(entry.amount * vat_rate, 100 + vat_rate) if vat_rate else 0
    text = "Försäljning (före fakturasynk)"
    rows = [VoucherRow(accounts.sales_account(None, vat_rate), -(entry.amount - vat), text, entry.source_id)]
    if vat:
        rows.append(
            VoucherRow(accounts.output_vat(vat_rate), -vat, f"Utgående moms {vat_rate} %", entry.source_id)
        )
    return rows


def _amount_rows(
    entry: Entry, accounts: BookkeepingAccounts, presales: Mapping[str, int]
) -> list[VoucherRow]:
    """The rows that take one transaction's amount off Stripe's balance: the amount's other side."""
    if entry.txn_id in presales:
        return _sale_rows(entry, presales[entry.txn_id], accounts)
    account = {
        Kind.CLEARING: accounts.stripe_clearing,
        Kind.DISPUTE: accounts.dispute_clearing,
        Kind.FEE: accounts.stripe_fees,
        Kind.FEE_NO_VAT: accounts.stripe_fees,
    }[entry.kind]
    return [VoucherRow(account, -entry.amount, LABELS[entry.category], entry.source_id)]


def _fee_label(entry: Entry, fee_type: str) -> str:
    if fee_type == "tax":
        return "Skatt på Stripe-avgifter"
    if fee_type == "application_fee":
        return "Plattformsavgifter"
    return "Stripe-avgifter, tvister" if entry.kind is Kind.DISPUTE else "Stripe-avgifter, betalningar"


def _fee_rows(entries: Sequence[Entry], accounts: BookkeepingAccounts) -> list[VoucherRow]:
    """The fees Stripe kept, one row per kind of fee (a fee is a debit: a cost)."""
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        for part in entry.fees:
            totals[_fee_label(entry, part.type)] += part.amount
    return [VoucherRow(accounts.stripe_fees, amount, label) for label, amount in totals.items() if amount]


def _reverse_charge_rows(entries: Sequence[Entry], accounts: BookkeepingAccounts) -> list[VoucherRow]:
    base = sum(reverse_charged(e) for e in entries)
    vat = _half_up(base * REVERSE_CHARGE_RATE, 100)
    if not vat:
        return []
    text = f"Omvänd skattskyldighet {REVERSE_CHARGE_RATE} % på Stripe-avgifter"
    return [
        VoucherRow(accounts.reverse_charge_input_vat, vat, f"Ingående moms, {text}"),
        VoucherRow(accounts.reverse_charge_output_vat, -vat, f"Utgående moms, {text}"),
    ]


def _summed(rows: Sequence[VoucherRow], counts: Mapping[tuple[int, str], int]) -> list[VoucherRow]:
    """One row per account and category, its count in the text, no Stripe id."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        totals[(row.account, row.text)] += row.amount
    return [
        VoucherRow(account, amount, f"{text} ({counts[(account, text)]} st)")
        for (account, text), amount in totals.items()
    ]


def report_csv(payout_id: str, entries: Sequence[Entry]) -> str:
    """Every transaction of the payout, for the bookkeeper: what the summed rows are made of."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["payout", "balance_transaction", "source", "category", "amount", "fee", "net"])
    for e in entries:
        amounts = (minor_to_decimal(v, "SEK") for v in (e.amount, e.fee, e.net))
        writer.writerow([payout_id, e.txn_id, e.source_id, e.category, *amounts])
    return out.getvalue()


def _comments(payout_id: str, entries: Sequence[Entry], day: date) -> str:
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        counts[LABELS[entry.category].lower()] += 1
    parts = ", ".join(f"{label} {n} st" for label, n in counts.items())
    fees = minor_to_decimal(sum(e.fee for e in entries), "SEK")
    return f"Stripe-utbetalning {payout_id} till banken {day.isoformat()}: {parts}; avgifter {fees} SEK."


def payout_voucher(
    payout_id: str,
    amount: int,
    day: date,
    entries: Sequence[Entry],
    accounts: BookkeepingAccounts,
    *,
    reverse_charge: bool,
    itemised_rows: int,
    presales: Mapping[str, int] | None = None,
) -> PayoutPlan:
    """The voucher of an automatic payout of `amount` öre from `entries` (its transactions, whose
    nets sum to `amount`). `presales`: transaction id -> VAT rate of charges booked as sales."""
    presales = presales or {}
    items = [row for e in entries for row in _amount_rows(e, accounts, presales)]
    report = None
    if len(entries) > itemised_rows:
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for row in items:
            counts[(row.account, row.text)] += 1
        items, report = _summed(items, counts), report_csv(payout_id, entries)
    rows = [VoucherRow(accounts.bank, amount, "Utbetalning från Stripe", payout_id), *items]
    rows += _fee_rows(entries, accounts)
    if reverse_charge:
        rows += _reverse_charge_rows(entries, accounts)
    voucher = Voucher(description(payout_id), _comments(payout_id, entries, day), day, tuple(rows))
    n = len(entries)
    return PayoutPlan(voucher, report, f"{n} transaction{'' if n == 1 else 's'}, {len(voucher.rows)} rows")


def transfer_voucher(payout_id: str, amount: int, day: date, accounts: BookkeepingAccounts) -> Voucher:
    """A payout that cannot be broken down (manual, instant): the transfer of its own amount only."""
    comments = f"Manuell Stripe-utbetalning {payout_id}: Stripes avgifter och övriga händelser bokas för sig."
    rows = (
        VoucherRow(accounts.bank, amount, "Utbetalning från Stripe", payout_id),
        VoucherRow(accounts.stripe_clearing, -amount, "Utbetalning från Stripe", payout_id),
    )
    return Voucher(description(payout_id), comments, day, rows)


def reversal_voucher(payout_id: str, amount: int, day: date, accounts: BookkeepingAccounts) -> Voucher:
    """A payout that failed after it was booked: the money never reached the bank and is back with
    Stripe (a later payout books its return as a `payout_reversal`)."""
    comments = f"Stripe-utbetalningen {payout_id} misslyckades: beloppet finns kvar hos Stripe."
    rows = (
        VoucherRow(accounts.stripe_clearing, amount, "Misslyckad utbetalning", payout_id),
        VoucherRow(accounts.bank, -amount, "Misslyckad utbetalning", payout_id),
    )
    return Voucher(reversal_description(payout_id), comments, day, rows)
