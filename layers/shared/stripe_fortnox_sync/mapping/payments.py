"""What went through Stripe as the payment of a Fortnox invoice, booked on the Stripe clearing account.

When Fortnox rounded the invoice's total (RoundOff), the round-off is written off against the rounding
account, so the clearing account receives exactly what Stripe received and the invoice ends fully paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.fortnox_invoice import document_number
from stripe_fortnox_sync.mapping.money import (
    as_decimal,
    as_int,
    currency_code,
    fortnox_amount,
    fortnox_round,
    json_number,
    minor_to_decimal,
)


@dataclass(frozen=True)
class MappedPayment:
    """A Fortnox invoice payment body (what goes inside {"InvoicePayment": ...})."""

    payload: dict[str, Any]
    warnings: tuple[FieldWarning, ...] = ()


def payment_payload(
    fortnox_invoice: Mapping[str, Any],
    amount_minor: int,
    currency: str,
    paid_on: date,
    accounts: BookkeepingAccounts | None = None,
    *,
    settlement_sek_minor: int | None = None,
    account: int | None = None,
) -> MappedPayment:
    """The payment of a Fortnox invoice (as Fortnox returned it) by what went through Stripe.

    `amount_minor` is positive: money received for an invoice, or paid back for a credit invoice (its
    negative total makes the payment negative). For a non-SEK invoice, `settlement_sek_minor` is the
    SEK amount Stripe booked (the balance transaction), if known; otherwise Fortnox's rate applies.
    When Fortnox rounded the total (RoundOff) and the payment covers the unrounded total, the round-off
    is written off to the rounding account so that the invoice ends fully paid. The money goes through
    the Stripe clearing account unless `account` names another (a lost dispute's dispute clearing).
    """
    accounts = accounts or BookkeepingAccounts()
    warnings: list[FieldWarning] = []
    code = currency_code(currency)
    invoice_currency = fortnox_invoice.get("Currency") or "SEK"
    if invoice_currency != code:
        raise InvoiceMappingError(f"a {code} payment cannot pay a {invoice_currency} invoice")
    number = document_number(fortnox_invoice)
    total = as_decimal(fortnox_invoice.get("Total"), "Total")
    amount = fortnox_amount(minor_to_decimal(abs(as_int(amount_minor, "amount")), code), "payment")
    if not amount:
        # Fortnox refuses a zero payment; a free invoice (trial, 100 % coupon) needs none.
        raise InvoiceMappingError("nothing to pay: a zero payment cannot be registered")
    if total < 0:
        amount = -amount
    payload: dict[str, Any] = {
        "InvoiceNumber": int(number),
        "PaymentDate": _payment_day(fortnox_invoice, paid_on, warnings).isoformat(),
        "ModeOfPaymentAccount": account or accounts.stripe_clearing,
    }
    if accounts.mode_of_payment:
        payload["ModeOfPayment"] = accounts.mode_of_payment
    payload.update(_amounts(fortnox_invoice, amount, code, total, settlement_sek_minor))
    _settle_round_off(payload, fortnox_invoice, amount, code, total, accounts, warnings)
    return MappedPayment(payload, tuple(warnings))


def _payment_day(fortnox_invoice: Mapping[str, Any], paid_on: date, warnings: list[FieldWarning]) -> date:
    invoice_day = date.fromisoformat(str(fortnox_invoice.get("InvoiceDate")))
    if paid_on < invoice_day:
        # Fortnox refuses a payment dated before its invoice; Stripe's clocks can disagree by a day.
        warnings.append(
            FieldWarning("PaymentDate", f"moved from {paid_on} to the invoice date {invoice_day}")
        )
        return invoice_day
    return paid_on


def _amounts(
    fortnox_invoice: Mapping[str, Any],
    amount: Decimal,
    code: str,
    total: Decimal,
    settlement_sek_minor: int | None,
) -> dict[str, float]:
    """Amount (SEK) and, for a foreign invoice, AmountCurrency; SEK as Stripe settled it when known."""
    if code == "SEK":
        return {"Amount": json_number(amount)}
    amounts = {"AmountCurrency": json_number(amount)}
    if settlement_sek_minor is not None:
        sek = minor_to_decimal(abs(as_int(settlement_sek_minor, "settlement amount")), "SEK")
        amounts["Amount"] = json_number(-sek if total < 0 else sek)
    elif fortnox_invoice.get("CurrencyRate"):
        rate = as_decimal(fortnox_invoice.get("CurrencyRate"), "CurrencyRate")
        amounts["Amount"] = json_number(fortnox_round(amount * rate))
    return amounts


def _settle_round_off(
    payload: dict[str, Any],
    fortnox_invoice: Mapping[str, Any],
    amount: Decimal,
    code: str,
    total: Decimal,
    accounts: BookkeepingAccounts,
    warnings: list[FieldWarning],
) -> None:
    """Write Fortnox's round-off off when the payment leaves exactly it; warn of any other balance."""
    balance_raw = fortnox_invoice.get("Balance")
    balance = as_decimal(balance_raw, "Balance") if balance_raw is not None else total
    round_off = as_decimal(fortnox_invoice.get("RoundOff") or 0, "RoundOff")
    remaining = balance - amount
    if round_off and remaining == round_off:
        payload["WriteOffs"] = [
            {
                "AccountNumber": accounts.rounding,
                "Amount": json_number(remaining),
                "Currency": code,
                "Description": "Öresavrundning",
            }
        ]
    elif remaining and (remaining > 0) == (balance > 0):
        warnings.append(
            FieldWarning("Amount", f"the invoice keeps a balance of {remaining} {code} after this payment")
        )
