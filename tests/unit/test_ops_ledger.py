"""ops/ledger_check.py: a payout's transactions against what Fortnox's documents did to 1580."""

from __future__ import annotations

from stripe_fortnox_cli.ops.ledger_check import Movement, check_payout
from stripe_fortnox_sync.mapping.balance import Entry, classify_all
from tests.payout_builders import charge_txn, dispute_txn, paying, refund_txn, txn


def entries() -> tuple[int, list[Entry]]:
    po, txns = paying(
        "po_1",
        charge_txn("ch_1", 12500, 363),
        charge_txn("ch_2", 25000, 725),
        txn("partial_capture_reversal", -5000, source="ch_2"),
        refund_txn("re_1", 3000),
        dispute_txn("dp_1", 12500, 17500),
        txn("fee", -3900),
    )
    return int(po["amount"]), classify_all(txns, "po_1", "sek")


ALL_BOOKED = {"ch_1": Movement(12500), "ch_2": Movement(20000), "re_1": Movement(-3000)}


def test_everything_booked_nets_to_zero() -> None:
    amount, found = entries()
    check = check_payout("po_1", amount, found, "A 1", -(12500 + 20000 - 3000), ALL_BOOKED)
    assert check.differences == [] and check.net == 0 and check.through_clearing == 29500


def test_a_charge_without_its_sale_leaves_1580_short() -> None:
    amount, found = entries()
    movements = {**ALL_BOOKED, "ch_1": Movement(None)}
    check = check_payout("po_1", amount, found, "A 1", -29500, movements)
    ((difference,),) = [check.differences]
    assert (difference.source, difference.amount) == ("ch_1", -12500) and "no Fortnox sale" in difference.why
    assert check.net == -12500


def test_a_sale_paid_with_another_amount_and_a_missing_credit_are_explained() -> None:
    amount, found = entries()
    movements = {**ALL_BOOKED, "ch_2": Movement(25000, "invoice 2"), "re_1": Movement(None)}
    check = check_payout("po_1", amount, found, "A 1", -29500, movements)
    assert [(d.source, d.amount) for d in check.differences] == [("ch_2", 5000), ("re_1", 3000)]
    assert "Fortnox moved 250.00 SEK, Stripe 200.00 SEK (invoice 2)" in check.differences[0].why
    assert "no Fortnox credit" in check.differences[1].why


def test_a_payout_not_booked_or_booked_otherwise() -> None:
    amount, found = entries()
    missing = check_payout("po_1", amount, found, None, None, ALL_BOOKED)
    assert [(d.source, d.amount) for d in missing.differences] == [("po_1", 29500)]
    assert "not booked" in missing.differences[0].why
    other = check_payout("po_1", amount, found, "A 1", -29000, ALL_BOOKED)
    assert [(d.source, d.amount) for d in other.differences] == [("po_1", 500)]


def test_a_charge_booked_as_a_sale_and_a_manual_payout() -> None:
    amount, found = entries()
    movements = {k: v for k, v in ALL_BOOKED.items() if k != "ch_1"}
    check = check_payout("po_1", amount, found, "A 1", -17000, movements, frozenset({"ch_1"}))
    assert check.differences == []
    manual = check_payout("po_m", 5000, [], "A 2", -5000, {}, transfer=True)
    assert manual.differences == [] and manual.through_clearing == 5000
