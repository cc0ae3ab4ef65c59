"""Summary booking (BookingMode summary): payments and refunds are recorded for their Stockholm day,
and each day over becomes one sales voucher (mapping/day_voucher.py), posted exactly once
(voucher_posting.py).

Recording: the entry (its parts per bucket, in SEK) under its day in the state table, and under its
own id (a refund finds its sale there, a payout its charges, a repeat its work done). A payment
whose VAT cannot be told is parked (`vat_unknown`); a refund of a sale not recorded yet waits for it
(`waiting_for_sale`).

Booking a day (the schedule after midnight, `stripe-fortnox book-day DATE`, or a late event): under a
lock, the entries no voucher of the day has booked are written down as the next voucher's before
its POST, so a retry after a crash builds the same voucher and voucher_posting finds it again. The
first is the day's voucher; a later one (entries that reached the sync after the day was booked) a
correction voucher dated on the same day, never on another.

Costs, in Fortnox requests: recording none; a day's voucher 3 (the locked period, the series'
vouchers of the day, the POST), 2 more in a cold container (the series, the financial year); a
booked day again none.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.core.errors import ConflictError, PermanentEventError, WaitingForInvoice
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult, VoucherRecord
from stripe_fortnox_sync.core.ports import DaySales
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.day_voucher import DayEntry, day_voucher, description
from stripe_fortnox_sync.mapping.summary import (
    Buyer,
    Part,
    TaxEntry,
    VatUnknown,
    in_sek,
    refund_parts,
    sale_parts,
)
from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster

LOCK_SECONDS = 120.0


class WaitingForSale(WaitingForInvoice):
    """A refund whose sale is not recorded yet (its payment's event is on its way, or parked)."""

    reason = "waiting_for_sale"


def stockholm_today() -> date:
    return datetime.now(FORTNOX_ZONE).date()


def voucher_key(day: date, number: int) -> str:
    """The state table's key of a day's voucher (0) or its corrections (1, 2, ...)."""
    return f"summary#{day.isoformat()}" + (f"#{number}" if number else "")


@dataclass(frozen=True)
class Sale:
    """A payment as the handlers read it from Stripe (amounts in minor units of `currency`)."""

    sale_id: str
    day: date
    total: int
    sek: int
    taxes: Sequence[TaxEntry] | None
    buyer: Buyer
    what: str
    untaxed_rate: int = 0


@dataclass(frozen=True)
class BookedVoucher:
    key: str
    ids: tuple[str, ...]
    ref: str | None  # "A 12"; None: the entries added up to nothing
    done: bool


@dataclass(frozen=True)
class DayBooking:
    """What booking a day did: `vouchers` as the state table has them now; `posted` this call's."""

    day: date
    vouchers: tuple[BookedVoucher, ...]
    posted: str | None = None
    how: str = ""
    entries: int = 0


def _load_booked(raw: str | None) -> list[BookedVoucher]:
    data: list[dict[str, Any]] = json.loads(raw)["vouchers"] if raw else []
    return [BookedVoucher(d["key"], tuple(d["ids"]), d.get("ref"), bool(d["done"])) for d in data]


def _dump_booked(vouchers: Sequence[BookedVoucher]) -> str:
    data = [{"key": v.key, "ids": list(v.ids), "ref": v.ref, "done": v.done} for v in vouchers]
    return json.dumps({"vouchers": data}, separators=(",", ":"))


class SummarySync:
    def __init__(
        self,
        poster: VoucherPoster,
        store: DaySales,
        accounts: BookkeepingAccounts,
        seller_country: str = "SE",
        today: Callable[[], date] = stockholm_today,
    ) -> None:
        self._poster = poster
        self._store = store
        self._accounts = accounts
        self._seller = seller_country.upper()
        self._today = today

    # Recording ---------------------------------------------------------------------------------

    def record_sale(self, event: StripeEvent, sale: Sale) -> SyncResult:
        try:
            parts = in_sek(
                sale_parts(sale.total, sale.taxes, sale.buyer, self._seller, sale.what, sale.untaxed_rate),
                sale.sek,
            )
        except VatUnknown as exc:
            raise PermanentEventError(
                "vat_unknown",
                f"{exc}. Book this payment's sale by hand (or give Stripe its tax data), then delete "
                "the message",
            ) from None
        return self._record(event, DayEntry(sale.sale_id, "sale", sale.day, tuple(parts)))

    def record_refund(
        self,
        event: StripeEvent,
        refund_id: str,
        sale_id: str,
        day: date,
        refund_sek: int,
        kind: str = "refund",
    ) -> SyncResult:
        """A refund (or, `kind` "dispute", a lost dispute) of `refund_sek` öre of a recorded sale."""
        raw = self._store.load_sale(sale_id) if sale_id else None
        if raw is None:
            raise WaitingForSale(
                f"refund {refund_id} waits for its sale {sale_id or '(no payment named)'} to be recorded"
            )
        sale = DayEntry.from_json(raw)
        parts = refund_parts(sale.parts, refund_sek)
        return self._record(event, DayEntry(refund_id, kind, day, tuple(parts), sale=sale_id))

    def recorded(self, stripe_id: str) -> bool:
        """Whether a sale (by its PaymentIntent or Stripe id) or refund is recorded."""
        return self._store.load_sale(stripe_id) is not None

    def _record(self, event: StripeEvent, entry: DayEntry) -> SyncResult:
        text = entry.to_json()
        unchanged = self._store.load_sale(entry.stripe_id) == text
        if not unchanged:
            self._store.add_entry(entry.day, entry.stripe_id, text)
            self._store.save_sale(entry.stripe_id, text)
        detail = f"{entry.kind} of {_sek(entry.gross)} SEK recorded for {entry.day.isoformat()}"
        fortnox_number = None
        if self._store.load_booked(entry.day) is not None and entry.day < self._today():
            # A late event for a day already booked: its correction voucher, dated on that day.
            booking = self.book_day(entry.day)
            if booking.posted:
                fortnox_number = booking.posted
                detail += f"; correction voucher {booking.posted} {booking.how}"
        outcome = Outcome.UNCHANGED if unchanged and fortnox_number is None else Outcome.CREATED
        return SyncResult(event.id, event.type, entry.stripe_id, outcome, fortnox_number, detail)

    # Booking -----------------------------------------------------------------------------------

    def book_day(self, day: date) -> DayBooking:
        """The day's voucher (or its next correction) in Fortnox; nothing when all is booked."""
        if day >= self._today():
            raise PermanentEventError(
                "day_not_over", f"{day.isoformat()} is not over in Stockholm yet: book it from tomorrow"
            )
        owner = uuid.uuid4().hex
        lock = voucher_key(day, 0)
        if not self._store.try_lock(lock, owner, LOCK_SECONDS):
            raise ConflictError(f"the day {day.isoformat()} is being booked by another worker")
        try:
            return self._book(day)
        finally:
            self._store.unlock(lock, owner)

    def _book(self, day: date) -> DayBooking:
        vouchers = _load_booked(self._store.load_booked(day))
        entries = {k: DayEntry.from_json(v) for k, v in self._store.day_entries(day).items()}
        pending = next((i for i, v in enumerate(vouchers) if not v.done), None)
        if pending is None:
            booked = {i for v in vouchers for i in v.ids}
            ids = tuple(sorted(set(entries) - booked))
            if not ids:
                return DayBooking(day, tuple(vouchers))
            pending = len(vouchers)
            vouchers.append(BookedVoucher(voucher_key(day, pending), ids, None, False))
            # Written before the POST: a retry books exactly these entries, the same voucher.
            self._store.save_booked(day, _dump_booked(vouchers))
        todo = vouchers[pending]
        missing = [i for i in todo.ids if i not in entries]
        if missing:
            raise PermanentEventError(
                "summary_state", f"the state table lost entries {', '.join(missing[:5])} of {day.isoformat()}"
            )
        chosen = [entries[i] for i in todo.ids]
        try:
            voucher = day_voucher(day, chosen, self._accounts, correction=pending)
        except VatUnknown as exc:
            raise PermanentEventError(
                "vat_unknown", f"{day.isoformat()}: {exc}; fix the accounts, redrive"
            ) from None
        posted_ref, how = None, "nothing to book: the entries add up to 0.00"
        if voucher is not None:
            posted = self._poster.post(todo.key, voucher, search_from=day)
            posted_ref, how = str(posted.ref), posted.how
        vouchers[pending] = BookedVoucher(todo.key, todo.ids, posted_ref, True)
        self._store.save_booked(day, _dump_booked(vouchers))
        return DayBooking(day, tuple(vouchers), posted_ref, how, len(chosen))

    def booked(self, day: date) -> tuple[BookedVoucher, ...]:
        return tuple(_load_booked(self._store.load_booked(day)))

    def voucher_record(self, key: str) -> VoucherRecord | None:
        """The state table's record of one of a day's vouchers (its series, number and year)."""
        return self._poster.recorded(key)

    def entries(self, day: date) -> list[DayEntry]:
        return [DayEntry.from_json(v) for v in self._store.day_entries(day).values()]

    @staticmethod
    def description(day: date, correction: int = 0) -> str:
        return description(day, correction)


def _sek(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


def parts_total(parts: Sequence[Part]) -> int:
    return sum(p.gross for p in parts)
