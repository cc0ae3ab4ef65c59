"""Fortnox invoices and invoice payments over a `FortnoxRequester`: the `FortnoxInvoices` port.

Bodies come from `mapping`; this class only wraps and unwraps Fortnox's envelopes ({"Invoice": ...},
{"InvoicePayment": ...}) and pages through lists. Errors are the client's `FortnoxError`. A POST that
timed out may have been applied (`FortnoxError.ambiguous`): look the invoice up by its external
reference before creating it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

from stripe_fortnox_sync.adapters.fortnox.http import FortnoxResourceApi, pages, unwrap

# List filter and field for each external reference (fortnox_InvoiceListItem carries both fields).
_REFERENCES: dict[int, tuple[str, str]] = {
    1: ("externalinvoicereference1", "ExternalInvoiceReference1"),
    2: ("externalinvoicereference2", "ExternalInvoiceReference2"),
}


def _number(number: str | int) -> str:
    # Document numbers are digits, but never let a value change the path.
    return quote(str(number), safe="")


def _best_first(item: Mapping[str, Any]) -> tuple[bool, bool, int, str]:
    number = str(item.get("DocumentNumber") or "")
    total = item.get("Total")
    is_credit = isinstance(total, int | float) and total < 0
    return (bool(item.get("Cancelled")), is_credit, int(number) if number.isdigit() else 0, number)


class FortnoxInvoiceApi(FortnoxResourceApi):
    def list_invoices(self, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        """Every page of an invoice list (fortnox_InvoiceListItem: no rows) with the given filters."""
        return pages(self._client, "/invoices", "Invoices", params)

    def list_invoices_between(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every invoice dated `first`..`last` (InvoiceDate), credits and cancelled ones included."""
        return self.list_invoices({"fromdate": first.isoformat(), "todate": last.isoformat()})

    def find_invoices_by_external_reference(
        self, reference: str, *, field: Literal[1, 2] = 1
    ) -> list[dict[str, Any]]:
        """Invoices whose ExternalInvoiceReference1 (or 2) is exactly reference, best match first.

        Fortnox's list filter is a substring match (in_123 also finds in_1234), so every hit is checked.
        Order: invoices before cancelled ones, sales before credits (negative total: Fortnox may copy
        the references onto a credit invoice), then by document number.
        """
        if not reference:
            raise ValueError("an external reference is required")
        param, name = _REFERENCES[field]
        found = self.list_invoices({param: reference})
        return sorted((item for item in found if item.get(name) == reference), key=_best_first)

    def find_invoice_by_external_reference(
        self, reference: str, *, field: Literal[1, 2] = 1
    ) -> dict[str, Any] | None:
        """The invoice (list item) whose external reference is exactly reference, or None.

        The idempotency check before creating an invoice for a Stripe id: a hit means the invoice
        exists (perhaps from an attempt that crashed after Fortnox created it). Use get_invoice for
        its rows.
        """
        matches = self.find_invoices_by_external_reference(reference, field=field)
        return matches[0] if matches else None

    def get_invoice(self, number: str | int) -> dict[str, Any]:
        return unwrap(self._client.request("GET", f"/invoices/{_number(number)}"), "Invoice")

    def create_invoice(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST /invoices with a `mapping` payload; the invoice as Fortnox computed it."""
        return unwrap(self._client.request("POST", "/invoices", body={"Invoice": dict(payload)}), "Invoice")

    def update_invoice(self, number: str | int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """PUT /invoices/{n}: a partial update; only an unbooked invoice can change."""
        body = {"Invoice": dict(payload)}
        return unwrap(self._client.request("PUT", f"/invoices/{_number(number)}", body=body), "Invoice")

    def bookkeep_invoice(self, number: str | int) -> dict[str, Any]:
        """PUT /invoices/{n}/bookkeep: books the invoice; from then on it can only be credited."""
        return unwrap(self._client.request("PUT", f"/invoices/{_number(number)}/bookkeep"), "Invoice")

    def cancel_invoice(self, number: str | int) -> dict[str, Any]:
        """PUT /invoices/{n}/cancel: only for an unbooked invoice without payments."""
        return unwrap(self._client.request("PUT", f"/invoices/{_number(number)}/cancel"), "Invoice")

    def credit_invoice(self, number: str | int) -> dict[str, Any]:
        """PUT /invoices/{n}/credit: Fortnox creates a credit invoice with every row.

        Returns the credited invoice, whose CreditInvoiceReference is the new credit invoice's number.
        Works once per invoice (reported); a partial refund is a credit payload POSTed with create_invoice.
        """
        return unwrap(self._client.request("PUT", f"/invoices/{_number(number)}/credit"), "Invoice")

    def register_payment(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST /invoicepayments with a `mapping.payment_payload` body."""
        body = {"InvoicePayment": dict(payload)}
        return unwrap(self._client.request("POST", "/invoicepayments", body=body), "InvoicePayment")

    def bookkeep_payment(self, number: str | int) -> dict[str, Any]:
        """PUT /invoicepayments/{n}/bookkeep."""
        path = f"/invoicepayments/{_number(number)}/bookkeep"
        return unwrap(self._client.request("PUT", path), "InvoicePayment")

    def list_payments(self, invoice_number: str | int) -> list[dict[str, Any]]:
        """The payments registered on one invoice (fortnox_InvoicePaymentListItem)."""
        params = {"invoicenumber": str(invoice_number)}
        return pages(self._client, "/invoicepayments", "InvoicePayments", params)
