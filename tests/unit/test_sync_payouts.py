"""sync/payouts.py with PayoutSync and VoucherPoster against fakes: which event books, one voucher per
payout whatever is delivered twice or interrupted, and reversals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import FortnoxError, UnbookedCharge
from stripe_fortnox_sync.core.models import Outcome
from tests.builders import LineSpec, stripe_event, stripe_invoice
from tests.payout_builders import charge_txn, dispute_txn, paying, payout, refund_txn, txn
from tests.unit.payout_world import PayoutWorld


def demo_payout(w: PayoutWorld) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Three sales (in Fortnox), a partial refund, Stripe's fees and a withdrawn dispute."""
    w.sell("pi_1", "pi_2", "pi_3")
    return paying(
        "po_1",
        charge_txn("ch_1", 12375, 359),
        charge_txn("ch_2", 12375, 359),
        charge_txn("ch_3", 12375, 359),
        refund_txn("re_1", 5000),
        dispute_txn("dp_1", 12375, 17500),
        txn("fee", -3900),
    )


def test_a_paid_reconciled_payout_is_one_balanced_voucher_on_its_arrival_day() -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    result = w.pay_out(po, txns)
    assert (result.outcome, result.fortnox_number) == (Outcome.CREATED, "A 1")
    voucher = w.only_voucher()
    assert voucher["TransactionDate"] == "2024-05-23" and voucher["Description"] == "Stripe utbetalning po_1"
    assert w.balance(1930) == Decimal(po["amount"]) / 100
    # What the three sales' payments put into 1580, less the refund's payback, leaves it again.
    assert w.balance(1580) == Decimal("-321.25") and w.balance(1515) == Decimal("123.75")
    assert w.balance(2645) == -w.balance(2614) != 0
    assert sum(w.vouchers.balances().values()) == 0


def test_whichever_of_paid_and_reconciled_comes_second_books() -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    w.stripe.add_payout({**po, "reconciliation_status": "in_progress"}, txns)
    first = w.send("payout.paid", po)
    assert first.outcome is Outcome.IGNORED and "reconciliation_completed" in first.detail
    w.stripe.add_payout(po, txns)
    assert w.send("payout.reconciliation_completed", po).outcome is Outcome.CREATED
    assert w.send("payout.paid", po).outcome is Outcome.UNCHANGED  # Stripe sent it again
    assert len(w.vouchers.vouchers) == 1


def test_an_in_transit_payout_waits() -> None:
    w = PayoutWorld()
    w.stripe.add_payout(payout("po_t", 100, status="in_transit"))
    result = w.send("payout.paid", payout("po_t"))
    assert result.outcome is Outcome.IGNORED and "in_transit" in result.detail and not w.vouchers.vouchers


def test_every_event_three_times_gives_one_voucher_and_no_fortnox_request_after_the_first() -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    w.stripe.add_payout(po, txns)
    events = [w.event("payout.paid", po), w.event("payout.reconciliation_completed", po)]
    w.redeliver(events[0])
    before = sum(w.vouchers.calls.values()) + sum(w.invoices.calls.values())
    for event in events * 3:
        assert w.redeliver(event).outcome is Outcome.UNCHANGED
    assert sum(w.vouchers.calls.values()) + sum(w.invoices.calls.values()) == before
    assert len(w.vouchers.vouchers) == 1


@pytest.mark.parametrize("interrupted", ["crash before recording", "answer lost"])
def test_an_interrupted_post_is_found_in_fortnox_not_posted_again(interrupted: str) -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    if interrupted == "crash before recording":
        w.records.crash_on_voucher_save = 2  # the intent is written, the number never is
        with pytest.raises(RuntimeError):
            w.pay_out(po, txns)
    else:
        w.vouchers.lose_next_answer = True
        with pytest.raises(FortnoxError):
            w.pay_out(po, txns)
    assert len(w.vouchers.vouchers) == 1
    result = w.send("payout.paid", po)  # SQS delivers it again
    assert (result.outcome, result.fortnox_number) == (Outcome.UPDATED, "A 1")
    # Searched before each POST: found the second time, not posted again.
    assert "interrupted" in result.detail and w.vouchers.calls["find"] == 2
    assert len(w.vouchers.vouchers) == 1
    assert w.send("payout.paid", po).outcome is Outcome.UNCHANGED


def test_a_charge_whose_sale_is_not_in_fortnox_makes_the_payout_wait() -> None:
    w = PayoutWorld()
    w.sell("pi_1")
    po, txns = paying("po_2", charge_txn("ch_1", 12375, 359), charge_txn("ch_9", 5000, 150))
    with pytest.raises(UnbookedCharge, match="ch_9"):
        w.pay_out(po, txns)
    assert not w.vouchers.vouchers
    w.sell("pi_9", amount=4000)  # its invoice.paid arrives
    assert w.send("payout.paid", po).outcome is Outcome.CREATED


def test_sales_dated_around_the_charges_are_found_in_one_listing() -> None:
    w = PayoutWorld()
    po, txns = paying("po_3", charge_txn("ch_5", 12375, 359, created=1716163200))  # 2024-05-20
    w.stripe.add_payout(po, txns)
    day = 1716076800  # 2024-05-19, within the listing's days
    sale = stripe_invoice(
        [LineSpec(9900)], invoice_id="in_5", payment_intent="pi_5", created=day, effective_at=day
    )
    sale["status_transitions"].update(finalized_at=day, paid_at=day)
    w.sales.paid(stripe_event("invoice.paid", sale), sale, "1")
    w.invoices.calls.clear()
    assert w.send("payout.paid", po).outcome is Outcome.CREATED
    assert w.invoices.calls["list_between"] == 1 and w.invoices.calls["find"] == 0


def test_a_failed_payout_gets_one_reversal() -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    w.pay_out(po, txns)
    w.stripe.add_payout({**po, "status": "failed"}, txns)
    failed = w.event("payout.failed", {**po, "status": "failed"})
    result = w.redeliver(failed)
    assert (result.outcome, result.fortnox_number) == (Outcome.CREATED, "A 2")
    assert [w.redeliver(failed).outcome for _ in range(2)] == [Outcome.UNCHANGED] * 2
    assert len(w.vouchers.vouchers) == 2 and w.balance(1930) == 0
    reversal = w.vouchers.vouchers[("A", 2, 1)]
    assert reversal["Description"] == "Stripe utbetalning po_1 misslyckad"


def test_a_payout_that_never_was_booked_has_nothing_to_reverse() -> None:
    w = PayoutWorld()
    w.stripe.add_payout(payout("po_c", 500, status="canceled"))
    result = w.send("payout.canceled", payout("po_c", 500, status="canceled"))
    assert result.outcome is Outcome.IGNORED and "never booked" in result.detail


def test_a_large_payout_is_summed_per_category_with_its_report_attached_once() -> None:
    w = PayoutWorld(itemised_rows=2)
    w.sell("pi_1", "pi_2", "pi_3")
    po, txns = paying("po_4", *(charge_txn(f"ch_{i}", 12375, 359) for i in (1, 2, 3)))
    w.pay_out(po, txns)
    rows = [r for r in w.only_voucher()["VoucherRows"] if r["Account"] == 1580]
    assert [(r["Credit"], r["Description"]) for r in rows] == [(371.25, "Betalning (3 st)")]
    ((file_id, series, number, year),) = w.vouchers.connections
    assert (series, number, year) == ("A", 1, 1)
    assert w.vouchers.files[file_id][0] == "stripe-payout-po_4.csv"
    w.send("payout.paid", po)
    assert len(w.vouchers.connections) == 1


def test_a_report_an_interrupted_attempt_never_attached_is_attached_by_the_next() -> None:
    w = PayoutWorld(itemised_rows=2)
    w.sell("pi_1", "pi_2", "pi_3")
    po, txns = paying("po_5", *(charge_txn(f"ch_{i}", 12375, 359) for i in (1, 2, 3)))
    w.records.crash_on_voucher_save = 3  # intent, number, then the attached flag
    with pytest.raises(RuntimeError):
        w.pay_out(po, txns)
    w.vouchers.connections.clear()  # and the attach itself never happened
    assert w.send("payout.paid", po).outcome is Outcome.UNCHANGED
    assert len(w.vouchers.connections) == 1 and len(w.vouchers.vouchers) == 1
    assert w.send("payout.paid", po).outcome is Outcome.UNCHANGED and len(w.vouchers.connections) == 1


def test_a_voucher_fortnox_has_but_the_state_table_does_not_is_adopted_not_posted_again() -> None:
    w = PayoutWorld()
    po, txns = demo_payout(w)
    w.pay_out(po, txns)
    w.records.vouchers.clear()  # a new stack, or its state table lost
    result = w.send("payout.paid", po)
    assert (result.outcome, result.fortnox_number) == (Outcome.UPDATED, "A 1")
    assert "before this stack recorded it" in result.detail and len(w.vouchers.vouchers) == 1
