"""Disputes: `charge.dispute.created` and `charge.dispute.closed`.

The money moves in payouts: a dispute withdraws the disputed amount and a fee (the payout debits
dispute clearing and the fees account), a won one reinstates the amount (the payout credits dispute
clearing back). Only a lost dispute changes the sale: it is credited through the refund path and
paid back through dispute clearing, so revenue, VAT and dispute clearing all come right.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.money import format_amount
from stripe_fortnox_sync.sync import summary_sales
from stripe_fortnox_sync.sync.context import Context, books_no_sales, ignored, not_enabled
from stripe_fortnox_sync.sync.settlement import sek_settlement


def dispute_created(ctx: Context, event: StripeEvent) -> SyncResult:
    """charge.dispute.created: nothing to book yet; said so, with where the money will show."""
    dispute = event.object
    amount = dispute.get("amount")
    what = format_amount(amount, str(dispute.get("currency") or "sek")) if isinstance(amount, int) else "?"
    detail = (
        f"dispute of {dispute.get('charge')} ({what}, {dispute.get('reason')}): its withdrawal is booked "
        "with its payout on dispute clearing; a lost dispute credits the sale"
    )
    return ignored(event, detail, str(dispute.get("id") or ""))


def _withdrawn_sek(dispute: Mapping[str, Any]) -> int | None:
    """What Stripe withdrew in SEK for a dispute in another currency: its first balance transaction."""
    currency = str(dispute.get("currency") or "sek")
    for txn in dispute.get("balance_transactions") or []:
        if isinstance(txn, Mapping) and isinstance(txn.get("amount"), int) and txn["amount"] < 0:
            return sek_settlement(currency, txn)
    return None


def dispute_closed(ctx: Context, event: StripeEvent) -> SyncResult:
    """charge.dispute.closed: a lost dispute credits the sale; won or a closed inquiry, nothing."""
    if books_no_sales(ctx):
        return not_enabled(event)
    dispute_id = str(event.object.get("id") or "")
    current = ctx.require_stripe(f"dispute {dispute_id}").dispute(dispute_id) or event.object
    status = current.get("status")
    if status != "lost":
        detail = f"dispute {status}: nothing to credit (a won dispute's money comes back in a payout)"
        return ignored(event, detail, dispute_id)
    dispute = {
        **current,
        "payment_intent": current.get("payment_intent")
        or as_mapping(current.get("charge")).get("payment_intent"),
    }
    if ctx.summary is not None:
        return summary_sales.dispute_lost(ctx, event, dispute, _withdrawn_sek(current))
    assert ctx.invoices is not None
    return ctx.invoices.dispute_lost(event, dispute, settlement_sek_minor=_withdrawn_sek(current))
