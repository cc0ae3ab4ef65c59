"""What the customer sync remembers of what it sent, and the result it reports.

Shared by the customer decisions (`customer_sync.py`), the tax id path and crash recovery, and
read by the operator commands, which plan with the same hashes the sync compares.
"""

from __future__ import annotations

import hashlib
import json

from stripe_fortnox_sync.core.models import FortnoxFields, MappedCustomer, Outcome, StripeEvent, SyncResult

# Fields we may blank when Stripe loses a value. Coded fields (country, currency, VAT type) and
# fields Fortnox requires to be non-empty (Name, Address1) are left as they were.
CLEARABLE_FIELDS = frozenset(
    {
        "Email",
        "Phone1",
        "Address2",
        "ZipCode",
        "City",
        "DeliveryName",
        "DeliveryAddress1",
        "DeliveryAddress2",
        "DeliveryZipCode",
        "DeliveryCity",
        "DeliveryPhone1",
        "VATNumber",
        "OrganisationNumber",
    }
)


def field_hashes(fields: FortnoxFields) -> dict[str, str]:
    """Short per-field digests: enough to see what changed without storing personal data."""
    return {
        key: hashlib.sha256(f"{key}\x1f{json.dumps(value, ensure_ascii=False)}".encode()).hexdigest()[:16]
        for key, value in fields.items()
    }


def customer_result(
    event: StripeEvent,
    stripe_id: str,
    outcome: Outcome,
    number: str | None,
    detail: str = "",
    mapped: MappedCustomer | None = None,
) -> SyncResult:
    return SyncResult(
        event_id=event.id,
        event_type=event.type,
        stripe_id=stripe_id,
        outcome=outcome,
        fortnox_number=number,
        detail=detail,
        warnings=mapped.warnings if mapped else (),
    )
