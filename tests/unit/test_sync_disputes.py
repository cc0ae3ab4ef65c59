"""sync/disputes.py with the real InvoiceSync against Fortnox invoices in memory: a lost dispute is one
credit paid back through dispute clearing; a sale credited again falls back to a standalone credit;
and the partial-capture fix on the way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.models import Outcome
from stripe_fortnox_sync.sync.settlement import charge_settlement
from tests.builders import balance_transaction, refund
from tests.fakes import FakeStripe
from tests.payout_builders import dispute
from tests.unit.handlers import booking_world
from tests.unit.payout_world import PayoutWorld


def credits(w: PayoutWorld) -> list[dict[str, Any]]:
    return [d for d in w.invoices.invoices.values() if d["Total"] < 0]


def test_a_lost_dispute_credits_the_sale_once_paid_back_through_dispute_clearing() -> None:
    w = PayoutWorld()
    w.sell("pi_1")  # 123.75 SEK
    lost = dispute("dp_1", "ch_1", 12375, status="lost")
    w.stripe.add_dispute(lost)
    closed = w.event("charge.dispute.closed", lost)
    result = w.redeliver(closed)
    assert result.outcome is Outcome.CREATED and result.stripe_id == "dp_1"
    assert [w.redeliver(closed).outcome for _ in range(2)] == [Outcome.UNCHANGED] * 2
    (credit,) = credits(w)
    unrounded = Decimal(str(credit["Total"])) - Decimal(str(credit["RoundOff"]))
    assert (unrounded, credit["ExternalInvoiceReference1"], credit["Balance"]) == (
        Decimal("-123.75"),
        "dp_1",
        0,
    )
    assert "Förlorad tvist dp_1" in credit["Remarks"]
    payback = [p for p in w.invoices.payments.values() if p["InvoiceNumber"] == int(credit["DocumentNumber"])]
    assert [(p["ModeOfPaymentAccount"], p["Amount"]) for p in payback] == [(1515, -123.75)]


def test_a_won_dispute_or_a_new_one_books_nothing() -> None:
    w = PayoutWorld()
    w.sell("pi_1")
    won = dispute("dp_1", status="won")
    w.stripe.add_dispute(won)
    result = w.send("charge.dispute.closed", dispute("dp_1", status="lost"))  # Stripe says won now
    assert result.outcome is Outcome.IGNORED and "won" in result.detail
    opened = w.send("charge.dispute.created", dispute("dp_2", status="needs_response"))
    assert opened.outcome is Outcome.IGNORED and "dispute clearing" in opened.detail
    assert credits(w) == []


def test_a_sale_credited_before_is_credited_again_standalone_when_fortnox_refuses_a_second_link() -> None:
    w = PayoutWorld()
    w.invoices.one_connected_credit = True
    w.sell("pi_1")
    w.sales.refund(w.event("refund.created", refund("re_1", 5000, "pi_1")), refund("re_1", 5000, "pi_1"))
    lost = dispute("dp_1", "ch_1", 7375, status="lost")
    w.stripe.add_dispute(lost)
    result = w.send("charge.dispute.closed", lost)
    assert result.outcome is Outcome.CREATED and "standalone credit" in result.detail
    partial, standalone = credits(w)
    assert partial["CreditInvoiceReference"] == "1" and standalone["CreditInvoiceReference"] == "0"
    assert standalone["ExternalInvoiceReference2"] == "pi_1" and standalone["YourOrderNumber"] == "Faktura 1"
    assert "kreditering av faktura 1" in standalone["Remarks"] and standalone["Balance"] == 0
    sale = w.invoices.invoices["1"]
    assert (
        Decimal(str(sale["Total"])) + Decimal(str(partial["Total"])) + Decimal(str(standalone["Total"])) == 0
    )
    assert w.send("charge.dispute.closed", lost).outcome is Outcome.UNCHANGED and len(credits(w)) == 2


def test_a_lost_dispute_in_another_currency_is_paid_back_with_the_sek_stripe_withdrew() -> None:
    w = PayoutWorld()
    w.sell("pi_e", amount=800, currency="eur")  # 10.00 EUR
    lost = dispute("dp_e", "ch_e", 1000, currency="eur", status="lost")
    lost["balance_transactions"] = [balance_transaction(-11_650, id="txn_dp")]
    w.stripe.add_dispute(lost)
    assert w.send("charge.dispute.closed", lost).outcome is Outcome.CREATED
    (credit,) = credits(w)
    (payback,) = [
        p for p in w.invoices.payments.values() if p["InvoiceNumber"] == int(credit["DocumentNumber"])
    ]
    assert (payback["AmountCurrency"], payback["Amount"], payback["ModeOfPaymentAccount"]) == (
        -10.0,
        -116.5,
        1515,
    )


def test_a_partially_captured_foreign_charge_settles_its_captured_part_only() -> None:
    stripe = FakeStripe()
    stripe.source_txns["ch_p"] = [
        {"id": "txn_c", "reporting_category": "charge", "amount": 11_500, "currency": "sek"},
        {
            "id": "txn_r",
            "reporting_category": "partial_capture_reversal",
            "amount": -2_300,
            "currency": "sek",
        },
    ]
    charge = {
        "id": "ch_p",
        "amount": 1000,
        "amount_captured": 800,
        "balance_transaction": balance_transaction(11_500),
    }
    ctx = booking_world(stripe).context
    assert charge_settlement(ctx, "eur", charge) == 9_200
    assert charge_settlement(ctx, "eur", {**charge, "amount_captured": 1000}) == 11_500  # no extra read
    assert stripe.calls == [("balance_transactions_of", "ch_p")]
