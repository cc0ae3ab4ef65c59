"""Fortnox invoices and invoice payments over `FortnoxClient.request`: thin, typed calls.

Bodies come from `invoice_mapping`; these functions only wrap and unwrap Fortnox's envelopes
({"Invoice": ...}, {"InvoicePayment": ...}) and page through lists. Errors are the client's
`FortnoxError`. A POST that timed out may have been applied (`FortnoxError.ambiguous`): look the invoice
up by its external reference before creating it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol
from urllib.parse import quote


class FortnoxRequester(Protocol):
    """What these functions need from a client: `FortnoxClient` has it, and so can a test fake."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]: ...


# List filter and field for each external reference (fortnox_InvoiceListItem carries both fields).
_REFERENCES: dict[int, tuple[str, str]] = {
    1: ("externalinvoicereference1", "ExternalInvoiceReference1"),
    2: ("externalinvoicereference2", "ExternalInvoiceReference2"),
}
_PAGE_SIZE = 500


def _number(number: str | int) -> str:
    # Document numbers are digits, but never let a value change the path.
    return quote(str(number), safe="")


def _unwrap(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def _pages(
    client: FortnoxRequester, path: str, key: str, params: Mapping[str, str | int]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = client.request("GET", path, params={**params, "limit": _PAGE_SIZE, "page": page})
        items.extend(dict(item) for item in data.get(key) or [] if isinstance(item, Mapping))
        meta = data.get("MetaInformation") or {}
        if page >= int(meta.get("@TotalPages") or 1):
            return items
        page += 1


def list_invoices(client: FortnoxRequester, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
    """Every page of an invoice list (fortnox_InvoiceListItem: no rows) with the given filters."""
    return _pages(client, "/invoices", "Invoices", params)


def find_invoices_by_external_reference(
    client: FortnoxRequester, reference: str, *, field: Literal[1, 2] = 1
) -> list[dict[str, Any]]:
    """Invoices whose ExternalInvoiceReference1 (or 2) is exactly reference, best match first.

    Fortnox's list filter is a substring match (in_123 also finds in_1234), so every hit is checked.
    Order: invoices before cancelled ones, sales before credits (negative total: Fortnox may copy
    the references onto a credit invoice), then by document number.
    """
    if not reference:
        raise ValueError("an external reference is required")
    param, name = _REFERENCES[field]
    exact = [item for item in list_invoices(client, {param: reference}) if item.get(name) == reference]

    def key(item: Mapping[str, Any]) -> tuple[bool, bool, int, str]:
        number = str(item.get("DocumentNumber") or "")
        total = item.get("Total")
        is_credit = isinstance(total, int | float) and total < 0
        return (bool(item.get("Cancelled")), is_credit, int(number) if number.isdigit() else 0, number)

    return sorted(exact, key=key)


def find_invoice_by_external_reference(
    client: FortnoxRequester, reference: str, *, field: Literal[1, 2] = 1
) -> dict[str, Any] | None:
    """The invoice (list item) whose external reference is exactly reference, or None.

    The idempotency check before creating an invoice for a Stripe id: a hit means the invoice
    exists (perhaps from an attempt that crashed after Fortnox created it). Use get_invoice for
    its rows.
    """
    matches = find_invoices_by_external_reference(client, reference, field=field)
    return matches[0] if matches else None


def get_invoice(client: FortnoxRequester, number: str | int) -> dict[str, Any]:
    return _unwrap(client.request("GET", f"/invoices/{_number(number)}"), "Invoice")


def create_invoice(client: FortnoxRequester, payload: Mapping[str, Any]) -> dict[str, Any]:
    """POST /invoices with an invoice_mapping payload; the invoice as Fortnox computed it."""
    return _unwrap(client.request("POST", "/invoices", body={"Invoice": dict(payload)}), "Invoice")


def update_invoice(client: FortnoxRequester, number: str | int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """PUT /invoices/{n}: a partial update; only an unbooked invoice can change."""
    return _unwrap(
        client.request("PUT", f"/invoices/{_number(number)}", body={"Invoice": dict(payload)}), "Invoice"
    )


def bookkeep_invoice(client: FortnoxRequester, number: str | int) -> dict[str, Any]:
    """PUT /invoices/{n}/bookkeep: books the invoice; from then on it can only be credited."""
    return _unwrap(client.request("PUT", f"/invoices/{_number(number)}/bookkeep"), "Invoice")


def cancel_invoice(client: FortnoxRequester, number: str | int) -> dict[str, Any]:
    """PUT /invoices/{n}/cancel: only for an unbooked invoice without payments."""
    return _unwrap(client.request("PUT", f"/invoices/{_number(number)}/cancel"), "Invoice")


def credit_invoice(client: FortnoxRequester, number: str | int) -> dict[str, Any]:
    """PUT /invoices/{n}/credit: Fortnox creates a credit invoice with every row.

    Returns the credited invoice, whose CreditInvoiceReference is the new credit invoice's number.
    Works once per invoice (reported); a partial refund is a credit_payload POSTed with create_invoice.
    """
    return _unwrap(client.request("PUT", f"/invoices/{_number(number)}/credit"), "Invoice")


def register_payment(client: FortnoxRequester, payload: Mapping[str, Any]) -> dict[str, Any]:
    """POST /invoicepayments with an invoice_mapping.payment_payload body."""
    return _unwrap(
        client.request("POST", "/invoicepayments", body={"InvoicePayment": dict(payload)}), "InvoicePayment"
    )


def bookkeep_payment(client: FortnoxRequester, number: str | int) -> dict[str, Any]:
    """PUT /invoicepayments/{n}/bookkeep."""
    return _unwrap(client.request("PUT", f"/invoicepayments/{_number(number)}/bookkeep"), "InvoicePayment")


def list_payments(client: FortnoxRequester, invoice_number: str | int) -> list[dict[str, Any]]:
    """The payments registered on one invoice (fortnox_InvoicePaymentListItem)."""
    return _pages(client, "/invoicepayments", "InvoicePayments", {"invoicenumber": str(invoice_number)})
