"""Stripe's lines as the rows of a Fortnox invoice that totals exactly what Stripe charged.

The one promise: the invoice Fortnox computes from our rows totals exactly what Stripe charged, to the
minor unit. Fortnox computes totals itself (row total = Price x DeliveredQuantity less discount, VAT per
row, see `fortnox_sim.amounts` for the rules we assume), so the rows are built to
make that computation exact:

- One row per Stripe line. Quantity and unit price are kept when unit price x quantity gives the
  line amount exactly with Fortnox's two decimals; otherwise the row is quantity 1 at the line amount,
  with the quantity in the description ("3 x Seat", with the multiplication sign Stripe uses). A
  discount goes into the row's `Discount` (`DiscountType` AMOUNT) on a quantity-1 row, so it cannot
  matter whether Fortnox takes an AMOUNT discount per unit or per row (the spec does not say).
- `VATIncluded` follows Stripe's tax behaviour (inclusive prices -> true). When Fortnox's per-row VAT
  rounding would differ from the tax Stripe charged, the other mode is tried (its rounding differs);
  when neither matches, the difference goes on a documented rounding row (öresavrundning, VAT 0, the
  rounding account) and a warning says which row's VAT differs. A difference larger than a few minor
  units means the Stripe data does not add up (or a Stripe feature we do not map): that is an
  `InvoiceMappingError`, never a silent rounding row.
- Fortnox itself may round a SEK total to whole kronor (`RoundOff`). The invoice's unrounded total is
  still Stripe's; `payments.payment_payload` writes the round-off off against the rounding account, so
  the clearing account receives exactly what Stripe received and the invoice is fully paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.fortnox_invoice import MappedInvoice
from stripe_fortnox_sync.mapping.money import (
    CENT,
    currency_exponent,
    fortnox_amount,
    json_number,
    minor_to_decimal,
)
from stripe_fortnox_sync.mapping.stripe_lines import Line, line_rates
from stripe_fortnox_sync.mapping.text import MAX_DESCRIPTION, MAX_REMARKS, clean_text
from stripe_fortnox_sync.mapping.vat import fortnox_row_vat

# Row texts, in Swedish like the rest of the Fortnox company.
ROUNDING_DESCRIPTION = "Öresavrundning mot Stripe"
_TIMES = " \u00d7 "  # " x " with a multiplication sign, as in Stripe's own line texts


@dataclass(frozen=True)
class InvoiceSource:
    """What an invoice is made from, whatever the Stripe object."""

    lines: tuple[Line, ...]
    currency: str
    total: int
    customer_number: str
    invoice_date: date
    due_date: date
    reference1: str
    reference2: str | None
    remarks: str
    vat_type: str | None


@dataclass(frozen=True)
class _Rows:
    """The rows of an invoice, and what Fortnox will compute for them by our model of its arithmetic."""

    rows: list[dict[str, Any]]
    total: Decimal
    vat: Decimal


def build_invoice(
    source: InvoiceSource, accounts: BookkeepingAccounts, warnings: list[FieldWarning]
) -> MappedInvoice:
    """The Fortnox invoice for source: its rows, a rounding row if needed, and its header."""
    rates = line_rates(source.lines, warnings)
    vat_included = _vat_mode(source.lines, rates, source.currency)
    built = _rows(source, rates, vat_included, accounts, warnings)
    target = minor_to_decimal(source.total, source.currency)
    rounding = _rounding_row(source, target, built.total, accounts, warnings)
    rows = [*built.rows, rounding] if rounding else built.rows
    return MappedInvoice(
        payload=_header(source, vat_included, rows),
        currency=source.currency,
        total=target,
        fortnox_vat=built.vat,
        stripe_vat=minor_to_decimal(sum(line.tax for line in source.lines), source.currency),
        warnings=tuple(warnings),
    )


def _mode_mismatches(lines: Sequence[Line], rates: Sequence[int], currency: str, vat_included: bool) -> int:
    count = 0
    for line, rate in zip(lines, rates, strict=True):
        value = minor_to_decimal(line.gross if vat_included else line.net, currency)
        if fortnox_row_vat(value, rate, vat_included) != minor_to_decimal(line.tax, currency):
            count += 1
    return count


def _vat_mode(lines: Sequence[Line], rates: Sequence[int], currency: str) -> bool:
    """VATIncluded: Stripe's own tax behaviour, unless only the other mode reproduces its tax."""
    inclusive_votes = sum(1 for line in lines if line.inclusive is True)
    exclusive_votes = sum(1 for line in lines if line.inclusive is False)
    preferred = inclusive_votes > exclusive_votes
    if not _mode_mismatches(lines, rates, currency, preferred):
        return preferred
    if not _mode_mismatches(lines, rates, currency, not preferred):
        # The other mode's VAT rounding reproduces Stripe's tax on every row: no rounding row needed.
        return not preferred
    # Neither reproduces Stripe's tax. Prices excluding VAT keep the revenue exactly Stripe's and
    # put the whole difference on a visible rounding row; VAT-inclusive prices would hide it by
    # moving it between revenue and VAT.
    return False


def _rows(
    source: InvoiceSource,
    rates: Sequence[int],
    vat_included: bool,
    accounts: BookkeepingAccounts,
    warnings: list[FieldWarning],
) -> _Rows:
    currency = source.currency
    rows: list[dict[str, Any]] = []
    model_total = Decimal(0)
    model_vat = Decimal(0)
    for index, (line, rate) in enumerate(zip(source.lines, rates, strict=True)):
        row, value = _row(line, rate, vat_included, currency, accounts.sales_account(source.vat_type, rate))
        vat = fortnox_row_vat(value, rate, vat_included)
        stripe_tax = minor_to_decimal(line.tax, currency)
        if vat != stripe_tax:
            warnings.append(
                FieldWarning(
                    f"InvoiceRows[{index}].VAT",
                    f"Fortnox computes VAT {vat} where Stripe charged {stripe_tax} (rounding); "
                    "the difference is on the rounding row",
                )
            )
        model_vat += vat
        model_total += value if vat_included else value + vat
        rows.append(row)
        _situation_warning(line, rate, source.vat_type, index, warnings)
    return _Rows(rows, model_total, model_vat)


def _rounding_row(
    source: InvoiceSource,
    target: Decimal,
    model_total: Decimal,
    accounts: BookkeepingAccounts,
    warnings: list[FieldWarning],
) -> dict[str, Any] | None:
    """The row that makes Fortnox's total Stripe's, or None when the rows already total it."""
    currency = source.currency
    difference = target - model_total
    if not difference:
        return None
    # Every row can be off by Fortnox's VAT rounding (up to a minor unit, or half a unit of a
    # zero-decimal currency); more than that is a gap in the data, not rounding.
    unit = max(CENT, Decimal(1).scaleb(-currency_exponent(currency)))
    if abs(difference) > unit * (len(source.lines) + 1):
        raise InvoiceMappingError(
            f"Stripe's lines add up to {model_total} {currency} but its total is {target} {currency}: "
            "the difference is too large to be rounding"
        )
    row = {
        "Description": ROUNDING_DESCRIPTION,
        "DeliveredQuantity": "1",
        "Price": json_number(fortnox_amount(difference, "rounding")),
        "VAT": 0,
        "AccountNumber": accounts.rounding,
    }
    warnings.append(
        FieldWarning(
            "InvoiceRows",
            f"added a rounding row of {difference} {currency} on account {accounts.rounding} "
            "so that Fortnox's total equals Stripe's",
        )
    )
    return row


def _header(source: InvoiceSource, vat_included: bool, rows: list[dict[str, Any]]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "CustomerNumber": source.customer_number,
        "Currency": source.currency,
        "InvoiceDate": source.invoice_date.isoformat(),
        "DueDate": max(source.due_date, source.invoice_date).isoformat(),
        "ExternalInvoiceReference1": source.reference1,
        "VATIncluded": vat_included,
        "InvoiceRows": rows,
    }
    if source.reference2:
        payload["ExternalInvoiceReference2"] = source.reference2
    remarks, _ = clean_text(source.remarks, MAX_REMARKS)
    if remarks:
        payload["Remarks"] = remarks
    return payload


def _row(
    line: Line, rate: int, vat_included: bool, currency: str, account: int
) -> tuple[dict[str, Any], Decimal]:
    """The Fortnox row for a line, and the row total Fortnox will compute for it."""
    natural = line.inclusive is None or line.inclusive == vat_included
    if natural:
        amount, discount = line.amount, line.discount
    else:
        # Stripe's line is in the other tax terms: the row carries its net (or gross) after discount.
        amount, discount = (line.gross if vat_included else line.net), 0
    amount_dec = minor_to_decimal(amount, currency)
    discount_dec = fortnox_amount(minor_to_decimal(discount, currency), "discount")
    price, delivered = _price(line.quantity, amount_dec, discount)
    text, _ = clean_text(_row_description(line, delivered, natural, currency), MAX_DESCRIPTION)
    row: dict[str, Any] = {
        "Description": text or "Stripe",
        "DeliveredQuantity": _format_quantity(delivered),
        "Price": json_number(price),
        "VAT": rate,
        "AccountNumber": account,
    }
    if discount_dec:
        row["Discount"] = json_number(discount_dec)
        row["DiscountType"] = "AMOUNT"
    return row, price * delivered - discount_dec


def _price(quantity: Decimal | None, amount: Decimal, discount: int) -> tuple[Decimal, Decimal]:
    """Unit price and quantity when they give amount exactly in two decimals, else amount x 1."""
    price = fortnox_amount(amount, "line amount")
    if quantity is not None and quantity > 0 and quantity != 1 and not discount:
        unit_price = amount / quantity
        if (
            quantity == quantity.quantize(CENT)
            and unit_price == unit_price.quantize(CENT)
            and unit_price.quantize(CENT) * quantity == amount
        ):
            return unit_price.quantize(CENT), quantity
    return price, Decimal(1)


def _row_description(line: Line, delivered: Decimal, natural: bool, currency: str) -> str:
    description = line.description
    quantity = line.quantity
    prefix = f"{_format_quantity(quantity)}{_TIMES}" if quantity is not None else ""
    if delivered == 1 and quantity is not None and quantity != 1 and not description.startswith(prefix):
        # Stripe's own subscription texts already start with "3 x " (with a multiplication sign).
        description = prefix + description
    if not natural and line.discount:
        description += f" (rabatt {minor_to_decimal(line.discount, currency)} {currency} avdragen)"
    return description


def _format_quantity(quantity: Decimal) -> str:
    # DeliveredQuantity is a string in the spec: "3", "1.5".
    return format(quantity.normalize(), "f")


def _situation_warning(
    line: Line, rate: int, vat_type: str | None, index: int, warnings: list[FieldWarning]
) -> None:
    if rate > 0 and vat_type in ("EUREVERSEDVAT", "EXPORT", "SEREVERSEDVAT"):
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}].VAT",
                f"Stripe charged {rate} % VAT from a {vat_type} customer: booked as Stripe charged it",
            )
        )
    elif rate == 0 and line.net and not line.taxes and vat_type in ("SEVAT", "EUVAT"):
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}].VAT",
                f"Stripe has no tax on this line for a {vat_type} customer: booked without VAT",
            )
        )
