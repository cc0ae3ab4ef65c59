"""Stripe sales become booked, paid Fortnox invoices, exactly once (refunds and lost disputes become
credits: `credit_sync.py`; the steps they share: `invoice_steps.py`).

Every step is resumable, and Fortnox itself records how far we got: a document is found by its
`ExternalInvoiceReference1` (the Stripe invoice or PaymentIntent id) before anything is created,
`Booked` says whether it was booked, `Balance` whether it was paid. A redelivery, a crash between two
steps, or a retry after a Fortnox error picks up where the last attempt stopped and never books twice.
Every document of one payment also carries its PaymentIntent id in `ExternalInvoiceReference2`, so a
refund finds the sale it takes back and the credits made before it.

Costs, in Fortnox requests (bench/RESULTS.md counts them): a new invoice 5 (search, create, bookkeep,
pay, bookkeep payment; 2 without automatic bookkeeping: search, create), a redelivery of a finished one
3 (search, read, and its payments, to book one whose booking failed; 2 without automatic bookkeeping).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError, PermanentEventError
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.dates import stripe_date, stripe_invoice_paid_on
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice
from stripe_fortnox_sync.mapping.identity import expandable_id
from stripe_fortnox_sync.mapping.money import format_amount
from stripe_fortnox_sync.mapping.sales import map_checkout_session, map_payment_intent, map_stripe_invoice
from stripe_fortnox_sync.sync.credit_sync import CreditSync
from stripe_fortnox_sync.sync.invoice_steps import Payment, Progress


class InvoiceSync(CreditSync):
    """Sales (here), refunds and lost disputes (`CreditSync`) as Fortnox documents."""

    # Sales ------------------------------------------------------------------------------------

    def paid(
        self,
        event: StripeEvent,
        invoice: Mapping[str, Any],
        customer_number: str,
        *,
        vat_type: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        """A paid Stripe invoice (invoice.paid)."""
        stripe_id = str(invoice.get("id") or "")
        currency = str(invoice.get("currency") or "sek")

        def build() -> MappedInvoice:
            return map_stripe_invoice(
                invoice,
                customer_number,
                self._accounts,
                lines=lines,
                vat_type=vat_type,
                seller_country=self._seller_country,
            )

        def paid_on() -> date:
            return stripe_invoice_paid_on(invoice)

        amount_paid = invoice.get("amount_paid")
        return self._sale(
            event,
            stripe_id,
            str(invoice.get("customer") or ""),
            build,
            lambda: Payment(
                amount_paid if isinstance(amount_paid, int) else 0, currency, paid_on(), settlement_sek_minor
            ),
            format_amount(int(invoice.get("total") or 0), currency),
            f"Stripe invoice {stripe_id}",
        )

    def checkout_paid(
        self,
        event: StripeEvent,
        session: Mapping[str, Any],
        line_items: Sequence[Mapping[str, Any]],
        customer_number: str,
        *,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        """A Checkout Session paid in payment mode, with its line items from the Stripe API."""
        currency = str(session.get("currency") or "sek")
        total = int(session.get("amount_total") or 0)
        reference = expandable_id(session.get("payment_intent")) or str(session.get("id") or "")
        return self._sale(
            event,
            reference,
            str(session.get("customer") or session.get("id") or ""),
            lambda: map_checkout_session(
                session, line_items, customer_number, self._accounts, seller_country=self._seller_country
            ),
            lambda: Payment(total, currency, stripe_date(event.created), settlement_sek_minor),
            format_amount(total, currency),
            f"Checkout Session {session.get('id')}",
        )

    def payment_intent_paid(
        self,
        event: StripeEvent,
        intent: Mapping[str, Any],
        customer_number: str,
        *,
        vat_rate: int,
        vat_type: str | None = None,
        settlement_sek_minor: int | None = None,
    ) -> SyncResult:
        """A succeeded PaymentIntent that neither a Stripe invoice nor a Checkout Session took."""
        currency = str(intent.get("currency") or "sek")
        received = intent.get("amount_received") or intent.get("amount")
        amount = received if isinstance(received, int) else 0
        return self._sale(
            event,
            str(intent.get("id") or ""),
            str(intent.get("customer") or ""),
            lambda: map_payment_intent(
                intent, customer_number, self._accounts, vat_rate=vat_rate, vat_type=vat_type
            ),
            lambda: Payment(amount, currency, stripe_date(event.created), settlement_sek_minor),
            format_amount(amount, currency),
            f"PaymentIntent {intent.get('id')}",
        )

    def _sale(
        self,
        event: StripeEvent,
        reference: str,
        stripe_id: str,
        build: Callable[[], MappedInvoice],
        payment: Callable[[], Payment],
        amount: str,
        what: str,
    ) -> SyncResult:
        progress = Progress()
        try:
            found = self._find(reference)
            if found is not None:
                document = self._fortnox.get_invoice(str(found["DocumentNumber"]))
            else:
                document = self._create(build(), what, progress, "created")
            number = self._finish(document, payment(), progress)
        except InvoiceMappingError as exc:
            raise PermanentEventError("invoice_mapping", f"{what}: {exc}") from None
        detail = f"invoice {number} ({amount}): {progress.summary('already booked and paid')}"
        return SyncResult(
            event.id, event.type, stripe_id, progress.outcome, number, detail, tuple(progress.warnings)
        )
