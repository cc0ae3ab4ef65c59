"""Stripe's Unix timestamps as the Swedish calendar dates Fortnox books on.

A sale at 23:30 UTC on 30 April is a 1 May sale in Stockholm (summer time), and so is its invoice,
its payment and its VAT period.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.money import as_int


def swedish_date(timestamp: int) -> date:
    """The Swedish date of a timestamp already read as an integer."""
    return datetime.fromtimestamp(timestamp, UTC).astimezone(FORTNOX_ZONE).date()


def stripe_date(timestamp: int) -> date:
    """A Stripe Unix timestamp as the Swedish calendar date Fortnox books it on."""
    return swedish_date(as_int(timestamp, "timestamp"))


def first_timestamp(*values: object) -> int | None:
    """The first value that is a real timestamp: Stripe leaves unset ones null (or 0)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def stripe_invoice_paid_on(invoice: Mapping[str, Any]) -> date:
    """The Swedish date Stripe marked the invoice paid (status_transitions.paid_at)."""
    transitions = as_mapping(invoice.get("status_transitions"))
    paid = first_timestamp(transitions.get("paid_at"), invoice.get("effective_at"), invoice.get("created"))
    if paid is None:
        raise InvoiceMappingError("the invoice has no payment date")
    return swedish_date(paid)
