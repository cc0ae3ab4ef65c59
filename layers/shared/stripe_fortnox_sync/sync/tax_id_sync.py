"""A tax id change applied from its own payload, when the current customer cannot be fetched
from Stripe (no Stripe API key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.models import (
    FortnoxFields,
    LinkStatus,
    Outcome,
    Sharing,
    StripeEvent,
    SyncResult,
)
from stripe_fortnox_sync.core.ports import FortnoxCustomers, MappingStore
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.sync.customer_fields import customer_result, field_hashes
from stripe_fortnox_sync.sync.shared_links import SharedLinks, sharer_detail

TAX_FIELDS = ("VATNumber", "OrganisationNumber", "Type", "VATType")


def apply_tax_id(
    settings: Settings,
    fortnox: FortnoxCustomers,
    links: MappingStore,
    event: StripeEvent,
    tax_id: Mapping[str, Any],
    deleted: bool,
) -> SyncResult:
    """VATNumber, OrganisationNumber, Type and VATType follow the tax id; on deletion only what
    we know came from it is blanked. A sharer of a Fortnox customer writes nothing."""
    customer_id = str(tax_id.get("customer") or "")
    link = links.get(customer_id) if customer_id else None
    if link is None or link.status is not LinkStatus.ACTIVE or not link.fortnox_number:
        return customer_result(
            event,
            customer_id,
            Outcome.IGNORED,
            None,
            "customer not in Fortnox yet; a Stripe API key lets tax ids that arrive first apply",
        )
    if link.tax_id_event_created > event.created:
        return customer_result(event, customer_id, Outcome.STALE, link.fortnox_number, "a newer tax id event")
    link.sharing, others = SharedLinks(links).standing(link)
    if link.sharing is Sharing.SHARER:
        changes: FortnoxFields = {}
        hashes: dict[str, str] = {}
        detail = sharer_detail(link.fortnox_number, others)
    else:
        pseudo = {"id": customer_id, "address": {"country": tax_id.get("country")}}
        derived = map_customer(pseudo, settings, [tax_id]).fields
        fields = {k: derived[k] for k in TAX_FIELDS if k in derived}
        changes, hashes, detail = _tax_changes(link.field_hashes, fields, deleted)
    if changes:
        fortnox.update_customer(link.fortnox_number, changes)
    link.tax_id_event_created = max(link.tax_id_event_created, event.created)
    link.field_hashes = hashes
    link.last_event_id = event.id
    links.save(link)
    outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED
    return customer_result(event, customer_id, outcome, link.fortnox_number, detail)


def _tax_changes(
    sent: dict[str, str], fields: FortnoxFields, deleted: bool
) -> tuple[FortnoxFields, dict[str, str], str]:
    """What to send, the hashes to keep, and what could not be applied."""
    if deleted:
        gone = field_hashes(fields)
        changes: FortnoxFields = {
            k: "" for k in ("VATNumber", "OrganisationNumber") if k in gone and sent.get(k) == gone[k]
        }
        hashes = {k: v for k, v in sent.items() if k not in changes}
        return (
            changes,
            hashes,
            "Type and VATType left as they are (no Stripe API key to read the other tax ids)",
        )
    new = field_hashes(fields)
    changes = {k: v for k, v in fields.items() if sent.get(k) != new[k]}
    return changes, {**sent, **new}, ""
