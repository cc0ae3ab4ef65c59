"""`stripe-fortnox book-day DATE` and `stripe-fortnox ledger --day DATE`: summary booking's day, by hand.

`book-day` books a Stockholm day's sales voucher, or the correction voucher of entries that came
after it, exactly as the schedule does (the same code, the same state table records, the same
Fortnox rate window): a day booked in full books nothing again. `ledger --day` shows, per bucket
(country, VAT rate, kind), the figures recorded from Stripe beside what the day's vouchers in Fortnox
book, and says what differs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TextIO

from stripe_fortnox_cli.exits import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.fortnox_index import fortnox_client
from stripe_fortnox_cli.ops.progress import plural
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_sync.core.errors import ConflictError, PermanentEventError
from stripe_fortnox_sync.core.settings import BookingMode
from stripe_fortnox_sync.mapping.day_voucher import bucket_accounts, day_report
from stripe_fortnox_sync.mapping.money import as_decimal, decimal_to_minor
from stripe_fortnox_sync.sync.summary_sync import SummarySync


@dataclass
class BookDayOptions:
    days: tuple[date, ...]


def _sek(ore: int) -> str:
    return f"{Decimal(ore).scaleb(-2):,.2f}".replace(",", " ")


def _summary(stack: Stack) -> SummarySync | None:
    if stack.settings.booking_mode is not BookingMode.SUMMARY:
        return None
    from stripe_fortnox_sync.bootstrap import build_summary_sync

    return build_summary_sync(stack.settings, fortnox_client(stack.settings, stack.tenant), stack.key_prefix)


def book_days(stack: Stack, options: BookDayOptions, out: TextIO, err: TextIO) -> int:
    summary = _summary(stack)
    if summary is None:
        print("this stack books invoices (BookingMode invoices): there are no days to book", file=err)
        return EXIT_CONFIG
    failed = 0
    for day in options.days:
        try:
            booking = summary.book_day(day)
        except PermanentEventError as exc:
            print(f"{day.isoformat()}: not booked ({exc.reason}): {exc}", file=err)
            failed += 1
            continue
        except ConflictError as exc:
            print(f"{day.isoformat()}: not booked: {exc}; try again in a minute", file=err)
            failed += 1
            continue
        refs = ", ".join(v.ref or "nothing (0.00)" for v in booking.vouchers) or "none"
        if booking.posted:
            what = f"voucher {booking.posted} {booking.how} ({plural(booking.entries, 'entry')})"
        elif booking.vouchers:
            what = "booked already, nothing new"
        else:
            what = "no payments or refunds recorded"
        print(f"{day.isoformat()}: {what}; the day's vouchers: {refs}", file=out)
    return EXIT_FAILED if failed else EXIT_OK


def ledger_day(stack: Stack, day: date, out: TextIO, err: TextIO) -> int:
    """Per bucket: Stripe's net and VAT as recorded beside the day's vouchers' rows in Fortnox."""
    summary = _summary(stack)
    if summary is None:
        print("this stack books invoices (BookingMode invoices): --day is for summary booking", file=err)
        return EXIT_CONFIG
    from stripe_fortnox_sync.adapters.fortnox.vouchers import FortnoxVoucherApi
    from stripe_fortnox_sync.mapping.accounts import configured_accounts

    accounts = configured_accounts(stack.settings)
    entries = summary.entries(day)
    stripe = day_report(entries)
    booked = summary.booked(day)
    client = fortnox_client(stack.settings, stack.tenant)
    api = FortnoxVoucherApi(client, client)
    fortnox: dict[tuple[str, int], int] = defaultdict(int)
    for voucher in booked:
        record = summary.voucher_record(voucher.key)
        if record is None or not record.posted:
            continue
        assert record.series is not None and record.number is not None and record.year is not None
        for row in api.get_voucher(record.series, record.number, record.year).get("VoucherRows") or []:
            if row.get("Removed"):
                continue
            amount = as_decimal(row.get("Debit") or 0, "Debit") - as_decimal(row.get("Credit") or 0, "Credit")
            fortnox[(str(row.get("TransactionInformation") or ""), int(row["Account"]))] -= decimal_to_minor(
                amount, "SEK"
            )
    refs = ", ".join(v.ref or "-" for v in booked) or "none"
    print(
        f"Stripe sales {day.isoformat()} (Stockholm): {plural(len(entries), 'entry')}; vouchers {refs}",
        file=out,
    )
    header = ("NET STRIPE", "NET VOUCHER", "VAT STRIPE", "VAT VOUCHER")
    print(f"{'BUCKET':<24} " + " ".join(f"{h:>12}" for h in header) + "  CHECK", file=out)
    differences = 0
    for entry_bucket in sorted({p.bucket for e in entries for p in e.parts}):
        label = entry_bucket.label()
        net, vat = stripe[label]
        sales_account, vat_account = bucket_accounts(entry_bucket, accounts)
        booked_net = fortnox.get((label, sales_account), 0)
        booked_vat = fortnox.get((label, vat_account), 0) if vat_account else 0
        same = (net, vat) == (booked_net, booked_vat)
        differences += not same
        print(
            f"{label:<24} {_sek(net):>12} {_sek(booked_net):>12} {_sek(vat):>12} {_sek(booked_vat):>12}  "
            f"{'same' if same else 'DIFFERS'}",
            file=out,
        )
    gross = sum(e.gross for e in entries)
    print(
        f"{'total':<24} gross {_sek(gross)} SEK; "
        + (
            "every bucket booked to the öre" if not differences else plural(differences, "bucket") + " differ"
        ),
        file=out,
    )
    return EXIT_FAILED if differences else EXIT_OK
