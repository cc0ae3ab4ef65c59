"""What every event handler shares: the ports, the settings, and small helpers over them.

A handler is a function `(Context, StripeEvent) -> SyncResult`, named in `routes.ROUTES`. It talks
to the outside world only through the ports held here, so a unit test builds a `Context` of fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.ports import ActivityLog, FortnoxCustomers, Notifier, Observer, StripeReader
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.identity import expandable_id

if TYPE_CHECKING:
    # Named only in annotations: importing the invoice, payout and summary machinery here would
    # load it for every handler, on every cold start, whether the stack books sales or not.
    from stripe_fortnox_sync.sync.customer_sync import CustomerSync
    from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
    from stripe_fortnox_sync.sync.payout_sync import PayoutSync
    from stripe_fortnox_sync.sync.summary_sync import SummarySync


@dataclass(frozen=True)
class Context:
    settings: Settings
    # The event types this stack handles (the route table's defaults, or ENABLED_EVENT_TYPES).
    enabled: frozenset[str]
    customers: CustomerSync
    fortnox: FortnoxCustomers
    stripe: StripeReader | None = None
    activity: ActivityLog | None = None
    notifier: Notifier | None = None
    observer: Observer | None = None
    invoices: InvoiceSync | None = None
    payouts: PayoutSync | None = None
    # BookingMode summary: sales recorded for their day instead of invoiced (then `invoices` is None).
    summary: SummarySync | None = None

    def require_stripe(self, what: str) -> StripeReader:
        if self.stripe is None:
            raise PermanentEventError(
                "needs_stripe_key",
                f"{what} need the Stripe API: store a restricted key in the StripeApiKey secret; redrive",
            )
        return self.stripe

    def skipped(self, event: StripeEvent, what: str) -> None:
        """Without a Stripe key, part of what the event means could not be applied."""
        if self.observer is not None:
            self.observer.skipped_without_key(event, what)

    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        if self.activity is not None and customer_id:
            self.activity.record(customer_id, event, details)


Handler = Callable[[Context, StripeEvent], SyncResult]


def customer_id_of(obj: Mapping[str, Any]) -> str | None:
    value = expandable_id(obj.get("customer"))
    return value if value and value.startswith("cus_") else None


def ignored(event: StripeEvent, detail: str, stripe_id: str = "") -> SyncResult:
    return SyncResult(event.id, event.type, stripe_id, Outcome.IGNORED, detail=detail)


def books_no_sales(ctx: Context) -> bool:
    """Neither invoices nor summary booking is on (no sales event type is enabled)."""
    return ctx.invoices is None and ctx.summary is None


def not_enabled(event: StripeEvent) -> SyncResult:
    return ignored(event, "invoice sync is not enabled")


def combined(customer: SyncResult, invoice: SyncResult) -> SyncResult:
    """One result for an event that synced a customer and then booked a sale."""
    return replace(
        invoice,
        stripe_id=customer.stripe_id or invoice.stripe_id,
        detail=f"customer {customer.outcome.value}; {invoice.detail}",
        warnings=customer.warnings + invoice.warnings,
    )
