"""Stripe payouts, their balance transactions and disputes for the tests (tests/builders.py has the
rest; this module keeps that one under its size).

Each starts from Stripe's own example object in tests/fixtures and sets what a test needs. Amounts
are SEK öre, signs as Stripe gives them: a charge's amount is positive, a refund's negative, a fee
positive (Stripe keeps it), net = amount - fee.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.builders import PERIOD_START, fixture

Obj = dict[str, Any]

# The payout leaves Stripe on 2024-05-21 and arrives on 2024-05-23 (arrival_date: midnight UTC).
PAYOUT_CREATED = PERIOD_START + 20 * 86_400
ARRIVAL = 1716422400

_ids = itertools.count(1)


def payout(payout_id: str = "po_1", amount: int = 0, **fields: Any) -> Obj:
    """Stripe's example payout, SEK, automatic, paid and reconciled, arriving on 2024-05-23."""
    data = fixture("stripe_payout.json")
    data.update(
        id=payout_id,
        amount=amount,
        currency="sek",
        status="paid",
        reconciliation_status="completed",
        automatic=True,
        method="standard",
        created=PAYOUT_CREATED,
        arrival_date=ARRIVAL,
        balance_transaction=f"txn_{payout_id}",
    )
    data.update(fields)
    return data


def fee_detail(amount: int, kind: str = "stripe_fee", description: str = "Stripe processing fees") -> Obj:
    return {
        "amount": amount,
        "application": None,
        "currency": "sek",
        "description": description,
        "type": kind,
    }


def txn(
    category: str,
    amount: int,
    fee: int = 0,
    *,
    source: Any = None,
    fee_details: list[Obj] | None = None,
    **fields: Any,
) -> Obj:
    """Stripe's example balance transaction of this reporting category, SEK, its fee Stripe's."""
    number = next(_ids)
    data = fixture("stripe_balance_transaction.json")
    details = fee_details if fee_details is not None else ([fee_detail(fee)] if fee else [])
    data.update(
        id=f"txn_b{number}",
        amount=amount,
        fee=fee,
        net=amount - fee,
        currency="sek",
        reporting_category=category,
        type={"fee": "stripe_fee", "dispute": "adjustment", "dispute_reversal": "adjustment"}.get(
            category, category
        ),
        source=source if source is not None else f"src_{number}",
        fee_details=details,
        created=PAYOUT_CREATED - 86_400 + number,
        description=None,
    )
    data.update(fields)
    return data


def charge_txn(
    charge_id: str, amount: int, fee: int, payment_intent: str | None = None, **fields: Any
) -> Obj:
    """A charge's balance transaction with `source` expanded (as listed with expand data.source)."""
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "currency": "sek",
        "payment_intent": payment_intent if payment_intent is not None else charge_id.replace("ch_", "pi_"),
        "created": fields.get("created", PAYOUT_CREATED - 86_400),
    }
    return txn("charge", amount, fee, source=charge, **fields)


def refund_txn(refund_id: str, amount: int, **fields: Any) -> Obj:
    """A refund's balance transaction (`amount` positive here: the refund's size)."""
    return txn("refund", -amount, source={"id": refund_id, "object": "refund"}, **fields)


def dispute_txn(dispute_id: str, amount: int, fee: int = 0, **fields: Any) -> Obj:
    """A dispute's withdrawal (`amount` the disputed amount) with Stripe's dispute fee."""
    details = [fee_detail(fee, description="Dispute fee")] if fee else []
    return txn(
        "dispute", -amount, fee, source={"id": dispute_id, "object": "dispute"}, fee_details=details, **fields
    )


def dispute(dispute_id: str = "dp_1", charge: str = "ch_1", amount: int = 10000, **fields: Any) -> Obj:
    """Stripe's example dispute of `charge` (its PaymentIntent pi_ for ch_), SEK, needing a response."""
    data = fixture("stripe_dispute.json")
    data.update(
        id=dispute_id,
        charge=charge,
        payment_intent=charge.replace("ch_", "pi_"),
        amount=amount,
        currency="sek",
        created=PAYOUT_CREATED,
    )
    data.update(fields)
    return data


def paying(payout_id: str, *txns: Obj, **fields: Any) -> tuple[Obj, list[Obj]]:
    """A payout of exactly its transactions' nets, and the transactions."""
    return payout(payout_id, sum(int(t["net"]) for t in txns), **fields), list(txns)
