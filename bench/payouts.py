"""Fortnox requests per payout, counted at the simulator: a payout of 10 and of 100 charges whose
sales the invoice sync booked first, through the local stack with the local Stripe API.

The sales are invoice.paid events made from the demo's sample (events/stripe/14), each with its
own ids and the payout's days; the payout lists their charges, and `payout.paid` books it. The
counts are what the booking costs: the series and financial year are read once per container, so
the payouts after the first in a container cost less, and a redelivery costs nothing.
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import SECRET, Result, event, sample, send, wait_processed

DAY = 1716163200  # 2024-05-20 00:00 UTC: the sales and their charges
ARRIVAL = 1716422400  # 2024-05-23: the payout arrives
FEE = 300


@contextlib.contextmanager
def payout_stack(**env: str) -> Iterator[tuple[Any, Any]]:
    """The local stack with every event type enabled, the rate limit out of the way (the counts,
    not the waits, are measured), and the local Stripe API behind a key; `env`: more settings."""
    from stripe_fortnox_cli.local import LocalConfig, LocalStack
    from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    settings = {"ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES), "FORTNOX_MAX_REQUESTS": "1000", **env}
    with tempfile.TemporaryDirectory() as state, FakeStripeApi() as stripe:
        config = LocalConfig(
            port=0,
            webhook_secrets=[SECRET],
            state_dir=Path(state),
            visibility_timeout=120,
            stripe_api_key=stripe.api_key,
            stripe_api_base=stripe.base_url,
            extra_env=settings,
        )
        stack = LocalStack(config)
        stack.start()
        try:
            assert stack.fortnox is not None and stack.fortnox.simulator is not None
            stack.fortnox.simulator.configure(rate_limit_enabled=False)
            yield stack, stripe
        finally:
            stack.stop()


def _sale(n: int, tag: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """invoice.paid for the demo's renewal under new ids, dated on DAY; and its charge's balance
    transaction, source expanded."""
    evt = copy.deepcopy(sample("14-invoice.paid.json"))
    invoice = evt["data"]["object"]
    ids = f"{tag}{n:04d}"
    invoice.update(id=f"in_Bench{ids}", payment_intent=f"pi_Bench{ids}", number=f"B-{ids}", effective_at=DAY)
    invoice["status_transitions"].update(finalized_at=DAY, paid_at=DAY)
    evt.update(id=f"evt_BenchSale{ids}", created=DAY)
    total = int(invoice["total"])
    charge = {"id": f"ch_Bench{ids}", "object": "charge", "payment_intent": invoice["payment_intent"]}
    txn = {
        "id": f"txn_Bench{ids}",
        "object": "balance_transaction",
        "amount": total,
        "fee": FEE,
        "net": total - FEE,
        "currency": "sek",
        "reporting_category": "charge",
        "type": "charge",
        "source": charge,
        "created": DAY + 60,
        "fee_details": [{"amount": FEE, "currency": "sek", "type": "stripe_fee", "description": "fees"}],
    }
    return evt, txn


def _payout(payout_id: str, txns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": payout_id,
        "object": "payout",
        "amount": sum(t["net"] for t in txns),
        "currency": "sek",
        "status": "paid",
        "reconciliation_status": "completed",
        "automatic": True,
        "method": "standard",
        "created": ARRIVAL - 2 * 86_400,
        "arrival_date": ARRIVAL,
    }


def _measure(stack: Any, stripe: Any, payout_id: str, charges: int) -> tuple[int, int]:
    """Sell `charges` times, then pay them out: Fortnox requests of the booking and of a redelivery."""
    sim = stack.fortnox.simulator
    sales = [_sale(n, payout_id[-4:]) for n in range(charges)]
    customer = sample("01-customer.created.json")["data"]["object"]
    stripe.add_customer(customer)
    for evt, _ in sales:
        send(stack, evt)
    wait_processed(stack, len(stack.processed) + charges, 120)
    txns = [txn for _, txn in sales]
    payout = _payout(payout_id, txns)
    stripe.add_payout(payout, txns)
    counts = []
    for n, eid in enumerate((f"evt_{payout_id}_paid", f"evt_{payout_id}_again")):
        time.sleep(0.2)
        before, done = sim.stats()["api_requests"], len(stack.processed)
        send(stack, event(eid, "payout.paid", ARRIVAL + n, payout))
        wait_processed(stack, done + 1, 60)
        time.sleep(0.2)
        counts.append(int(sim.stats()["api_requests"] - before))
    return counts[0], counts[1]


def bench_payouts() -> Result:
    result = Result("3b. Fortnox requests per payout, counted at the simulator")
    with payout_stack() as (stack, stripe):
        first, _ = _measure(stack, stripe, "po_Bench0010", 10)
        warm, again = _measure(stack, stripe, "po_Bench0100", 100)
        itemised, _ = _measure(stack, stripe, "po_Bench0040", 40)
    result.row("a first payout in a container, 10 charges", str(first), "<= 6", first <= 6)
    result.row(
        "a payout of 100 charges: rows per category, the report attached (warm container)",
        str(warm),
        "<= 6",
        warm <= 6,
    )
    result.row("a payout of 40 charges, a row each (warm container)", str(itemised), "<= 4", itemised <= 4)
    result.row("the same payout.paid again (a new event id)", str(again), "0", again == 0)
    result.notes.append(
        "Per payout, not per transaction: the series and the financial year (2 requests) once per "
        "container; the locked period, one listing of the invoices dated around the charges (500 a "
        "page), the series' vouchers of the payout's days (one an interrupted attempt posted?) and "
        "the voucher; a payout of more than PayoutItemisedRows (50) transactions 2 more (the report "
        "into the inbox, connected to the voucher). A charge whose sale is dated outside the listing "
        "costs one search more. The sales were booked by invoice.paid first (5 requests each, section 3)."
    )
    return result
