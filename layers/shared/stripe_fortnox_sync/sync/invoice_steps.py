"""The resumable steps every Fortnox document of a Stripe payment goes through: find it by its Stripe
id, create it (checking Fortnox's total), book it, register what Stripe moved, book the payment.

Fortnox itself records how far we got: a document is found by its `ExternalInvoiceReference1` before
anything is created, `Booked` says whether it was booked, `Balance` whether it was paid. Sales
(`invoice_sync.py`) and credits (`credit_sync.py`) build on these steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import FieldWarning, Outcome
from stripe_fortnox_sync.core.ports import FortnoxInvoices
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice, total_difference
from stripe_fortnox_sync.mapping.payments import payment_payload


@dataclass(frozen=True)
class Payment:
    """What went through Stripe for one document: the amount (positive, minor units) and the day.

    `settlement_sek_minor`: the SEK Stripe booked for a payment in another currency (its balance
    transaction), when known; otherwise Fortnox's currency rate prices the payment. `account`: where
    the money went, when not the Stripe clearing account (a lost dispute's on dispute clearing).
    """

    amount_minor: int
    currency: str
    day: date
    settlement_sek_minor: int | None = None
    account: int | None = None


@dataclass
class Progress:
    steps: list[str] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if any(s.startswith(("created", "credited")) for s in self.steps):
            return Outcome.CREATED
        return Outcome.UPDATED if self.steps else Outcome.UNCHANGED

    def summary(self, done: str) -> str:
        return ", ".join(self.steps) if self.steps else done


def is_credit(item: Mapping[str, Any]) -> bool:
    total = item.get("Total")
    return isinstance(total, int | float) and total < 0


def unrounded_total(invoice: Mapping[str, Any]) -> Decimal:
    return Decimal(str(invoice.get("Total") or 0)) - Decimal(str(invoice.get("RoundOff") or 0))


class InvoiceSteps:
    def __init__(
        self, fortnox: FortnoxInvoices, accounts: BookkeepingAccounts, seller_country: str = "SE"
    ) -> None:
        self._fortnox = fortnox
        self._accounts = accounts
        self._seller_country = seller_country

    def _find(self, reference: str) -> dict[str, Any] | None:
        """The document made for this Stripe id, unless a bookkeeper cancelled it (then a new one)."""
        found = self._fortnox.find_invoice_by_external_reference(reference)
        return None if found is None or found.get("Cancelled") else found

    def _create(self, mapped: MappedInvoice, what: str, progress: Progress, step: str) -> dict[str, Any]:
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

    def _finish(self, document: Mapping[str, Any], payment: Payment, progress: Progress) -> str:
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
            self._pay(document, payment, progress)
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

    def _pay(self, document: Mapping[str, Any], payment: Payment, progress: Progress) -> None:
        mapped = payment_payload(
            document,
            payment.amount_minor,
            payment.currency,
            payment.day,
            self._accounts,
            settlement_sek_minor=payment.settlement_sek_minor,
            account=payment.account,
        )
        progress.warnings.extend(mapped.warnings)
        registered = self._fortnox.register_payment(mapped.payload)
        progress.steps.append("paid" if unrounded_total(document) >= 0 else "paid back")
        if self._accounts.bookkeep and registered.get("Number") is not None:
            self._fortnox.bookkeep_payment(str(registered["Number"]))
