"""Payouts: `payout.paid` and `payout.reconciliation_completed` book a payout's voucher, whichever
comes second (Stripe breaks a payout down only once it is paid and reconciled); `payout.failed` and
`payout.canceled` reverse a booked one.

Each reads the payout as Stripe has it now: its status moves on after the event was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.errors import PermanentEventError
from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.sync.context import Context, ignored


def _current(ctx: Context, event: StripeEvent) -> Mapping[str, Any] | None:
    payout_id = str(event.object.get("id") or "")
    return ctx.require_stripe(f"payout {payout_id}").payout(payout_id)


def payout_settled(ctx: Context, event: StripeEvent) -> SyncResult:
    """payout.paid, payout.reconciliation_completed: the payout's voucher once both are true."""
    if ctx.payouts is None:
        return ignored(event, "payout booking is not enabled")
    payout = _current(ctx, event)
    payout_id = str(event.object.get("id") or "")
    if payout is None:
        return ignored(event, "not found in Stripe", payout_id)
    if payout.get("status") != "paid":
        return ignored(event, f"payout {payout.get('status')}: booked once it is paid", payout_id)
    currency = str(payout.get("currency") or "")
    if currency.lower() != "sek":
        raise PermanentEventError(
            "unsupported_currency",
            f"payout {payout_id} is in {currency.upper()}: only SEK payouts are booked; book it by hand "
            "and delete the message",
        )
    if not payout.get("automatic"):
        return ctx.payouts.transfer(event, payout)
    if payout.get("reconciliation_status") != "completed":
        detail = "paid; booked when Stripe has reconciled it (payout.reconciliation_completed)"
        return ignored(event, detail, payout_id)
    stripe = ctx.require_stripe(f"payout {payout_id}'s transactions")
    return ctx.payouts.book(event, payout, stripe.payout_transactions(payout_id))


def payout_reversed(ctx: Context, event: StripeEvent) -> SyncResult:
    """payout.failed, payout.canceled: a booked payout's voucher reversed."""
    if ctx.payouts is None:
        return ignored(event, "payout booking is not enabled")
    payout = _current(ctx, event) or event.object
    if payout.get("status") not in ("failed", "canceled"):
        return ignored(event, f"payout {payout.get('status')} now: nothing to reverse", str(payout.get("id")))
    return ctx.payouts.reverse(event, payout)
