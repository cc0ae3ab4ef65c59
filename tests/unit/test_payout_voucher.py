"""mapping/balance.py and mapping/payout_voucher.py: a payout's transactions as one balanced voucher."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.balance import Kind, UnknownCategory, classify, classify_all
from stripe_fortnox_sync.mapping.payout_voucher import (
    PayoutPlan,
    payout_voucher,
    reversal_voucher,
    transfer_voucher,
)
from stripe_fortnox_sync.mapping.voucher import Voucher, VoucherRow, payload, same_rows
from tests.payout_builders import charge_txn, dispute_txn, fee_detail, paying, refund_txn, txn

ACCOUNTS = BookkeepingAccounts()
DAY = date(2024, 5, 23)


def balances(voucher: Voucher) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for row in voucher.rows:
        totals[row.account] += row.amount
    return dict(totals)


def book(
    payout: dict[str, Any],
    txns: list[dict[str, Any]],
    *,
    reverse_charge: bool = True,
    itemised_rows: int = 50,
    presales: dict[str, int] | None = None,
) -> PayoutPlan:
    entries = classify_all(txns, payout["id"], "sek")
    return payout_voucher(
        payout["id"],
        payout["amount"],
        DAY,
        entries,
        ACCOUNTS,
        reverse_charge=reverse_charge,
        itemised_rows=itemised_rows,
        presales=presales,
    )


def test_sales_a_partial_refund_fees_and_a_dispute_become_one_balanced_voucher() -> None:
    payout, txns = paying(
        "po_1",
        charge_txn("ch_1", 12500, 363),
        charge_txn("ch_2", 25000, 725),
        charge_txn("ch_3", 10000, 290),
        refund_txn("re_1", 5000),
        dispute_txn("dp_1", 10000, 17500),
        txn("fee", -3900, description="Billing (2024-04)"),
    )
    plan = book(payout, txns)
    totals = balances(plan.voucher)
    assert totals[1930] == payout["amount"] == 47500 - 5000 - 10000 - 1378 - 17500 - 3900
    # Every sale's amount leaves 1580, the refund's comes back: 1580 nets to what its sales put in.
    assert totals[1580] == -(12500 + 25000 + 10000) + 5000
    assert totals[1515] == 10000 and totals[6570] == 1378 + 17500 + 3900
    # Reverse charge on every Stripe fee at 25 %: input and output VAT cancel out.
    assert (totals[2645], totals[2614]) == (5695, -5695)
    assert sum(totals.values()) == 0 and plan.report is None
    infos = [r.info for r in plan.voucher.rows if r.account in (1580, 1515)]
    assert infos == ["ch_1", "ch_2", "ch_3", "re_1", "dp_1"]


def test_without_reverse_charge_the_fees_carry_no_vat_rows() -> None:
    payout, txns = paying("po_2", charge_txn("ch_1", 10000, 290))
    totals = balances(book(payout, txns, reverse_charge=False).voucher)
    assert totals == {1930: 9710, 1580: -10000, 6570: 290}


def test_a_negative_payout_turns_every_side() -> None:
    payout, txns = paying("po_neg", refund_txn("re_9", 20000), charge_txn("ch_9", 5000, 145))
    assert payout["amount"] == -15145
    rows = book(payout, txns).voucher.rows
    bank = [r for r in rows if r.account == 1930]
    assert bank == [VoucherRow(1930, -15145, "Utbetalning från Stripe", "po_neg")]
    body = payload(book(payout, txns).voucher, "A")
    assert {"Account": 1930, "Credit": 151.45, "Description": "Utbetalning från Stripe",
            "TransactionInformation": "po_neg"} in body["VoucherRows"]  # fmt: skip


def test_a_won_dispute_clears_dispute_clearing() -> None:
    withdrawn = dispute_txn("dp_1", 10000, 17500)
    reinstated = txn(
        "dispute_reversal", 10000, -17500, source={"id": "dp_1"}, fee_details=[fee_detail(-17500)]
    )
    payout, txns = paying("po_3", charge_txn("ch_1", 30000, 870), withdrawn, reinstated)
    totals = balances(book(payout, txns).voucher)
    assert totals[1515] == 0 and totals[6570] == 870


def test_past_the_itemised_rows_each_category_is_one_row_and_the_report_lists_every_transaction() -> None:
    charges = [charge_txn(f"ch_{i}", 1000 + i, 30) for i in range(5)]
    payout, txns = paying("po_big", *charges, refund_txn("re_1", 500), refund_txn("re_2", 700))
    plan = book(payout, txns, itemised_rows=3)
    clearing = [r for r in plan.voucher.rows if r.account == 1580]
    assert [(r.amount, r.text, r.info) for r in clearing] == [
        (-sum(1000 + i for i in range(5)), "Betalning (5 st)", ""),
        (1200, "Återbetalning (2 st)", ""),
    ]
    assert plan.report is not None
    lines = plan.report.splitlines()
    assert lines[0].startswith("payout,balance_transaction") and len(lines) == 8
    assert "ch_4" in plan.report and "-5.00" in plan.report


def test_a_charge_from_before_the_start_date_is_booked_as_a_sale_with_its_vat() -> None:
    old = charge_txn("ch_old", 12500, 363)
    payout, txns = paying("po_4", old)
    plan = book(payout, txns, presales={old["id"]: 25})
    totals = balances(plan.voucher)
    assert 1580 not in totals and (totals[3001], totals[2611]) == (-10000, -2500)
    assert sum(totals.values()) == 0


def test_categories_are_classified_and_unknown_ones_refused() -> None:
    assert classify(txn("network_cost", -120), "sek").kind is Kind.FEE
    assert classify(txn("tax", -50), "sek").kind is Kind.FEE_NO_VAT
    assert classify(txn("payout_reversal", 9000), "sek").kind is Kind.CLEARING
    with pytest.raises(UnknownCategory, match="transfer"):
        classify(txn("transfer", -1000), "sek")
    with pytest.raises(InvoiceMappingError, match="eur"):
        classify(txn("charge", 1000, currency="eur"), "sek")


def test_a_fee_not_itemised_in_fee_details_is_stripe_s() -> None:
    entry = classify(txn("charge", 10000, 300, fee_details=[fee_detail(100, "application_fee")]), "sek")
    assert [(p.type, p.amount) for p in entry.fees] == [("application_fee", 100), ("stripe_fee", 200)]
    assert entry.net == 9700


def test_the_payout_s_own_transaction_is_left_out() -> None:
    own = txn("payout", -9710, type="payout", source="po_1")
    entries = classify_all([charge_txn("ch_1", 10000, 290), own], "po_1", "sek")
    assert [e.source_id for e in entries] == ["ch_1"]


def test_transfer_and_reversal_vouchers() -> None:
    assert balances(transfer_voucher("po_m", 5000, DAY, ACCOUNTS)) == {1930: 5000, 1580: -5000}
    reversal = reversal_voucher("po_1", 9710, DAY, ACCOUNTS)
    assert balances(reversal) == {1580: 9710, 1930: -9710}
    assert reversal.description == "Stripe utbetalning po_1 misslyckad"


def test_a_voucher_that_does_not_balance_is_refused() -> None:
    with pytest.raises(InvoiceMappingError, match="balance"):
        Voucher("x", "", DAY, (VoucherRow(1930, 100), VoucherRow(1580, -99)))


def test_fortnox_s_rows_match_ours_whatever_their_order_and_zero_sides() -> None:
    body = payload(transfer_voucher("po_m", 5000, DAY, ACCOUNTS), "A")
    found = [
        {"Account": 1580, "Debit": 0, "Credit": 50.0, "TransactionInformation": "po_m", "Removed": False},
        {"Account": 1930, "Debit": 50.0, "Credit": 0, "TransactionInformation": "po_m", "Removed": False},
    ]
    assert same_rows(found, body)
    assert not same_rows([{**found[0], "Credit": 49.99}, found[1]], body)
    assert same_rows([*found, {"Account": 3740, "Debit": 1.0, "Removed": True}], body)
