"""What Stripe settled a payment or refund in another currency for, in SEK: the balance transactions
read through the Stripe port. Shared by the invoice and the summary paths of sales, refunds and
disputes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.sync.context import Context


def sek_settlement(currency: str, balance_transaction: object) -> int | None:
    """What Stripe booked in SEK (the balance transaction, expanded) for a payment in another currency."""
    bt = as_mapping(balance_transaction)
    amount = bt.get("amount")
    if currency.lower() == "sek" or bt.get("currency") != "sek" or not isinstance(amount, int):
        return None
    return abs(amount)


def charge_settlement(ctx: Context, currency: str, charge: Mapping[str, Any]) -> int | None:
    """The SEK Stripe settled a non-SEK charge for: its balance transaction, less the uncaptured part.

    A partially captured charge's transaction is the whole authorised amount; a separate
    `partial_capture_reversal` gives back what was not captured. Without it, the payment would put
    more into the clearing account than the payout takes out.
    """
    settled = sek_settlement(currency, charge.get("balance_transaction"))
    captured, authorised = charge.get("amount_captured"), charge.get("amount")
    partial = isinstance(captured, int) and isinstance(authorised, int) and 0 < captured < authorised
    if settled is None or ctx.stripe is None or not partial:
        return settled
    for txn in ctx.stripe.balance_transactions_of(str(charge.get("id") or "")):
        amount = txn.get("amount")
        if txn.get("reporting_category") == "partial_capture_reversal" and isinstance(amount, int):
            settled -= abs(amount)
    return settled


def intent_settlement(ctx: Context, currency: str, intent_id: str | None) -> int | None:
    """The SEK Stripe settled a non-SEK payment for, from its charge's balance transactions."""
    if currency.lower() == "sek" or ctx.stripe is None or not intent_id:
        return None
    intent = ctx.stripe.payment_intent(intent_id) or {}
    return charge_settlement(ctx, currency, as_mapping(intent.get("latest_charge")))
