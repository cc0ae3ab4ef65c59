"""What the local Stripe API (`stripe_fake.FakeStripeApi`) holds, and how it answers a GET.

Objects are served as stored (store them already expanded: `expand` is ignored), lists as Stripe's
`{"object": "list", "data": [...], "has_more": ..., "url": ...}` with `limit` and `starting_after`,
and an unknown id as a 404 `resource_missing` error.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
Query = Mapping[str, list[str]]
Answer = tuple[int, Obj]


@dataclass
class StripeStore:
    customers: dict[str, Obj] = field(default_factory=dict)
    invoices: dict[str, Obj] = field(default_factory=dict)
    invoice_lines: dict[str, list[Obj]] = field(default_factory=dict)
    sessions: dict[str, Obj] = field(default_factory=dict)
    session_items: dict[str, list[Obj]] = field(default_factory=dict)
    intents: dict[str, Obj] = field(default_factory=dict)
    invoice_payments: list[Obj] = field(default_factory=list)
    refunds: dict[str, Obj] = field(default_factory=dict)
    payouts: dict[str, Obj] = field(default_factory=dict)
    # Balance transactions by id; `payout_of` names the payout that paid each out.
    transactions: dict[str, Obj] = field(default_factory=dict)
    payout_of: dict[str, str] = field(default_factory=dict)
    disputes: dict[str, Obj] = field(default_factory=dict)
    balance: Obj = field(default_factory=dict)


def missing(kind: str, object_id: str) -> Answer:
    return 404, {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such {kind}: '{object_id}'",
            "param": "id",
        }
    }


def id_of(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else value


def one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def listing(url: str, items: list[Obj], query: Query) -> Answer:
    """One page, in the order stored; `starting_after` continues after an id."""
    limit = int(one(query, "limit") or "10")
    after = one(query, "starting_after")
    if after:
        ids = [item.get("id") for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return 200, {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


def _by_id(
    kind: str, table: Callable[[StripeStore], Mapping[str, Obj]]
) -> Callable[[StripeStore, str], Answer]:
    def read(store: StripeStore, object_id: str) -> Answer:
        found = table(store).get(object_id)
        return (200, found) if found is not None else missing(kind, object_id)

    return read


_OBJECTS: Mapping[str, Callable[[StripeStore, str], Answer]] = {
    r"/v1/customers/([^/]+)": _by_id("customer", lambda s: s.customers),
    r"/v1/invoices/([^/]+)": _by_id("invoice", lambda s: s.invoices),
    r"/v1/checkout/sessions/([^/]+)": _by_id("checkout.session", lambda s: s.sessions),
    r"/v1/payment_intents/([^/]+)": _by_id("payment_intent", lambda s: s.intents),
    r"/v1/refunds/([^/]+)": _by_id("refund", lambda s: s.refunds),
    r"/v1/payouts/([^/]+)": _by_id("payout", lambda s: s.payouts),
    r"/v1/disputes/([^/]+)": _by_id("dispute", lambda s: s.disputes),
    r"/v1/balance_transactions/([^/]+)": _by_id("balance_transaction", lambda s: s.transactions),
}


def _items(path: str, store: StripeStore, object_id: str, query: Query) -> Answer:
    lists = {
        "invoices": ("invoice", store.invoice_lines),
        "checkout/sessions": ("checkout.session", store.session_items),
    }
    for prefix, (kind, table) in lists.items():
        if path.startswith(f"/v1/{prefix}/"):
            if object_id not in table:
                return missing(kind, object_id)
            return listing(path, table[object_id], query)
    return _unknown(path)


def _invoice_payments(store: StripeStore, query: Query) -> list[Obj]:
    wanted = (one(query, "invoice"), one(query, "status"), one(query, "payment[payment_intent]"))
    return [
        p
        for p in store.invoice_payments
        if wanted[0] in (None, p["invoice"])
        and wanted[1] in (None, p["status"])
        and wanted[2] in (None, p["payment"]["payment_intent"])
    ]


def _transactions(store: StripeStore, query: Query) -> list[Obj]:
    payout, source = one(query, "payout"), one(query, "source")
    return [
        t
        for t in store.transactions.values()
        if payout in (None, store.payout_of.get(str(t["id"]))) and source in (None, id_of(t.get("source")))
    ]


def _payouts(store: StripeStore, query: Query) -> list[Obj]:
    since = int(one(query, "arrival_date[gte]") or 0)
    until = int(one(query, "arrival_date[lte]") or 2**62)
    # Stripe lists newest first.
    found = [p for p in store.payouts.values() if since <= int(p.get("arrival_date") or 0) <= until]
    return sorted(found, key=lambda p: -int(p.get("created") or 0))


def _lists(store: StripeStore, query: Query) -> Mapping[str, Callable[[], list[Obj]]]:
    intent, charge = one(query, "payment_intent"), one(query, "charge")
    return {
        "/v1/checkout/sessions": lambda: [
            s for s in store.sessions.values() if intent is None or id_of(s.get("payment_intent")) == intent
        ],
        "/v1/invoice_payments": lambda: _invoice_payments(store, query),
        "/v1/refunds": lambda: [
            r
            for r in store.refunds.values()
            if charge in (None, id_of(r.get("charge"))) and intent in (None, id_of(r.get("payment_intent")))
        ],
        "/v1/balance_transactions": lambda: _transactions(store, query),
        "/v1/payouts": lambda: _payouts(store, query),
        # What `backfill` and `reconcile` list (in the order stored).
        "/v1/customers": lambda: list(store.customers.values()),
    }


def _unknown(path: str) -> Answer:
    return 404, {
        "error": {"type": "invalid_request_error", "message": f"Unrecognized request URL (GET: {path})"}
    }


def answer(store: StripeStore, path: str, query: Query) -> Answer:
    """Stripe's answer to GET `path` from a snapshot of the store."""
    store = copy.deepcopy(store)
    if path == "/v1/balance":
        return 200, store.balance or {"object": "balance", "available": [], "pending": []}
    if match := re.fullmatch(r"/v1/(?:invoices|checkout/sessions)/([^/]+)/(?:lines|line_items)", path):
        return _items(path, store, match[1], query)
    for pattern, read in _OBJECTS.items():
        if match := re.fullmatch(pattern, path):
            return read(store, match[1])
    lists = _lists(store, query)
    if path in lists:
        return listing(path, lists[path](), query)
    return _unknown(path)
