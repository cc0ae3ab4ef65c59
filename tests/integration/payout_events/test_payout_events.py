"""Payouts through the local stack, the local Stripe API and the Fortnox simulator's books: each payout
is one balanced voucher, 1930 gets the payout, the Stripe clearing account (1580) nets to 0.00 for its
transactions, and no delivery, redelivery or crash books anything twice."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

from stripe_fortnox_sync.adapters.aws.state import DynamoStateStore
from stripe_fortnox_sync.core.models import VoucherRecord
from tests.builders import event, refund
from tests.integration.payout_events.books import PAYOUT_DAY, Books, balanced, voucher_total
from tests.integration.stack import drain, drain_until, enqueue, send, simulator
from tests.payout_builders import charge_txn, dispute, dispute_txn, paying, refund_txn, txn


def first_outcomes(world: Books) -> dict[str, str]:
    """Each event's outcome when it was first applied (its redeliveries are duplicates)."""
    found: dict[str, str] = {}
    for processed in world.stack.processed:
        found.setdefault(processed.event_id, processed.outcome)
    return found


def deliver_three_times(world: Books, evt: dict[str, Any]) -> None:
    """Stripe's retry (same event id, through the webhook), SQS past its 5-minute deduplication, and
    the same change under a second event id: each is applied once."""
    send(world.stack, evt)
    send(world.stack, evt)
    body = json.dumps(evt)
    enqueue(world.stack, body, str(evt["data"]["object"]["id"]), f"again-{evt['id']}")
    send(world.stack, {**evt, "id": f"{evt['id']}_2"})
    drain(world.stack)


def first_payout(world: Books) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Three sales, a partial refund of the first, Stripe's fees and a withdrawn dispute of the third."""
    totals = [world.sell(name, 79920) for name in ("one", "two", "three")]  # 999.00 SEK each
    world.stripe.add_refund(refund("re_one", 5000, "pi_one"))
    send(
        world.stack,
        event("evt_refund_one", "refund.created", PAYOUT_DAY - 86_400, refund("re_one", 5000, "pi_one")),
    )
    drain(world.stack)
    return paying(
        "po_first",
        *(
            charge_txn(f"ch_{n}", t, 300 + i, payment_intent=f"pi_{n}")
            for i, (n, t) in enumerate(zip(("one", "two", "three"), totals, strict=True))
        ),
        refund_txn("re_one", 5000),
        dispute_txn("dp_three", totals[2], 25000),
        txn("fee", -2900, description="Stripe Billing"),
    )


def test_two_payouts_are_one_balanced_voucher_each_and_empty_the_clearing_account(world: Books) -> None:
    first, first_txns = first_payout(world)
    world.sell("euro", 800, currency="eur", settled_sek=11_650)  # 10.00 EUR, settled as 116.50 SEK
    second, second_txns = paying(
        "po_second", charge_txn("ch_euro", 11_650, 350, payment_intent="pi_euro", exchange_rate=11.65)
    )
    world.stripe.add_dispute(dispute("dp_three", "ch_three", 99900, status="needs_response"))
    for po, txns in ((first, first_txns), (second, second_txns)):
        world.stripe.add_payout(po, txns)
    dispute_created = event(
        "evt_dp_created", "charge.dispute.created", PAYOUT_DAY - 3600, dispute("dp_three", "ch_three", 99900)
    )
    for evt in (
        dispute_created,
        event("evt_paid_first", "payout.paid", PAYOUT_DAY, first),
        event("evt_reconciled_first", "payout.reconciliation_completed", PAYOUT_DAY + 60, first),
        event("evt_paid_second", "payout.paid", PAYOUT_DAY + 120, second),
        event("evt_reconciled_second", "payout.reconciliation_completed", PAYOUT_DAY + 180, second),
    ):
        deliver_three_times(world, evt)

    assert (
        first_outcomes(world)["evt_paid_first"] == "created"
        and first_outcomes(world)["evt_paid_second"] == "created"
    )
    assert first_outcomes(world)["evt_reconciled_first"] == "unchanged"
    (one,) = world.vouchers("Stripe utbetalning po_first")
    (two,) = world.vouchers("Stripe utbetalning po_second")
    assert balanced(one) and balanced(two)
    assert voucher_total(one, 1930) == Decimal(first["amount"]) / 100
    assert voucher_total(two, 1930) == Decimal("113.00") == Decimal(second["amount"]) / 100
    assert voucher_total(one, 1515) == Decimal("999.00")  # the withdrawn dispute waits on 1515
    assert voucher_total(one, 1930) == Decimal("1659.97")  # 3 x 999.00 - 50.00 - 999.00 - fees
    # Every sale's payment, the refund's payback and both vouchers: 1580 nets to exactly 0.00.
    assert world.balances(1580, 1930) == {
        1580: Decimal("0.00"),
        1930: Decimal(first["amount"] + second["amount"]) / 100,
    }
    assert {r["TransactionInformation"] for r in one["VoucherRows"] if r["Account"] == 1580} == {
        "ch_one", "ch_two", "ch_three", "re_one"
    }  # fmt: skip
    assert world.stack.dead_letters() == []


class SimulatedCrash(ConnectionError):
    """The voucher record write after the POST never lands: the sync retries the event."""


@contextlib.contextmanager
def crash_after_posting() -> Iterator[list[str]]:
    real_save = DynamoStateStore.save_voucher
    crashed: list[str] = []

    def save(store: DynamoStateStore, record: VoucherRecord) -> None:
        if record.posted and record.key not in crashed:
            crashed.append(record.key)
            raise SimulatedCrash(f"killed after posting the voucher of {record.key}")
        real_save(store, record)

    with mock.patch.object(DynamoStateStore, "save_voucher", save):
        yield crashed


def test_a_crash_between_posting_and_recording_gives_one_voucher(world: Books) -> None:
    total = world.sell("crash", 9900)
    po, txns = paying("po_crash", charge_txn("ch_crash", total, 300, payment_intent="pi_crash"))
    world.stripe.add_payout(po, txns)
    with crash_after_posting() as crashed:
        send(world.stack, event("evt_crash_paid", "payout.paid", PAYOUT_DAY, po))
        drain_until(world.stack, lambda: first_outcomes(world).get("evt_crash_paid") == "updated")
    assert crashed == ["po_crash"]
    (voucher,) = world.vouchers("Stripe utbetalning po_crash")
    assert world.balances(1580) == {1580: Decimal("0.00")}
    deliver_three_times(
        world, event("evt_crash_reconciled", "payout.reconciliation_completed", PAYOUT_DAY, po)
    )
    assert len(world.vouchers("Stripe utbetalning po_crash")) == 1 and voucher["VoucherNumber"] == 1


def test_a_lost_dispute_is_one_credit_and_leaves_dispute_clearing_at_zero(world: Books) -> None:
    total = world.sell("lost", 9900)
    po, txns = paying(
        "po_lost",
        charge_txn("ch_lost", total, 300, payment_intent="pi_lost"),
        dispute_txn("dp_lost", total, 25000),
        charge_txn("ch_other", total, 300, payment_intent="pi_other"),
    )
    world.sell("other", 9900)
    world.stripe.add_payout(po, txns)
    send(world.stack, event("evt_lost_paid", "payout.paid", PAYOUT_DAY, po))
    drain(world.stack)
    lost = dispute("dp_lost", "ch_lost", total, status="lost")
    world.stripe.add_dispute(lost)
    deliver_three_times(world, event("evt_dp_lost", "charge.dispute.closed", PAYOUT_DAY + 86_400, lost))

    assert first_outcomes(world)["evt_dp_lost"] == "created"
    credits = [i for i in simulator(world.stack).invoices() if i["ExternalInvoiceReference1"] == "dp_lost"]
    assert len(credits) == 1 and Decimal(str(credits[0]["Balance"])) == 0
    assert world.balances(1515, 1580) == {1515: Decimal("0.00"), 1580: Decimal("0.00")}


def test_a_failed_payout_gets_one_reversal(world: Books) -> None:
    total = world.sell("fail", 9900)
    po, txns = paying("po_fail", charge_txn("ch_fail", total, 300, payment_intent="pi_fail"))
    world.stripe.add_payout(po, txns)
    send(world.stack, event("evt_fail_paid", "payout.paid", PAYOUT_DAY, po))
    drain(world.stack)
    failed = {**po, "status": "failed", "failure_code": "account_closed"}
    world.stripe.add_payout(failed, txns)
    deliver_three_times(world, event("evt_failed", "payout.failed", PAYOUT_DAY + 2 * 86_400, failed))

    assert first_outcomes(world)["evt_failed"] == "created"
    (reversal,) = world.vouchers("Stripe utbetalning po_fail misslyckad")
    assert voucher_total(reversal, 1930) == -Decimal(po["amount"]) / 100
    # The money is back with Stripe: 1930 nets to 0, 1580 holds what Stripe holds again.
    assert world.balances(1930, 1580) == {1930: Decimal(0), 1580: Decimal(po["amount"]) / 100}
