"""A paid Stripe invoice becomes a booked, paid Fortnox invoice, exactly once.

Every step is resumable, and Fortnox itself records how far we got: the invoice is found by its
`ExternalInvoiceReference1` (the Stripe invoice id) before anything is created, `Booked` says
whether it was booked, `Balance` whether it was paid. A redelivery, a crash between two steps, or
a retry after a Fortnox error picks up where the last attempt stopped and never books twice.
Costs, in Fortnox requests: a new invoice 5 (search, create, bookkeep, pay, bookkeep payment; 3
without automatic bookkeeping), a redelivery of a finished one 2 (search, read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import fortnox_invoices
from .customer_sync import PermanentEventError
from .fortnox_invoices import FortnoxRequester
from .invoice_mapping import (
    InvoiceAccounts,
    InvoiceMappingError,
    map_stripe_invoice,
    minor_to_decimal,
    payment_payload,
    stripe_invoice_paid_on,
    total_difference,
)
from .models import FieldWarning, Outcome, StripeEvent, SyncResult


class InvoiceSync:
    def __init__(
        self, fortnox: FortnoxRequester, accounts: InvoiceAccounts, seller_country: str = "SE"
    ) -> None:
        self._fortnox = fortnox
        self._accounts = accounts
        self._seller_country = seller_country

    def paid(
        self,
        event: StripeEvent,
        invoice: Mapping[str, Any],
        customer_number: str,
        *,
        vat_type: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
    ) -> SyncResult:
        stripe_id = str(invoice.get("id") or "")
        currency = str(invoice.get("currency") or "sek")
        amount_paid = invoice.get("amount_paid") if isinstance(invoice.get("amount_paid"), int) else 0
        warnings: list[FieldWarning] = []
        steps: list[str] = []
        try:
            found = fortnox_invoices.find_invoice_by_external_reference(self._fortnox, stripe_id)
            if found is not None:
                fortnox_invoice = fortnox_invoices.get_invoice(self._fortnox, str(found["DocumentNumber"]))
            else:
                mapped = map_stripe_invoice(
                    invoice,
                    customer_number,
                    self._accounts,
                    lines=lines,
                    vat_type=vat_type,
                    seller_country=self._seller_country,
                )
                warnings.extend(mapped.warnings)
                fortnox_invoice = fortnox_invoices.create_invoice(self._fortnox, mapped.payload)
                steps.append("created")
                gap = total_difference(mapped, fortnox_invoice)
                if gap != 0:
                    # Left unbooked, so a bookkeeper can correct or cancel it.
                    raise PermanentEventError(
                        "invoice_total",
                        f"Fortnox invoice {fortnox_invoice.get('DocumentNumber')} totals {gap:+} "
                        f"{currency.upper()} off Stripe's {stripe_id}; left unbooked for a bookkeeper",
                    )
            number = str(fortnox_invoice["DocumentNumber"])
            if self._accounts.bookkeep and not fortnox_invoice.get("Booked"):
                fortnox_invoice = fortnox_invoices.bookkeep_invoice(self._fortnox, number)
                steps.append("booked")
            if amount_paid and Decimal(str(fortnox_invoice.get("Balance", 1))) != 0:
                payment = payment_payload(
                    fortnox_invoice, amount_paid, currency, stripe_invoice_paid_on(invoice), self._accounts
                )
                warnings.extend(payment.warnings)
                registered = fortnox_invoices.register_payment(self._fortnox, payment.payload)
                steps.append("paid")
                if self._accounts.bookkeep and registered.get("Number") is not None:
                    fortnox_invoices.bookkeep_payment(self._fortnox, str(registered["Number"]))
        except InvoiceMappingError as exc:
            raise PermanentEventError("invoice_mapping", f"Stripe invoice {stripe_id}: {exc}") from None
        amount = f"{minor_to_decimal(int(invoice.get('total') or 0), currency)} {currency.upper()}"
        detail = f"invoice {number} ({amount}): {', '.join(steps) if steps else 'already booked and paid'}"
        outcome = Outcome.CREATED if "created" in steps else Outcome.UPDATED if steps else Outcome.UNCHANGED
        return SyncResult(
            event.id, event.type, str(invoice.get("customer") or ""), outcome, number, detail, tuple(warnings)
        )
