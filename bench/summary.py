"""Fortnox requests for a day of summary booking (BookingMode summary), counted at the simulator: the
done-when day of tests/summary_builders.py (500 paid invoices of six buyers in six countries, one in
EUR, and refunds) through the local stack with the local Stripe API, then `book-day`, then a redo.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import SECRET, Result, event, send, wait_processed


@contextlib.contextmanager
def summary_stack() -> Iterator[tuple[Any, Any]]:
    """The payouts' bench stack in summary mode."""
    from stripe_fortnox_cli.local import LocalConfig, LocalStack
    from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    settings = {
        "ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES),
        "FORTNOX_MAX_REQUESTS": "1000",
        "BOOKING_MODE": "summary",
    }
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


def measure_day(payments: int = 500) -> dict[str, int]:
    """Fortnox requests: recording the day's events, booking it, booking it again."""
    from stripe_fortnox_cli.cli import main
    from tests.builders import settled_payment_intent
    from tests.summary_builders import DAY, generate_day

    spec = generate_day(payments, refunds=payments // 12)
    with summary_stack() as (stack, stripe):
        sim = stack.fortnox.simulator
        for buyer in spec.customers:
            stripe.add_customer(buyer)
        for sale in spec.sales:
            if sale.invoice["currency"] != "sek":
                stripe.add_payment_intent(
                    settled_payment_intent(
                        sale.intent,
                        sale.total,
                        customer_id=sale.invoice["customer"],
                        currency="eur",
                        settled_sek=sale.sek,
                    )
                )
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
