"""What a payout cannot book is parked with a reason docs/runbook.md gives a fix for; nothing is
posted that Fortnox would refuse or that the bookkeeper must decide."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError, UnbookedCharge
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync.service import SyncService
from tests.builders import event
from tests.fakes import FakeQueue
from tests.payout_builders import charge_txn, paying, payout, txn
from tests.unit.payout_world import PayoutWorld


def parked(w: PayoutWorld, po: dict[str, Any], txns: list[dict[str, Any]]) -> PermanentEventError:
    with pytest.raises(PermanentEventError) as caught:
        w.pay_out(po, txns)
    return caught.value


def a_payout(w: PayoutWorld, payout_id: str = "po_1") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    w.sell("pi_1")
    return paying(payout_id, charge_txn("ch_1", 12375, 359))


def crash_posting_the_voucher(w: PayoutWorld, po: dict[str, Any], txns: list[dict[str, Any]]) -> None:
    """The sync dies at its second voucher record write: the voucher may be half posted."""
    w.records.crash_on_voucher_save = 2
    with pytest.raises(RuntimeError):
        w.pay_out(po, txns)


def test_a_payout_not_in_sek_is_parked() -> None:
    w = PayoutWorld()
    exc = parked(w, payout("po_e", 1000, currency="eur"), [])
    assert exc.reason == "unsupported_currency" and "EUR" in str(exc) and not w.vouchers.vouchers


@pytest.mark.parametrize("kind", ["manual", "instant"])
def test_a_manual_or_instant_payout_books_its_own_amount_then_says_what_is_missing(kind: str) -> None:
    w = PayoutWorld()
    po = payout("po_m", 50000, automatic=False, method="instant" if kind == "instant" else "standard")
    po["reconciliation_status"] = "not_applicable"
    exc = parked(w, po, [])
    assert exc.reason == "manual_payout" and f"{kind} payout" in str(exc) and "A 1" in str(exc)
    assert (w.balance(1930), w.balance(1580)) == (Decimal(500), Decimal(-500))
    # A redrive books nothing twice and says it again.
    with pytest.raises(PermanentEventError, match=f"{kind} payout"):
        w.send("payout.paid", po)
    assert len(w.vouchers.vouchers) == 1


def test_an_unknown_category_is_parked() -> None:
    w = PayoutWorld()
    po, txns = paying("po_x", txn("transfer", -1000))
    exc = parked(w, po, txns)
    assert exc.reason == "unknown_category" and "transfer" in str(exc)


def test_a_payout_its_transactions_do_not_add_up_to_is_parked() -> None:
    w = PayoutWorld()
    po, txns = a_payout(w)
    exc = parked(w, {**po, "amount": int(str(po["amount"])) + 1}, txns)
    assert exc.reason == "payout_total"


def test_a_day_in_no_financial_year_is_parked() -> None:
    w = PayoutWorld()
    w.vouchers.years = {2: (date(2025, 1, 1), date(2025, 12, 31))}
    po, txns = a_payout(w)
    exc = parked(w, po, txns)
    assert exc.reason == "financial_year" and "2024-05-23" in str(exc) and not w.vouchers.vouchers


def test_a_day_in_the_locked_period_is_parked() -> None:
    w = PayoutWorld()
    w.vouchers.locked = date(2024, 5, 31)
    po, txns = a_payout(w)
    exc = parked(w, po, txns)
    assert exc.reason == "locked_period" and "2024-05-31" in str(exc)
    w.vouchers.locked = date(2024, 4, 30)  # the bookkeeper unlocks May; the redrive books
    assert w.send("payout.paid", po).outcome is Outcome.CREATED


@pytest.mark.parametrize("series", ["B", "Z"], ids=["no manual vouchers", "no such series"])
def test_a_series_that_takes_no_manual_voucher_is_parked_before_anything_is_posted(series: str) -> None:
    w = PayoutWorld(series=series)
    po, txns = a_payout(w)
    exc = parked(w, po, txns)
    assert exc.reason == "voucher_series" and series in str(exc) and w.vouchers.calls["create"] == 0


def test_a_voucher_fortnox_has_under_our_description_with_other_rows_is_not_posted_again() -> None:
    w = PayoutWorld()
    po, txns = a_payout(w)
    crash_posting_the_voucher(w, po, txns)
    (voucher,) = w.vouchers.vouchers.values()
    voucher["VoucherRows"][0]["Debit"] = 1.0  # someone changed it by hand
    exc = parked(w, po, txns)
    assert exc.reason == "voucher_mismatch" and "A 1" in str(exc) and len(w.vouchers.vouchers) == 1


def test_a_charge_from_before_the_start_date_without_a_sale_is_booked_as_one() -> None:
    w = PayoutWorld(sales_start=date(2024, 6, 1))
    po, txns = paying("po_s", charge_txn("ch_old", 12500, 363))
    result = w.pay_out(po, txns)
    assert result.outcome is Outcome.CREATED and "booked as sales" in result.detail
    assert (w.balance(3001), w.balance(2611), w.balance(1580)) == (Decimal(-100), Decimal(-25), Decimal(0))


def test_a_charge_from_after_the_start_date_without_a_sale_still_waits() -> None:
    w = PayoutWorld(sales_start=date(2024, 5, 1))
    po, txns = paying("po_s", charge_txn("ch_new", 12500, 363))
    with pytest.raises(UnbookedCharge):
        w.pay_out(po, txns)


def test_a_failed_payout_whose_voucher_may_be_half_posted_waits_for_its_paid_event() -> None:
    w = PayoutWorld()
    po, txns = a_payout(w)
    crash_posting_the_voucher(w, po, txns)
    w.stripe.add_payout({**po, "status": "failed"}, txns)
    with pytest.raises(PermanentEventError) as caught:
        w.send("payout.failed", po)
    assert caught.value.reason == "voucher_pending"


class _Waiting:
    def __call__(self, event: StripeEvent) -> SyncResult:
        raise UnbookedCharge("payout po_1: ch_9 has no sale in Fortnox yet")


def test_an_unbooked_charge_is_retried_then_parked_as_unbooked_charge() -> None:
    queue = FakeQueue()
    settings = Settings(event_types=("payout.paid",))
    waiting: object = _Waiting()
    sync = SyncService(settings, lambda: waiting, queue, None)  # type: ignore[arg-type, return-value]
    body = json.dumps(event("evt_w", "payout.paid", 1, payout("po_1")))
    with pytest.raises(UnbookedCharge):
        sync.handle(body, receive_count=1)
    result = sync.handle(body, receive_count=settings.max_receives)
    assert result.outcome is Outcome.FAILED and result.detail.startswith("unbooked_charge")
    assert queue.sent[0]["attributes"]["failure_reason"] == "unbooked_charge"
