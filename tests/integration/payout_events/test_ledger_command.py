"""`stripe-fortnox ledger --local` on the local stack and the local Stripe API: a payout fully booked
nets to 0.00 on the clearing account; one whose charge has no sale, and which was never booked,
is reported with what differs and why (exit 1)."""

from __future__ import annotations

import pytest

from stripe_fortnox_cli.cli import main
from tests.builders import event
from tests.integration.payout_events.books import PAYOUT_DAY, Books
from tests.integration.stack import drain, send
from tests.payout_builders import charge_txn, paying, refund_txn


def ledger(world: Books, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["ledger", "--local", str(world.stack.state_dir), "--stripe-key", world.stripe.api_key]
    code = main([*args, "--since", "2024-05-01", "--until", "2024-05-31"])
    return code, capsys.readouterr().out


def test_the_ledger_shows_1580_at_zero_for_a_booked_payout_and_explains_the_rest(
    world: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    total = world.sell("kept", 9900)
    po, txns = paying("po_kept", charge_txn("ch_kept", total, 300, payment_intent="pi_kept"))
    world.stripe.add_payout(po, txns)
    send_paid = event("evt_kept_paid", "payout.paid", PAYOUT_DAY, po)
    send(world.stack, send_paid)
    drain(world.stack)
    code, out = ledger(world, capsys)
    assert code == 0, out
    assert "po_kept" in out and "A 1" in out and "booked in full" in out
    assert "1 of 1 payout booked in full; the clearing account nets to 0.00 SEK" in out
    assert "Fortnox simulator (local-tenant): 1580 closes at 0.00 SEK" in out

    # A second payout: its charge has no Fortnox sale, a refund no credit, and nothing booked it.
    lost, lost_txns = paying(
        "po_unbooked",
        charge_txn("ch_nosale", 20000, 500, payment_intent="pi_nosale"),
        refund_txn("re_none", 1000),
    )
    world.stripe.add_payout({**lost, "arrival_date": po["arrival_date"] + 86_400}, lost_txns)
    code, out = ledger(world, capsys)
    assert code == 1, out
    lines = out.splitlines()
    assert any(
        line.split()[:2] == ["ch_nosale", "-200.00"] and "no Fortnox sale" in line for line in lines
    ), out
    assert any(line.split()[:2] == ["re_none", "10.00"] and "no Fortnox credit" in line for line in lines), (
        out
    )
    assert any(line.split()[:2] == ["po_unbooked", "190.00"] and "not booked" in line for line in lines), out
    assert "3 differences" in out and "1 of 2 payouts booked in full" in out
