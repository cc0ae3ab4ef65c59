"""Summary booking's handlers against fakes: the sales routes record for the day instead of invoicing,
a day is booked once (and found again after a crash), a late entry is a correction voucher of its
own day, what cannot be told is parked, and a payout waits for its charges' recorded sales."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError, UnbookedCharge
from stripe_fortnox_sync.core.models import Outcome, SyncResult
from stripe_fortnox_sync.core.settings import BookingMode
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.payout_sync import PayoutSync
from stripe_fortnox_sync.sync.summary_sync import SummarySync, WaitingForSale
from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster
from tests.builders import (
    PERIOD_START,
    LineSpec,
    address,
    bo_buyer_charge,
    bo_buyer_payment_intent,
    customer_invoice,
    gustav_paid_checkout,
    refund,
    stripe_event,
)
from tests.fakes import FakeStripe, InMemoryFortnoxInvoices, InMemoryFortnoxVouchers, InMemoryStateStore
from tests.payout_builders import charge_txn, paying
from tests.unit.handlers import INVOICE_TYPES, World

DAY = date(2024, 5, 1)
TODAY = date(2024, 5, 10)


class SummaryWorld:
    def __init__(self) -> None:
        self.vouchers = InMemoryFortnoxVouchers()
        self.state = InMemoryStateStore()
        self.stripe = FakeStripe()
        self.today = TODAY
        poster = VoucherPoster(self.vouchers, self.state, "A")
        self.summary = SummarySync(poster, self.state, BookkeepingAccounts(), today=lambda: self.today)
        recorded = lambda sale_id: self.state.load_sale(sale_id) is not None  # noqa: E731
        payouts = PayoutSync(poster, InMemoryFortnoxInvoices(), BookkeepingAccounts(), sale_recorded=recorded)
        self.world = World(
            self.stripe,
            payouts=payouts,
            event_types=(*INVOICE_TYPES, "payout.paid"),
            summary=self.summary,
            booking_mode=BookingMode.SUMMARY,
        )

    def send(self, kind: str, obj: dict[str, Any], created: int = PERIOD_START) -> SyncResult:
        return routes.apply(self.world.context, stripe_event(kind, obj, created))


def sale(name: str, net: int, rate: int = 25, **fields: Any) -> dict[str, Any]:
    invoice = customer_invoice(f"in_{name}", f"pi_{name}", [LineSpec(net)], customer_id="cus_Sum", **fields)
    tax = net * rate // 100
    invoice.update(
        total=net + tax,
        total_taxes=[{"amount": tax, "taxable_amount": net, "taxability_reason": "standard_rated"}],
    )
    return invoice


@pytest.fixture
def w() -> SummaryWorld:
    return SummaryWorld()


def test_a_sale_is_recorded_for_its_day_and_no_invoice_is_made(w: SummaryWorld) -> None:
    result = w.send("invoice.paid", sale("one", 10000))
    assert result.outcome is Outcome.CREATED and "recorded for 2024-05-01" in result.detail
    again = w.send("invoice.paid", sale("one", 10000))
    assert again.outcome is Outcome.UNCHANGED
    assert w.vouchers.vouchers == {}


def test_a_day_is_booked_once_with_its_refunds(w: SummaryWorld) -> None:
    w.send("invoice.paid", sale("one", 10000))
    w.send("invoice.paid", sale("two", 20000, rate=12))
    w.stripe.add_refund(refund("re_1", 6250, "pi_one", created=PERIOD_START + 60))
    w.send("refund.created", refund("re_1", 6250, "pi_one", created=PERIOD_START + 60))
    booking = w.summary.book_day(DAY)
    assert booking.posted == "A 1" and booking.how == "posted"
    (voucher,) = w.vouchers.vouchers.values()
    rows = {r["Account"]: r.get("Debit", 0) - r.get("Credit", 0) for r in voucher["VoucherRows"]}
    assert rows == {1580: 286.5, 3001: -50, 2611: -12.5, 3002: -200, 2621: -24}
    assert w.summary.book_day(DAY).posted is None
    assert len(w.vouchers.vouchers) == 1


def test_a_crash_between_post_and_record_is_found_again(w: SummaryWorld) -> None:
    w.send("invoice.paid", sale("one", 10000))
    w.state.crash_on_voucher_save = 2  # the record after the POST
    with pytest.raises(RuntimeError):
        w.summary.book_day(DAY)
    w.state.crash_on_voucher_save = None
    assert w.summary.book_day(DAY).how == "recovered"
    assert len(w.vouchers.vouchers) == 1


def test_a_late_sale_is_a_correction_voucher_of_its_own_day(w: SummaryWorld) -> None:
    w.send("invoice.paid", sale("one", 10000))
    w.summary.book_day(DAY)
    late = w.send("invoice.paid", sale("late", 4000), created=PERIOD_START + 86_400 * 3)
    assert late.outcome is Outcome.CREATED and "correction voucher A 2" in late.detail
    descriptions = sorted(v["Description"] for v in w.vouchers.vouchers.values())
    assert descriptions == ["Stripe försäljning 2024-05-01", "Stripe försäljning 2024-05-01 rättelse 1"]
    assert all(v["TransactionDate"] == "2024-05-01" for v in w.vouchers.vouchers.values())


def test_a_day_not_over_is_not_booked(w: SummaryWorld) -> None:
    w.today = DAY
    with pytest.raises(PermanentEventError) as caught:
        w.summary.book_day(DAY)
    assert caught.value.reason == "day_not_over"


def test_an_eu_consumer_without_tax_data_is_parked(w: SummaryWorld) -> None:
    invoice = sale("de", 10000, customer_address=address("DE"))
    invoice["total_taxes"] = None
    invoice["lines"] = {"object": "list", "data": [{"amount": 10000, "taxes": []}], "has_more": False}
    with pytest.raises(PermanentEventError) as caught:
        w.send("invoice.paid", invoice)
    assert caught.value.reason == "vat_unknown"


def test_a_refund_before_its_sale_waits(w: SummaryWorld) -> None:
    w.stripe.add_refund(refund("re_early", 100, "pi_unknown"))
    with pytest.raises(WaitingForSale):
        w.send("refund.created", refund("re_early", 100, "pi_unknown"))


def test_a_payout_waits_for_its_charges_recorded_sales(w: SummaryWorld) -> None:
    w.send("invoice.paid", sale("one", 10000))
    po, txns = paying("po_1", charge_txn("ch_one", 12500, 300, payment_intent="pi_one"))
    w.stripe.add_payout(po, txns)
    assert w.send("payout.paid", po).outcome is Outcome.CREATED
    po2, txns2 = paying("po_2", charge_txn("ch_x", 500, 30, payment_intent="pi_x"))
    w.stripe.add_payout(po2, txns2)
    with pytest.raises(UnbookedCharge):
        w.send("payout.paid", po2)


def test_a_checkout_session_is_read_with_its_tax_breakdown(w: SummaryWorld) -> None:
    session = gustav_paid_checkout(amount_total=11200, created=PERIOD_START)
    breakdown = {
        "amount_tax": 1200,
        "breakdown": {
            "discounts": [],
            "taxes": [
                {
                    "amount": 1200,
                    "taxable_amount": 10000,
                    "taxability_reason": "standard_rated",
                    "rate": {"id": "txr_12", "percentage": 12, "country": "SE"},
                }
            ],
        },
    }
    w.stripe.sessions["cs_paid"] = {**session, "total_details": breakdown}
    result = w.send("checkout.session.completed", session)
    assert "sale of 112.00 SEK recorded for 2024-05-01" in result.detail
    (entry,) = w.summary.entries(DAY)
    assert [(p.bucket.rate, p.net, p.vat) for p in entry.parts] == [(12, 10000, 1200)]


def test_a_bare_payment_of_a_swedish_buyer_includes_the_payment_intent_vat_rate(w: SummaryWorld) -> None:
    intent = bo_buyer_payment_intent(
        created=PERIOD_START, latest_charge=bo_buyer_charge(created=PERIOD_START)
    )
    w.stripe.add_intent(intent)
    result = w.send("payment_intent.succeeded", intent)
    assert "sale of 125.00 SEK recorded" in result.detail
    (entry,) = w.summary.entries(DAY)
    assert [(p.bucket.rate, p.net, p.vat) for p in entry.parts] == [(25, 10000, 2500)]
