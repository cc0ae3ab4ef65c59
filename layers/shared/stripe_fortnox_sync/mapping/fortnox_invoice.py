"""A Fortnox invoice: the body we send, what it must add up to, and the fields read back from Fortnox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.money import as_decimal
from stripe_fortnox_sync.mapping.text import MAX_EXTERNAL_REFERENCE


@dataclass(frozen=True)
class MappedInvoice:
    """A Fortnox invoice body (what goes inside {"Invoice": ...}) and what it must add up to."""

    payload: dict[str, Any]
    currency: str
    # Stripe's total in currency units: Fortnox's Total - RoundOff must equal it (negative for credits).
    total: Decimal
    # The VAT Fortnox will compute for these rows, by our model of its arithmetic.
    fortnox_vat: Decimal
    # The tax Stripe charged, when Stripe said (None for refunds, which carry no tax breakdown).
    stripe_vat: Decimal | None
    warnings: tuple[FieldWarning, ...] = ()


def unrounded_total(fortnox_invoice: Mapping[str, Any]) -> Decimal:
    """Fortnox's Total before its öresavrundning (RoundOff): what Stripe's total must equal."""
    total = as_decimal(fortnox_invoice.get("Total"), "Total")
    return total - as_decimal(fortnox_invoice.get("RoundOff") or 0, "RoundOff")


def total_difference(mapped: MappedInvoice, fortnox_invoice: Mapping[str, Any]) -> Decimal:
    """Fortnox's unrounded total minus Stripe's: zero unless Fortnox computes unlike our model.

    Check it after creating an invoice: a nonzero value means the rows must be looked at (and that
    the assumed Fortnox arithmetic is wrong somewhere), before the invoice is booked.
    """
    return unrounded_total(fortnox_invoice) - mapped.total


def document_number(fortnox_invoice: Mapping[str, Any]) -> str:
    """The invoice's DocumentNumber as Fortnox returned it, or an error when it is none."""
    number = str(fortnox_invoice.get("DocumentNumber") or "")
    if not number.isdigit():
        raise InvoiceMappingError(f"invoice number {number!r} is not a Fortnox document number")
    return number


def external_reference(value: object, what: str) -> str:
    """A Stripe id as an ExternalInvoiceReference (the idempotency key), or an error."""
    if not isinstance(value, str) or not value or len(value) > MAX_EXTERNAL_REFERENCE:
        raise InvoiceMappingError(f"{what} {value!r} cannot be an external invoice reference")
    return value


def required_customer_number(value: object) -> str:
    """The Fortnox customer the invoice is for: required."""
    if not isinstance(value, str) or not value.strip():
        raise InvoiceMappingError("a Fortnox customer number is required")
    return value
