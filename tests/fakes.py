"""In-memory fakes of the ports (stripe_fortnox_sync/core/ports.py), for unit tests: the same
contracts, no AWS, no HTTP. `_implements_the_ports` at the end lets mypy check each fake against the
port it stands in for.

Fortnox: `FakeFortnox` (customers), `InMemoryFortnoxInvoices` (invoices and payments, totals by the
simulator's model of Fortnox's arithmetic), `InMemoryFortnoxVouchers` (vouchers, financial years,
the locked period, series, attachments), `RecordingRequester` (one API call: recorded, answered by
a function or another requester, optionally failing once), `FakeTokens`, `CountingLimiter`; requests'
transport: `scripted_session`. Stores: `InMemoryMappingStore`, `InMemoryStateStore` (tokens and rate
limit slots, voucher records), `InMemoryTenantRegistry`. Stripe: `FakeStripe`. Queues and people:
`FakeQueue` (the event and dead-letter queues), `Recorder` (activity log, notifier, observer). And
`FakeInvoiceSync`, a stand-in for `InvoiceSync` that books nothing, and `FakeClock`.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import requests
from requests.adapters import BaseAdapter

from fortnox_sim import compute_totals
from stripe_fortnox_sync.core import ports
from stripe_fortnox_sync.core.errors import ConflictError, FortnoxError
from stripe_fortnox_sync.core.models import (
    CustomerLink,
    FortnoxFields,
    LinkStatus,
    Outcome,
    StripeEvent,
    SyncResult,
    TokenState,
    VoucherRecord,
)
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus, check_tenant_id
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync

Obj = dict[str, Any]

# Stores -----------------------------------------------------------------------------------------


class InMemoryMappingStore:
    """The `MappingStore` port with the table's conditional write: a save must carry the stored
    version. `crash_on_save`: the number (counted in `saves`) of a save that dies before writing."""

    def __init__(self) -> None:
        self.links: dict[str, CustomerLink] = {}
        self.saves = 0
        self.crash_on_save: int | None = None
        self.lookups = 0  # linked_to calls: the index queries the DynamoDB store would make

    def get(self, stripe_id: str) -> CustomerLink | None:
        link = self.links.get(stripe_id)
        return copy.deepcopy(link) if link else None

    def save(self, link: CustomerLink) -> CustomerLink:
        self.saves += 1
        if self.saves == self.crash_on_save:
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
    """TokenStore, SlotStore and VoucherRecords in one, like the DynamoDB state table.
    `lose_next_slot_race`: the next slot write finds another worker's write first, as a lost
    conditional write would; `crash_on_voucher_save`: the number of a voucher record write that dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[str, TokenState] = {}
        self.locks: dict[str, str] = {}
        self.slots: dict[str, tuple[list[float], int]] = {}
        self.slot_writes = 0
        self.lose_next_slot_race = False
        self.vouchers: dict[str, VoucherRecord] = {}
        self.voucher_saves = 0
        # The number (counted in `voucher_saves`) of a voucher record write that dies first.
        self.crash_on_voucher_save: int | None = None
        # Summary booking: entries by day, sales and refunds by id, each day's booked vouchers.
        self.day_sales: dict[date, dict[str, str]] = {}
        self.sales: dict[str, str] = {}
        self.booked_days: dict[date, str] = {}

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

    def load_voucher(self, key: str) -> VoucherRecord | None:
        with self._lock:
            found = self.vouchers.get(key)
            return replace(found) if found else None

    def save_voucher(self, record: VoucherRecord) -> None:
        with self._lock:
            self.voucher_saves += 1
            if self.voucher_saves == self.crash_on_voucher_save:
                raise RuntimeError("simulated crash before the voucher record write")
            self.vouchers[record.key] = replace(record)

    # DaySales (summary booking)
    def add_entry(self, day: date, entry_id: str, entry: str) -> None:
        with self._lock:
            self.day_sales.setdefault(day, {})[entry_id] = entry

    def day_entries(self, day: date) -> dict[str, str]:
        with self._lock:
            return dict(self.day_sales.get(day, {}))

    def save_sale(self, sale_id: str, entry: str) -> None:
        with self._lock:
            self.sales[sale_id] = entry

    def load_sale(self, sale_id: str) -> str | None:
        with self._lock:
            return self.sales.get(sale_id)

    def load_booked(self, day: date) -> str | None:
        with self._lock:
            return self.booked_days.get(day)

    def save_booked(self, day: date, booked: str) -> None:
        with self._lock:
            self.booked_days[day] = booked

    def swap_slots(
        self, key: str, slots: list[float], expected_version: int
    ) -> tuple[list[float], int] | None:
        with self._lock:
            self.slot_writes += 1
            stored, version = self.slots.get(key, ([], 0))
            if self.lose_next_slot_race:
                # Another worker's write lands first: the refusal carries what it stored.
                self.lose_next_slot_race = False
                self.slots[key] = (stored, version + 1)
                return list(stored), version + 1
            if version != expected_version:
                return list(stored), version
            self.slots[key] = (list(slots), expected_version + 1)
            return None


# Fortnox ----------------------------------------------------------------------------------------


class FakeFortnox:
    """The `FortnoxCustomers` port with Fortnox's substring search and short list items."""

    LIST_FIELDS = ("CustomerNumber", "Name", "Email", "OrganisationNumber", "ZipCode", "City")

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.updates: list[tuple[str, FortnoxFields]] = []
        self.calls: Counter[str] = Counter()
        self._next = 1
        self.fail_with: FortnoxError | None = None
        self.reserved: list[int] = []  # slots reserved ahead: no request of their own

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def reserve(self, count: int) -> None:
        self.reserved.append(count)

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
        self.updates.append((number, dict(fields)))
        if number not in self.customers:
            raise FortnoxError("not found", status=404)
        self.customers[number].update(fields)
        return dict(self.customers[number])


class ScriptedAdapter(BaseAdapter):
    """A requests transport answering from a script: (status, json body) or an exception."""

    def __init__(self, script: Sequence[tuple[int, Any] | Exception]) -> None:
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
        response._content = b"" if body is None else json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def body(self, index: int) -> str:
        """The body of the `index`th request sent, as text."""
        sent = self.requests[index].body
        return sent.decode() if isinstance(sent, bytes) else sent or ""

    def close(self) -> None:
        pass


def scripted_session(
    script: Sequence[tuple[int, Any] | Exception],
) -> tuple[requests.Session, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(script)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


class Request(NamedTuple):
    """One Fortnox API call as a `FortnoxRequester` receives it."""

    method: str
    path: str
    params: Mapping[str, str | int] | None
    body: Mapping[str, Any] | None


class RecordingRequester:
    """The `FortnoxRequester` port: records every request in `requests`, then answers it with
    `answer` (or, made with `over`, passes it on to another requester). With `fail_once=(method,
    path pattern)` the first matching request fails as Fortnox's 503 would, after being recorded."""

    def __init__(self, answer: Callable[[Request], Obj], *, fail_once: tuple[str, str] | None = None) -> None:
        self._answer = answer
        self._fail_once = fail_once
        self._inner: ports.FortnoxRequester | None = None
        self._inner_upload: Callable[..., Obj] | None = None
        self.requests: list[Request] = []
        self.reserved: list[int] = []

    @classmethod
    def over(
        cls, requester: ports.FortnoxRequester, *, fail_once: tuple[str, str] | None = None
    ) -> RecordingRequester:
        def passed_on(sent: Request) -> Obj:
            return requester.request(sent.method, sent.path, params=sent.params, body=sent.body)

        recording = cls(passed_on, fail_once=fail_once)
        recording._inner = requester
        recording._inner_upload = getattr(requester, "upload", None)
        return recording

    def upload(
        self, path: str, filename: str, content: bytes, *, params: Mapping[str, str | int] | None = None
    ) -> Obj:
        """The `FortnoxUploader` port: recorded as a POST whose body names the file."""
        sent = Request("POST", path, params, {"file": filename, "bytes": len(content)})
        self.requests.append(sent)
        if self._inner_upload is not None:
            answer: Obj = self._inner_upload(path, filename, content, params=params)
            return answer
        return self._answer(sent)

    def reserve(self, count: int) -> None:
        self.reserved.append(count)
        if self._inner is not None:
            self._inner.reserve(count)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far."""
        return [(r.method, r.path) for r in self.requests]

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]

    def clear(self) -> None:
        self.requests.clear()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Obj:
        sent = Request(method, path, params, body)
        self.requests.append(sent)
        if self._fail_once and method == self._fail_once[0] and re.fullmatch(self._fail_once[1], path):
            self._fail_once = None
            raise FortnoxError("Fortnox is down", status=503, method=method, path=path)
        return self._answer(sent)


class InMemoryFortnoxInvoices:
    """The `FortnoxInvoices` port in memory: documents and payments as Fortnox keeps them.

    Totals follow the simulator's model of Fortnox's arithmetic (`fortnox_sim.compute_totals`, with
    öresavrundning for SEK); `Balance` starts at `Total` and a payment lowers it by its amount in the
    invoice's currency and its write-offs. Booked documents keep their rows; an invoice is credited
    once. `calls` counts the calls by method name; `fail_next` makes the next call of that name fail as
    Fortnox's 503 would.
    """

    def __init__(self) -> None:
        self.invoices: dict[str, Obj] = {}
        self.payments: dict[str, Obj] = {}
        self.calls: Counter[str] = Counter()
        self.fail_next: str | None = None
        # Fortnox may refuse a second credit invoice with the same CreditInvoiceReference (its user
        # interface does): on, it does here.
        self.one_connected_credit = False
        self._numbers = itertools.count(1)
        self._payment_numbers = itertools.count(1)

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail_next == name:
            self.fail_next = None
            raise FortnoxError("Fortnox is down", status=503)

    def reserve(self, count: int) -> None:
        # No rate limit in memory; the call is counted like the others (it costs no request).
        self.calls[f"reserve {count}"] += 1

    def _stored(self, number: str | int) -> Obj:
        found = self.invoices.get(str(number))
        if found is None:
            raise FortnoxError("Kan inte hitta fakturan.", status=404, code=2000434)
        return found

    def _add(self, payload: Mapping[str, Any]) -> Obj:
        document: Obj = {
            "ExternalInvoiceReference1": "",
            "ExternalInvoiceReference2": "",
            "CurrencyRate": 1.0,
            "CreditInvoiceReference": "0",
            **copy.deepcopy(dict(payload)),
            "DocumentNumber": str(next(self._numbers)),
            "Booked": False,
            "Cancelled": False,
        }
        totals = compute_totals(
            document.get("InvoiceRows") or [],
            vat_included=bool(document.get("VATIncluded")),
            currency=str(document.get("Currency") or "SEK"),
            round_off=True,
        )
        total = float(totals.total)
        document.update(
            Net=float(totals.net),
            TotalVAT=float(totals.total_vat),
            RoundOff=float(totals.round_off),
            Total=total,
        )
        document["Balance"] = total
        self.invoices[document["DocumentNumber"]] = document
        return document

    def find_invoices_by_external_reference(self, reference: str, *, field: Literal[1, 2] = 1) -> list[Obj]:
        self._call("find")
        hits = [d for d in self.invoices.values() if d.get(f"ExternalInvoiceReference{field}") == reference]
        hits.sort(key=lambda d: (bool(d["Cancelled"]), d["Total"] < 0, int(d["DocumentNumber"])))
        return copy.deepcopy(hits)

    def find_invoice_by_external_reference(self, reference: str, *, field: Literal[1, 2] = 1) -> Obj | None:
        found = self.find_invoices_by_external_reference(reference, field=field)
        return found[0] if found else None

    def get_invoice(self, number: str | int) -> Obj:
        self._call("get")
        return copy.deepcopy(self._stored(number))

    def create_invoice(self, payload: Mapping[str, Any]) -> Obj:
        self._call("create")
        reference = str(payload.get("CreditInvoiceReference") or "0")
        if self.one_connected_credit and reference != "0" and self._credited(reference):
            raise FortnoxError(f"Faktura {reference} är redan krediterad.", status=400, code=2000811)
        return copy.deepcopy(self._add(payload))

    def _credited(self, number: str) -> bool:
        return any(
            str(d.get("CreditInvoiceReference")) == number and d["Total"] < 0 for d in self.invoices.values()
        )

    def list_invoices_between(self, first: date, last: date) -> list[Obj]:
        self._call("list_between")
        span = (first.isoformat(), last.isoformat())
        dated = [d for d in self.invoices.values() if span[0] <= str(d.get("InvoiceDate")) <= span[1]]
        return copy.deepcopy(sorted(dated, key=lambda d: int(d["DocumentNumber"])))

    def update_invoice(self, number: str | int, payload: Mapping[str, Any]) -> Obj:
        self._call("update")
        stored = self._stored(number)
        if stored["Booked"] and "InvoiceRows" in payload:
            raise FortnoxError("Kan inte ändra en bokförd faktura.", status=400)
        stored.update(copy.deepcopy(dict(payload)))
        return copy.deepcopy(stored)

    def bookkeep_invoice(self, number: str | int) -> Obj:
        self._call("bookkeep")
        stored = self._stored(number)
        stored["Booked"] = True
        return copy.deepcopy(stored)

    def credit_invoice(self, number: str | int) -> Obj:
        self._call("credit")
        sale = self._stored(number)
        if not sale["Booked"] or sale["CreditInvoiceReference"] != "0":
            raise FortnoxError("Fakturan kan inte krediteras.", status=400)
        rows = [
            {**row, "DeliveredQuantity": -Decimal(str(row["DeliveredQuantity"]))}
            for row in sale["InvoiceRows"]
        ]
        kept = ("CustomerNumber", "Currency", "CurrencyRate", "InvoiceDate", "VATIncluded")
        references = ("ExternalInvoiceReference1", "ExternalInvoiceReference2")
        credit = self._add({**{k: sale[k] for k in kept + references if k in sale}, "InvoiceRows": rows})
        credit["CreditInvoiceReference"] = sale["DocumentNumber"]
        sale["CreditInvoiceReference"] = credit["DocumentNumber"]
        return copy.deepcopy(sale)

    def register_payment(self, payload: Mapping[str, Any]) -> Obj:
        self._call("register_payment")
        invoice = self._stored(payload["InvoiceNumber"])
        key = "Amount" if invoice.get("Currency", "SEK") == "SEK" else "AmountCurrency"
        settled = Decimal(str(payload[key])) + sum(
            (Decimal(str(w["Amount"])) for w in payload.get("WriteOffs", [])), Decimal(0)
        )
        invoice["Balance"] = float(Decimal(str(invoice["Balance"])) - settled)
        payment = {
            **copy.deepcopy(dict(payload)),
            "Number": str(next(self._payment_numbers)),
            "Booked": False,
        }
        self.payments[payment["Number"]] = payment
        return copy.deepcopy(payment)

    def bookkeep_payment(self, number: str | int) -> Obj:
        self._call("bookkeep_payment")
        self.payments[str(number)]["Booked"] = True
        return copy.deepcopy(self.payments[str(number)])

    def list_payments(self, invoice_number: str | int) -> list[Obj]:
        self._call("list_payments")
        return [
            copy.deepcopy(p) for p in self.payments.values() if str(p["InvoiceNumber"]) == str(invoice_number)
        ]


class InMemoryFortnoxVouchers:
    """The `FortnoxVouchers` port in memory: financial years (`years`: id -> first and last day), the
    locked period (`locked`), voucher series (`series`: code -> Manual) and vouchers numbered per
    series and year, refused as Fortnox refuses them (unbalanced, unknown year, locked, a series
    without manual vouchers). `lose_next_answer`: the next POST is applied but its answer lost (a
    timeout), as FortnoxError(ambiguous). `files`: what was attached to which voucher."""

    def __init__(self) -> None:
        self.years: dict[int, tuple[date, date]] = {
            1: (date(2024, 1, 1), date(2024, 12, 31)),
            2: (date(2025, 1, 1), date(2025, 12, 31)),
        }
        self.locked: date | None = None
        self.series: dict[str, bool] = {"A": True, "B": False, "C": False}
        self.vouchers: dict[tuple[str, int, int], Obj] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.connections: list[tuple[str, str, int, int]] = []
        self.calls: Counter[str] = Counter()
        self.lose_next_answer = False

    def financial_year(self, day: date) -> Obj | None:
        self.calls["financial_year"] += 1
        for year_id, (first, last) in self.years.items():
            if first <= day <= last:
                return {"Id": year_id, "FromDate": first.isoformat(), "ToDate": last.isoformat()}
        return None

    def locked_until(self) -> date | None:
        self.calls["locked_until"] += 1
        return self.locked

    def voucher_series(self, code: str) -> Obj | None:
        self.calls["voucher_series"] += 1
        return {"Code": code, "Manual": self.series[code]} if code in self.series else None

    def create_voucher(self, body: Mapping[str, Any], financial_year: int) -> Obj:
        self.calls["create"] += 1
        rows = [{"Debit": 0.0, "Credit": 0.0, "Removed": False, **r} for r in body["VoucherRows"]]
        day = date.fromisoformat(body["TransactionDate"])
        first, last = self.years.get(financial_year, (date.max, date.min))
        debit = sum(Decimal(str(r["Debit"])) for r in rows)
        if debit != sum(Decimal(str(r["Credit"])) for r in rows):
            raise FortnoxError("Verifikationen är inte i balans.", status=400, code=2000528)
        if not first <= day <= last:
            raise FortnoxError("Räkenskapsår saknas för datumet.", status=400, code=2000723)
        if self.locked is not None and day <= self.locked:
            raise FortnoxError("Perioden är låst.", status=400, code=2002181)
        if not self.series.get(body["VoucherSeries"]):
            raise FortnoxError("Serien tillåter inte manuella verifikationer.", status=400, code=2001480)
        series = body["VoucherSeries"]
        number = 1 + sum(1 for s, _, y in self.vouchers if (s, y) == (series, financial_year))
        voucher = {
            **copy.deepcopy(dict(body)),
            "VoucherRows": rows,
            "VoucherNumber": number,
            "Year": financial_year,
        }
        self.vouchers[(series, number, financial_year)] = voucher
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise FortnoxError("no answer within 10 s", method="POST", path="/vouchers", ambiguous=True)
        return copy.deepcopy(voucher)

    def find_vouchers(
        self, description: str, series: str, first: date, last: date, financial_year: int
    ) -> list[Obj]:
        self.calls["find"] += 1
        return [
            {k: v for k, v in voucher.items() if k != "VoucherRows"}
            for (code, _, year), voucher in self.vouchers.items()
            if (code, year) == (series, financial_year)
            and voucher["Description"] == description
            and first.isoformat() <= voucher["TransactionDate"] <= last.isoformat()
        ]

    def get_voucher(self, series: str, number: int, financial_year: int) -> Obj:
        self.calls["get"] += 1
        found = self.vouchers.get((series, number, financial_year))
        if found is None:
            raise FortnoxError("Verifikationen hittades inte.", status=404)
        return copy.deepcopy(found)

    def attach(self, filename: str, content: bytes, series: str, number: int, financial_year: int) -> str:
        self.calls["attach"] += 1
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (filename, content)
        self.connections.append((file_id, series, number, financial_year))
        return file_id

    def balances(self) -> dict[int, Decimal]:
        """Each account's balance over every voucher (debit positive)."""
        totals: dict[int, Decimal] = {}
        for voucher in self.vouchers.values():
            for row in voucher["VoucherRows"]:
                change = Decimal(str(row["Debit"])) - Decimal(str(row["Credit"]))
                totals[row["Account"]] = totals.get(row["Account"], Decimal(0)) + change
        return totals


class FakeTokens:
    """The `TokenProvider` port: token-0, and a new one (token-1, ...) after each invalidation."""

    def __init__(self) -> None:
        self.issued = 0
        self.invalidated: list[str] = []

    def access_token(self) -> str:
        return f"token-{self.issued}"

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.issued += 1


class CountingLimiter:
    """The `RateLimiter` port without a limit: never waits, counts the requests it let through."""

    def __init__(self) -> None:
        self.acquired = 0
        self.reserved: list[int] = []

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0

    def reserve(self, count: int) -> None:
        self.reserved.append(count)


# Stripe -----------------------------------------------------------------------------------------


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


# Queues, people, time ---------------------------------------------------------------------------


class FakeQueue:
    """The `EventPublisher` port: an SQS FIFO queue (the event queue, or the dead-letter queue the
    sync parks events in) that keeps what was published in `sent`, refuses what SQS would refuse (a
    message group id outside 1-128 printable ASCII characters, a body that is no UTF-8), and with
    `down=True` fails like an unreachable SQS."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[Obj] = []

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        if self.down:
            raise RuntimeError("SQS is down")
        if not (1 <= len(group_id) <= 128 and all("!" <= c <= "~" for c in group_id)):
            raise ValueError(f"SQS refuses the message group id {group_id!r}")
        body.encode("utf-8")
        self.sent.append({"body": body, "group": group_id, "dedup": dedup_id, "attributes": attributes or {}})


class InMemoryTenantRegistry:
    """The `TenantRegistry` port: tenants by id, with the slug and Stripe account lookups; `add`
    refuses a taken id, slug or account as the registry's transaction does."""

    def __init__(self, *tenants: Tenant) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.reads = 0
        for tenant in tenants:
            self.add(tenant)

    def get(self, tenant_id: str) -> Tenant | None:
        self.reads += 1
        return self.tenants.get(tenant_id)

    def by_slug(self, slug: str) -> Tenant | None:
        self.reads += 1
        return next((t for t in self.tenants.values() if slug and t.webhook_slug == slug), None)

    def by_account(self, stripe_account: str) -> Tenant | None:
        self.reads += 1
        return next(
            (t for t in self.tenants.values() if stripe_account and t.stripe_account == stripe_account), None
        )

    def add(self, tenant: Tenant) -> Tenant:
        check_tenant_id(tenant.id)
        taken = any(
            t.id == tenant.id
            or (tenant.webhook_slug and t.webhook_slug == tenant.webhook_slug)
            or (tenant.stripe_account and t.stripe_account == tenant.stripe_account)
            for t in self.tenants.values()
        )
        if taken:
            raise ConflictError(
                f"tenant {tenant.id}: the id, webhook slug or Stripe account is already taken"
            )
        stored = replace(tenant, version=1)
        self.tenants[tenant.id] = stored
        return stored

    def set_status(self, tenant_id: str, status: TenantStatus) -> Tenant | None:
        current = self.tenants.get(tenant_id)
        if current is None or current.status is status:
            return current
        self.tenants[tenant_id] = replace(current, status=status, version=current.version + 1)
        return self.tenants[tenant_id]

    def save(self, tenant: Tenant) -> Tenant:
        if self.tenants[tenant.id].version != tenant.version:
            raise ConflictError(f"tenant {tenant.id} changed concurrently")
        self.tenants[tenant.id] = replace(tenant, version=tenant.version + 1)
        return self.tenants[tenant.id]

    def all(self) -> list[Tenant]:
        return sorted(self.tenants.values(), key=lambda t: t.id)


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


def _implements_the_ports() -> None:
    """Never called: mypy checks here that every fake fits the port it stands in for."""
    _customers: ports.FortnoxCustomers = FakeFortnox()
    _invoices: ports.FortnoxInvoices = InMemoryFortnoxInvoices()
    _vouchers: ports.FortnoxVouchers = InMemoryFortnoxVouchers()
    _voucher_records: ports.VoucherRecords = InMemoryStateStore()
    _requester: ports.FortnoxRequester = RecordingRequester(lambda request: {})
    _uploader: ports.FortnoxUploader = RecordingRequester(lambda request: {})
    _tokens: ports.TokenProvider = FakeTokens()
    _limiter: ports.RateLimiter = CountingLimiter()
    _mapping: ports.MappingStore = InMemoryMappingStore()
    _token_store: ports.TokenStore = InMemoryStateStore()
    _slot_store: ports.SlotStore = InMemoryStateStore()
    _stripe: ports.StripeReader = FakeStripe()
    _queue: ports.EventPublisher = FakeQueue()
    _tenants: ports.TenantRegistry = InMemoryTenantRegistry()
    _activity: ports.ActivityLog = Recorder()
    _notifier: ports.Notifier = Recorder()
    _observer: ports.Observer = Recorder()
