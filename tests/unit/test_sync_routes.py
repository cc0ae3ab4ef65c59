"""sync/routes.py: what the route table does with types it has no handler for or that are off."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import Outcome
from stripe_fortnox_sync.sync.routes import ROUTES, Route, handler_of, message_group_id
from tests.builders import (
    bo_buyer_charge,
    bo_buyer_payment_intent,
    event,
    per_persson,
    per_persson_invoice,
    refund,
)
from tests.fakes import FakeStripe
from tests.payout_builders import dispute, payout
from tests.support import clean_env
from tests.unit.handlers import INVOICE_TYPES, World
from tests.unit.payout_world import DISPUTE_TYPES, PAYOUT_TYPES

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("kind", [*PAYOUT_TYPES, *DISPUTE_TYPES])
def test_payout_and_dispute_events_need_the_stripe_key(kind: str) -> None:
    with pytest.raises(PermanentEventError) as parked:
        World().send(kind, payout() if kind.startswith("payout") else dispute())
    assert parked.value.reason == "needs_stripe_key"


@pytest.mark.parametrize("kind", PAYOUT_TYPES)
def test_payout_events_without_payout_sync_are_ignored(kind: str) -> None:
    w = World(FakeStripe().add_payout(payout()))
    result = w.send(kind, payout())
    assert (result.outcome, result.detail) == (Outcome.IGNORED, "payout booking is not enabled")
    assert w.stripe is not None and w.stripe.calls == []


def test_a_payout_s_events_queue_in_its_own_group_a_dispute_s_with_its_payment() -> None:
    assert message_group_id(event("evt_1", "payout.paid", obj=payout("po_9"))) == "po_9"
    assert message_group_id(event("evt_2", "payout.failed", obj=payout("po_9"))) == "po_9"
    assert message_group_id(event("evt_3", "charge.dispute.closed", obj=dispute("dp_1", "ch_7"))) == "pi_7"
    no_intent = dispute("dp_2", "ch_8", payment_intent=None)
    assert message_group_id(event("evt_4", "charge.dispute.created", obj=no_intent)) == "ch_8"
    # A refund of the same payment: the same group, so a lost dispute's credit waits for it.
    assert message_group_id(event("evt_5", "refund.created", obj=refund("re_1", 100, "pi_7"))) == "pi_7"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.event_type)
def test_every_route_names_a_handler_of_context_and_event(route: Route) -> None:
    handler = handler_of(route.handler)
    assert callable(handler)
    assert list(inspect.signature(handler).parameters) == ["ctx", "event"]


# Modules a stack that books no sales, payouts or summaries must not load when its functions start
# (bench/RESULTS.md, section 1, measures what that saves).
BOOKING_MACHINERY = (
    "stripe_fortnox_sync.sync.invoice_sync",
    "stripe_fortnox_sync.sync.payout_sync",
    "stripe_fortnox_sync.sync.summary_sync",
    "stripe_fortnox_sync.sync.voucher_posting",
    "stripe_fortnox_sync.sync.sales",
    "stripe_fortnox_sync.sync.checkout",
    "stripe_fortnox_sync.adapters.fortnox.vouchers",
    "stripe_fortnox_sync.mapping.invoice_rows",
    "stripe_fortnox_sync.mapping.payout_voucher",
)


@pytest.mark.parametrize("module", ["sync_handler", "webhook_handler"])
def test_a_cold_start_loads_no_handler_and_no_booking_machinery(module: str) -> None:
    code = f"import sys\nimport {module}\nprint(sorted(m for m in {BOOKING_MACHINERY!r} if m in sys.modules))"
    paths = [ROOT / "layers/shared", ROOT / "functions/sync", ROOT / "functions/webhook"]
    env = clean_env(PYTHONPATH=os.pathsep.join(map(str, paths)), AWS_DEFAULT_REGION="eu-north-1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
