"""Summary booking through the local stack (BookingMode summary: the webhook, SQS and DynamoDB in
moto, the sync function), the local Stripe API and the Fortnox simulator's books, driven by the
operator commands (`book-day --local`, `ledger --day --local`): a generated day over six countries
(with refunds and a EUR payment), every event delivered three times, is one balanced voucher whose
sales and VAT per bucket equal Stripe's to the öre, with no invoice; a crash between its POST and its
record gives no second voucher; the day's payout clears 1580 to 0.00; a late payment is one
correction voucher of that day.

The local stack costs about 0.1 s an event, so the day here is 60 payments (SUMMARY_PAYMENTS=500 for
issue 18's full day, about 2 to 3 minutes); test_summary_day_pipeline.py runs the 500 in process."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_cli.cli import main
from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from tests.builders import event
from tests.integration.payout_events.books import Books, balanced, books
from tests.integration.payout_events.test_payout_events import crash_after_posting
from tests.integration.stack import drain, enqueue, send, simulator
from tests.payout_builders import charge_txn, paying, refund_txn, txn
from tests.summary_builders import DAY, FIRST_SALE, DaySpec, generate_day

PAYMENTS = int(os.environ.get("SUMMARY_PAYMENTS", "60"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Books]:
    with books(tmp_path, BOOKING_MODE="summary") as running:
        yield running


def deliver_three_times(world: Books, events: list[dict[str, Any]]) -> None:
    """Every event through the webhook twice (Stripe's retry), past SQS's deduplication once, and
    under a second event id: each is applied once."""
    for evt in events:
        send(world.stack, evt)
        send(world.stack, evt)
        enqueue(world.stack, json.dumps(evt), str(evt["data"]["object"]["id"]), f"again-{evt['id']}")
        send(world.stack, {**evt, "id": f"{evt['id']}_2"})
    drain(world.stack, rounds=2000)


def stock(world: Books, spec: DaySpec) -> None:
    for buyer in spec.customers:
        world.stripe.add_customer(buyer)
    for intent in spec.foreign_intents():
        world.stripe.add_payment_intent(intent)
    for refund in spec.refunds:
        world.stripe.add_refund(refund)


def book_day(world: Books, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["book-day", "--local", str(world.stack.state_dir), *args])
    return code, capsys.readouterr().out


def by_bucket(voucher: dict[str, Any]) -> dict[str, list[int]]:
    """The voucher's credits per bucket (TransactionInformation), sales and VAT rows apart."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in voucher["VoucherRows"]:
        info = row.get("TransactionInformation") or ""
        if row["Account"] == 1580:
            continue
        amount = int((Decimal(str(row["Credit"])) - Decimal(str(row["Debit"]))) * 100)
        found[info][1 if row["Description"].startswith("Utgående moms") else 0] += amount
    return dict(found)


def test_a_day_of_payments_is_one_voucher_equal_to_stripes_figures(
    world: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = generate_day(PAYMENTS, refunds=PAYMENTS // 12)
    stock(world, spec)
    sales = [event(f"evt_sale{n}", "invoice.paid", s.invoice["status_transitions"]["paid_at"], s.invoice)
             for n, s in enumerate(spec.sales)]  # fmt: skip
    refunds = [event(f"evt_refund{n}", "refund.created", r["created"], r) for n, r in enumerate(spec.refunds)]
    deliver_three_times(world, sales + refunds)
    assert world.stack.dead_letters() == []
    assert simulator(world.stack).invoices() == []

    with crash_after_posting() as crashed, pytest.raises(ConnectionError):
        book_day(world, capsys, DAY)
    assert crashed == [f"summary#{DAY}"]
    code, out = book_day(world, capsys, DAY)
    assert code == 0 and "recovered" in out, out
    code, out = book_day(world, capsys, DAY)
    assert code == 0 and "booked already" in out, out

    (voucher,) = world.vouchers(f"Stripe försäljning {DAY}")
    assert balanced(voucher) and voucher["TransactionDate"] == DAY
    expected = {f"{c} {r} % {k}": nv for (c, r, k), nv in spec.expected.items()}
    assert by_bucket(voucher) == {label: [net, vat] for label, (net, vat) in expected.items()}
    assert world.balances(1580) == {1580: Decimal(spec.gross) / 100}

    code, out = main(["ledger", "--local", str(world.stack.state_dir), "--day", DAY]), capsys.readouterr().out
    assert code == 0 and "every bucket booked to the öre" in out, out

    # The day's payout: every charge and refund, Stripe's fees; 1580 is cleared to 0.00.
    txns = [charge_txn(f"ch_day{n}", s.sek, 180, payment_intent=s.intent) for n, s in enumerate(spec.sales)]
    txns += [refund_txn(r["id"], r["amount"]) for r in spec.refunds]
    txns.append(txn("fee", -2900, description="Stripe Billing"))
    po, po_txns = paying("po_day", *txns, arrival_date=FIRST_SALE + 3 * 86_400)
    world.stripe.add_payout(po, po_txns)
    send(world.stack, event("evt_po_day", "payout.paid", FIRST_SALE + 3 * 86_400, po))
    drain(world.stack)
    (payout_voucher,) = world.vouchers("Stripe utbetalning po_day")
    assert balanced(payout_voucher)
    assert world.balances(1580) == {1580: Decimal("0.00")}
    assert world.stack.dead_letters() == []


def test_a_late_payment_for_a_booked_day_is_one_correction_voucher_of_that_day(
    world: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = generate_day(12, refunds=2, seed=5)
    stock(world, spec)
    *early, late = spec.sales
    deliver_three_times(
        world, [event(f"evt_s{n}", "invoice.paid", FIRST_SALE + n, s.invoice) for n, s in enumerate(early)]
    )
    assert book_day(world, capsys, DAY)[0] == 0
    deliver_three_times(world, [event("evt_late", "invoice.paid", FIRST_SALE + 86_400, late.invoice)])

    assert len(world.vouchers(f"Stripe försäljning {DAY}")) == 1
    (correction,) = world.vouchers(f"Stripe försäljning {DAY} rättelse 1")
    assert correction["TransactionDate"] == DAY and balanced(correction)
    gross = sum(Decimal(str(r["Debit"])) for r in correction["VoucherRows"] if r["Account"] == 1580)
    assert gross == Decimal(late.sek) / 100
    code, out = book_day(world, capsys, DAY)
    assert code == 0 and "booked already" in out
    assert len(simulator(world.stack).vouchers("local-tenant")) == 2


def test_the_schedule_books_the_days_that_are_over(world: Books) -> None:
    from stripe_fortnox_cli.local.functions import SYNC_HANDLER, LambdaContext, load_handler
    from stripe_fortnox_sync.sync.summary_sync import stockholm_today

    yesterday = stockholm_today() - timedelta(days=1)
    noon = int(datetime.combine(yesterday, time(12), FORTNOX_ZONE).timestamp())
    spec = generate_day(3, refunds=0, seed=7)
    stock(world, spec)
    for n, sale in enumerate(spec.sales):
        sale.invoice["status_transitions"]["paid_at"] = noon + n
        send(world.stack, event(f"evt_y{n}", "invoice.paid", noon + n, sale.invoice))
    drain(world.stack)
    handler = load_handler("sync_handler_schedule", SYNC_HANDLER)
    answer = handler.lambda_handler({"book_days": True}, LambdaContext("sync", 900, 512))
    assert answer == {"booked": [f"{yesterday.isoformat()}: A 1"]}
    assert len(world.vouchers(f"Stripe försäljning {yesterday.isoformat()}")) == 1
    assert handler.lambda_handler({"book_days": True}, LambdaContext("sync", 900, 512)) == {"booked": []}
