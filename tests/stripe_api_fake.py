"""An in-process fake of the Stripe REST API's read endpoints, for the real `StripeApi` (stripe-python).

It serves what a test put in it, in Stripe's JSON shapes: objects as stored (store them already
expanded: `expand` is ignored), lists as `{"object": "list", "data": [...], "has_more": ..., "url": ...}`
with `limit` and `starting_after`, and a 404 `resource_missing` error for an unknown id. Every request
it served is recorded in `requests`, so tests can assert which calls were made. A request without
`Authorization: Bearer <api_key>` gets a 401, as a revoked key would.

    with FakeStripeApi() as api:
        api.add_customer({...})
        LocalConfig(stripe_api_key=api.api_key, stripe_api_base=api.base_url, ...)

Served (GET only): /v1/customers/{id}, /v1/invoices/{id}, /v1/invoices/{id}/lines,
/v1/checkout/sessions?payment_intent=, /v1/checkout/sessions/{id}/line_items, /v1/payment_intents/{id},
/v1/invoice_payments?invoice=&status=&payment[payment_intent]=, /v1/refunds?charge=&payment_intent=,
/v1/refunds/{id}.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Obj = dict[str, Any]


@dataclass(frozen=True)
class Served:
    """One request the fake answered: the path without the query, and the query's values."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int


@dataclass
class _Store:
    customers: dict[str, Obj] = field(default_factory=dict)
    invoices: dict[str, Obj] = field(default_factory=dict)
    invoice_lines: dict[str, list[Obj]] = field(default_factory=dict)
    sessions: dict[str, Obj] = field(default_factory=dict)
    session_items: dict[str, list[Obj]] = field(default_factory=dict)
    intents: dict[str, Obj] = field(default_factory=dict)
    invoice_payments: list[Obj] = field(default_factory=list)
    refunds: dict[str, Obj] = field(default_factory=dict)


def _missing(kind: str, object_id: str) -> tuple[int, Obj]:
    return 404, {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such {kind}: '{object_id}'",
            "param": "id",
        }
    }


def _id_of(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else value


class FakeStripeApi:
    """A Stripe API on a free local port, serving the objects put in it; a context manager."""

    def __init__(self, api_key: str = "sk_test_fake_api") -> None:
        self.api_key = api_key
        self.requests: list[Served] = []
        self._store = _Store()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake Stripe API is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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
                    status, body = fake._answer(parts.path, query)
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

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

    # Routing ----------------------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Obj]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        with self._lock:
            store = copy.deepcopy(self._store)
        if match := re.fullmatch(r"/v1/customers/([^/]+)", path):
            found = store.customers.get(match[1])
            return (200, found) if found is not None else _missing("customer", match[1])
        if match := re.fullmatch(r"/v1/invoices/([^/]+)", path):
            found = store.invoices.get(match[1])
            return (200, found) if found is not None else _missing("invoice", match[1])
        if match := re.fullmatch(r"/v1/invoices/([^/]+)/lines", path):
            if match[1] not in store.invoice_lines:
                return _missing("invoice", match[1])
            return self._list(path, store.invoice_lines[match[1]], query)
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)/line_items", path):
            if match[1] not in store.session_items:
                return _missing("checkout.session", match[1])
            return self._list(path, store.session_items[match[1]], query)
        if path == "/v1/checkout/sessions":
            intent = one("payment_intent")
            sessions = [
                s
                for s in store.sessions.values()
                if intent is None or _id_of(s.get("payment_intent")) == intent
            ]
            return self._list(path, sessions, query)
        if match := re.fullmatch(r"/v1/payment_intents/([^/]+)", path):
            found = store.intents.get(match[1])
            return (200, found) if found is not None else _missing("payment_intent", match[1])
        if path == "/v1/invoice_payments":
            wanted = {
                "invoice": one("invoice"),
                "status": one("status"),
                "payment_intent": one("payment[payment_intent]"),
            }
            payments = [
                p
                for p in store.invoice_payments
                if wanted["invoice"] in (None, p["invoice"])
                and wanted["status"] in (None, p["status"])
                and wanted["payment_intent"] in (None, p["payment"]["payment_intent"])
            ]
            return self._list(path, payments, query)
        if path == "/v1/refunds":
            charge, intent = one("charge"), one("payment_intent")
            refunds = [
                r
                for r in store.refunds.values()
                if charge in (None, _id_of(r.get("charge")))
                and intent in (None, _id_of(r.get("payment_intent")))
            ]
            return self._list(path, refunds, query)
        if match := re.fullmatch(r"/v1/refunds/([^/]+)", path):
            found = store.refunds.get(match[1])
            return (200, found) if found is not None else _missing("refund", match[1])
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"Unrecognized request URL (GET: {path})"}
        }

    @staticmethod
    def _list(url: str, items: list[Obj], query: dict[str, list[str]]) -> tuple[int, Obj]:
        """One page, newest last as stored; `starting_after` continues after an id."""
        limit = int((query.get("limit") or ["10"])[0])
        after = query.get("starting_after")
        if after:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after[0]) + 1 :] if after[0] in ids else []
        return 200, {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}
