"""An in-memory fake of the Stripe API as the event processor reads it (the `StripeReader` port)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any


class FakeStripe:
    """The event processor's `StripeReader` port in memory: what the Stripe API would answer now.

    Store objects as the API returns them (expanded where `StripeApi` expands: a customer's
    `tax_ids`, a PaymentIntent's `latest_charge.balance_transaction`, a refund's
    `balance_transaction`). Every read is recorded in `calls`; customer reads also in `fetches`.
    """

    def __init__(self, *customers: dict[str, Any]) -> None:
        self.customers: dict[str, dict[str, Any]] = {c["id"]: c for c in customers}
        self.invoice_line_items: dict[str, list[dict[str, Any]]] = {}
        self.session_line_items: dict[str, list[dict[str, Any]]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.sessions_by_intent: dict[str, str] = {}
        # Checkout Sessions by id, their tax breakdown expanded (summary booking reads it).
        self.sessions: dict[str, dict[str, Any]] = {}
        self.invoices_by_intent: dict[str, str] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.payout_txns: dict[str, list[dict[str, Any]]] = {}
        self.source_txns: dict[str, list[dict[str, Any]]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self.fetches: list[str] = []
        self.calls: list[tuple[str, str]] = []

    def add_intent(self, intent: dict[str, Any]) -> FakeStripe:
        self.payment_intents[intent["id"]] = intent
        return self

    def add_refund(self, refund: dict[str, Any]) -> FakeStripe:
        self.refunds[refund["id"]] = refund
        return self

    def add_payout(self, payout: dict[str, Any], txns: Sequence[dict[str, Any]] = ()) -> FakeStripe:
        self.payouts[payout["id"]] = payout
        self.payout_txns[payout["id"]] = list(txns)
        return self

    def add_dispute(self, dispute: dict[str, Any]) -> FakeStripe:
        self.disputes[dispute["id"]] = dispute
        return self

    def _read(self, name: str, key: str) -> None:
        self.calls.append((name, key))

    def _one(self, name: str, objects: Mapping[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
        """A read of one object: counted, and a copy, so that the caller cannot change what is held."""
        self._read(name, key)
        found = objects.get(key)
        return copy.deepcopy(found) if found else None

    def _list(self, name: str, lists: Mapping[str, list[dict[str, Any]]], key: str) -> list[dict[str, Any]]:
        self._read(name, key)
        return copy.deepcopy(lists.get(key, []))

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None:
        self.fetches.append(customer_id)
        return self._one("fetch_customer", self.customers, customer_id)

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        return self._list("invoice_lines", self.invoice_line_items, invoice_id)

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]:
        return self._list("checkout_line_items", self.session_line_items, session_id)

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        return self._one("payment_intent", self.payment_intents, payment_intent_id)

    def checkout_session(self, session_id: str) -> dict[str, Any] | None:
        self._read("checkout_session", session_id)
        found = self.sessions.get(session_id)
        return copy.deepcopy(found) if found else None

    def checkout_session_of(self, payment_intent_id: str) -> str | None:
        self._read("checkout_session_of", payment_intent_id)
        return self.sessions_by_intent.get(payment_intent_id)

    def invoice_of(self, payment_intent_id: str) -> str | None:
        self._read("invoice_of", payment_intent_id)
        return self.invoices_by_intent.get(payment_intent_id)

    def payment_intent_of_invoice(self, invoice_id: str) -> str | None:
        self._read("payment_intent_of_invoice", invoice_id)
        return next((pi for pi, inv in self.invoices_by_intent.items() if inv == invoice_id), None)

    def charge_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        self._read("charge_refunds", charge_id)
        return [copy.deepcopy(r) for r in self.refunds.values() if r.get("charge") == charge_id]

    def refund(self, refund_id: str) -> dict[str, Any] | None:
        return self._one("refund", self.refunds, refund_id)

    def payout(self, payout_id: str) -> dict[str, Any] | None:
        return self._one("payout", self.payouts, payout_id)

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        return self._list("payout_transactions", self.payout_txns, payout_id)

    def balance_transactions_of(self, source_id: str) -> list[dict[str, Any]]:
        return self._list("balance_transactions_of", self.source_txns, source_id)

    def dispute(self, dispute_id: str) -> dict[str, Any] | None:
        return self._one("dispute", self.disputes, dispute_id)
