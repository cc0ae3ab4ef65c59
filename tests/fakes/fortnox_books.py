"""In-memory fakes of Fortnox's books: the invoices (with payments) and vouchers ports."""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fortnox_sim import compute_totals
from stripe_fortnox_sync.core.errors import FortnoxError

Obj = dict[str, Any]


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
