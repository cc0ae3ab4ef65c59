"""What Fortnox would refuse, through the local stack: a second credit connected to one sale (the
simulator's `one_connected_credit`), a locked period, a series without manual vouchers."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.builders import event, refund
from tests.integration.payout_events.books import PAYOUT_DAY, Books
from tests.integration.stack import drain, enqueue, outcomes, parked, send, simulator
from tests.payout_builders import charge_txn, dispute, paying


def test_a_second_credit_fortnox_will_not_connect_is_a_standalone_credit_naming_the_sale(
    world: Books,
) -> None:
    simulator(world.stack).configure(one_connected_credit=True)
    total = world.sell("twice", 9900)
    world.stripe.add_refund(refund("re_twice", 5000, "pi_twice"))
    send(
        world.stack, event("evt_re_twice", "refund.created", PAYOUT_DAY, refund("re_twice", 5000, "pi_twice"))
    )
    lost = dispute("dp_twice", "ch_twice", total - 5000, status="lost")
    world.stripe.add_dispute(lost)
    send(world.stack, event("evt_dp_twice", "charge.dispute.closed", PAYOUT_DAY + 60, lost))
    drain(world.stack)

    assert outcomes(world.stack)["evt_dp_twice"] == "created"
    invoices = simulator(world.stack).invoices()
    (sale,) = [i for i in invoices if i["ExternalInvoiceReference1"] == "in_twice"]
    (partial,) = [i for i in invoices if i["ExternalInvoiceReference1"] == "re_twice"]
    (standalone,) = [i for i in invoices if i["ExternalInvoiceReference1"] == "dp_twice"]
    assert partial["CreditInvoiceReference"] == sale["DocumentNumber"]
    assert str(standalone["CreditInvoiceReference"]) in ("0", "")
    assert standalone["YourOrderNumber"] == f"Faktura {sale['DocumentNumber']}"
    assert f"faktura {sale['DocumentNumber']}" in standalone["Remarks"]
    assert standalone["ExternalInvoiceReference2"] == "pi_twice" and Decimal(str(standalone["Balance"])) == 0
    unrounded = [Decimal(str(i["Total"])) - Decimal(str(i["RoundOff"])) for i in (sale, partial, standalone)]
    assert sum(unrounded) == 0


def test_a_locked_period_parks_the_payout_and_a_redrive_books_it_once_unlocked(world: Books) -> None:
    total = world.sell("locked", 9900)
    po, txns = paying("po_locked", charge_txn("ch_locked", total, 300, payment_intent="pi_locked"))
    world.stripe.add_payout(po, txns)
    simulator(world.stack).configure(locked_period_end="2024-05-31")
    paid = event("evt_locked_paid", "payout.paid", PAYOUT_DAY, po)
    send(world.stack, paid)
    drain(world.stack)
    assert parked(world.stack, "evt_locked_paid")["failure_reason"] == "locked_period"
    assert world.vouchers("Stripe utbetalning po_locked") == []
    simulator(world.stack).configure(locked_period_end="")
    enqueue(world.stack, json.dumps(paid), "po_locked", "redrive-locked")
    drain(world.stack)
    assert len(world.vouchers("Stripe utbetalning po_locked")) == 1


def test_a_series_without_manual_vouchers_parks_the_payout(world: Books) -> None:
    simulator(world.stack).configure(voucher_series={"A": False})
    total = world.sell("series", 9900)
    po, txns = paying("po_series", charge_txn("ch_series", total, 300, payment_intent="pi_series"))
    world.stripe.add_payout(po, txns)
    send(world.stack, event("evt_series_paid", "payout.paid", PAYOUT_DAY, po))
    drain(world.stack)
    assert parked(world.stack, "evt_series_paid")["failure_reason"] == "voucher_series"
