"""A small local Stripe API: the read endpoints the sync and the operator commands use, for the real
`StripeApi` (stripe-python), the demo and the tests. It serves what was put in it, in Stripe's JSON
shapes (`stripe_store.py`), on a free local port; every request it served is recorded in
`requests`. A request without `Authorization: Bearer <api_key>` gets a 401, as a revoked key would.

    with FakeStripeApi() as api:
        api.add_customer({...})
        LocalConfig(stripe_api_key=api.api_key, stripe_api_base=api.base_url, ...)

Served (GET only): /v1/customers/{id}, /v1/invoices/{id}, /v1/invoices/{id}/lines,
/v1/checkout/sessions?payment_intent=, /v1/checkout/sessions/{id}/line_items, /v1/payment_intents/{id},
/v1/invoice_payments?invoice=&status=&payment[payment_intent]=, /v1/refunds?charge=&payment_intent=,
/v1/refunds/{id}, /v1/payouts/{id}, /v1/payouts?arrival_date[gte]=&arrival_date[lte]=,
/v1/balance_transactions?payout=&source=, /v1/balance_transactions/{id}, /v1/disputes/{id}, /v1/balance.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .server_thread import ServerThread
from .stripe_store import Obj, StripeStore, answer


@dataclass(frozen=True)
class Served:
    """One request the fake answered: the path without the query, and the query's values."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int


class FakeStripeApi:
    """A Stripe API on a free local port, serving the objects put in it; a context manager."""

    def __init__(self, api_key: str = "sk_test_fake_api") -> None:
        self.api_key = api_key
        self.requests: list[Served] = []
        self._store = StripeStore()
        self._lock = threading.Lock()
        self._running: ServerThread | None = None

    # Lifecycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._running is not None, "the fake Stripe API is not running"
        return self._running.url()

    def __enter__(self) -> FakeStripeApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    status, body = (
                        401,
                        {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
                    )
                else:
                    with fake._lock:  # `answer` reads a copy made under the lock
                        status, body = answer(fake._store, parts.path, query)
                with fake._lock:
                    fake.requests.append(Served("GET", parts.path, query, status))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_fake{len(fake.requests)}")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._running = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler), "fake-stripe")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._running is not None:
            self._running.stop(timeout=5)
            self._running = None

    # What the API holds -----------------------------------------------------------------------

    def add_customer(self, customer: Obj) -> None:
        """A customer (give `tax_ids` as a list object if it has any: it is served as stored)."""
        with self._lock:
            self._store.customers[customer["id"]] = copy.deepcopy(customer)

    def add_invoice(self, invoice: Obj, lines: list[Obj] | None = None) -> None:
        """An invoice and every line (by default the lines the invoice object carries)."""
        with self._lock:
            self._store.invoices[invoice["id"]] = copy.deepcopy(invoice)
            listed = lines if lines is not None else (invoice.get("lines") or {}).get("data") or []
            self._store.invoice_lines[invoice["id"]] = copy.deepcopy(listed)

    def add_checkout_session(self, session: Obj, line_items: list[Obj]) -> None:
        with self._lock:
            self._store.sessions[session["id"]] = copy.deepcopy(session)
            self._store.session_items[session["id"]] = copy.deepcopy(line_items)

    def add_payment_intent(self, intent: Obj) -> None:
        """A PaymentIntent, its `latest_charge` (with `balance_transaction`) embedded if wanted."""
        with self._lock:
            self._store.intents[intent["id"]] = copy.deepcopy(intent)

    def add_invoice_payment(self, invoice_id: str, payment_intent_id: str, status: str = "paid") -> Obj:
        """The record that a PaymentIntent paid an invoice (API versions from 2025)."""
        with self._lock:
            payment: Obj = {
                "id": f"inpay_fake{len(self._store.invoice_payments) + 1}",
                "object": "invoice_payment",
                "invoice": invoice_id,
                "is_default": True,
                "livemode": False,
                "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
                "status": status,
            }
            self._store.invoice_payments.append(payment)
            return copy.deepcopy(payment)

    def add_refund(self, refund: Obj) -> None:
        """A refund (added again to change it, e.g. its status); listed under its charge."""
        with self._lock:
            self._store.refunds[refund["id"]] = copy.deepcopy(refund)

    def calls(self, path_prefix: str = "/v1/") -> list[Served]:
        """The requests served so far whose path starts with `path_prefix`."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def add_payout(self, payout: Obj, transactions: list[Obj] | None = None) -> None:
        """A payout (added again to change it, e.g. its status) and the balance transactions it
        paid out, each served with its `source` as given (expand it where Stripe would)."""
        with self._lock:
            self._store.payouts[payout["id"]] = copy.deepcopy(payout)
            for txn in transactions or []:
                self._store.transactions[txn["id"]] = copy.deepcopy(txn)
                self._store.payout_of[txn["id"]] = payout["id"]

    def add_balance_transaction(self, txn: Obj) -> None:
        """A balance transaction in no payout yet (listed by its `source`)."""
        with self._lock:
            self._store.transactions[txn["id"]] = copy.deepcopy(txn)

    def add_dispute(self, dispute: Obj) -> None:
        with self._lock:
            self._store.disputes[dispute["id"]] = copy.deepcopy(dispute)

    def set_balance(self, available: int, pending: int = 0, currency: str = "sek") -> None:
        """What GET /v1/balance answers: the account's available and pending amounts."""
        with self._lock:
            self._store.balance = {
                "object": "balance",
                "livemode": False,
                "available": [{"amount": available, "currency": currency}],
                "pending": [{"amount": pending, "currency": currency}],
            }
