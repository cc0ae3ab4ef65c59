"""Fortnox customers over a `FortnoxRequester`: the `FortnoxCustomers` port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stripe_fortnox_sync.adapters.fortnox.http import FortnoxResourceApi, pages, unwrap
from stripe_fortnox_sync.core.models import FortnoxFields


def _number(number: str) -> str:
    # Customer numbers are Fortnox's or ours, but never let a value change the path.
    return quote(str(number), safe="")


class FortnoxCustomerApi(FortnoxResourceApi):
    def list_customers(self, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        """Every page of a customer list with one filter; items carry only Fortnox's list fields."""
        return pages(self._client, "/customers", "Customers", params)

    def get_customer(self, number: str) -> dict[str, Any]:
        return unwrap(self._client.request("GET", f"/customers/{_number(number)}"), "Customer")

    def create_customer(self, fields: FortnoxFields) -> dict[str, Any]:
        return unwrap(self._client.request("POST", "/customers", body={"Customer": fields}), "Customer")

    def update_customer(self, number: str, fields: FortnoxFields) -> dict[str, Any]:
        body = {"Customer": fields}
        return unwrap(self._client.request("PUT", f"/customers/{_number(number)}", body=body), "Customer")
