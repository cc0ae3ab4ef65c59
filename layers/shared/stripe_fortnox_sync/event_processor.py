"""What each Stripe event type does, on top of the customer sync.

With a Stripe API key, every event that concerns a customer applies the customer's current data
(fetched with `tax_ids` expanded): events may be old, repeated, out of order, or carry only a
customer id. Without one, the event's own payload is applied and what it cannot tell is skipped,
with a log line and the `SkippedNoStripeKey` metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from .customer_mapping import MAX_LENGTHS
from .customer_sync import CustomerSync, FortnoxCustomers, PermanentEventError
from .identity import checkout_email, guest_key
from .invoice_sync import InvoiceSync
from .models import Outcome, StripeEvent, SyncResult
from .settings import Settings

TAX_ID_EVENTS = frozenset({"customer.tax_id.created", "customer.tax_id.updated", "customer.tax_id.deleted"})
SUBSCRIPTION_EVENTS = frozenset({"customer.subscription.created", "customer.subscription.deleted"})

# Stripe amounts are in the currency's smallest unit; these have none below the unit.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)


class StripeCustomers(Protocol):
    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None: ...

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]: ...


class ActivityLog(Protocol):
    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


class Notifier(Protocol):
    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None: ...


class Observer(Protocol):
    def skipped_without_key(self, event: StripeEvent, what: str) -> None: ...

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


def format_amount(minor_units: int, currency: str) -> str:
    divisor = 1 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 100
    amount = Decimal(minor_units) / divisor
    return f"{amount:.{0 if divisor == 1 else 2}f} {currency.upper()}"


def _date(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _customer_id(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("customer")
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if isinstance(value, str) and value.startswith("cus_") else None


def append_comment(existing: str, line: str, limit: int = MAX_LENGTHS.get("Comments", 1024)) -> str:
    """`existing` plus `line`, dropping the oldest lines so the whole fits Fortnox's limit."""
    lines = [*(existing.splitlines() if existing else []), line]
    while len("\n".join(lines)) > limit and len(lines) > 1:
        lines.pop(0)
    return "\n".join(lines)[-limit:]


class EventProcessor:
    def __init__(
        self,
        settings: Settings,
        customers: CustomerSync,
        fortnox: FortnoxCustomers,
        *,
        stripe: StripeCustomers | None = None,
        activity: ActivityLog | None = None,
        notifier: Notifier | None = None,
        observer: Observer | None = None,
        invoices: InvoiceSync | None = None,
    ) -> None:
        self._settings = settings
        self._customers = customers
        self._fortnox = fortnox
        self._stripe = stripe
        self._activity = activity
        self._notifier = notifier
        self._observer = observer
        self._invoices = invoices

    def apply(self, event: StripeEvent) -> SyncResult:
        kind, obj = event.type, event.object
        if kind in ("customer.created", "customer.updated"):
            return self._sync_customer(event, str(obj.get("id") or ""), payload=obj)
        if kind == "customer.deleted":
            return self._customers.deactivate(event, str(obj.get("id") or ""))
        if kind in TAX_ID_EVENTS:
            return self._tax_id(event, obj)
        if kind == "checkout.session.completed":
            return self._checkout(event, obj)
        if kind in SUBSCRIPTION_EVENTS:
            return self._subscription(event, obj)
        if kind == "invoice.payment_failed":
            return self._payment_failed(event, obj)
        if kind == "invoice.paid":
            return self._invoice_paid(event, obj)
        return SyncResult(event.id, kind, "", Outcome.IGNORED, detail="type not handled")

    # Customer data ---------------------------------------------------------------------------

    def _sync_customer(
        self,
        event: StripeEvent,
        customer_id: str,
        *,
        payload: Mapping[str, Any] | None = None,
        snapshot: Mapping[str, Any] | None = None,
        snapshot_tax_ids: Sequence[Mapping[str, Any]] | None = None,
    ) -> SyncResult:
        """Bring one Stripe customer up to date in Fortnox.

        `payload`: a full Customer object from the event; `snapshot`: the partial customer
        details a checkout session or invoice carries. Both are used only without an API key.
        """
        if not customer_id.startswith("cus_"):
            raise PermanentEventError("bad_payload", f"event {event.id} names no Stripe customer")
        if self._stripe is not None:
            current = self._stripe.fetch_customer(customer_id)
            if current is None:
                return SyncResult(
                    event.id, event.type, customer_id, Outcome.IGNORED, detail="not found in Stripe"
                )
            if current.get("deleted"):
                return self._customers.deactivate(event, customer_id)
            return self._customers.upsert(event, current)
        if payload is not None:
            return self._customers.upsert(event, payload)
        if snapshot is not None and _has_details(snapshot):
            result = self._customers.upsert(
                event, {**snapshot, "id": customer_id}, partial=True, tax_ids=snapshot_tax_ids or None
            )
            self._skipped(event, "fields the event does not carry (no Stripe API key)")
            return result
        self._skipped(event, "the customer's data (the event carries only its id; no Stripe API key)")
        number = self._customers.linked_number(customer_id)
        if number:
            return SyncResult(
                event.id,
                event.type,
                customer_id,
                Outcome.UNCHANGED,
                number,
                "mapped; refreshing its data needs a Stripe API key",
            )
        return SyncResult(
            event.id,
            event.type,
            customer_id,
            Outcome.IGNORED,
            detail="not mapped; its data needs a Stripe API key",
        )

    def _skipped(self, event: StripeEvent, what: str) -> None:
        if self._observer is not None:
            self._observer.skipped_without_key(event, what)

    def _tax_id(self, event: StripeEvent, tax_id: Mapping[str, Any]) -> SyncResult:
        customer_id = _customer_id(tax_id) or ""
        if self._stripe is not None:
            return self._sync_customer(event, customer_id)
        result = self._customers.apply_tax_id(event, tax_id, deleted=event.type.endswith(".deleted"))
        if result.outcome is Outcome.IGNORED or result.detail:
            self._skipped(event, result.detail or "tax id")
        return result

    def _checkout(self, event: StripeEvent, session: Mapping[str, Any]) -> SyncResult:
        mode = str(session.get("mode") or "")
        if mode not in self._settings.checkout_modes:
            return SyncResult(
                event.id, event.type, "", Outcome.IGNORED, detail=f"checkout mode {mode} not synced"
            )
        snapshot = _checkout_snapshot(session)
        customer_id = _customer_id(session)
        tax_ids = (session.get("customer_details") or {}).get("tax_ids") or []
        if customer_id:
            return self._sync_customer(event, customer_id, snapshot=snapshot, snapshot_tax_ids=tax_ids)
        email = checkout_email(session)
        if not email:
            return SyncResult(
                event.id, event.type, "", Outcome.IGNORED, detail="guest checkout without e-mail"
            )
        # A guest has no Customer object: the Fortnox customer is keyed by e-mail, so a later
        # Stripe customer with the same address maps to it instead of a duplicate.
        guest = {**snapshot, "id": str(session.get("id") or ""), "email": email}
        return self._customers.upsert(event, guest, link_key=guest_key(email), partial=True, tax_ids=tax_ids)

    def _subscription(self, event: StripeEvent, subscription: Mapping[str, Any]) -> SyncResult:
        customer_id = _customer_id(subscription) or ""
        result = self._sync_customer(event, customer_id)
        self._record(
            customer_id,
            event,
            {
                "subscription": subscription.get("id"),
                "status": subscription.get("status"),
                "fortnox_number": result.fortnox_number,
            },
        )
        return result

    # Invoices ---------------------------------------------------------------------------------

    def _invoice_paid(self, event: StripeEvent, invoice: Mapping[str, Any]) -> SyncResult:
        if self._invoices is None:
            return SyncResult(event.id, event.type, "", Outcome.IGNORED, detail="invoice sync is not enabled")
        customer_id = _customer_id(invoice) or ""
        customer = self._sync_customer(
            event,
            customer_id,
            snapshot=_invoice_snapshot(invoice),
            snapshot_tax_ids=invoice.get("customer_tax_ids"),
        )
        if not customer.fortnox_number:
            raise PermanentEventError("no_customer", f"invoice {invoice.get('id')}: {customer.detail}")
        lines = None
        if (invoice.get("lines") or {}).get("has_more"):
            if self._stripe is None:
                raise PermanentEventError(
                    "needs_stripe_key",
                    f"invoice {invoice.get('id')} has more lines than the event carries; a Stripe API key "
                    "with Invoices: Read lets the sync fetch them",
                )
            lines = self._stripe.invoice_lines(str(invoice.get("id")))
        return self._invoices.paid(event, invoice, customer.fortnox_number, lines=lines)

    # Payment failures -------------------------------------------------------------------------

    def _payment_failed(self, event: StripeEvent, invoice: Mapping[str, Any]) -> SyncResult:
        customer_id = _customer_id(invoice) or ""
        result = self._sync_customer(
            event,
            customer_id,
            snapshot=_invoice_snapshot(invoice),
            snapshot_tax_ids=invoice.get("customer_tax_ids"),
        )
        currency = str(invoice.get("currency") or "")
        amount = invoice.get("amount_due") if isinstance(invoice.get("amount_due"), int) else 0
        details = {
            "invoice": invoice.get("id"),
            "invoice_number": invoice.get("number"),
            "amount_due": amount,
            "currency": currency.upper(),
            "amount": format_amount(int(amount or 0), currency or "sek"),
            "attempt_count": invoice.get("attempt_count"),
            "next_payment_attempt": _date(invoice.get("next_payment_attempt")),
            "fortnox_number": result.fortnox_number,
        }
        self._record(customer_id, event, details)
        if self._observer is not None:
            self._observer.payment_failed(event, details)
        invoice_label = details["invoice_number"] or details["invoice"]
        if self._notifier is not None:
            self._notifier.notify(
                subject=f"Stripe payment failed: {details['amount']}, invoice {invoice_label}",
                message=_failure_message(customer_id, invoice, details),
                attributes={"event_type": event.type, "customer": customer_id},
            )
        if self._settings.payment_failure_comments and result.fortnox_number:
            self._comment(result.fortnox_number, event, details)
        return replace(
            result,
            detail=f"payment failure recorded ({details['amount']}, attempt {details['attempt_count']})",
        )

    def _comment(self, number: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        when = _date(event.created) or ""
        line = (
            f"{when} Stripe payment failed: {details['amount']}, invoice "
            f"{details['invoice_number'] or details['invoice']}, attempt {details['attempt_count']}"
        )
        if details.get("next_payment_attempt"):
            line += f", next try {details['next_payment_attempt']}"
        existing = str(self._fortnox.get_customer(number).get("Comments") or "")
        if line in existing:
            return  # a redelivery after a crash: the line is already there
        self._fortnox.update_customer(number, {"Comments": append_comment(existing, line)})

    def _record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
        if self._activity is not None and customer_id:
            self._activity.record(customer_id, event, details)


def _has_details(snapshot: Mapping[str, Any]) -> bool:
    return any(snapshot.get(k) for k in ("name", "email", "phone")) or any(
        (snapshot.get("address") or {}).values()
    )


def _checkout_snapshot(session: Mapping[str, Any]) -> dict[str, Any]:
    details = session.get("customer_details") or {}
    snapshot = {
        key: details.get(key)
        for key in ("name", "email", "phone", "address", "tax_exempt", "business_name", "individual_name")
    }
    shipping = (session.get("collected_information") or {}).get("shipping_details") or session.get(
        "shipping_details"
    )
    if shipping:
        snapshot["shipping"] = shipping
    return {k: v for k, v in snapshot.items() if v not in (None, "", {})}


def _invoice_snapshot(invoice: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {
        "name": invoice.get("customer_name"),
        "email": invoice.get("customer_email"),
        "phone": invoice.get("customer_phone"),
        "address": invoice.get("customer_address"),
        "shipping": invoice.get("customer_shipping"),
        "tax_exempt": invoice.get("customer_tax_exempt"),
    }
    return {k: v for k, v in snapshot.items() if v not in (None, "", {})}


def _failure_message(customer_id: str, invoice: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    name = invoice.get("customer_name") or invoice.get("customer_email") or customer_id
    lines = [
        f"A Stripe payment failed for {name} (Stripe {customer_id}, Fortnox customer "
        f"{details.get('fortnox_number') or 'not synced'}).",
        f"Amount due: {details['amount']}",
        f"Invoice: {details.get('invoice_number') or details.get('invoice')}",
        f"Attempt: {details.get('attempt_count')}",
        f"Next attempt: {details.get('next_payment_attempt') or 'none scheduled'}",
    ]
    if invoice.get("hosted_invoice_url"):
        lines.append(f"Invoice page: {invoice['hosted_invoice_url']}")
    return "\n".join(lines)
