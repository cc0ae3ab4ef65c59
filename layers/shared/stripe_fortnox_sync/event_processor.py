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
from typing import Any, Protocol

from .customer_mapping import MAX_LENGTHS
from .customer_sync import CustomerSync, FortnoxCustomers, PermanentEventError
from .identity import checkout_email, expandable_id, guest_key
from .invoice_mapping import buyer_vat_type, format_amount, invoice_payment_intent
from .invoice_sync import InvoiceSync
from .models import Outcome, StripeEvent, SyncResult
from .settings import Settings

TAX_ID_EVENTS = frozenset({"customer.tax_id.created", "customer.tax_id.updated", "customer.tax_id.deleted"})
SUBSCRIPTION_EVENTS = frozenset({"customer.subscription.created", "customer.subscription.deleted"})
CHECKOUT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
# Swedish VAT applies to a bare payment from these buyers; the others buy VAT-free (reverse
# charge, export).
_VAT_CHARGED = (None, "SEVAT", "EUVAT")


class StripeReader(Protocol):
    """What the processor reads from the Stripe API (`stripe_api.StripeApi`; fakes in tests)."""

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None: ...

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]: ...

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]: ...

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None: ...

    def checkout_session_of(self, payment_intent_id: str) -> str | None: ...

    def invoice_of(self, payment_intent_id: str) -> str | None: ...

    def payment_intent_of_invoice(self, invoice_id: str) -> str | None: ...

    def charge_refunds(self, charge_id: str) -> list[dict[str, Any]]: ...

    def refund(self, refund_id: str) -> dict[str, Any] | None: ...


class ActivityLog(Protocol):
    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


class Notifier(Protocol):
    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None: ...


class Observer(Protocol):
    def skipped_without_key(self, event: StripeEvent, what: str) -> None: ...

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


def _date(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _customer_id(obj: Mapping[str, Any]) -> str | None:
    value = expandable_id(obj.get("customer"))
    return value if value and value.startswith("cus_") else None


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
        stripe: StripeReader | None = None,
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
        if kind in CHECKOUT_EVENTS:
            return self._checkout(event, obj)
        if kind in SUBSCRIPTION_EVENTS:
            return self._subscription(event, obj)
        if kind == "invoice.payment_failed":
            return self._payment_failed(event, obj)
        if kind == "invoice.paid":
            return self._invoice_paid(event, obj)
        if kind == "payment_intent.succeeded":
            return self._payment_intent(event, obj)
        if kind == "charge.refunded":
            return self._charge_refunded(event, obj)
        if kind in ("refund.created", "refund.updated"):
            return self._refund(event, obj)
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
        customer = self._checkout_customer(event, session)
        if mode != "payment" or self._invoices is None or not self._settings.invoice_checkout_payments:
            return customer
        if session.get("payment_status") != "paid":
            return replace(
                customer,
                detail=f"{customer.detail} (not paid yet: invoiced when the payment succeeds)",
            )
        stripe_invoice = expandable_id(session.get("invoice"))
        if stripe_invoice and "invoice.paid" in self._settings.event_types:
            # invoice_creation: Stripe invoiced the session itself and sends invoice.paid for it.
            return replace(
                customer, detail=f"{customer.detail} (booked from invoice.paid of {stripe_invoice})"
            )
        if not customer.fortnox_number:
            raise PermanentEventError(
                "no_customer", f"Checkout Session {session.get('id')}: {customer.detail}"
            )
        session_id = str(session.get("id") or "")
        items = self._require_stripe(f"Checkout Session {session_id}'s line items").checkout_line_items(
            session_id
        )
        currency = str(session.get("currency") or "sek")
        invoice = self._invoices.checkout_paid(
            event,
            session,
            items,
            customer.fortnox_number,
            settlement_sek_minor=self._intent_settlement(
                currency, expandable_id(session.get("payment_intent"))
            ),
        )
        return _combined(customer, invoice)

    def _checkout_customer(self, event: StripeEvent, session: Mapping[str, Any]) -> SyncResult:
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
            return _not_enabled(event)
        customer_id = _customer_id(invoice) or ""
        customer = self._sync_customer(
            event,
            customer_id,
            snapshot=_invoice_snapshot(invoice),
            snapshot_tax_ids=invoice.get("customer_tax_ids"),
        )
        if not customer.fortnox_number:
            raise PermanentEventError("no_customer", f"invoice {invoice.get('id')}: {customer.detail}")
        invoice_id = str(invoice.get("id") or "")
        lines = None
        if (invoice.get("lines") or {}).get("has_more"):
            lines = self._require_stripe(
                f"invoice {invoice_id}'s lines beyond the event's first page"
            ).invoice_lines(invoice_id)
        currency = str(invoice.get("currency") or "sek")
        intent = expandable_id(invoice.get("payment_intent")) or invoice_payment_intent(invoice)
        if intent is None and self._stripe is not None:
            # API versions from 2025-03-31 name no PaymentIntent on the invoice; refunds find the
            # Fortnox invoice by it (ExternalInvoiceReference2).
            intent = self._stripe.payment_intent_of_invoice(invoice_id)
            if intent:
                invoice = {**invoice, "payment_intent": intent}
        settlement = self._intent_settlement(currency, intent)
        return self._invoices.paid(
            event, invoice, customer.fortnox_number, lines=lines, settlement_sek_minor=settlement
        )

    def _payment_intent(self, event: StripeEvent, intent: Mapping[str, Any]) -> SyncResult:
        if self._invoices is None:
            return _not_enabled(event)
        intent_id = str(intent.get("id") or "")
        stripe = self._require_stripe(
            f"PaymentIntent {intent_id} (to tell whether an invoice or a session took it)"
        )
        current = stripe.payment_intent(intent_id)
        if current is None or current.get("status") != "succeeded":
            return SyncResult(
                event.id, event.type, intent_id, Outcome.IGNORED, detail="not a succeeded payment"
            )
        invoice = expandable_id(current.get("invoice")) or stripe.invoice_of(intent_id)
        if invoice:
            return SyncResult(
                event.id,
                event.type,
                intent_id,
                Outcome.IGNORED,
                detail=f"paid {invoice}: booked from invoice.paid",
            )
        session = stripe.checkout_session_of(intent_id) if self._settings.invoice_checkout_payments else None
        if session:
            return SyncResult(
                event.id,
                event.type,
                intent_id,
                Outcome.IGNORED,
                detail=f"taken by {session}: booked from checkout.session.completed",
            )
        charge = _mapping(current.get("latest_charge"))
        billing = _mapping(charge.get("billing_details"))
        customer_id = _customer_id(current)
        buyer: Mapping[str, Any] = {}
        if customer_id:
            customer = self._sync_customer(event, customer_id)
            buyer = stripe.fetch_customer(customer_id) or {}
        else:
            email = billing.get("email") or current.get("receipt_email")
            if not isinstance(email, str) or "@" not in email:
                raise PermanentEventError(
                    "no_customer",
                    f"PaymentIntent {intent_id} has neither a customer nor an e-mail to invoice",
                )
            guest = {k: billing.get(k) for k in ("name", "phone", "address") if billing.get(k)}
            guest |= {"id": intent_id, "email": email}
            customer = self._customers.upsert(event, guest, link_key=guest_key(email), partial=True)
        if not customer.fortnox_number:
            raise PermanentEventError("no_customer", f"PaymentIntent {intent_id}: {customer.detail}")
        tax_ids = _mapping(buyer.get("tax_ids")).get("data")
        vat_type = buyer_vat_type(
            buyer.get("address") or billing.get("address"),
            buyer.get("shipping"),
            buyer.get("tax_exempt"),
            tax_ids,
            self._settings.seller_country,
        )
        currency = str(current.get("currency") or "sek")
        invoice_result = self._invoices.payment_intent_paid(
            event,
            current,
            customer.fortnox_number,
            vat_rate=self._settings.payment_intent_vat_rate if vat_type in _VAT_CHARGED else 0,
            vat_type=vat_type,
            settlement_sek_minor=_sek_settlement(currency, charge.get("balance_transaction")),
        )
        return _combined(customer, invoice_result)

    def _refund(self, event: StripeEvent, refund: Mapping[str, Any]) -> SyncResult:
        if self._invoices is None:
            return _not_enabled(event)
        refund_id = str(refund.get("id") or "")
        # The refund as it is now: its status moves on (pending -> succeeded), and the API gives
        # its balance transaction (the SEK it cost).
        current = self._stripe.refund(refund_id) if self._stripe is not None else refund
        if current is None:
            return SyncResult(event.id, event.type, refund_id, Outcome.IGNORED, detail="not found in Stripe")
        return self._credit(event, current)

    def _credit(self, event: StripeEvent, refund: Mapping[str, Any]) -> SyncResult:
        assert self._invoices is not None
        status = refund.get("status")
        if status != "succeeded":
            return SyncResult(
                event.id,
                event.type,
                str(refund.get("id") or ""),
                Outcome.IGNORED,
                detail=f"refund {status}: credited once Stripe reports it succeeded (refund.updated)",
            )
        currency = str(refund.get("currency") or "sek")
        return self._invoices.refund(
            event, refund, settlement_sek_minor=_sek_settlement(currency, refund.get("balance_transaction"))
        )

    def _charge_refunded(self, event: StripeEvent, charge: Mapping[str, Any]) -> SyncResult:
        if self._invoices is None:
            return _not_enabled(event)
        charge_id = str(charge.get("id") or "")
        listing = _mapping(charge.get("refunds"))
        if self._stripe is not None:
            refunds = self._stripe.charge_refunds(charge_id)
        elif isinstance(listing.get("data"), list) and not listing.get("has_more"):
            refunds = [dict(r) for r in listing["data"] if isinstance(r, Mapping)]
        else:
            self._skipped(event, "the charge's refunds (the event does not list them; no Stripe API key)")
            return SyncResult(
                event.id,
                event.type,
                charge_id,
                Outcome.IGNORED,
                detail="refunds not listed in the event: enable refund.created or give a Stripe API key",
            )
        results = [
            self._credit(
                event, {**r, "payment_intent": r.get("payment_intent") or charge.get("payment_intent")}
            )
            for r in refunds
        ]
        done = [r for r in results if r.outcome is not Outcome.IGNORED]
        if not done:
            return SyncResult(event.id, event.type, charge_id, Outcome.IGNORED, detail="no succeeded refund")
        outcome = next(
            (o for o in (Outcome.CREATED, Outcome.UPDATED) if any(r.outcome is o for r in done)),
            Outcome.UNCHANGED,
        )
        return SyncResult(
            event.id,
            event.type,
            charge_id,
            outcome,
            done[-1].fortnox_number,
            "; ".join(r.detail for r in done),
            tuple(w for r in done for w in r.warnings),
        )

    def _require_stripe(self, what: str) -> StripeReader:
        if self._stripe is None:
            raise PermanentEventError(
                "needs_stripe_key",
                f"{what} need the Stripe API: store a restricted key in the StripeApiKey secret; redrive",
            )
        return self._stripe

    def _intent_settlement(self, currency: str, intent_id: str | None) -> int | None:
        """The SEK Stripe settled a non-SEK payment for, from its charge's balance transaction."""
        if currency.lower() == "sek" or self._stripe is None or not intent_id:
            return None
        intent = self._stripe.payment_intent(intent_id) or {}
        return _sek_settlement(currency, _mapping(intent.get("latest_charge")).get("balance_transaction"))

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


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sek_settlement(currency: str, balance_transaction: object) -> int | None:
    """What Stripe booked in SEK (the balance transaction, expanded) for a payment in another currency."""
    bt = _mapping(balance_transaction)
    amount = bt.get("amount")
    if currency.lower() == "sek" or bt.get("currency") != "sek" or not isinstance(amount, int):
        return None
    return abs(amount)


def _not_enabled(event: StripeEvent) -> SyncResult:
    return SyncResult(event.id, event.type, "", Outcome.IGNORED, detail="invoice sync is not enabled")


def _combined(customer: SyncResult, invoice: SyncResult) -> SyncResult:
    """One result for an event that synced a customer and then booked a sale."""
    return replace(
        invoice,
        stripe_id=customer.stripe_id or invoice.stripe_id,
        detail=f"customer {customer.outcome.value}; {invoice.detail}",
        warnings=customer.warnings + invoice.warnings,
    )


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
