"""The Fortnox simulator's invoices and invoice payments over real HTTP: totals, validation,
bookkeeping, credits, payments, lists, and the shared auth, rate limit, faults and stats."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from fortnox_sim import ERROR_CODES, FortnoxSimulator
from fortnox_sim import invoices as fortnox_sim_invoices
from tests.integration.simulator_api import TENANT, SimulatorApi


class Api(SimulatorApi):
    """The invoice tests' client; the customer "1" exists."""

    def customer(self, **fields: Any) -> str:
        response = self.call("POST", "/customers", json={"Customer": {"Name": "Kund AB", **fields}})
        assert response.status_code == 201, response.text
        return str(response.json()["Customer"]["CustomerNumber"])

    def create(self, **fields: Any) -> requests.Response:
        return self.call("POST", "/invoices", json={"Invoice": {"CustomerNumber": "1", **fields}})

    def invoice(self, **fields: Any) -> dict[str, Any]:
        response = self.create(**{"InvoiceDate": "2024-05-01", "InvoiceRows": [row()], **fields})
        assert response.status_code == 201, response.text
        return dict(response.json()["Invoice"])

    def action(self, number: str, action: str) -> requests.Response:
        return self.call("PUT", f"/invoices/{number}/{action}")

    def pay(self, **fields: Any) -> requests.Response:
        return self.call("POST", "/invoicepayments", json={"InvoicePayment": fields})

    def list(self, **params: Any) -> dict[str, Any]:
        response = self.call("GET", "/invoices", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())


def row(**fields: Any) -> dict[str, Any]:
    return {
        "Description": "Pro plan",
        "DeliveredQuantity": "1",
        "Price": 99.0,
        "VAT": 25,
        "AccountNumber": 3001,
        **fields,
    }


@pytest.fixture
def api(sim: FortnoxSimulator, http: requests.Session) -> Api:
    client = Api(sim, http)
    client.customer()
    return client


def error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    info = response.json()["ErrorInformation"]
    assert info["code"] == ERROR_CODES[code], info
    return str(info["message"])


# ----------------------------------------------------------------------------- create and totals


def test_create_computes_fortnox_totals(api: Api, sim: FortnoxSimulator) -> None:
    invoice = api.invoice(
        ExternalInvoiceReference1="in_1",
        InvoiceRows=[
            row(DeliveredQuantity="3", Price=33.33),
            row(Price=100.0, VAT=12, AccountNumber=3002, Discount=5.0, DiscountType="AMOUNT"),
            row(Price=49.99, DeliveredQuantity=2, VAT=6, AccountNumber=3003),
        ],
    )
    assert invoice["DocumentNumber"] == "1"
    assert invoice["@url"].endswith("/3/invoices/1")
    assert [(r["Total"], r["TotalExcludingVAT"], r["DeliveredQuantity"]) for r in invoice["InvoiceRows"]] == [
        (99.99, 99.99, "3.00"),
        (95.0, 95.0, "1.00"),
        (99.98, 99.98, "2.00"),
    ]
    # VAT per row: 25.00 (24.9975), 11.40, 6.00 (5.9988).
    assert (invoice["Net"], invoice["TotalVAT"], invoice["Gross"]) == (294.97, 42.4, 337.37)
    # Öresavrundning: SEK totals are rounded to whole kronor.
    assert (invoice["RoundOff"], invoice["Total"], invoice["Balance"]) == (-0.37, 337.0, 337.0)
    assert invoice["DueDate"] == "2024-05-31"
    assert invoice["CustomerName"] == "Kund AB"
    assert invoice["Booked"] is False and invoice["Credit"] == "false"
    assert sim.invoices(TENANT)[0]["Total"] == 337.0
    assert sim.stats()["invoices"] == 1


def test_vat_included_rows_and_percent_discount(api: Api) -> None:
    invoice = api.invoice(
        VATIncluded=True,
        InvoiceRows=[row(Price=125.0), row(Price=200.0, Discount=10, DiscountType="PERCENT", VAT=12)],
    )
    assert [(r["Total"], r["TotalExcludingVAT"]) for r in invoice["InvoiceRows"]] == [
        (125.0, 100.0),
        (180.0, 160.71),
    ]
    assert (invoice["Net"], invoice["TotalVAT"], invoice["Total"], invoice["RoundOff"]) == (
        260.71,
        44.29,
        305.0,
        0.0,
    )


def test_round_off_knob_and_foreign_currencies(api: Api, sim: FortnoxSimulator) -> None:
    eur = api.invoice(Currency="EUR", InvoiceRows=[row(Price=10.01)])
    assert (eur["Total"], eur["RoundOff"], eur["CurrencyRate"]) == (12.51, 0.0, 11.5)
    sim.configure(invoice_round_off=False)
    sek = api.invoice(InvoiceRows=[row(Price=10.01)])
    assert (sek["Total"], sek["RoundOff"]) == (12.51, 0.0)


def test_text_rows_and_defaults(api: Api) -> None:
    invoice = api.invoice(
        InvoiceRows=[{"Description": "Tack för ert köp"}, {"Price": 10, "DeliveredQuantity": 1}]
    )
    assert invoice["InvoiceRows"][0]["AccountNumber"] is None
    assert invoice["InvoiceRows"][1]["AccountNumber"] == 3001 and invoice["InvoiceRows"][1]["VAT"] == 25
    assert invoice["Total"] == 13.0  # 12.50 rounded


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"CustomerNumber": ""}, 400, "customer_not_found"),
        ({"CustomerNumber": "999"}, 400, "customer_not_found"),
        ({"Colour": "red"}, 400, "unknown_field"),
        ({"InvoiceRows": [row(Price="99")]}, 400, "wrong_type"),
        ({"InvoiceRows": [row(Shade=1)]}, 400, "unknown_field"),
        ({"InvoiceRows": [row(Description="x" * 256)]}, 400, "too_long"),
        ({"InvoiceRows": [row(Description="tab\there")]}, 400, "invalid_characters"),
        ({"InvoiceRows": [row(VAT=11)]}, 400, "invalid_vat"),
        ({"InvoiceRows": [row(AccountNumber=999)]}, 400, "wrong_type"),
        ({"InvoiceRows": [row(AccountNumber=3999)]}, 400, "account_not_found"),
        ({"InvoiceRows": [row(ArticleNumber="A1")]}, 400, "unsupported"),
        ({"InvoiceRows": [row(Discount=150)]}, 400, "invalid_amount"),
        ({"InvoiceRows": "rows"}, 400, "wrong_type"),
        ({"ExternalInvoiceReference1": "x" * 81}, 400, "too_long"),
        ({"Currency": "JPY"}, 400, "invalid_currency"),
        ({"InvoiceDate": "2024-13-01"}, 400, "invalid_date"),
        ({"InvoiceDate": "1 May 2024"}, 400, "invalid_date"),
        ({"DueDate": "2024-04-30"}, 400, "invalid_date"),
        ({"VATIncluded": "yes"}, 400, "wrong_type"),
        ({"Language": "DE"}, 400, "invalid_enum"),
        ({"Freight": 50}, 400, "unsupported"),
        ({"CreditInvoiceReference": "77"}, 400, "invalid_credit_reference"),
    ],
)
def test_create_validation(api: Api, fields: dict[str, Any], status: int, code: str) -> None:
    error(api.create(**{"InvoiceDate": "2024-05-01", "InvoiceRows": [row()], **fields}), status, code)


def test_body_and_content_type(api: Api) -> None:
    error(api.call("POST", "/invoices", json={"Customer": {}}), 400, "invalid_body")
    error(
        api.call("POST", "/invoices", data=b'{"Invoice": {}}', headers={"Content-Type": "text/plain"}),
        400,
        "invalid_content_type",
    )
    error(
        api.call("POST", "/invoices", data=b"{", headers={"Content-Type": "application/json"}),
        400,
        "invalid_body",
    )


def test_read_only_fields_are_ignored(api: Api) -> None:
    # A GET answer sent back unchanged is accepted: Fortnox ignores what it computes itself.
    invoice = api.invoice()
    response = api.call("PUT", f"/invoices/{invoice['DocumentNumber']}", json={"Invoice": invoice})
    assert response.status_code == 200, response.text
    assert response.json()["Invoice"]["Total"] == invoice["Total"]


def test_update_replaces_rows_and_recomputes(api: Api) -> None:
    invoice = api.invoice()
    response = api.call(
        "PUT", "/invoices/1", json={"Invoice": {"InvoiceRows": [row(Price=200.0)], "Remarks": "x"}}
    )
    assert response.status_code == 200, response.text
    updated = response.json()["Invoice"]
    assert (updated["Total"], updated["Remarks"], len(updated["InvoiceRows"])) == (250.0, "x", 1)
    assert invoice["Total"] == 124.0
    error(api.call("PUT", "/invoices/1", json={"Invoice": {"CustomerNumber": "2"}}), 400, "invalid_parameter")


def test_missing_account_and_chart_knob(api: Api, sim: FortnoxSimulator) -> None:
    message = error(api.create(InvoiceRows=[row(AccountNumber=3011)]), 400, "account_not_found")
    assert "3011" in message
    sim.configure(accounts=[*sim.config()["accounts"], 3011])
    assert api.create(InvoiceRows=[row(AccountNumber=3011)]).status_code == 201
    # An account removed from the chart blocks bookkeeping an invoice that uses it.
    sim.configure(accounts=[a for a in sim.config()["accounts"] if a != 3011])
    error(api.action("1", "bookkeep"), 400, "account_not_found")


def test_closed_financial_year(api: Api, sim: FortnoxSimulator) -> None:
    old = api.invoice(InvoiceDate="2023-12-30")
    sim.configure(closed_years=[2023])
    message = error(api.create(InvoiceDate="2023-12-31", InvoiceRows=[row()]), 400, "financial_year_closed")
    assert "2023" in message
    error(api.action(old["DocumentNumber"], "bookkeep"), 400, "financial_year_closed")
    sim.configure(closed_years=[])
    assert api.action(old["DocumentNumber"], "bookkeep").status_code == 200
    sim.configure(closed_years=[2023])
    error(api.pay(InvoiceNumber=1, Amount=10, PaymentDate="2023-12-31"), 400, "financial_year_closed")
    assert api.pay(InvoiceNumber=1, Amount=10, PaymentDate="2024-01-02").status_code == 201


# ----------------------------------------------------------------------------- bookkeep, cancel, credit


def test_booked_invoices_cannot_change(api: Api) -> None:
    api.invoice()
    booked = api.action("1", "bookkeep")
    assert booked.status_code == 200
    body = booked.json()["Invoice"]
    # VoucherYear is the financial year's Id, as a voucher's Year (the years start with 2000).
    year = api.call("GET", "/financialyears", params={"date": "2024-05-01"}).json()["FinancialYears"][0]
    assert (body["Booked"], body["VoucherSeries"], body["VoucherNumber"], body["VoucherYear"]) == (
        True,
        "B",
        1,
        year["Id"],
    )
    assert year["Id"] == 25 and year["FromDate"] == "2024-01-01"
    error(api.call("PUT", "/invoices/1", json={"Invoice": {"Remarks": "late"}}), 400, "invoice_booked")
    error(api.action("1", "cancel"), 400, "invoice_booked")
    error(api.action("1", "bookkeep"), 400, "already_booked")
    assert api.invoice()["DocumentNumber"] == "2"
    assert api.action("2", "bookkeep").json()["Invoice"]["VoucherNumber"] == 2


def test_cancel(api: Api) -> None:
    api.invoice()
    cancelled = api.action("1", "cancel").json()["Invoice"]
    assert (cancelled["Cancelled"], cancelled["Balance"]) == (True, 0.0)
    error(api.action("1", "bookkeep"), 400, "invoice_cancelled")
    error(api.action("1", "credit"), 400, "invoice_cancelled")
    error(api.action("1", "cancel"), 400, "invoice_cancelled")
    assert [i["DocumentNumber"] for i in api.list(filter="cancelled")["Invoices"]] == ["1"]


def test_credit_once(api: Api, sim: FortnoxSimulator) -> None:
    api.invoice(ExternalInvoiceReference1="in_9", InvoiceRows=[row(DeliveredQuantity="2", Price=50.0)])
    api.action("1", "bookkeep")
    response = api.action("1", "credit")
    assert response.status_code == 200, response.text
    assert response.json()["Invoice"]["CreditInvoiceReference"] == "2"
    credit = api.call("GET", "/invoices/2").json()["Invoice"]
    assert (credit["Credit"], credit["CreditInvoiceReference"], credit["Total"], credit["Booked"]) == (
        "true",
        "1",
        -125.0,
        False,
    )
    assert credit["InvoiceRows"][0]["DeliveredQuantity"] == "-2.00"
    message = error(api.action("1", "credit"), 400, "already_credited")
    assert "(2)" in message
    error(api.action("2", "credit"), 400, "invalid_credit_reference")
    assert sim.stats()["requests"]["PUT /3/invoices/{n}/credit"] == 3


def test_partial_credits_reference_the_invoice(api: Api) -> None:
    api.invoice(InvoiceRows=[row(Price=100.0)])  # 125.00
    partial = {"VATIncluded": True, "CreditInvoiceReference": "1"}
    first = api.create(
        **partial, ExternalInvoiceReference1="re_1", InvoiceRows=[row(DeliveredQuantity="-1", Price=50)]
    )
    assert first.status_code == 201, first.text
    assert (first.json()["Invoice"]["Total"], first.json()["Invoice"]["Credit"]) == (-50.0, "true")
    second = api.create(**partial, InvoiceRows=[row(DeliveredQuantity="-1", Price=75)])
    assert second.status_code == 201
    error(
        api.create(**partial, InvoiceRows=[row(DeliveredQuantity="-1", Price=0.01)]),
        400,
        "credit_exceeds_invoice",
    )
    error(api.create(**partial, InvoiceRows=[row(Price=5)]), 400, "invalid_credit_reference")
    original = api.call("GET", "/invoices/1").json()["Invoice"]
    assert original["CreditInvoiceReference"] == "2"  # the first credit
    error(api.action("1", "credit"), 400, "already_credited")


# ----------------------------------------------------------------------------- payments


def test_payment_needs_a_booked_invoice_and_settles_it(api: Api, sim: FortnoxSimulator) -> None:
    api.invoice(ExternalInvoiceReference1="in_5")  # 123.75, shown as 124.00
    error(api.pay(InvoiceNumber=1, Amount=123.75), 400, "invoice_not_booked")
    api.action("1", "bookkeep")
    response = api.pay(
        InvoiceNumber=1,
        Amount=123.75,
        PaymentDate="2024-05-02",
        ModeOfPaymentAccount=1580,
        WriteOffs=[{"AccountNumber": 3740, "Amount": 0.25}],
    )
    assert response.status_code == 201, response.text
    payment = response.json()["InvoicePayment"]
    assert (
        payment["Number"],
        payment["Amount"],
        payment["Booked"],
        payment["ExternalInvoiceReference1"],
    ) == (
        "1",
        123.75,
        False,
        "in_5",
    )
    invoice = api.call("GET", "/invoices/1").json()["Invoice"]
    assert (invoice["Balance"], invoice["FinalPayDate"]) == (0.0, "2024-05-02")
    assert [i["DocumentNumber"] for i in api.list(filter="fullypaid")["Invoices"]] == ["1"]
    booked = api.call("PUT", "/invoicepayments/1/bookkeep")
    assert booked.json()["InvoicePayment"]["Booked"] is True
    assert booked.json()["InvoicePayment"]["VoucherSeries"] == "C"
    error(api.call("PUT", "/invoicepayments/1/bookkeep"), 400, "already_booked")
    error(api.call("DELETE", "/invoicepayments/1"), 400, "already_booked")
    listed = api.call("GET", "/invoicepayments", params={"invoicenumber": 1}).json()["InvoicePayments"]
    assert [(p["Number"], p["WriteOffExist"]) for p in listed] == [("1", True)]
    assert sim.payments(TENANT)[0]["WriteOffs"][0]["AccountNumber"] == 3740
    assert sim.stats()["invoice_payments"] == 1


def test_payment_validation(api: Api, sim: FortnoxSimulator) -> None:
    api.invoice()
    api.action("1", "bookkeep")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Amount": 10}, "invoice_not_found"),
        ({"InvoiceNumber": 9, "Amount": 10}, "invoice_not_found"),
        ({"InvoiceNumber": 1}, "invalid_amount"),
        ({"InvoiceNumber": 1, "Amount": 0}, "invalid_amount"),
        ({"InvoiceNumber": 1, "Amount": 124.01}, "invalid_amount"),
        ({"InvoiceNumber": 1, "Amount": -1}, "invalid_amount"),
        ({"InvoiceNumber": 1, "Amount": 10, "PaymentDate": "2024-04-30"}, "payment_before_invoice"),
        ({"InvoiceNumber": 1, "Amount": 10, "ModeOfPaymentAccount": 1599}, "account_not_found"),
        (
            {"InvoiceNumber": 1, "Amount": 10, "WriteOffs": [{"AccountNumber": 3999, "Amount": 1}]},
            "account_not_found",
        ),
        ({"InvoiceNumber": 1, "Amount": "10"}, "wrong_type"),
    ]
    for fields, code in cases:
        error(api.pay(**fields), 400, code)
    assert sim.stats()["invoice_payments"] == 0


def test_partial_payments_and_removing_one(api: Api) -> None:
    api.invoice(InvoiceDate="2024-01-01", DueDate="2024-01-31")
    api.action("1", "bookkeep")
    assert api.pay(InvoiceNumber=1, Amount=100).status_code == 201
    assert api.call("GET", "/invoices/1").json()["Invoice"]["Balance"] == 24.0
    assert [i["DocumentNumber"] for i in api.list(filter="unpaidoverdue")["Invoices"]] == ["1"]
    assert api.call("DELETE", "/invoicepayments/1").status_code == 204
    assert api.call("GET", "/invoices/1").json()["Invoice"]["Balance"] == 124.0
    error(api.call("GET", "/invoicepayments/1"), 404, "payment_not_found")


def test_foreign_currency_payment(api: Api) -> None:
    api.invoice(Currency="EUR", InvoiceRows=[row(Price=80.0)])  # 100.00 EUR at 11.5
    api.action("1", "bookkeep")
    error(api.pay(InvoiceNumber=1, Amount=1150), 400, "invalid_amount")
    response = api.pay(InvoiceNumber=1, AmountCurrency=100)
    assert response.status_code == 201, response.text
    payment = response.json()["InvoicePayment"]
    assert (payment["Amount"], payment["AmountCurrency"], payment["Currency"]) == (1150.0, 100.0, "EUR")
    assert api.call("GET", "/invoices/1").json()["Invoice"]["Balance"] == 0.0


def test_refund_paid_out_on_a_credit_invoice(api: Api) -> None:
    api.invoice()
    api.action("1", "bookkeep")
    api.pay(InvoiceNumber=1, Amount=123.75, WriteOffs=[{"AccountNumber": 3740, "Amount": 0.25}])
    api.action("1", "credit")
    api.action("2", "bookkeep")
    error(api.pay(InvoiceNumber=2, Amount=123.75), 400, "invalid_amount")
    response = api.pay(InvoiceNumber=2, Amount=-123.75, WriteOffs=[{"AccountNumber": 3740, "Amount": -0.25}])
    assert response.status_code == 201, response.text
    assert api.call("GET", "/invoices/2").json()["Invoice"]["Balance"] == 0.0


def test_payment_on_a_cancelled_invoice(api: Api) -> None:
    api.invoice()
    api.action("1", "cancel")
    error(api.pay(InvoiceNumber=1, Amount=10), 400, "invoice_cancelled")


def test_payment_on_unbooked_invoice_when_allowed(api: Api, sim: FortnoxSimulator) -> None:
    sim.configure(payment_requires_booked=False)
    api.invoice()
    assert api.pay(InvoiceNumber=1, Amount=10).status_code == 201
    error(api.action("1", "cancel"), 400, "invalid_amount")


# ----------------------------------------------------------------------------- lists


def test_external_reference_filter_is_a_substring_match(api: Api) -> None:
    for reference in ("in_1", "in_12", "in_2"):
        api.invoice(ExternalInvoiceReference1=reference)
    found = api.list(externalinvoicereference1="in_1")["Invoices"]
    assert [i["ExternalInvoiceReference1"] for i in found] == ["in_1", "in_12"]
    assert set(found[0]) >= {
        "@url",
        "DocumentNumber",
        "Total",
        "Balance",
        "Booked",
        "Cancelled",
        "CustomerNumber",
    }
    assert "InvoiceRows" not in found[0]
    assert api.list(externalinvoicereference1="IN_2")["Invoices"][0]["DocumentNumber"] == "3"


def test_pagination_and_parameters(api: Api) -> None:
    for _ in range(5):
        api.invoice()
    page = api.list(limit=2, page=3)
    assert [i["DocumentNumber"] for i in page["Invoices"]] == ["5"]
    assert page["MetaInformation"] == {"@TotalResources": 5, "@TotalPages": 3, "@CurrentPage": 3}
    descending = api.list(sortby="documentnumber", sortorder="descending", limit=1)
    assert descending["Invoices"][0]["DocumentNumber"] == "5"
    api.action("2", "bookkeep")
    assert [i["DocumentNumber"] for i in api.list(filter="unbooked")["Invoices"]] == ["1", "3", "4", "5"]
    error(api.call("GET", "/invoices", params={"limit": 501}), 400, "invalid_parameter")
    error(api.call("GET", "/invoices", params={"filter": "paid"}), 400, "invalid_parameter")
    error(
        api.call("GET", "/invoices", params={"customernumber": "1", "externalinvoicereference1": "x"}),
        400,
        "multiple_filters",
    )


def test_unknown_paths_and_methods(api: Api) -> None:
    error(api.call("GET", "/invoices/77"), 404, "invoice_not_found")
    error(api.call("PUT", "/invoices/77/bookkeep"), 404, "invoice_not_found")
    api.invoice()
    error(api.call("GET", "/invoices/1/print"), 404, "unknown_resource")
    error(api.call("DELETE", "/invoices/1"), 405, "method_not_allowed")
    error(api.call("POST", "/invoices/1/bookkeep"), 405, "method_not_allowed")


# ----------------------------------------------------------------------------- shared machinery


def test_auth_rate_limit_faults_and_stats(sim: FortnoxSimulator, api: Api) -> None:
    assert requests.get(sim.api_url + "/invoices", timeout=5).status_code == 401
    sim.configure(max_requests=3, window_seconds=60)
    sim.reset()
    statuses = [api.call("GET", "/invoices").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    sim.configure(max_requests=1000)
    sim.reset()
    sim.force_429(1)
    assert api.create(InvoiceRows=[row()]).status_code == 429
    sim.configure(error_rate=1.0)
    error(api.create(InvoiceRows=[row()]), 500, "internal_error")
    sim.configure(error_rate=0.0)
    assert api.create(InvoiceRows=[row()]).status_code == 201
    stats = sim.stats()
    assert stats["requests"]["POST /3/invoices"] == 3
    assert stats["status_codes"]["429"] == 1
    assert stats["invoices"] == 1
    assert "POST /3/invoices" in stats["durations_ms_by_route"]


def test_tenants_inspection_and_reset(sim: FortnoxSimulator, api: Api) -> None:
    api.invoice()
    with requests.Session() as http:
        other = Api(sim, http, "tenant-2")
        error(other.create(InvoiceRows=[row()]), 400, "customer_not_found")
        other.customer()
        assert other.invoice()["DocumentNumber"] == "1"
    assert len(sim.invoices()) == 2
    assert len(sim.invoices(TENANT)) == 1
    inspected = requests.get(sim.base_url + "/_sim/invoices", params={"tenant": "tenant-2"}, timeout=5).json()
    assert list(inspected["tenants"]) == ["tenant-2"]
    assert inspected["tenants"]["tenant-2"]["invoices"][0]["Total"] == 124.0
    sim.reset(customers=True)
    assert sim.invoices() == [] and sim.payments() == []


def test_invoice_knobs_are_validated(sim: FortnoxSimulator) -> None:
    with pytest.raises(ValueError):
        sim.configure(closed_years=["last year"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        sim.configure(accounts=[123])
    with pytest.raises(ValueError):
        sim.configure(currency_rates={"eur": 11.0})
    config = requests.post(
        sim.base_url + "/_sim/config",
        json={"closed_years": [2020], "currency_rates": {"EUR": 11.0}, "invoice_round_off": False},
        timeout=5,
    ).json()
    assert (config["closed_years"], config["currency_rates"]["EUR"], config["invoice_round_off"]) == (
        [2020],
        11.0,
        False,
    )
    sim.reset(knobs=True)
    assert list(sim.config()["closed_years"]) == []


def test_every_error_code_name_is_known() -> None:
    # An unknown name would turn a 400 into a KeyError (a 500) inside the simulator.
    source = Path(fortnox_sim_invoices.__file__).read_text("utf-8")
    names = set(re.findall(r'_bad\(\s*"(\w+)"', source))
    assert names and names <= set(ERROR_CODES)
