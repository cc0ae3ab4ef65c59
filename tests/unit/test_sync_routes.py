"""sync/routes.py: what the route table does with types it has no handler for or that are off."""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.core.models import Outcome
from tests.builders import bo_buyer_charge, bo_buyer_payment_intent, per_persson, per_persson_invoice, refund
from tests.fakes import FakeStripe
from tests.unit.handlers import INVOICE_TYPES, World


@pytest.mark.parametrize("kind", ["charge.succeeded", "payment_intent.created"])
def test_other_types_are_ignored(kind: str) -> None:
    assert World().send(kind, {"id": "x"}).outcome is Outcome.IGNORED


@pytest.mark.parametrize("kind", INVOICE_TYPES)
def test_invoice_events_without_invoice_sync_are_ignored(kind: str) -> None:
    w = World(FakeStripe(per_persson()).add_intent(bo_buyer_payment_intent()).add_refund(refund()))
    obj = {
        "invoice.paid": per_persson_invoice(),
        "payment_intent.succeeded": bo_buyer_payment_intent(),
        "charge.refunded": bo_buyer_charge(),
    }.get(kind, refund())
    result = w.send(kind, obj)
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "invoice sync is not enabled")
    assert w.fortnox.total_calls == 0 and w.stripe is not None and w.stripe.calls == []
