"""The event handlers (sync/routes.py and the family modules) wired to fakes, for their unit tests.

`World` is a handler `Context` of fakes: Fortnox customers and the mapping in memory, a `Recorder`
for the activity log, notifier and observer, the Stripe API (`FakeStripe`) when the test gives one,
and with `booking_world` a `FakeInvoiceSync` that records what the handlers ask it to book (or any
`InvoiceSync` and `PayoutSync` a test gives).
"""

from __future__ import annotations

from typing import Any

from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.context import Context
from stripe_fortnox_sync.sync.customer_sync import CustomerSync
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
from stripe_fortnox_sync.sync.payout_sync import PayoutSync
from stripe_fortnox_sync.sync.summary_sync import SummarySync
from tests.builders import stripe_event
from tests.fakes import FakeFortnox, FakeInvoiceSync, FakeStripe, InMemoryMappingStore, Recorder

# The opt-in event types that book sales and refunds.
INVOICE_TYPES = [
    "invoice.paid",
    "payment_intent.succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
]


class World:
    def __init__(
        self,
        stripe: FakeStripe | None = None,
        *,
        invoices: InvoiceSync | None = None,
        payouts: PayoutSync | None = None,
        summary: SummarySync | None = None,
        **settings: Any,
    ) -> None:
        self.settings = Settings(**settings)
        self.fortnox = FakeFortnox()
        self.links = InMemoryMappingStore()
        self.rec = Recorder()
        self.stripe = stripe
        self.invoices = invoices
        self.context = Context(
            self.settings,
            routes.enabled_types(self.settings),
            CustomerSync(self.settings, self.fortnox, self.links),
            self.fortnox,
            stripe=stripe,
            activity=self.rec,
            notifier=self.rec,
            observer=self.rec,
            invoices=invoices,
            payouts=payouts,
            summary=summary,
        )
        self._n = 0

    def send(self, kind: str, obj: dict[str, Any], created: int = 100) -> SyncResult:
        """Apply one event, numbered evt_1, evt_2, ... in this world."""
        self._n += 1
        return routes.apply(self.context, stripe_event(kind, obj, created, f"evt_{self._n}"))

    def redeliver(self, event: StripeEvent) -> SyncResult:
        return routes.apply(self.context, event)

    def only_customer(self) -> dict[str, Any]:
        (found,) = self.fortnox.customers.values()
        return found

    def fetched(self) -> list[str]:
        """The customers read from the Stripe API."""
        assert self.stripe is not None
        return self.stripe.fetches


def booking_world(stripe: FakeStripe | None = None, **settings: Any) -> World:
    return World(stripe, invoices=FakeInvoiceSync(), **settings)


def calls(w: World) -> list[tuple[str, dict[str, Any]]]:
    """What the handlers asked the invoice sync to book."""
    assert isinstance(w.invoices, FakeInvoiceSync)
    return w.invoices.calls
