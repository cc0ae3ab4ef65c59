"""The bookkeeping tests' client for the simulator: a customer, invoices, payments, vouchers, the
financial years and the general ledger, over real HTTP (test_fortnox_sim_bookkeeping.py,
test_fortnox_sim_vouchers.py, test_fortnox_sim_inbox.py, test_fortnox_sim_ledger.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from fortnox_sim import ERROR_CODES
from tests.integration.simulator_api import TENANT, SimulatorApi

__all__ = ["Y2024", "BooksApi", "error", "voucher_body", "voucher_row"]

Y2024 = 25  # the financial year Id of 2024: the simulated company's years start with 2000


def error(response: requests.Response, status: int, code: str) -> str:
    """Asserts Fortnox's error envelope with this status and code name; returns the message."""
    assert response.status_code == status, response.text
    info = response.json()["ErrorInformation"]
    assert info["code"] == ERROR_CODES[code], info
    return str(info["message"])


def voucher_row(account: int, debit: float = 0, credit: float = 0, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"Account": account, **fields}
    if debit:
        row["Debit"] = debit
    if credit:
        row["Credit"] = credit
    return row


def voucher_body(**fields: Any) -> dict[str, Any]:
    """A balanced voucher in series A: a Stripe payout of 95 with 5 in fees, by default."""
    return {
        "Voucher": {
            "Description": "Stripe payout po_1",
            "TransactionDate": "2024-05-10",
            "VoucherSeries": "A",
            "VoucherRows": [
                voucher_row(1930, debit=95.0, TransactionInformation="po_1"),
                voucher_row(6570, debit=5.0),
                voucher_row(1580, credit=100.0, TransactionInformation="ch_1"),
            ],
            **fields,
        }
    }


class BooksApi(SimulatorApi):
    """Bearer token for the tenant; the customer "1" exists once `customer()` is called."""

    def customer(self) -> str:
        response = self.call("POST", "/customers", json={"Customer": {"Name": "Kund AB"}})
        assert response.status_code == 201, response.text
        return str(response.json()["Customer"]["CustomerNumber"])

    def invoice(self, *rows: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """A new invoice dated 2024-05-01: one row of 99.00 + 25 % VAT unless rows are given."""
        default = {"Description": "Pro plan", "DeliveredQuantity": "1", "Price": 99.0, "VAT": 25}
        body = {"CustomerNumber": "1", "InvoiceDate": "2024-05-01", "InvoiceRows": list(rows) or [default]}
        response = self.call("POST", "/invoices", json={"Invoice": {**body, **fields}})
        assert response.status_code == 201, response.text
        return dict(response.json()["Invoice"])

    def action(self, number: str, action: str) -> requests.Response:
        return self.call("PUT", f"/invoices/{number}/{action}")

    def booked(self, number: str) -> dict[str, Any]:
        response = self.action(number, "bookkeep")
        assert response.status_code == 200, response.text
        return dict(response.json()["Invoice"])

    def pay(self, **fields: Any) -> requests.Response:
        return self.call("POST", "/invoicepayments", json={"InvoicePayment": fields})

    def paid_and_booked(self, **fields: Any) -> dict[str, Any]:
        """A payment registered and booked, to the Stripe clearing account unless told otherwise."""
        response = self.pay(**{"PaymentDate": "2024-05-02", "ModeOfPaymentAccount": 1580, **fields})
        assert response.status_code == 201, response.text
        number = response.json()["InvoicePayment"]["Number"]
        booked = self.call("PUT", f"/invoicepayments/{number}/bookkeep")
        assert booked.status_code == 200, booked.text
        return dict(booked.json()["InvoicePayment"])

    def post_voucher(self, body: dict[str, Any] | None = None, **params: Any) -> requests.Response:
        return self.call("POST", "/vouchers", json=body or voucher_body(), params=params)

    def voucher(self, body: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        response = self.post_voucher(body, **params)
        assert response.status_code == 201, response.text
        return dict(response.json()["Voucher"])

    def year_id(self, day: str) -> int:
        response = self.call("GET", "/financialyears", params={"date": day})
        (year,) = response.json()["FinancialYears"]
        return int(year["Id"])

    def ledger(self, tenant: str = TENANT, **params: Any) -> dict[str, Any]:
        """GET /_sim/ledger for one tenant."""
        response = self.http.get(
            self.sim.base_url + "/_sim/ledger", params={"tenant": tenant, **params}, timeout=5
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["tenants"][tenant])

    def balances(self, **params: Any) -> dict[int, Decimal]:
        """Each account's closing balance (debit positive), exact."""
        accounts = self.ledger(**params)["accounts"]
        return {int(n): Decimal(str(a["closing_balance"])) for n, a in accounts.items()}
