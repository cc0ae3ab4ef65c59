"""Refunds: `refund.created`, `refund.updated` and `charge.refunded` credit the sale they take back.

Each succeeded Stripe refund becomes one credit, paid back through the clearing account; a pending
refund waits for the `refund.updated` that reports it succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.sync import summary_sales
from stripe_fortnox_sync.sync.context import Context, books_no_sales, ignored, not_enabled
from stripe_fortnox_sync.sync.settlement import sek_settlement


def refund_changed(ctx: Context, event: StripeEvent) -> SyncResult:
    """refund.created, refund.updated."""
    if books_no_sales(ctx):
        return not_enabled(event)
    refund_id = str(event.object.get("id") or "")
    # The refund as it is now: its status moves on (pending -> succeeded), and the API gives
    # its balance transaction (the SEK it cost).
    current = ctx.stripe.refund(refund_id) if ctx.stripe is not None else event.object
    if current is None:
        return ignored(event, "not found in Stripe", refund_id)
    return _credit(ctx, event, current)


def charge_refunded(ctx: Context, event: StripeEvent) -> SyncResult:
    """charge.refunded: every succeeded refund of the charge, each credited once."""
    if books_no_sales(ctx):
        return not_enabled(event)
    charge = event.object
    charge_id = str(charge.get("id") or "")
    listing = as_mapping(charge.get("refunds"))
    if ctx.stripe is not None:
        refunds = ctx.stripe.charge_refunds(charge_id)
    elif isinstance(listing.get("data"), list) and not listing.get("has_more"):
        refunds = [dict(r) for r in listing["data"] if isinstance(r, Mapping)]
    else:
        ctx.skipped(event, "the charge's refunds (the event does not list them; no Stripe API key)")
        return ignored(event, _unlisted_refunds(ctx), charge_id)
    intent = charge.get("payment_intent")
    results = [
        _credit(ctx, event, {**r, "payment_intent": r.get("payment_intent") or intent}) for r in refunds
    ]
    done = [r for r in results if r.outcome is not Outcome.IGNORED]
    if not done:
        return ignored(event, "no succeeded refund", charge_id)
    outcome = next(
        (o for o in (Outcome.CREATED, Outcome.UPDATED) if any(r.outcome is o for r in done)),
        Outcome.UNCHANGED,
    )
    return SyncResult(
        event.id,
        event.type,
        charge_id,
        outcome,
        done[-1].fortnox_number,
        "; ".join(r.detail for r in done),
        tuple(w for r in done for w in r.warnings),
    )


def _unlisted_refunds(ctx: Context) -> str:
    """Why a charge.refunded whose refunds are not in the event was left, and what would do it."""
    if "refund.created" in ctx.enabled:
        # Advise nothing the stack already does: each refund arrives as its own refund.created.
        return "refunds not listed in the event; each is credited by its own refund.created"
    return "refunds not listed in the event: enable refund.created or give a Stripe API key"


def _credit(ctx: Context, event: StripeEvent, refund: Mapping[str, Any]) -> SyncResult:
    status = refund.get("status")
    if status != "succeeded":
        detail = f"refund {status}: credited once Stripe reports it succeeded (refund.updated)"
        return ignored(event, detail, str(refund.get("id") or ""))
    currency = str(refund.get("currency") or "sek")
    settlement = sek_settlement(currency, refund.get("balance_transaction"))
    if ctx.summary is not None:
        return summary_sales.refund(ctx, event, refund, settlement)
    assert ctx.invoices is not None
    return ctx.invoices.refund(event, refund, settlement_sek_minor=settlement)
