"""Fortnox requests for a day of summary booking (BookingMode summary), counted at the simulator: the
done-when day of tests/summary_builders.py (500 paid invoices of six buyers in six countries, one in
EUR, and refunds) through the local stack with the local Stripe API, then `book-day`, then a redo.
"""

from __future__ import annotations

import contextlib
import io
import time

from .common import Result, event, send, wait_processed
from .payouts import payout_stack


def measure_day(payments: int = 500) -> dict[str, int]:
    """Fortnox requests: recording the day's events, booking it, booking it again."""
    from stripe_fortnox_cli.cli import main
    from tests.summary_builders import DAY, generate_day

    spec = generate_day(payments, refunds=payments // 12)
    with payout_stack(BOOKING_MODE="summary") as (stack, stripe):
        sim = stack.fortnox.simulator
        for buyer in spec.customers:
            stripe.add_customer(buyer)
        for intent in spec.foreign_intents():
            stripe.add_payment_intent(intent)
        for refund in spec.refunds:
            stripe.add_refund(refund)
        events = [
            event(f"evt_sale{n}", "invoice.paid", s.invoice["status_transitions"]["paid_at"], s.invoice)
            for n, s in enumerate(spec.sales)
        ] + [event(f"evt_refund{n}", "refund.created", r["created"], r) for n, r in enumerate(spec.refunds)]
        before = sim.stats()["api_requests"]
        for evt in events:
            send(stack, evt)
        wait_processed(stack, len(events), 600)
        time.sleep(0.2)
        recorded = int(sim.stats()["api_requests"] - before)
        counts = [recorded]
        for _ in range(2):
            before = sim.stats()["api_requests"]
            with contextlib.redirect_stdout(io.StringIO()):
                main(["book-day", "--local", str(stack.state_dir), DAY])
            counts.append(int(sim.stats()["api_requests"] - before))
        invoices = len(sim.invoices())
        vouchers = len(sim.vouchers("local-tenant"))
    return {
        "events": len(events),
        "recorded": counts[0],
        "booked": counts[1],
        "again": counts[2],
        "invoices": invoices,
        "vouchers": vouchers,
        "customers": len(spec.customers),
    }


def bench_summary(payments: int = 500) -> Result:
    result = Result("3c. Fortnox requests for a day of summary booking, counted at the simulator")
    m = measure_day(payments)
    result.row(
        f"{m['events']} events of the day ({payments} payments, refunds; {m['customers']} customers)",
        f"{m['recorded']} ({m['invoices']} invoices)",
        f"<= {2 * m['customers']} (the customers only)",
        m["recorded"] <= 2 * m["customers"] and m["invoices"] == 0,
    )
    result.row("book-day: the day's voucher (a cold process)", str(m["booked"]), "<= 5", m["booked"] <= 5)
    result.row("book-day again (the day booked in full)", str(m["again"]), "0", m["again"] == 0)
    result.notes.append(
        "Recording a payment or refund costs no Fortnox request (the state table only); the customers "
        "sync as in invoices mode (a new one 2 requests, an unchanged one none). The day's voucher: the "
        "series and the financial year (once per process), the locked period, the series' vouchers of "
        f"the day, the POST. In invoices mode the same day costs about {5 * payments:,} requests "
        "(5 per invoice, section 3), over 80 minutes at Fortnox's 25 per 5 s."
    )
    return result
