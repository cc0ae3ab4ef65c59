"""Stripe's balance transactions, classified for a payout voucher: which account each one's amount
moves, and its fee split by type.

Every balance transaction changes what Stripe holds by its `net` (`amount` less `fee`), and a payout
pays out the sum of its transactions' nets. Where the `amount` lands decides the voucher row:

- the clearing account (1580) for money whose other side the invoice sync already booked there or
  that stays with Stripe: charges (their sale's payment), refunds (their credit's payback),
  partial-capture reversals, failed refunds, failed payouts coming back, reserves, top-ups;
- the dispute clearing account (1515) for disputed amounts withdrawn and reinstated;
- the fees account for Stripe's own charges (`fee`, `network_cost`) and Stripe's tax on them
  (`tax`), and for `other_adjustment` (Stripe's corrections, mostly of fees; the row names it).

Anything else (Connect, Issuing, Treasury, Capital...) is not booked: `UnknownCategory`.
Amounts stay integers in minor units of the account's currency, with Stripe's signs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.identity import as_mapping, expandable_id
from stripe_fortnox_sync.mapping.money import as_int


class Kind(StrEnum):
    CLEARING = "clearing"
    DISPUTE = "dispute"
    # Stripe's fees: the reverse-charge VAT applies to them.
    FEE = "fee"
    # On the fees account without reverse charge: VAT Stripe already charged, corrections.
    FEE_NO_VAT = "fee_no_vat"


# reporting_category -> where its amount goes.
CATEGORIES: Mapping[str, Kind] = {
    "charge": Kind.CLEARING,
    "refund": Kind.CLEARING,
    "partial_capture_reversal": Kind.CLEARING,
    "refund_failure": Kind.CLEARING,
    "payout_reversal": Kind.CLEARING,
    "risk_reserved_funds": Kind.CLEARING,
    "topup": Kind.CLEARING,
    "topup_reversal": Kind.CLEARING,
    "dispute": Kind.DISPUTE,
    "dispute_reversal": Kind.DISPUTE,
    "fee": Kind.FEE,
    "network_cost": Kind.FEE,
    "tax": Kind.FEE_NO_VAT,
    "other_adjustment": Kind.FEE_NO_VAT,
}
# fee_details types that are Stripe's own fee for a service (reverse charge applies); others
# (`application_fee`: a Connect platform's; `tax`: VAT Stripe charged) do not carry it.
REVERSE_CHARGED_FEES = frozenset({"stripe_fee", "payment_method_passthrough_fee"})


class UnknownCategory(InvoiceMappingError):
    """A balance transaction of a kind the payout voucher does not book (Connect, Issuing, ...)."""


@dataclass(frozen=True)
class FeePart:
    type: str
    amount: int


@dataclass(frozen=True)
class Entry:
    """One balance transaction of a payout, classified. `amount` and the fee parts in minor units."""

    txn_id: str
    source_id: str
    category: str
    kind: Kind
    amount: int
    fees: tuple[FeePart, ...]
    created: int
    # A charge's PaymentIntent (the Fortnox sale's ExternalInvoiceReference2), else the charge id.
    payment_id: str | None = None
    description: str = ""

    @property
    def fee(self) -> int:
        return sum(part.amount for part in self.fees)

    @property
    def net(self) -> int:
        return self.amount - self.fee


def is_payout_itself(txn: Mapping[str, Any], payout_id: str) -> bool:
    """The payout's own balance transaction, which Stripe may list among its transactions."""
    return txn.get("type") == "payout" and expandable_id(txn.get("source")) == payout_id


def _fee_parts(txn: Mapping[str, Any], txn_id: str) -> tuple[FeePart, ...]:
    """The fee split by type; a fee that `fee_details` does not account for is Stripe's."""
    fee = as_int(txn.get("fee") or 0, f"{txn_id} fee")
    parts = [
        FeePart(str(d.get("type") or "stripe_fee"), as_int(d.get("amount"), f"{txn_id} fee detail"))
        for d in txn.get("fee_details") or []
        if isinstance(d, Mapping)
    ]
    rest = fee - sum(p.amount for p in parts)
    if rest:
        parts.append(FeePart("stripe_fee", rest))
    return tuple(p for p in parts if p.amount)


def classify(txn: Mapping[str, Any], currency: str) -> Entry:
    """One balance transaction (with `source` expanded or not) as an `Entry` of the voucher."""
    txn_id = str(txn.get("id") or "")
    category = str(txn.get("reporting_category") or txn.get("type") or "")
    kind = CATEGORIES.get(category)
    if kind is None:
        raise UnknownCategory(f"balance transaction {txn_id} is of category {category!r}, not booked")
    if str(txn.get("currency") or "").lower() != currency.lower():
        raise InvoiceMappingError(f"balance transaction {txn_id} is in {txn.get('currency')}, not {currency}")
    source = txn.get("source")
    source_id = expandable_id(source) or txn_id
    payment_id = None
    if category == "charge":
        payment_id = expandable_id(as_mapping(source).get("payment_intent")) or source_id
    created = txn.get("created")
    return Entry(
        txn_id=txn_id,
        source_id=source_id,
        category=category,
        kind=kind,
        amount=as_int(txn.get("amount"), f"{txn_id} amount"),
        fees=_fee_parts(txn, txn_id),
        created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
        payment_id=payment_id,
        description=str(txn.get("description") or ""),
    )


def classify_all(txns: Sequence[Mapping[str, Any]], payout_id: str, currency: str) -> list[Entry]:
    """The payout's transactions, classified, oldest first; the payout's own transaction left out."""
    entries = [classify(t, currency) for t in txns if not is_payout_itself(t, payout_id)]
    return sorted(entries, key=lambda e: (e.created, e.txn_id))


def reverse_charged(entry: Entry) -> int:
    """The part of an entry's fees (and of its amount, for Stripe's own fee transactions) that is
    Stripe's fee for a service: the base of the reverse-charge VAT, positive for a cost."""
    base = sum(p.amount for p in entry.fees if p.type in REVERSE_CHARGED_FEES)
    if entry.kind is Kind.FEE:
        base -= entry.amount  # a fee transaction's amount is negative: a cost
    return base
