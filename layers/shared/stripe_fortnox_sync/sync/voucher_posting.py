"""Posting a voucher exactly once, though Fortnox vouchers have no external reference and the API can
neither change nor delete one.

The state table records the intent (the key of what is booked and the body's hash) before the POST,
and the voucher's series, number and financial year after it. A record with a number: done, no
Fortnox request. Otherwise an earlier attempt may have posted and died before recording (a crash, a
timeout whose answer was lost; or the state table is younger than Fortnox's books), so Fortnox's
series is searched for a voucher with the exact Description in the dates it can have, and its rows
compared with ours, before anything is posted.

Before posting, what Fortnox would refuse is refused here with a reason a person can act on: a series
that does not take manual vouchers (checked once per container, at the first voucher), a date in no
financial year, a date in the locked period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import VoucherRecord
from stripe_fortnox_sync.core.ports import FortnoxVouchers, VoucherRecords
from stripe_fortnox_sync.mapping.voucher import Voucher, VoucherRef, body_hash, payload, same_rows


@dataclass(frozen=True)
class Posted:
    """A voucher in Fortnox and how this call found it: "posted" now, "recovered" (posted by an
    interrupted attempt), "adopted" (in Fortnox before the state table knew it) or "already"."""

    ref: VoucherRef
    how: str
    record: VoucherRecord


def _ref(record: VoucherRecord) -> VoucherRef:
    assert record.series is not None and record.number is not None and record.year is not None
    return VoucherRef(record.series, record.number, record.year)


class VoucherPoster:
    def __init__(self, vouchers: FortnoxVouchers, records: VoucherRecords, series: str) -> None:
        self._vouchers = vouchers
        self._records = records
        self._series = series
        self._series_ok = False
        # Financial years seen: (first day, last day, id). Years do not move once created.
        self._years: list[tuple[date, date, int]] = []

    @property
    def series(self) -> str:
        return self._series

    def recorded(self, key: str) -> VoucherRecord | None:
        """What the state table says about `key`: None, an intent, or a posted voucher."""
        return self._records.load_voucher(key)

    def already(self, key: str) -> Posted | None:
        """The voucher posted for `key`, as the state table records it (no Fortnox request)."""
        record = self._records.load_voucher(key)
        return Posted(_ref(record), "already", record) if record is not None and record.posted else None

    def post(self, key: str, voucher: Voucher, *, search_from: date | None = None) -> Posted:
        """The voucher for `key` in Fortnox, posted now unless it is there already.

        `search_from`: the first day a voucher of an interrupted attempt can be dated (the payout's
        date range); it ends on the voucher's own day."""
        record = self._records.load_voucher(key)
        if record is not None and record.posted:
            return Posted(_ref(record), "already", record)
        body = payload(voucher, self._series)
        year = self.check_can_post(voucher.day)
        # Also without an intent: the state table may be younger than Fortnox's books (a new stack).
        found = self._recover(body, voucher, year, search_from or voucher.day)
        if found is not None:
            # An intent: an interrupted attempt posted it. None: posted before the state table knew.
            how = "recovered" if record is not None else "adopted"
            found_record = record or VoucherRecord(key, body_hash(body))
            record = replace(found_record, series=found.series, number=found.number, year=found.year)
            self._records.save_voucher(record)
            return Posted(found, how, record)
        record = VoucherRecord(key, body_hash(body))
        self._records.save_voucher(record)
        created = self._vouchers.create_voucher(body, year)
        ref = VoucherRef(
            str(created.get("VoucherSeries") or self._series), int(created["VoucherNumber"]), year
        )
        record = replace(record, series=ref.series, number=ref.number, year=ref.year)
        self._records.save_voucher(record)
        return Posted(ref, "posted", record)

    def attach(self, posted: Posted, filename: str, content: str) -> None:
        """Connect a document (the itemised report) to the voucher, once."""
        if posted.record.attached:
            return
        self._vouchers.attach(
            filename, content.encode(), posted.ref.series, posted.ref.number, posted.ref.year
        )
        self._records.save_voucher(replace(posted.record, attached=True))

    def check_can_post(self, day: date) -> int:
        """The financial year id for `day`, once the series, the year and the lock allow a voucher."""
        self._check_series()
        year = self._year(day)
        locked = self._vouchers.locked_until()
        if locked is not None and day <= locked:
            raise PermanentEventError(
                "locked_period",
                f"Fortnox's books are locked until {locked}: a voucher dated {day} cannot be booked. "
                "Unlock the period (Inställningar > Bokföring > Lås period) or ask the bookkeeper; redrive",
            )
        return year

    def _check_series(self) -> None:
        if self._series_ok:
            return
        series = self._vouchers.voucher_series(self._series)
        if series is None or not series.get("Manual"):
            what = "does not exist" if series is None else "does not allow manual vouchers"
            raise PermanentEventError(
                "voucher_series",
                f"voucher series {self._series} {what} in Fortnox: choose one that does "
                "(PayoutVoucherSeries) or allow manual vouchers in it; redrive",
            )
        self._series_ok = True

    def _year(self, day: date) -> int:
        for first, last, year_id in self._years:
            if first <= day <= last:
                return year_id
        year = self._vouchers.financial_year(day)
        if year is None or year.get("Id") is None:
            raise PermanentEventError(
                "financial_year",
                f"Fortnox has no financial year for {day}: create it (Inställningar > Räkenskapsår); redrive",
            )
        self._years.append(
            (
                date.fromisoformat(str(year["FromDate"])),
                date.fromisoformat(str(year["ToDate"])),
                int(year["Id"]),
            )
        )
        return int(year["Id"])

    def _recover(self, body: dict[str, Any], voucher: Voucher, year: int, first: date) -> VoucherRef | None:
        """The voucher an interrupted attempt posted, found by its exact Description and its rows."""
        first = min(first, voucher.day)
        found = self._vouchers.find_vouchers(voucher.description, self._series, first, voucher.day, year)
        for item in found:
            series, number = str(item.get("VoucherSeries") or ""), int(item.get("VoucherNumber") or 0)
            full = self._vouchers.get_voucher(series, number, year)
            if same_rows(full.get("VoucherRows") or [], body):
                return VoucherRef(series, number, year)
        if found:
            numbers = ", ".join(f"{v.get('VoucherSeries')} {v.get('VoucherNumber')}" for v in found)
            raise PermanentEventError(
                "voucher_mismatch",
                f"Fortnox has voucher {numbers} described {voucher.description!r} with other rows than "
                "the sync would book now: compare it with the Stripe payout; book the difference by hand "
                "and delete the message",
            )
        return None
