"""The payout and dispute handlers wired to fakes: Stripe (`FakeStripe`), Fortnox invoices and vouchers in
memory, the state table's voucher records in memory, and the real `PayoutSync` and `InvoiceSync`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
from stripe_fortnox_sync.sync.payout_sync import PayoutOptions, PayoutSync
from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster
from tests.builders import PERIOD_START, LineSpec, stripe_event, stripe_invoice
from tests.fakes import FakeStripe, InMemoryFortnoxInvoices, InMemoryFortnoxVouchers, InMemoryStateStore
from tests.unit.handlers import World

PAYOUT_TYPES = ["payout.paid", "payout.reconciliation_completed", "payout.failed", "payout.canceled"]
DISPUTE_TYPES = ["charge.dispute.created", "charge.dispute.closed"]


class PayoutWorld:
    def __init__(
        self,
        *,
        itemised_rows: int = 50,
        sales_start: date | None = None,
        reverse_charge: bool = True,
        series: str = "A",
    ) -> None:
        self.stripe = FakeStripe()
        self.invoices = InMemoryFortnoxInvoices()
        self.vouchers = InMemoryFortnoxVouchers()
        self.records = InMemoryStateStore()
        accounts = BookkeepingAccounts()
        self.poster = VoucherPoster(self.vouchers, self.records, series)
        options = PayoutOptions(reverse_charge, itemised_rows, sales_start)
        self.sales = InvoiceSync(self.invoices, accounts)
        self.world = World(
            self.stripe,
            invoices=self.sales,
            payouts=PayoutSync(self.poster, self.invoices, accounts, options),
            event_types=tuple(PAYOUT_TYPES + DISPUTE_TYPES),
        )
        self._n = 0

    def event(self, kind: str, obj: dict[str, Any], created: int | None = None) -> StripeEvent:
        self._n += 1
        return stripe_event(kind, obj, created or PERIOD_START + 22 * 86_400, f"evt_p{self._n}")

    def send(self, kind: str, obj: dict[str, Any], created: int | None = None) -> SyncResult:
        return self.redeliver(self.event(kind, obj, created))

    def redeliver(self, event: StripeEvent) -> SyncResult:
        return routes.apply(self.world.context, event)

    def sell(self, *payment_intents: str, amount: int = 9900, currency: str = "sek") -> None:
        """A booked, paid Fortnox sale for each PaymentIntent (99.00 SEK + 25 % VAT by default)."""
        for intent in payment_intents:
            invoice_id = intent.replace("pi_", "in_")
            invoice = stripe_invoice(
                [LineSpec(amount)], currency, invoice_id=invoice_id, payment_intent=intent
            )
            self.sales.paid(stripe_event("invoice.paid", invoice, PERIOD_START), invoice, "1")

    def pay_out(self, payout: dict[str, Any], txns: Sequence[dict[str, Any]]) -> SyncResult:
        """Stripe has the payout and its transactions; payout.paid arrives."""
        self.stripe.add_payout(payout, txns)
        return self.send("payout.paid", payout)

    def only_voucher(self) -> dict[str, Any]:
        (voucher,) = self.vouchers.vouchers.values()
        return voucher

    def balance(self, account: int) -> Decimal:
        return self.vouchers.balances().get(account, Decimal(0))
