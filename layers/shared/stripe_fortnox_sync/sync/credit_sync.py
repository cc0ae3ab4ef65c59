"""Money a sale gives back becomes a Fortnox credit, paid back, exactly once: a Stripe refund (paid
back through the Stripe clearing account) and a lost dispute (through dispute clearing, where the
payout booked the amount Stripe withdrew).

The credit is found by its Stripe id (the refund or dispute id) in `ExternalInvoiceReference1`;
every document of the payment carries the PaymentIntent in `ExternalInvoiceReference2`, which finds
the sale and what was credited before. The whole sale at once, nothing credited before: Fortnox's
credit action (every row). Otherwise a credit invoice for the amount, referencing the sale
(`CreditInvoiceReference`); if Fortnox refuses a second credit connected to one invoice (its user
interface does), a credit invoice that names the sale in its references and text instead.

Costs, in Fortnox requests: a partial refund 7 + 1 per earlier credit (search the refund, search the
payment, read the sale, create, bookkeep, pay back, bookkeep payment), a full refund one more
(credit, then tag the credit), a refused connected credit one more (the create that failed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import (
    FortnoxError,
    InvoiceMappingError,
    PermanentEventError,
    WaitingForInvoice,
)
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.credits import credit_payload, refund_is_full
from stripe_fortnox_sync.mapping.dates import stripe_date
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice
from stripe_fortnox_sync.mapping.identity import expandable_id
from stripe_fortnox_sync.mapping.money import decimal_to_minor, format_amount, minor_to_decimal
from stripe_fortnox_sync.sync.invoice_steps import InvoiceSteps, Payment, Progress, is_credit, unrounded_total


@dataclass(frozen=True)
class TakeBack:
    """Money a sale gives back: `stripe_id` (refund or dispute) keys its credit."""

    stripe_id: str
    payment_id: str
    amount: int
    currency: str
    day: date
    # Remarks on the credit, followed by the sale's number: "Återbetalning re_1 i Stripe".
    remark: str
    settlement_sek_minor: int | None = None
    # Where the money went back from, if not the Stripe clearing account.
    account: int | None = None


def _amount(obj: Mapping[str, Any]) -> int | None:
    amount = obj.get("amount")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0 else None


class CreditSync(InvoiceSteps):
    def refund(
        self, event: StripeEvent, refund: Mapping[str, Any], *, settlement_sek_minor: int | None = None
    ) -> SyncResult:
        """A succeeded Stripe refund: a credit of the payment's Fortnox invoice, paid back."""
        refund_id = str(refund.get("id") or "")
        amount = _amount(refund)
        if not refund_id or amount is None:
            raise PermanentEventError("bad_payload", f"event {event.id}: a refund needs an id and an amount")
        payment_id = expandable_id(refund.get("payment_intent")) or expandable_id(refund.get("charge"))
        if not payment_id:
            raise PermanentEventError("bad_payload", f"refund {refund_id} names no payment")
        created = refund.get("created")
        day = stripe_date(created if isinstance(created, int) else event.created)
        currency = str(refund.get("currency") or "sek")
        back = TakeBack(
            refund_id,
            payment_id,
            amount,
            currency,
            day,
            f"Återbetalning {refund_id} i Stripe",
            settlement_sek_minor,
        )
        return self._take_back(event, back, f"Stripe refund {refund_id}")

    def dispute_lost(
        self, event: StripeEvent, dispute: Mapping[str, Any], *, settlement_sek_minor: int | None = None
    ) -> SyncResult:
        """A dispute the buyer won: the sale is lost. Its credit is paid back through dispute
        clearing, which the payout debited when Stripe withdrew the amount, so it ends at zero."""
        dispute_id = str(dispute.get("id") or "")
        amount = _amount(dispute)
        payment_id = expandable_id(dispute.get("payment_intent")) or expandable_id(dispute.get("charge"))
        if not dispute_id or amount is None or not payment_id:
            raise PermanentEventError(
                "bad_payload", f"event {event.id}: a dispute needs an id, amount and charge"
            )
        back = TakeBack(
            dispute_id,
            payment_id,
            amount,
            str(dispute.get("currency") or "sek"),
            stripe_date(event.created),
            f"Förlorad tvist {dispute_id} i Stripe",
            settlement_sek_minor,
            self._accounts.dispute_clearing,
        )
        return self._take_back(event, back, f"Stripe dispute {dispute_id}")

    def _take_back(self, event: StripeEvent, back: TakeBack, what: str) -> SyncResult:
        progress = Progress()
        payment = Payment(back.amount, back.currency, back.day, back.settlement_sek_minor, back.account)
        try:
            found = self._find(back.stripe_id)
            if found is not None:
                credit = self._fortnox.get_invoice(str(found["DocumentNumber"]))
            else:
                credit = self._credit(back, progress)
            number = self._finish(credit, payment, progress)
        except InvoiceMappingError as exc:
            raise PermanentEventError("invoice_mapping", f"{what}: {exc}") from None
        sale = credit.get("CreditInvoiceReference") or "-"
        detail = (
            f"credit invoice {number} of invoice {sale} (-{format_amount(back.amount, back.currency)}): "
            f"{progress.summary('already credited and paid back')}"
        )
        return SyncResult(
            event.id, event.type, back.stripe_id, progress.outcome, number, detail, tuple(progress.warnings)
        )

    def _credit(self, back: TakeBack, progress: Progress) -> dict[str, Any]:
        documents = [
            d
            for d in self._fortnox.find_invoices_by_external_reference(back.payment_id, field=2)
            if not d.get("Cancelled")
        ]
        sales = [d for d in documents if not is_credit(d)]
        if not sales:
            raise WaitingForInvoice(f"{back.stripe_id}: payment {back.payment_id} has no Fortnox invoice yet")
        sale = self._fortnox.get_invoice(str(sales[0]["DocumentNumber"]))
        # Fortnox's credit action dates the credit today; the Stripe day is when the money left.
        sale_day = date.fromisoformat(str(sale.get("InvoiceDate") or back.day.isoformat()))
        credit_day = max(back.day, sale_day).isoformat()
        tags = {
            "InvoiceDate": credit_day,
            "DueDate": credit_day,
            "ExternalInvoiceReference1": back.stripe_id,
            "ExternalInvoiceReference2": back.payment_id,
            "Remarks": f"{back.remark} av faktura {sale['DocumentNumber']}",
        }
        numbers = [str(d["DocumentNumber"]) for d in documents if is_credit(d)]
        first_credit = str(sale.get("CreditInvoiceReference") or "0")
        if first_credit != "0" and first_credit not in numbers:
            numbers.append(first_credit)  # in case Fortnox's credit action did not copy the references
        adopted, credited = self._earlier_credits(sale, numbers, back)
        if adopted is not None:
            progress.steps.append("credit adopted")
            return self._fortnox.update_invoice(adopted, tags)
        credited_minor = decimal_to_minor(credited, back.currency)
        if refund_is_full(sale, back.amount, back.currency, credited_minor):
            credited_sale = self._fortnox.credit_invoice(str(sale["DocumentNumber"]))
            progress.steps.append("credited")
            return self._fortnox.update_invoice(str(credited_sale["CreditInvoiceReference"]), tags)
        mapped = credit_payload(
            sale, back.amount, back.currency, back.stripe_id, back.day, self._accounts,
            already_credited_minor=credited_minor,
        )  # fmt: skip
        mapped = replace(
            mapped,
            payload={
                **mapped.payload,
                "ExternalInvoiceReference2": back.payment_id,
                "Remarks": tags["Remarks"],
            },
        )
        return self._connected_or_standalone(mapped, sale, back, progress, bool(numbers))

    def _earlier_credits(
        self, sale: Mapping[str, Any], numbers: list[str], back: TakeBack
    ) -> tuple[str | None, Decimal]:
        """The credit this take-back made before a crash interrupted its tagging (a full credit
        Fortnox's credit action copied the sale's references onto, or the same credit made by hand),
        else None and what the sale's credits add up to."""
        credited = Decimal(0)
        for credit_number in numbers:
            credit = self._fortnox.get_invoice(credit_number)
            references = (None, "", sale.get("ExternalInvoiceReference1"))
            untagged = credit.get("ExternalInvoiceReference1") in references
            if untagged and -unrounded_total(credit) == minor_to_decimal(back.amount, back.currency):
                return credit_number, credited
            credited -= unrounded_total(credit)
        return None, credited

    def _connected_or_standalone(
        self, mapped: MappedInvoice, sale: Mapping[str, Any], back: TakeBack, progress: Progress, again: bool
    ) -> dict[str, Any]:
        """The credit invoice connected to the sale; when Fortnox refuses a second connected credit,
        one that names the sale in its references (the payment) and its text instead."""
        what = f"Stripe {back.stripe_id}"
        try:
            return self._create(mapped, what, progress, "created credit")
        except FortnoxError as exc:
            if not again or exc.status != 400:
                raise
        number = sale["DocumentNumber"]
        payload = {k: v for k, v in mapped.payload.items() if k != "CreditInvoiceReference"}
        payload["Remarks"] = f"{back.remark}: kreditering av faktura {number} (redan krediterad en gång)"
        payload["YourOrderNumber"] = f"Faktura {number}"
        return self._create(replace(mapped, payload=payload), what, progress, "created standalone credit")
