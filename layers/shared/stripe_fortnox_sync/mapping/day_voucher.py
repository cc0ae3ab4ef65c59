"""A Stockholm day's sales as one Fortnox voucher (summary booking), and what the state table keeps
of each payment or refund until the day is booked.

The voucher, dated on the day: the Stripe clearing account (1580) gets the day's gross in SEK (a
debit; a day of more refunds than sales a credit); each bucket's sales account its net and its VAT
account its VAT (credits). The gross is the sum of the parts, so the rows balance to the öre by
construction. A correction voucher (a payment that reached the sync after its day was booked) is
the same for the late entries only, under its own Description.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.summary import Bucket, Kind, Part, VatUnknown
from stripe_fortnox_sync.mapping.voucher import Voucher, VoucherRow


@dataclass(frozen=True)
class DayEntry:
    """A payment ("sale", keyed by its PaymentIntent or Stripe id), a refund ("refund", keyed by the
    refund id, `sale` naming what it refunds) or a lost dispute ("dispute": its money was taken from
    dispute clearing, not from the Stripe clearing account) for its Stockholm day, in SEK öre."""

    stripe_id: str
    kind: str
    day: date
    parts: tuple[Part, ...]
    sale: str = ""

    @property
    def gross(self) -> int:
        return sum(p.gross for p in self.parts)

    def to_json(self) -> str:
        parts = [[p.bucket.country, p.bucket.rate, p.bucket.kind.value, p.net, p.vat] for p in self.parts]
        data = {"id": self.stripe_id, "kind": self.kind, "day": self.day.isoformat(), "parts": parts}
        if self.sale:
            data["sale"] = self.sale
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> DayEntry:
        data: dict[str, Any] = json.loads(raw)
        parts = tuple(
            Part(Bucket(str(c), int(r), Kind(str(k))), int(n), int(v)) for c, r, k, n, v in data["parts"]
        )
        return cls(
            str(data["id"]), str(data["kind"]), date.fromisoformat(data["day"]), parts, data.get("sale", "")
        )


def description(day: date, correction: int = 0) -> str:
    """The day voucher's Description: exact and unique, how the sync finds it again."""
    base = f"Stripe försäljning {day.isoformat()}"
    return f"{base} rättelse {correction}" if correction else base


def bucket_totals(entries: Iterable[DayEntry]) -> dict[Bucket, tuple[int, int]]:
    """Net and VAT per bucket, summed over the entries."""
    sums: dict[Bucket, list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        for part in entry.parts:
            sums[part.bucket][0] += part.net
            sums[part.bucket][1] += part.vat
    return {b: (net, vat) for b, (net, vat) in sorted(sums.items())}


_KIND_TEXT = {
    Kind.DOMESTIC: "",
    Kind.OSS: " (OSS)",
    Kind.REVERSE_CHARGE: ", omvänd skattskyldighet",
    Kind.EXPORT: ", export",
}


def bucket_accounts(bucket: Bucket, accounts: BookkeepingAccounts) -> tuple[int, int | None]:
    """The sales account and the VAT account (None: no VAT) of a bucket."""
    if bucket.kind is Kind.OSS:
        sales, vat = accounts.oss(bucket.country)
        return sales, vat if bucket.rate else None
    if bucket.kind is Kind.REVERSE_CHARGE:
        vat_type = "SEREVERSEDVAT" if bucket.country == "SE" else "EUREVERSEDVAT"
        return accounts.sales_account(vat_type, 0), None
    if bucket.kind is Kind.EXPORT:
        return accounts.sales_account("EXPORT", 0), None
    if bucket.rate and bucket.rate not in (25, 12, 6):
        raise VatUnknown(f"{bucket.rate} % is no Swedish VAT rate")
    return accounts.sales_account("SEVAT", bucket.rate), accounts.output_vat(
        bucket.rate
    ) if bucket.rate else None


def bucket_rows(bucket: Bucket, net: int, vat: int, accounts: BookkeepingAccounts) -> list[VoucherRow]:
    sales_account, vat_account = bucket_accounts(bucket, accounts)
    where = f"{bucket.country} {bucket.rate} %{_KIND_TEXT[bucket.kind]}"
    info = bucket.label()
    rows = [VoucherRow(sales_account, -net, f"Försäljning {where}", info)]
    if vat:
        if vat_account is None:
            raise VatUnknown(f"bucket {info} has VAT but no VAT account")
        rows.append(VoucherRow(vat_account, -vat, f"Utgående moms {where}", info))
    return rows


def day_voucher(
    day: date, entries: Sequence[DayEntry], accounts: BookkeepingAccounts, correction: int = 0
) -> Voucher | None:
    """The voucher of the day's entries; None when they add up to nothing in every bucket."""
    totals = bucket_totals(entries)
    rows: list[VoucherRow] = []
    for bucket, (net, vat) in totals.items():
        rows += [r for r in bucket_rows(bucket, net, vat, accounts) if r.amount]
    if not rows:
        return None
    disputed = sum(e.gross for e in entries if e.kind == "dispute")
    gross = -sum(r.amount for r in rows) - disputed
    sales = sum(1 for e in entries if e.kind == "sale")
    refunds = len(entries) - sales
    info = f"Stripe {day.isoformat()}"
    clearing = [VoucherRow(accounts.stripe_clearing, gross, "Stripe-betalningar", info)]
    if disputed:
        clearing.append(VoucherRow(accounts.dispute_clearing, disputed, "Förlorade tvister", info))
    what = "Rättelse: sena " if correction else ""
    comments = (
        f"{what}Stripe-försäljning {day.isoformat()} (Stockholmstid): {sales} betalningar, "
        f"{refunds} återbetalningar, per land och momssats."
    )
    return Voucher(description(day, correction), comments, day, (*clearing, *rows))


def day_report(entries: Sequence[DayEntry]) -> Mapping[str, tuple[int, int]]:
    """Net and VAT per bucket label: Stripe's side of `stripe-fortnox ledger --day`."""
    return {b.label(): nv for b, nv in bucket_totals(entries).items()}
