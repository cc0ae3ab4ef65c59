"""sync/refunds.py: refund.created/updated and charge.refunded against fakes: which refunds are
credited, and the SEK Stripe settled; the credit itself is `FakeInvoiceSync`'s record."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_fortnox_sync.core.models import Outcome
from tests.builders import balance_transaction, bo_buyer_charge, refund
from tests.fakes import FakeStripe
from tests.unit.handlers import booking_world, calls

# refund.created / refund.updated -----------------------------------------------------------------


def test_a_pending_refund_waits_for_its_update() -> None:
    w = booking_world()
    result = w.send("refund.created", refund(status="pending"))
    assert result.outcome is Outcome.IGNORED and "refund pending" in result.detail and calls(w) == []


def test_a_refund_without_a_key_is_credited_from_the_event() -> None:
    w = booking_world()
    result = w.send("refund.updated", refund())
    assert result.outcome is Outcome.CREATED
    assert calls(w) == [("refund", {"id": "re_1", "amount": 5000, "payment": "pi_1", "settlement": None})]


def test_with_a_key_the_refund_as_stripe_has_it_now_decides() -> None:
    now = refund(status="succeeded", currency="eur", balance_transaction=balance_transaction(-5_800))
    w = booking_world(FakeStripe().add_refund(now))
    result = w.send("refund.created", refund(status="pending", currency="eur"))
    assert result.outcome is Outcome.CREATED and w.stripe is not None and ("refund", "re_1") in w.stripe.calls
    assert calls(w)[0][1]["settlement"] == 5_800  # the SEK it cost, positive
    # A refund that failed since the event was sent is not credited.
    w = booking_world(FakeStripe().add_refund(refund(status="failed")))
    assert w.send("refund.created", refund()).outcome is Outcome.IGNORED and calls(w) == []
    # Nor one Stripe does not know.
    result = booking_world(FakeStripe()).send("refund.created", refund())
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "not found in Stripe")


# charge.refunded ---------------------------------------------------------------------------------


def listing(*refunds: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    """A charge's `refunds` as charge.refunded carried them before API version 2022-11-15."""
    return {"object": "list", "data": list(refunds), "has_more": has_more}


@pytest.mark.parametrize(
    "listed",
    [None, listing(refund(), has_more=True)],
    ids=["not listed (API 2022-11-15 and later)", "listed in part"],
)
def test_a_refunded_charge_without_a_key_or_its_refunds_is_skipped_loudly(listed: Any) -> None:
    w = booking_world()
    result = w.send("charge.refunded", bo_buyer_charge(refunds=listed))
    assert result.outcome is Outcome.IGNORED and "refund.created" in result.detail
    assert calls(w) == [] and w.rec.skipped and "refunds" in w.rec.skipped[0]


def test_a_refunded_charge_credits_each_succeeded_refund_it_lists() -> None:
    listed = listing(
        refund("re_a", 1000, None, charge="ch_1"),
        refund("re_b", 2000, status="pending"),
        refund("re_c", 3000),
    )
    w = booking_world()
    result = w.send("charge.refunded", bo_buyer_charge(refunds=listed))
    assert [(c[1]["id"], c[1]["payment"]) for c in calls(w)] == [("re_a", "pi_1"), ("re_c", "pi_1")]
    assert (result.outcome, result.stripe_id) == (Outcome.CREATED, "ch_1")
    assert result.detail == "refund re_a booked; refund re_c booked"


def test_with_a_key_a_refunded_charge_credits_stripe_s_list_of_its_refunds() -> None:
    stripe = FakeStripe().add_refund(refund("re_api", balance_transaction=balance_transaction(-900)))
    stripe.add_refund(refund("re_other_charge", charge="ch_2"))
    w = booking_world(stripe)
    w.send("charge.refunded", bo_buyer_charge(refunds=listing(refund("re_stale"))))
    assert [c[1]["id"] for c in calls(w)] == ["re_api"]


def test_a_refunded_charge_with_no_succeeded_refund_is_ignored() -> None:
    w = booking_world()
    result = w.send("charge.refunded", bo_buyer_charge(refunds=listing(refund(status="pending"))))
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "no succeeded refund")


@pytest.mark.parametrize(
    ("currency", "settled", "expected"),
    [
        ("eur", balance_transaction(-5_800), 5_800),
        ("eur", balance_transaction(-500, "eur"), None),
        ("eur", "txn_1", None),
        ("sek", balance_transaction(-5_000), None),
    ],
)
def test_a_refund_passes_the_sek_settled_only_from_a_sek_balance(
    currency: str, settled: Any, expected: int | None
) -> None:
    w = booking_world()
    w.send("refund.created", refund(currency=currency, balance_transaction=settled))
    assert calls(w)[0][1]["settlement"] == expected
