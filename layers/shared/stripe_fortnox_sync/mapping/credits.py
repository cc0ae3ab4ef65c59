"""Stripe refunds as Fortnox credits: the whole invoice credited, or a credit invoice for a part.

A partial refund is spread over the invoice's rows in proportion to their amounts including VAT, to
the minor unit (largest remainder), so the credit invoice totals exactly minus the refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.fortnox_invoice import (
    MappedInvoice,
    document_number,
    external_reference,
    required_customer_number,
    unrounded_total,
)
from stripe_fortnox_sync.mapping.money import (
    FORTNOX_DECIMALS,
    HUNDRED,
    as_decimal,
    as_int,
    currency_code,
    currency_exponent,
    fortnox_amount,
    fortnox_round,
    json_number,
    minor_to_decimal,
)
from stripe_fortnox_sync.mapping.text import MAX_DESCRIPTION, clean_text
from stripe_fortnox_sync.mapping.vat import fortnox_row_vat

# Row text prefix, in Swedish like the rest of the Fortnox company.
CREDIT_PREFIX = "Kredit: "


def refund_is_full(
    fortnox_invoice: Mapping[str, Any], refund_minor: int, currency: str, already_credited_minor: int = 0
) -> bool:
    """True when a refund takes back the whole invoice and nothing was credited before: then
    PUT /invoices/{n}/credit (Fortnox copies every row) is the right credit; otherwise credit_payload."""
    if already_credited_minor:
        return False
    if fortnox_invoice.get("CreditInvoiceReference") not in (None, "", "0", 0):
        return False
    total = unrounded_total(fortnox_invoice)
    return minor_to_decimal(as_int(refund_minor, "refund amount"), currency) == total


def credit_payload(
    fortnox_invoice: Mapping[str, Any],
    refund_minor: int,
    currency: str,
    refund_id: str,
    refunded_on: date,
    accounts: BookkeepingAccounts | None = None,
    *,
    already_credited_minor: int = 0,
) -> MappedInvoice:
    """A credit invoice for a partial refund of a Fortnox invoice (as Fortnox returned it, with rows).

    The refund is spread over the invoice's rows in proportion to their amounts including VAT, to the
    minor unit (largest remainder), on the rows' own accounts and VAT rates. The credit is
    VAT-inclusive, so its total is exactly minus the refund whatever the VAT rounding. Each Stripe
    refund gets its own credit invoice: ExternalInvoiceReference1 is the refund id (the idempotency
    key), CreditInvoiceReference the invoice it credits.
    """
    accounts = accounts or BookkeepingAccounts()
    code = currency_code(currency)
    if fortnox_invoice.get("Currency", "SEK") != code:
        raise InvoiceMappingError(
            f"a {code} refund cannot credit a {fortnox_invoice.get('Currency')} invoice"
        )
    number = document_number(fortnox_invoice)
    refund = _refund(fortnox_invoice, number, refund_minor, code, already_credited_minor)
    rows = _credit_rows(fortnox_invoice, number, refund, code, accounts)
    invoice_day = date.fromisoformat(str(fortnox_invoice.get("InvoiceDate")))
    day = max(refunded_on, invoice_day)
    payload: dict[str, Any] = {
        "CustomerNumber": required_customer_number(fortnox_invoice.get("CustomerNumber")),
        "Currency": code,
        "InvoiceDate": day.isoformat(),
        "DueDate": day.isoformat(),
        "CreditInvoiceReference": number,
        "ExternalInvoiceReference1": external_reference(refund_id, "Stripe refund id"),
        "VATIncluded": True,
        "InvoiceRows": rows,
        "Remarks": f"Återbetalning {refund_id} i Stripe av faktura {number}",
    }
    if code != "SEK" and fortnox_invoice.get("CurrencyRate"):
        # Reverse at the invoice's rate, so the credit takes back exactly the SEK the sale booked.
        payload["CurrencyRate"] = json_number(as_decimal(fortnox_invoice["CurrencyRate"], "CurrencyRate"))
    vat = sum(
        (fortnox_row_vat(-as_decimal(r["Price"], "Price"), int(r["VAT"]), True) for r in rows),
        Decimal(0),
    )
    return MappedInvoice(payload, code, -refund, vat, None, ())


def _refund(
    fortnox_invoice: Mapping[str, Any], number: str, refund_minor: int, code: str, credited_minor: int
) -> Decimal:
    """The refund in currency units, if it is positive and fits what is left of the invoice."""
    refund = fortnox_amount(minor_to_decimal(as_int(refund_minor, "refund amount"), code), "refund")
    if refund <= 0:
        raise InvoiceMappingError("a refund must be a positive amount")
    credited = minor_to_decimal(as_int(credited_minor, "credited amount"), code)
    invoice_total = unrounded_total(fortnox_invoice)
    if refund + credited > invoice_total:
        raise InvoiceMappingError(
            f"refund {refund} {code} plus earlier credits {credited} exceed invoice {number}'s "
            f"{invoice_total}"
        )
    return refund


def _credit_rows(
    fortnox_invoice: Mapping[str, Any], number: str, refund: Decimal, code: str, accounts: BookkeepingAccounts
) -> list[dict[str, Any]]:
    """The refund spread over the invoice's sales rows (not its rounding row), as negative rows."""
    vat_included = bool(fortnox_invoice.get("VATIncluded"))
    candidates: list[tuple[Mapping[str, Any], Decimal]] = []
    for row in fortnox_invoice.get("InvoiceRows") or []:
        if not isinstance(row, Mapping) or row.get("AccountNumber") in (None, accounts.rounding):
            continue
        weight = _row_gross(row, vat_included)
        if weight > 0:
            candidates.append((row, weight))
    if not candidates:
        raise InvoiceMappingError(f"invoice {number} has no rows to credit")
    # Shares in the currency's own minor unit (whole yen for JPY), at most Fortnox's two decimals.
    places = min(currency_exponent(code), FORTNOX_DECIMALS)
    shares = _allocate(int(refund.scaleb(places)), [w for _, w in candidates])
    rows: list[dict[str, Any]] = []
    for (row, _), share in zip(candidates, shares, strict=True):
        if not share:
            continue
        text, _ = clean_text(CREDIT_PREFIX + str(row.get("Description") or ""), MAX_DESCRIPTION)
        rows.append(
            {
                "Description": text or CREDIT_PREFIX.strip(),
                "DeliveredQuantity": "-1",
                "Price": json_number(Decimal(share).scaleb(-places)),
                "VAT": int(row.get("VAT") or 0),
                "AccountNumber": int(row["AccountNumber"]),
            }
        )
    return rows


def _row_gross(row: Mapping[str, Any], vat_included: bool) -> Decimal:
    """A Fortnox row's total including VAT: its Total when Fortnox gave it, else computed as Fortnox does."""
    if row.get("Total") is not None:
        total = as_decimal(row["Total"], "row Total")
    else:
        price = as_decimal(row.get("Price") or 0, "Price")
        quantity = as_decimal(row.get("DeliveredQuantity") or 0, "DeliveredQuantity")
        discount = as_decimal(row.get("Discount") or 0, "Discount")
        base = fortnox_round(price * quantity)
        total = base - (
            fortnox_round(base * discount / HUNDRED)
            if row.get("DiscountType", "PERCENT") == "PERCENT"
            else discount
        )
    if vat_included:
        return total
    return total + fortnox_row_vat(total, int(row.get("VAT") or 0), False)


def _allocate(units: int, weights: Sequence[Decimal]) -> list[int]:
    """units split in proportion to weights, as integers that sum to units (largest remainder)."""
    whole = sum(weights, Decimal(0))
    raw = [Decimal(units) * w / whole for w in weights]
    shares = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    left = units - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares
