"""In-memory fakes of the ports, for unit tests: the same contracts, no AWS, no HTTP."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests
from requests.adapters import BaseAdapter

from stripe_fortnox_sync.core.errors import ConflictError, FortnoxError
from stripe_fortnox_sync.core.models import CustomerLink, FortnoxFields, LinkStatus, TokenState


class InMemoryMappingStore:
    def __init__(self) -> None:
        self.links: dict[str, CustomerLink] = {}
        self.fail_next_save = False
        self.lookups = 0  # linked_to calls: the index queries the DynamoDB store would make

    def get(self, stripe_id: str) -> CustomerLink | None:
        link = self.links.get(stripe_id)
        return copy.deepcopy(link) if link else None

    def save(self, link: CustomerLink) -> CustomerLink:
        if self.fail_next_save:
            self.fail_next_save = False
            raise RuntimeError("simulated crash before the mapping write")
        stored = self.links.get(link.stripe_id)
        if (stored.version if stored else 0) != link.version:
            raise ConflictError(link.stripe_id)
        link.version += 1
        self.links[link.stripe_id] = copy.deepcopy(link)
        return link

    def linked_to(self, fortnox_number: str) -> list[str]:
        self.lookups += 1
        return sorted(
            key
            for key, link in self.links.items()
            if link.fortnox_number == fortnox_number and link.status is LinkStatus.ACTIVE
        )


class InMemoryStateStore:
    """TokenStore and SlotStore in one, like the DynamoDB state table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[str, TokenState] = {}
        self.locks: dict[str, str] = {}
        self.slots: dict[str, tuple[list[float], int]] = {}

    def load_token(self, key: str) -> TokenState | None:
        with self._lock:
            return self.tokens.get(key)

    def save_token(self, key: str, state: TokenState) -> bool:
        with self._lock:
            current = self.tokens.get(key)
            if (current.version if current else 0) != state.version - 1:
                return False
            self.tokens[key] = replace(state)
            return True

    def try_lock(self, key: str, owner: str, ttl_seconds: float) -> bool:
        with self._lock:
            if self.locks.get(key, owner) != owner:
                return False
            self.locks[key] = owner
            return True

    def unlock(self, key: str, owner: str) -> None:
        with self._lock:
            if self.locks.get(key) == owner:
                del self.locks[key]

    def load_slots(self, key: str) -> tuple[list[float], int]:
        with self._lock:
            slots, version = self.slots.get(key, ([], 0))
            return list(slots), version

    def save_slots(self, key: str, slots: list[float], expected_version: int) -> bool:
        with self._lock:
            if self.slots.get(key, ([], 0))[1] != expected_version:
                return False
            self.slots[key] = (list(slots), expected_version + 1)
            return True


class FakeFortnox:
    """The `FortnoxCustomers` port with Fortnox's substring search and short list items."""

    LIST_FIELDS = ("CustomerNumber", "Name", "Email", "OrganisationNumber", "ZipCode", "City")

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self._next = 1
        self.fail_with: FortnoxError | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail_with is not None:
            raise self.fail_with

    def list_customers(self, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        self._call("list")
        ((field, value),) = [(k, v) for k, v in params.items() if k not in ("limit", "page")]
        key = {"email": "Email", "organisationnumber": "OrganisationNumber", "name": "Name"}.get(field)
        hits = []
        for customer in self.customers.values():
            if key is None or str(value).lower() in str(customer.get(key, "")).lower():
                hits.append({k: customer.get(k, "") for k in self.LIST_FIELDS})
        return hits

    def get_customer(self, number: str) -> dict[str, Any]:
        self._call("get")
        if number not in self.customers:
            raise FortnoxError("not found", status=404)
        return dict(self.customers[number])

    def create_customer(self, fields: FortnoxFields) -> dict[str, Any]:
        self._call("create")
        number = str(self._next)
        self._next += 1
        self.customers[number] = {"Active": True, **fields, "CustomerNumber": number}
        return dict(self.customers[number])

    def update_customer(self, number: str, fields: FortnoxFields) -> dict[str, Any]:
        self._call("update")
        if number not in self.customers:
            raise FortnoxError("not found", status=404)
        self.customers[number].update(fields)
        return dict(self.customers[number])


class ScriptedAdapter(BaseAdapter):
    """A requests transport answering from a script: (status, json body) or an exception."""

    def __init__(self, script: list[tuple[int, Any] | Exception]) -> None:
        super().__init__()
        self.script = list(script)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, body = step
        response = requests.Response()
        response.status_code = status
        response._content = b"" if body is None else requests.compat.json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def scripted_session(script: list[tuple[int, Any] | Exception]) -> tuple[requests.Session, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(script)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


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
        self.invoices_by_intent: dict[str, str] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.fetches: list[str] = []
        self.calls: list[tuple[str, str]] = []

    def add_intent(self, intent: dict[str, Any]) -> FakeStripe:
        self.payment_intents[intent["id"]] = intent
        return self

    def add_refund(self, refund: dict[str, Any]) -> FakeStripe:
        self.refunds[refund["id"]] = refund
        return self

    def _read(self, name: str, key: str) -> None:
        self.calls.append((name, key))

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None:
        self._read("fetch_customer", customer_id)
        self.fetches.append(customer_id)
        found = self.customers.get(customer_id)
        return copy.deepcopy(found) if found else None

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        self._read("invoice_lines", invoice_id)
        return copy.deepcopy(self.invoice_line_items.get(invoice_id, []))

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]:
        self._read("checkout_line_items", session_id)
        return copy.deepcopy(self.session_line_items.get(session_id, []))

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        self._read("payment_intent", payment_intent_id)
        found = self.payment_intents.get(payment_intent_id)
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
        self._read("refund", refund_id)
        found = self.refunds.get(refund_id)
        return copy.deepcopy(found) if found else None
