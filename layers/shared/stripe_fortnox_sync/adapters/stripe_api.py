"""Reads current objects from the Stripe API, so a late or partial event applies today's data.

A restricted key with Read on what it uses is enough: Customers (every customer event), for
invoices Invoices, Checkout Sessions, PaymentIntents, Charges and Refunds, Balance transactions, and
for payouts and disputes also Balance, Payouts and Disputes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from stripe_fortnox_sync.core.errors import PermanentEventError, StripeUnavailable

T = TypeVar("T")


class StripeApi:
    """The event processor's `StripeReader` port over stripe-python."""

    def __init__(self, api_key: str, api_base: str = "", stripe_account: str = "") -> None:
        """`stripe_account`: a Connect platform's connected account, read with the platform's key
        (every request carries `Stripe-Account`), so its objects are the merchant's own."""
        import stripe  # the sync path only: the webhook never needs the API client

        self._stripe = stripe
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key,
            stripe_account=stripe_account or None,
            base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=2,
        )

    def _call(self, what: str, call: Callable[[], T], *, missing: T | None = None) -> T | None:
        """One API call with Stripe's errors sorted: a refused key parks the event (a human must
        fix it), an outage retries it, and an unknown object is `missing`."""
        stripe = self._stripe
        try:
            return call()
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing" or exc.http_status == 404:
                return missing
            raise PermanentEventError(
                "stripe_request", f"Stripe refused {what}: {exc.user_message}"
            ) from None
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise PermanentEventError(
                "stripe_auth", f"Stripe API key refused for {what}: {exc.user_message}"
            ) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise StripeUnavailable(f"Stripe API unavailable: {type(exc).__name__}") from exc

    def _list(self, what: str, page: Callable[[], Any]) -> list[dict[str, Any]]:
        found = self._call(what, lambda: [item.to_dict() for item in page().auto_paging_iter()])
        return found or []

    def _one(self, what: str, call: Callable[[], Any]) -> dict[str, Any] | None:
        found = self._call(what, call)
        return found.to_dict() if found is not None else None

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None:
        """The customer with `tax_ids` expanded; `{"deleted": true, ...}` once deleted; None if unknown."""
        customers = self._client.v1.customers
        return self._one(
            "the customer lookup", lambda: customers.retrieve(customer_id, params={"expand": ["tax_ids"]})
        )

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every line of an invoice: an event carries only the first page."""
        lines = self._client.v1.invoices.line_items
        return self._list("the invoice lines", lambda: lines.list(invoice_id, params={"limit": 100}))

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]:
        """A Checkout Session's line items: webhooks never carry them."""
        items = self._client.v1.checkout.sessions.line_items
        return self._list("the session's line items", lambda: items.list(session_id, params={"limit": 100}))

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        """The PaymentIntent with its latest charge's balance transaction (what Stripe settled)."""
        intents = self._client.v1.payment_intents
        return self._one(
            "the PaymentIntent lookup",
            lambda: intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            ),
        )

    def checkout_session(self, session_id: str) -> dict[str, Any] | None:
        """The session with its tax breakdown (`total_details.breakdown`, expandable only)."""
        sessions = self._client.v1.checkout.sessions
        return self._one(
            "the Checkout Session lookup",
            lambda: sessions.retrieve(session_id, params={"expand": ["total_details.breakdown"]}),
        )

    def checkout_session_of(self, payment_intent_id: str) -> str | None:
        """The Checkout Session that took this payment, if one did."""
        sessions = self._client.v1.checkout.sessions
        found = self._call(
            "the session lookup",
            lambda: sessions.list(params={"payment_intent": payment_intent_id, "limit": 1}).data,
        )
        return str(found[0].id) if found else None

    def invoice_of(self, payment_intent_id: str) -> str | None:
        """The Stripe invoice this payment paid, if it paid one."""
        payments = self._client.v1.invoice_payments
        params: Any = {"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}, "limit": 1}
        found = self._call("the invoice payment lookup", lambda: payments.list(params=params).data)
        return str(found[0].invoice) if found else None

    def payment_intent_of_invoice(self, invoice_id: str) -> str | None:
        """The PaymentIntent that paid a Stripe invoice (API versions from 2025 list payments)."""
        payments = self._client.v1.invoice_payments
        params: Any = {"invoice": invoice_id, "status": "paid", "limit": 1}
        found = self._call("the invoice payment lookup", lambda: payments.list(params=params).data)
        if not found:
            return None
        intent = found[0].payment.payment_intent
        return str(intent if isinstance(intent, str) else intent.id) if intent else None

    def charge_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        """Every refund of a charge, each with its balance transaction."""
        refunds = self._client.v1.refunds
        return self._list(
            "the refund list",
            lambda: refunds.list(
                params={"charge": charge_id, "limit": 100, "expand": ["data.balance_transaction"]}
            ),
        )

    def refund(self, refund_id: str) -> dict[str, Any] | None:
        """The refund as it is now (its status may have moved on), with its balance transaction."""
        refunds = self._client.v1.refunds
        return self._one(
            "the refund lookup",
            lambda: refunds.retrieve(refund_id, params={"expand": ["balance_transaction"]}),
        )

    def payout(self, payout_id: str) -> dict[str, Any] | None:
        """The payout as it is now: its status and reconciliation move on after the event."""
        payouts = self._client.v1.payouts
        return self._one("the payout lookup", lambda: payouts.retrieve(payout_id))

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """Every balance transaction an automatic payout paid out, 100 a page, sources expanded
        (a charge's PaymentIntent finds its Fortnox sale)."""
        transactions = self._client.v1.balance_transactions
        params: Any = {"payout": payout_id, "limit": 100, "expand": ["data.source"]}
        return self._list("the payout's transactions", lambda: transactions.list(params=params))

    def balance_transactions_of(self, source_id: str) -> list[dict[str, Any]]:
        """Every balance transaction of one object (a partially captured charge has two)."""
        transactions = self._client.v1.balance_transactions
        params: Any = {"source": source_id, "limit": 100}
        return self._list("the charge's transactions", lambda: transactions.list(params=params))

    def dispute(self, dispute_id: str) -> dict[str, Any] | None:
        """The dispute as it is now, with its balance transactions (the SEK withdrawn)."""
        disputes = self._client.v1.disputes
        return self._one("the dispute lookup", lambda: disputes.retrieve(dispute_id))
