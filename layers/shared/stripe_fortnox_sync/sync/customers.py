"""Customer events: `customer.*` and `customer.tax_id.*`, and the customer sync every family shares.

With a Stripe API key, every event that concerns a customer applies the customer's current data
(fetched with `tax_ids` expanded): events may be old, repeated, out of order, or carry only a
customer id. Without one, the event's own payload is applied and what it cannot tell is skipped,
with a log line and the `SkippedNoStripeKey` metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.sync.context import Context, customer_id_of, ignored


def sync_customer(
    ctx: Context,
    event: StripeEvent,
    customer_id: str,
    *,
    payload: Mapping[str, Any] | None = None,
    snapshot: Mapping[str, Any] | None = None,
    snapshot_tax_ids: Sequence[Mapping[str, Any]] | None = None,
) -> SyncResult:
    """Bring one Stripe customer up to date in Fortnox.

    `payload`: a full Customer object from the event; `snapshot`: the partial customer
    details a checkout session or invoice carries. Both are used only without an API key.
    """
    if not customer_id.startswith("cus_"):
        raise PermanentEventError("bad_payload", f"event {event.id} names no Stripe customer")
    if ctx.stripe is not None:
        current = ctx.stripe.fetch_customer(customer_id)
        if current is None:
            return ignored(event, "not found in Stripe", customer_id)
        if current.get("deleted"):
            return ctx.customers.deactivate(event, customer_id)
        return ctx.customers.upsert(event, current)
    if payload is not None:
        return ctx.customers.upsert(event, payload)
    if snapshot is not None and _has_details(snapshot):
        result = ctx.customers.upsert(
            event, {**snapshot, "id": customer_id}, partial=True, tax_ids=snapshot_tax_ids or None
        )
        ctx.skipped(event, "fields the event does not carry (no Stripe API key)")
        return result
    ctx.skipped(event, "the customer's data (the event carries only its id; no Stripe API key)")
    number = ctx.customers.linked_number(customer_id)
    if number:
        detail = "mapped; refreshing its data needs a Stripe API key"
        return SyncResult(event.id, event.type, customer_id, Outcome.UNCHANGED, number, detail)
    return ignored(event, "not mapped; its data needs a Stripe API key", customer_id)


def _has_details(snapshot: Mapping[str, Any]) -> bool:
    return any(snapshot.get(k) for k in ("name", "email", "phone")) or any(
        (snapshot.get("address") or {}).values()
    )


def invoice_snapshot(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """The customer details a Stripe invoice carries, as a partial Customer."""
    snapshot = {
        "name": invoice.get("customer_name"),
        "email": invoice.get("customer_email"),
        "phone": invoice.get("customer_phone"),
        "address": invoice.get("customer_address"),
        "shipping": invoice.get("customer_shipping"),
        "tax_exempt": invoice.get("customer_tax_exempt"),
    }
    return {k: v for k, v in snapshot.items() if v not in (None, "", {})}


# Handlers --------------------------------------------------------------------------------------


def upserted(ctx: Context, event: StripeEvent) -> SyncResult:
    """customer.created, customer.updated."""
    return sync_customer(ctx, event, str(event.object.get("id") or ""), payload=event.object)


def deleted(ctx: Context, event: StripeEvent) -> SyncResult:
    """customer.deleted: the Fortnox customer is marked inactive, never deleted."""
    return ctx.customers.deactivate(event, str(event.object.get("id") or ""))


def tax_id_changed(ctx: Context, event: StripeEvent) -> SyncResult:
    """customer.tax_id.created / updated / deleted."""
    tax_id = event.object
    if ctx.stripe is not None:
        return sync_customer(ctx, event, customer_id_of(tax_id) or "")
    result = ctx.customers.apply_tax_id(event, tax_id, deleted=event.type.endswith(".deleted"))
    if result.outcome is Outcome.IGNORED or result.detail:
        ctx.skipped(event, result.detail or "tax id")
    return result
