"""Fakes around the sync: the activity log, notifier and observer, `InvoiceSync`, and the clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
from tests.fakes.fortnox_books import InMemoryFortnoxInvoices

Obj = dict[str, Any]


class Recorder:
    """The `ActivityLog`, `Notifier` and `Observer` ports in one: remembers what each was told."""

    def __init__(self) -> None:
        self.activity: list[tuple[str, str, Obj]] = []
        self.notes: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self.failures: list[Obj] = []

    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        self.activity.append((customer_id, event.type, dict(details)))

    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None:
        self.notes.append((subject, message))

    def skipped_without_key(self, event: StripeEvent, what: str) -> None:
        self.skipped.append(what)

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None:
        self.failures.append(dict(details))


class FakeInvoiceSync(InvoiceSync):
    """Stands in for `InvoiceSync` in the handlers' context: books nothing, records in `calls` what it
    was asked to book (the Stripe id and what decides the booking), answers CREATED as invoice 900."""

    def __init__(self) -> None:
        super().__init__(InMemoryFortnoxInvoices(), BookkeepingAccounts())
        self.calls: list[tuple[str, Obj]] = []

    def _booked(self, event: StripeEvent, call: str, stripe_id: str, **details: Any) -> SyncResult:
        self.calls.append((call, {"id": stripe_id, **details}))
        return SyncResult(
            event.id, event.type, stripe_id, Outcome.CREATED, "900", f"{call} {stripe_id} booked"
        )

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
        listed = None if lines is None else [line["id"] for line in lines]
        return self._booked(
            event,
            "paid",
            invoice["id"],
            customer=customer_number,
            lines=listed,
            settlement=settlement_sek_minor,
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
        items = [item["id"] for item in line_items]
        return self._booked(
            event,
            "checkout_paid",
            session["id"],
            customer=customer_number,
            items=items,
            settlement=settlement_sek_minor,
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
        return self._booked(
            event,
            "payment_intent_paid",
            intent["id"],
            customer=customer_number,
            vat_rate=vat_rate,
            vat_type=vat_type,
            settlement=settlement_sek_minor,
        )

    def refund(
        self, event: StripeEvent, refund: Mapping[str, Any], *, settlement_sek_minor: int | None = None
    ) -> SyncResult:
        payment = refund.get("payment_intent")
        return self._booked(
            event,
            "refund",
            refund["id"],
            amount=refund["amount"],
            payment=payment,
            settlement=settlement_sek_minor,
        )


class FakeClock:
    """Time that moves only when told: call it for the time, `sleep` to move it on."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
