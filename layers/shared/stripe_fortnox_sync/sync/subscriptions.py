"""Subscriptions and failed payments: the customer is made current, and what happened is recorded
(activity table; for a failed payment also a metric, the bookkeeper's e-mail and optionally a dated
line in the Fortnox customer's Comments)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from stripe_fortnox_sync.core.models import StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.money import format_amount
from stripe_fortnox_sync.mapping.text import MAX_LENGTHS
from stripe_fortnox_sync.sync.context import Context, customer_id_of
from stripe_fortnox_sync.sync.customers import invoice_snapshot, sync_customer


def subscription_changed(ctx: Context, event: StripeEvent) -> SyncResult:
    """customer.subscription.created, customer.subscription.deleted."""
    subscription = event.object
    customer_id = customer_id_of(subscription) or ""
    result = sync_customer(ctx, event, customer_id)
    details = {
        "subscription": subscription.get("id"),
        "status": subscription.get("status"),
        "fortnox_number": result.fortnox_number,
    }
    ctx.record(customer_id, event, details)
    return result


def payment_failed(ctx: Context, event: StripeEvent) -> SyncResult:
    """invoice.payment_failed."""
    invoice = event.object
    customer_id = customer_id_of(invoice) or ""
    result = sync_customer(
        ctx,
        event,
        customer_id,
        snapshot=invoice_snapshot(invoice),
        snapshot_tax_ids=invoice.get("customer_tax_ids"),
    )
    details = _failure_details(invoice, result.fortnox_number)
    ctx.record(customer_id, event, details)
    if ctx.observer is not None:
        ctx.observer.payment_failed(event, details)
    invoice_label = details["invoice_number"] or details["invoice"]
    if ctx.notifier is not None:
        ctx.notifier.notify(
            subject=f"Stripe payment failed: {details['amount']}, invoice {invoice_label}",
            message=_failure_message(customer_id, invoice, details),
            attributes={"event_type": event.type, "customer": customer_id},
        )
    if ctx.settings.payment_failure_comments and result.fortnox_number:
        _comment(ctx, result.fortnox_number, event, details)
    return replace(
        result,
        detail=f"payment failure recorded ({details['amount']}, attempt {details['attempt_count']})",
    )


def _date(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _failure_details(invoice: Mapping[str, Any], fortnox_number: str | None) -> dict[str, Any]:
    currency = str(invoice.get("currency") or "")
    amount = invoice.get("amount_due") if isinstance(invoice.get("amount_due"), int) else 0
    return {
        "invoice": invoice.get("id"),
        "invoice_number": invoice.get("number"),
        "amount_due": amount,
        "currency": currency.upper(),
        "amount": format_amount(int(amount or 0), currency or "sek"),
        "attempt_count": invoice.get("attempt_count"),
        "next_payment_attempt": _date(invoice.get("next_payment_attempt")),
        "fortnox_number": fortnox_number,
    }


def append_comment(existing: str, line: str, limit: int = MAX_LENGTHS.get("Comments", 1024)) -> str:
    """`existing` plus `line`, dropping the oldest lines so the whole fits Fortnox's limit."""
    lines = [*(existing.splitlines() if existing else []), line]
    while len("\n".join(lines)) > limit and len(lines) > 1:
        lines.pop(0)
    return "\n".join(lines)[-limit:]


def _comment(ctx: Context, number: str, event: StripeEvent, details: Mapping[str, Any]) -> None:
    when = _date(event.created) or ""
    line = (
        f"{when} Stripe payment failed: {details['amount']}, invoice "
        f"{details['invoice_number'] or details['invoice']}, attempt {details['attempt_count']}"
    )
    if details.get("next_payment_attempt"):
        line += f", next try {details['next_payment_attempt']}"
    existing = str(ctx.fortnox.get_customer(number).get("Comments") or "")
    if line in existing:
        return  # a redelivery after a crash: the line is already there
    ctx.fortnox.update_customer(number, {"Comments": append_comment(existing, line)})


def _failure_message(customer_id: str, invoice: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    name = invoice.get("customer_name") or invoice.get("customer_email") or customer_id
    lines = [
        f"A Stripe payment failed for {name} (Stripe {customer_id}, Fortnox customer "
        f"{details.get('fortnox_number') or 'not synced'}).",
        f"Amount due: {details['amount']}",
        f"Invoice: {details.get('invoice_number') or details.get('invoice')}",
        f"Attempt: {details.get('attempt_count')}",
        f"Next attempt: {details.get('next_payment_attempt') or 'none scheduled'}",
    ]
    if invoice.get("hosted_invoice_url"):
        lines.append(f"Invoice page: {invoice['hosted_invoice_url']}")
    return "\n".join(lines)
