"""Stripe sales become booked, paid Fortnox invoices and refunds become paid-out credits, exactly once.

Every step is resumable, and Fortnox itself records how far we got: a document is found by its
`ExternalInvoiceReference1` (the Stripe invoice, PaymentIntent or refund id) before anything is
created, `Booked` says whether it was booked, `Balance` whether it was paid. A redelivery, a crash
between two steps, or a retry after a Fortnox error picks up where the last attempt stopped and never
books twice. Every document of one payment also carries its PaymentIntent id in
`ExternalInvoiceReference2`, so a refund finds the sale it takes back and the credits made before it.

Costs, in Fortnox requests (bench/RESULTS.md counts them): a new invoice 5 (search, create, bookkeep,
pay, bookkeep payment; 2 without automatic bookkeeping: search, create), a redelivery of a finished one
3 (search, read, and its payments, to book one whose booking failed; 2 without automatic bookkeeping);
a partial refund 7 + 1 per earlier credit (search the refund, search the payment, read the sale,
create, bookkeep, pay back, bookkeep payment), a full refund one more (credit, then tag the credit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError, PermanentEventError, WaitingForInvoice
from stripe_fortnox_sync.core.models import FieldWarning, Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.ports import FortnoxInvoices
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.credits import credit_payload, refund_is_full
from stripe_fortnox_sync.mapping.dates import stripe_date, stripe_invoice_paid_on
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice, total_difference
from stripe_fortnox_sync.mapping.identity import expandable_id
from stripe_fortnox_sync.mapping.money import decimal_to_minor, format_amount, minor_to_decimal
from stripe_fortnox_sync.mapping.payments import payment_payload
from stripe_fortnox_sync.mapping.sales import map_checkout_session, map_payment_intent, map_stripe_invoice


@dataclass(frozen=True)
class Payment:
    """What went through Stripe for one document: the amount (positive, minor units) and the day.

    `settlement_sek_minor`: the SEK Stripe booked for a payment in another currency (its balance
    transaction), when known; otherwise Fortnox's currency rate prices the payment.
    """

    amount_minor: int
    currency: str
    day: date
    settlement_sek_minor: int | None = None


@dataclass
class _Progress:
    steps: list[str] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if any(s.startswith(("created", "credited")) for s in self.steps):
            return Outcome.CREATED
        return Outcome.UPDATED if self.steps else Outcome.UNCHANGED

    def summary(self, done: str) -> str:
        return ", ".join(self.steps) if self.steps else done


def _is_credit(item: Mapping[str, Any]) -> bool:
    total = item.get("Total")
    return isinstance(total, int | float) and total < 0


def _unrounded_total(invoice: Mapping[str, Any]) -> Decimal:
    return Decimal(str(invoice.get("Total") or 0)) - Decimal(str(invoice.get("RoundOff") or 0))


class InvoiceSync:
    def __init__(
        self, fortnox: FortnoxInvoices, accounts: BookkeepingAccounts, seller_country: str = "SE"
    ) -> None:
        self._fortnox = fortnox
        self._accounts = accounts
        self._seller_country = seller_country

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
        progress = _Progress()
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

    def _find(self, reference: str) -> dict[str, Any] | None:
        """The document made for this Stripe id, unless a bookkeeper cancelled it (then a new one)."""
        found = self._fortnox.find_invoice_by_external_reference(reference)
        return None if found is None or found.get("Cancelled") else found

    def _create(self, mapped: MappedInvoice, what: str, progress: _Progress, step: str) -> dict[str, Any]:
        progress.warnings.extend(mapped.warnings)
        # Create, then book, pay and book the payment: their rate-limit slots in one write.
        self._fortnox.reserve(4 if self._accounts.bookkeep else 1)
        document = self._fortnox.create_invoice(mapped.payload)
        progress.steps.append(step)
        gap = total_difference(mapped, document)
        if gap != 0:
            # Left unbooked, so a bookkeeper can correct or cancel it.
            raise PermanentEventError(
                "invoice_total",
                f"Fortnox invoice {document.get('DocumentNumber')} totals {gap:+} {mapped.currency} off "
                f"{what}; left unbooked for a bookkeeper",
            )
        return document

    def _finish(self, document: Mapping[str, Any], payment: Payment, progress: _Progress) -> str:
        """Book the document and register what Stripe moved, unless Fortnox shows it done."""
        number = str(document["DocumentNumber"])
        if self._accounts.bookkeep and not document.get("Booked"):
            document = self._fortnox.bookkeep_invoice(number)
            progress.steps.append("booked")
        if not document.get("Booked"):
            # Fortnox takes payments on booked invoices only: the bookkeeper books it and
            # registers the payment (automatic bookkeeping is off).
            progress.steps.append("left unbooked and unpaid for the bookkeeper")
        elif payment.amount_minor and Decimal(str(document.get("Balance", 1))) != 0:
            mapped = payment_payload(
                document,
                payment.amount_minor,
                payment.currency,
                payment.day,
                self._accounts,
                settlement_sek_minor=payment.settlement_sek_minor,
            )
            progress.warnings.extend(mapped.warnings)
            registered = self._fortnox.register_payment(mapped.payload)
            progress.steps.append("paid" if _unrounded_total(document) >= 0 else "paid back")
            if self._accounts.bookkeep and registered.get("Number") is not None:
                self._fortnox.bookkeep_payment(str(registered["Number"]))
        elif payment.amount_minor and self._accounts.bookkeep:
            # Paid; but a failure between registering the payment and booking it leaves the
            # payment unbooked, which only the invoice's payments show.
            unbooked = [
                p
                for p in self._fortnox.list_payments(number)
                if not p.get("Booked") and p.get("Number") is not None
            ]
            for paid in unbooked:
                self._fortnox.bookkeep_payment(str(paid["Number"]))
            if unbooked:
                progress.steps.append("payment booked")
        return number

    # Refunds ----------------------------------------------------------------------------------

    def refund(
        self, event: StripeEvent, refund: Mapping[str, Any], *, settlement_sek_minor: int | None = None
    ) -> SyncResult:
        """A succeeded Stripe refund: a credit of the payment's Fortnox invoice, paid back.

        The whole invoice refunded at once: Fortnox's own credit action (every row). Otherwise a
        credit invoice for the refunded amount referencing the invoice, one per Stripe refund.
        """
        refund_id = str(refund.get("id") or "")
        currency = str(refund.get("currency") or "sek")
        amount = refund.get("amount")
        if not refund_id or not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise PermanentEventError("bad_payload", f"event {event.id}: a refund needs an id and an amount")
        payment_id = expandable_id(refund.get("payment_intent")) or expandable_id(refund.get("charge"))
        if not payment_id:
            raise PermanentEventError("bad_payload", f"refund {refund_id} names no payment")
        created = refund.get("created")
        day = stripe_date(created if isinstance(created, int) else event.created)
        progress = _Progress()
        what = f"Stripe refund {refund_id}"
        try:
            found = self._find(refund_id)
            if found is not None:
                credit = self._fortnox.get_invoice(str(found["DocumentNumber"]))
            else:
                credit = self._credit(refund_id, payment_id, amount, currency, day, progress)
            number = self._finish(credit, Payment(amount, currency, day, settlement_sek_minor), progress)
        except InvoiceMappingError as exc:
            raise PermanentEventError("invoice_mapping", f"{what}: {exc}") from None
        detail = (
            f"credit invoice {number} of invoice {credit.get('CreditInvoiceReference')} "
            f"(-{format_amount(amount, currency)}): {progress.summary('already credited and paid back')}"
        )
        return SyncResult(
            event.id, event.type, refund_id, progress.outcome, number, detail, tuple(progress.warnings)
        )

    def _credit(
        self, refund_id: str, payment_id: str, amount: int, currency: str, day: date, progress: _Progress
    ) -> dict[str, Any]:
        documents = [
            d
            for d in self._fortnox.find_invoices_by_external_reference(payment_id, field=2)
            if not d.get("Cancelled")
        ]
        sales = [d for d in documents if not _is_credit(d)]
        if not sales:
            raise WaitingForInvoice(f"refund {refund_id}: payment {payment_id} has no Fortnox invoice yet")
        sale = self._fortnox.get_invoice(str(sales[0]["DocumentNumber"]))
        # Fortnox's credit action dates the credit today; the refund's day is when the money left.
        credit_day = max(day, date.fromisoformat(str(sale.get("InvoiceDate") or day.isoformat()))).isoformat()
        tags = {
            "InvoiceDate": credit_day,
            "DueDate": credit_day,
            "ExternalInvoiceReference1": refund_id,
            "ExternalInvoiceReference2": payment_id,
            "Remarks": f"Återbetalning {refund_id} i Stripe av faktura {sale['DocumentNumber']}",
        }
        numbers = [str(d["DocumentNumber"]) for d in documents if _is_credit(d)]
        first_credit = str(sale.get("CreditInvoiceReference") or "0")
        if first_credit != "0" and first_credit not in numbers:
            numbers.append(first_credit)  # in case Fortnox's credit action did not copy the references
        credited = Decimal(0)
        for credit_number in numbers:
            credit = self._fortnox.get_invoice(credit_number)
            untagged = credit.get("ExternalInvoiceReference1") in (
                None,
                "",
                sale.get("ExternalInvoiceReference1"),
            )
            if untagged and -_unrounded_total(credit) == minor_to_decimal(amount, currency):
                # A full credit whose tagging a crash interrupted (Fortnox's credit action copies
                # the sale's references), or the same credit made by hand: it is this refund's.
                progress.steps.append("credit adopted")
                return self._fortnox.update_invoice(credit_number, tags)
            credited -= _unrounded_total(credit)
        credited_minor = decimal_to_minor(credited, currency)
        if refund_is_full(sale, amount, currency, credited_minor):
            credited_sale = self._fortnox.credit_invoice(str(sale["DocumentNumber"]))
            progress.steps.append("credited")
            number = str(credited_sale["CreditInvoiceReference"])
            return self._fortnox.update_invoice(number, tags)
        mapped = credit_payload(
            sale, amount, currency, refund_id, day, self._accounts, already_credited_minor=credited_minor
        )
        mapped = replace(mapped, payload={**mapped.payload, "ExternalInvoiceReference2": payment_id})
        return self._create(mapped, f"Stripe refund {refund_id}", progress, "created credit")
