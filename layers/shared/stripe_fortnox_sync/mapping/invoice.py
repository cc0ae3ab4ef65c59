"""Map paid Stripe sales to Fortnox invoices, refunds to credit invoices, payouts to invoice payments.

Pure functions only, no I/O, and `Decimal` arithmetic only (floats appear only in the returned JSON
bodies, where Fortnox's spec wants numbers; every amount there has at most two decimals, which a double
carries exactly through JSON).

The one promise: the invoice Fortnox computes from our rows totals exactly what Stripe charged, to the
minor unit. Fortnox computes totals itself (row total = Price x DeliveredQuantity less discount, VAT per
row, see `stripe_fortnox_cli.fortnox_sim_invoices` for the rules we assume), so the rows are built to
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
  still Stripe's; `payment_payload` writes the round-off off against the rounding account, so the
  clearing account receives exactly what Stripe received and the invoice is fully paid.

Amounts in Stripe are integers in the currency's minor unit: `minor_to_decimal` knows the zero-decimal
and three-decimal currencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.customer import clean_text
from stripe_fortnox_sync.mapping.identity import expandable_id
from stripe_fortnox_sync.mapping.iso_codes import CURRENCY_CODES, EU_COUNTRY_CODES

# Stripe's zero-decimal currencies: the amount is in whole units (JPY 1000 is ¥1,000).
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
    "XPF",
})  # fmt: skip
# Stripe's three-decimal currencies (their amounts must end in 0, so they fit Fortnox's 2 decimals).
# ISK, HUF and TWD are two-decimal in Stripe's API (amounts divisible by 100), like most currencies.
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# Fortnox keeps two decimals on prices and amounts, whatever the currency.
FORTNOX_DECIMALS = 2
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)

# Field limits from the OpenAPI spec (fortnox_Invoice_InvoiceRow.Description, fortnox_InvoicePayload).
MAX_DESCRIPTION = 255
MAX_EXTERNAL_REFERENCE = 80
MAX_REMARKS = 1024

# VAT rates a Fortnox row can carry: the Swedish ones and the integer rates of other EU countries
# (one-stop-shop sales). Swedish rates win when Stripe's amounts fit several.
SWEDISH_VAT_RATES: tuple[int, ...] = (25, 12, 6, 0)
FORTNOX_VAT_RATES: frozenset[int] = frozenset(
    {0, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27}
)

# Row texts, in Swedish like the rest of the Fortnox company.
ROUNDING_DESCRIPTION = "Öresavrundning mot Stripe"
SHIPPING_DESCRIPTION = "Frakt"
CREDIT_PREFIX = "Kredit: "
_TIMES = " \u00d7 "  # " x " with a multiplication sign, as in Stripe's own line texts

VatType = Literal["SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"]


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of Stripe's minor unit for this currency."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def minor_to_decimal(amount: int, currency: str) -> Decimal:
    """Stripe's integer amount in minor units as an exact Decimal in currency units (1999 SEK -> 19.99)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvoiceMappingError(f"Stripe amount {amount!r} is not an integer")
    return Decimal(amount).scaleb(-currency_exponent(currency))


def format_amount(minor_units: int, currency: str) -> str:
    """Stripe's amount for people: "1299.00 EUR", "5000 JPY"."""
    return f"{minor_to_decimal(minor_units, currency)} {currency.upper()}"


def decimal_to_minor(amount: Decimal, currency: str) -> int:
    """The inverse of minor_to_decimal; refuses amounts finer than the currency's minor unit."""
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvoiceMappingError(f"{amount} {currency.upper()} is finer than the currency's minor unit")
    return int(scaled)


def _fortnox_amount(amount: Decimal, what: str) -> Decimal:
    """An amount as Fortnox can hold it (2 decimals), or an error: rounding would lose money."""
    if amount != amount.quantize(_CENT):
        raise InvoiceMappingError(f"{what} {amount} has more decimals than Fortnox's {FORTNOX_DECIMALS}")
    return amount


def _round(value: Decimal) -> Decimal:
    # What we assume Fortnox does: two decimals, half away from zero.
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def fortnox_row_vat(value: Decimal, rate: int, vat_included: bool) -> Decimal:
    """The VAT Fortnox computes on one row whose total (after discount) is value."""
    r = Decimal(rate)
    return _round(value * r / (_HUNDRED + r)) if vat_included else _round(value * r / _HUNDRED)


def _json_number(value: Decimal) -> float:
    # Exact for the amounts we send (2 decimals, far below 2**53 öre); json has no Decimal.
    return float(value)


def _format_quantity(quantity: Decimal) -> str:
    # DeliveredQuantity is a string in the spec: "3", "1.5".
    text = format(quantity.normalize(), "f")
    return text


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class InvoiceAccounts:
    """Where synced sales and payments are booked (Swedish BAS accounts by default).

    Sales accounts follow the VAT situation of the row: Swedish VAT by rate (3001 25 %, 3002 12 %,
    3003 6 %, 3004 VAT-free), EU businesses under reverse charge (3308 services, 3108 goods), other VAT
    rates charged to EU consumers (one-stop shop, 3106; BAS has no dedicated OSS account, change it to
    your chart), outside the EU (3305 services, 3105 goods), Swedish reverse charge (3231).

    `stripe_clearing` is 1580 "Fordringar för kontokort och kuponger": Stripe holds the money for days
    before a payout, and pays out net of its fees. Booking payments straight to the bank account (1930)
    would show money that is not there yet and make every payout differ from the bank statement; with
    1580 a payout is one transfer 1580 -> 1930 plus the fee to 6570, and 1580's balance equals what
    Stripe holds for you. `rounding` (3740 "Öres- och kronutjämning") takes rounding rows and Fortnox's
    öresavrundning write-offs.
    """

    sweden_25: int = 3001
    sweden_12: int = 3002
    sweden_6: int = 3003
    sweden_exempt: int = 3004
    sweden_reverse_charge: int = 3231
    eu_reverse_charge_services: int = 3308
    eu_reverse_charge_goods: int = 3108
    eu_foreign_vat: int = 3106
    export_services: int = 3305
    export_goods: int = 3105
    rounding: int = 3740
    stripe_clearing: int = 1580
    # What is sold: decides between the service and the goods accounts for reverse charge and export.
    sells: Literal["services", "goods"] = "services"
    # A mode of payment code that exists in the Fortnox company (Inställningar > Betalningssätt), or
    # None to send only ModeOfPaymentAccount.
    mode_of_payment: str | None = None
    # Bookkeep invoices and payments at once (a booked invoice cannot be changed, only credited).
    bookkeep: bool = True

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, int) and not isinstance(value, bool) and not 1000 <= value <= 9999:
                raise ValueError(f"{name} must be a four-digit account number, got {value}")
        if self.sells not in ("services", "goods"):
            raise ValueError("sells must be 'services' or 'goods'")

    def sales_account(self, vat_type: str | None, vat_rate: int) -> int:
        """The sales account for a row with this VAT rate, sold to a customer of this VAT type."""
        goods = self.sells == "goods"
        if vat_rate > 0:
            # The tax Stripe charged decides: Swedish VAT is a Swedish-VAT sale, whoever the buyer.
            swedish = {25: self.sweden_25, 12: self.sweden_12, 6: self.sweden_6}
            return swedish.get(vat_rate, self.eu_foreign_vat)
        if vat_type == "EUREVERSEDVAT":
            return self.eu_reverse_charge_goods if goods else self.eu_reverse_charge_services
        if vat_type == "EXPORT":
            return self.export_goods if goods else self.export_services
        if vat_type == "SEREVERSEDVAT":
            return self.sweden_reverse_charge
        return self.sweden_exempt


def vat_type_for(
    country: str | None, tax_exempt: object, has_vat_number: bool, seller_country: str = "SE"
) -> VatType | None:
    """Fortnox's VATType for a buyer, by the customer mapping's rules (docs/events.md, VAT types)."""
    if not country:
        return None
    code = country.strip().upper()
    reverse = tax_exempt in ("reverse", "exempt")
    if code == seller_country.strip().upper():
        return "SEREVERSEDVAT" if reverse else "SEVAT"
    if code in EU_COUNTRY_CODES:
        return "EUREVERSEDVAT" if reverse or has_vat_number else "EUVAT"
    return "EXPORT"


def buyer_vat_type(
    address: object, shipping: object, tax_exempt: object, tax_ids: object, seller_country: str
) -> VatType | None:
    """The buyer's VATType from Stripe's address (or shipping address), tax exemption and tax ids."""
    country = _mapping(address).get("country") or _mapping(_mapping(shipping).get("address")).get("country")
    ids = tax_ids if isinstance(tax_ids, list) else []
    has_vat = any(isinstance(t, Mapping) and t.get("type") == "eu_vat" and t.get("value") for t in ids)
    return vat_type_for(country if isinstance(country, str) else None, tax_exempt, has_vat, seller_country)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MappedInvoice:
    """A Fortnox invoice body (what goes inside {"Invoice": ...}) and what it must add up to."""

    payload: dict[str, Any]
    currency: str
    # Stripe's total in currency units: Fortnox's Total - RoundOff must equal it (negative for credits).
    total: Decimal
    # The VAT Fortnox will compute for these rows, by our model of its arithmetic.
    fortnox_vat: Decimal
    # The tax Stripe charged, when Stripe said (None for refunds, which carry no tax breakdown).
    stripe_vat: Decimal | None
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True)
class MappedPayment:
    """A Fortnox invoice payment body (what goes inside {"InvoicePayment": ...})."""

    payload: dict[str, Any]
    warnings: tuple[FieldWarning, ...] = ()


def total_difference(mapped: MappedInvoice, fortnox_invoice: Mapping[str, Any]) -> Decimal:
    """Fortnox's unrounded total minus Stripe's: zero unless Fortnox computes unlike our model.

    Check it after creating an invoice: a nonzero value means the rows must be looked at (and that
    the assumed Fortnox arithmetic is wrong somewhere), before the invoice is booked.
    """
    total = _decimal(fortnox_invoice.get("Total"), "Total")
    round_off = _decimal(fortnox_invoice.get("RoundOff") or 0, "RoundOff")
    return total - round_off - mapped.total


# ----------------------------------------------------------------------------- Stripe lines


@dataclass(frozen=True)
class _Tax:
    amount: int
    taxable: int | None
    inclusive: bool
    percentage: Decimal | None
    rate_id: str | None


@dataclass(frozen=True)
class _Line:
    """One Stripe line in minor units, in its own tax terms."""

    description: str
    quantity: Decimal | None
    amount: int  # before discounts; includes the tax when inclusive
    discount: int
    tax: int
    inclusive: bool | None  # None: no tax on the line, so both modes read it alike
    taxes: tuple[_Tax, ...]

    @property
    def net(self) -> int:
        return self.amount - self.discount - (self.tax if self.inclusive else 0)

    @property
    def gross(self) -> int:
        return self.net + self.tax


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvoiceMappingError(f"{what} must be an integer amount, got {value!r}")
    return value


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvoiceMappingError(f"{what} must be a number, got {value!r}")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        raise InvoiceMappingError(f"{what} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise InvoiceMappingError(f"{what} must be a finite number")
    return result


def _quantity(line: Mapping[str, Any]) -> Decimal | None:
    raw = line.get("quantity_decimal")
    if raw is None:
        raw = line.get("quantity")
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return _decimal(raw, "quantity")
    except InvoiceMappingError:
        return None


def _taxes(raw: object) -> tuple[_Tax, ...]:
    """Tax entries in any of Stripe's shapes: invoice line `taxes` (2025+), `tax_amounts` (older API),
    Checkout line item `taxes` (with the rate object), shipping `taxes`."""
    if not isinstance(raw, list):
        return ()
    result = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        rate = (
            entry.get("rate")
            or entry.get("tax_rate")
            or _mapping(entry.get("tax_rate_details")).get("tax_rate")
        )
        rate_id = rate if isinstance(rate, str) else _mapping(rate).get("id")
        percentage = _mapping(rate).get("percentage")
        inclusive = entry.get("inclusive")
        if not isinstance(inclusive, bool):
            behaviour = entry.get("tax_behavior")
            inclusive = behaviour == "inclusive" if behaviour else bool(_mapping(rate).get("inclusive"))
        taxable = entry.get("taxable_amount")
        result.append(
            _Tax(
                amount=_int(entry.get("amount", 0), "tax amount"),
                taxable=taxable if isinstance(taxable, int) and not isinstance(taxable, bool) else None,
                inclusive=inclusive,
                percentage=_decimal(percentage, "tax rate percentage") if percentage is not None else None,
                rate_id=rate_id if isinstance(rate_id, str) else None,
            )
        )
    return tuple(result)


def _line_inclusive(taxes: Sequence[_Tax], tax: int) -> bool | None:
    if not taxes or tax == 0:
        return None
    return any(t.inclusive for t in taxes)


def _description(*candidates: object, fallback: str) -> str:
    for candidate in candidates:
        text, _ = clean_text(candidate, MAX_DESCRIPTION)
        if text:
            return text
    return fallback


def _period(line: Mapping[str, Any]) -> str:
    period = _mapping(line.get("period"))
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or end <= start:
        return ""
    # Start and end dates as Stripe's own invoice shows the period.
    return f" ({_date(start).isoformat()} - {_date(end).isoformat()})"


def _invoice_line(line: Mapping[str, Any], index: int) -> _Line:
    price = _mapping(line.get("price"))
    description = _description(
        line.get("description"),
        price.get("nickname"),
        fallback=f"Stripe line {line.get('id') or index + 1}",
    )
    discount_list = line.get("discount_amounts")
    credits = [c for c in line.get("pretax_credit_amounts") or [] if isinstance(c, Mapping)]
    if isinstance(discount_list, list):
        discount = sum(
            _int(d.get("amount", 0), "discount amount") for d in discount_list if isinstance(d, Mapping)
        )
    else:
        # Newer API versions list discounts among the pre-tax credits instead.
        discount = sum(
            _int(c.get("amount", 0), "discount amount") for c in credits if c.get("type") == "discount"
        )
    # Credit grants (billing credits) lower the taxable amount like a discount does.
    discount += sum(
        _int(c.get("amount", 0), "credit amount")
        for c in credits
        if c.get("type") == "credit_balance_transaction"
    )
    taxes = _taxes(line.get("taxes") if isinstance(line.get("taxes"), list) else line.get("tax_amounts"))
    tax = sum(t.amount for t in taxes)
    return _Line(
        description=(description + _period(line))[:MAX_DESCRIPTION].rstrip(),
        quantity=_quantity(line),
        amount=_int(line.get("amount"), "line amount"),
        discount=discount,
        tax=tax,
        inclusive=_line_inclusive(taxes, tax),
        taxes=taxes,
    )


def _shipping_line(shipping: Mapping[str, Any]) -> _Line:
    taxes = _taxes(shipping.get("taxes"))
    tax = _int(shipping.get("amount_tax") or 0, "shipping tax")
    gross = _int(shipping.get("amount_total") or 0, "shipping total")
    inclusive = _line_inclusive(taxes, tax)
    return _Line(
        description=SHIPPING_DESCRIPTION,
        quantity=None,
        amount=gross if inclusive else gross - tax,
        discount=0,
        tax=tax,
        inclusive=inclusive,
        taxes=taxes,
    )


def _checkout_line(item: Mapping[str, Any], index: int, warnings: list[FieldWarning]) -> _Line:
    price = _mapping(item.get("price"))
    description = _description(item.get("description"), fallback=f"Stripe item {item.get('id') or index + 1}")
    taxes = _taxes(item.get("taxes"))
    tax = _int(item.get("amount_tax") or 0, "line item tax")
    discount = _int(item.get("amount_discount") or 0, "line item discount")
    total = _int(item.get("amount_total"), "line item total")
    inclusive = _line_inclusive(taxes, tax)
    if inclusive is None and tax:
        inclusive = price.get("tax_behavior") == "inclusive"
    amount = _int(
        item.get("amount_subtotal") if item.get("amount_subtotal") is not None else total, "subtotal"
    )
    expected = amount - discount + (0 if inclusive else tax)
    if expected != total:
        # amount_total is what the customer paid for the line: trust it over the subtotal.
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}]",
                f"Stripe's subtotal, discount and tax do not add up to {total}: used the total",
            )
        )
        amount = total + discount - (0 if inclusive else tax)
    return _Line(description, _quantity(item), amount, discount, tax, inclusive, taxes)


# ----------------------------------------------------------------------------- VAT rates


def _candidate_key(rate: int, tax: int, base: int) -> tuple[int, bool, Decimal]:
    predicted = (Decimal(abs(base)) * rate / _HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    star = Decimal(abs(tax)) * _HUNDRED / Decimal(abs(base))
    return (abs(int(predicted) - abs(tax)), rate not in SWEDISH_VAT_RATES, abs(Decimal(rate) - star))


def _derive_rate(tax: int, base: int) -> int:
    """The Fortnox VAT rate that reproduces Stripe's tax on its base, Swedish rates first."""
    if base == 0:
        return 0
    return min(sorted(FORTNOX_VAT_RATES), key=lambda r: _candidate_key(r, tax, base))


def _explicit_rate(taxes: Sequence[_Tax]) -> int | None:
    percentages = [t.percentage for t in taxes]
    if not percentages or any(p is None for p in percentages):
        return None
    total = sum((p for p in percentages if p is not None), Decimal(0))
    rate = int(total) if total == total.to_integral_value() else None
    return rate if rate in FORTNOX_VAT_RATES else None


def _rates_by_id(lines: Sequence[_Line]) -> dict[str, int]:
    """A rate per Stripe tax rate id, derived from its largest taxable amount (small lines are ambiguous)."""
    best: dict[str, _Tax] = {}
    for line in lines:
        for tax in line.taxes:
            if (
                tax.rate_id
                and tax.taxable is not None
                and (tax.rate_id not in best or abs(tax.taxable) > abs(best[tax.rate_id].taxable or 0))
            ):
                best[tax.rate_id] = tax
    return {rate_id: _derive_rate(t.amount, t.taxable or 0) for rate_id, t in best.items()}


def _line_rate(line: _Line, by_id: Mapping[str, int], index: int, warnings: list[FieldWarning]) -> int:
    if not line.taxes:
        return 0
    explicit = _explicit_rate(line.taxes)
    if explicit is not None:
        return explicit
    rate_id = line.taxes[0].rate_id
    if len(line.taxes) == 1 and rate_id is not None and rate_id in by_id:
        return by_id[rate_id]
    base = max((abs(t.taxable) for t in line.taxes if t.taxable is not None), default=abs(line.net))
    rate = _derive_rate(line.tax, base)
    if _candidate_key(rate, line.tax, base or 1)[0] > 1:
        warnings.append(
            FieldWarning(
                f"InvoiceRows[{index}].VAT",
                f"Stripe's tax {line.tax} on {base} is no VAT rate Fortnox has: used {rate} %",
            )
        )
    return rate


# ----------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class _Source:
    """What an invoice is made from, whatever the Stripe object."""

    lines: tuple[_Line, ...]
    currency: str
    total: int
    customer_number: str
    invoice_date: date
    due_date: date
    reference1: str
    reference2: str | None
    remarks: str
    vat_type: str | None


def _mode_mismatches(lines: Sequence[_Line], rates: Sequence[int], currency: str, vat_included: bool) -> int:
    count = 0
    for line, rate in zip(lines, rates, strict=True):
        value = minor_to_decimal(line.gross if vat_included else line.net, currency)
        if fortnox_row_vat(value, rate, vat_included) != minor_to_decimal(line.tax, currency):
            count += 1
    return count


def _assemble(source: _Source, accounts: InvoiceAccounts, warnings: list[FieldWarning]) -> MappedInvoice:
    currency = source.currency
    lines = source.lines
    by_id = _rates_by_id(lines)
    rates = [_line_rate(line, by_id, i, warnings) for i, line in enumerate(lines)]

    inclusive_votes = sum(1 for line in lines if line.inclusive is True)
    exclusive_votes = sum(1 for line in lines if line.inclusive is False)
    preferred = inclusive_votes > exclusive_votes
    if not _mode_mismatches(lines, rates, currency, preferred):
        vat_included = preferred
    elif not _mode_mismatches(lines, rates, currency, not preferred):
        # The other mode's VAT rounding reproduces Stripe's tax on every row: no rounding row needed.
        vat_included = not preferred
    else:
        # Neither reproduces Stripe's tax. Prices excluding VAT keep the revenue exactly Stripe's and
        # put the whole difference on a visible rounding row; VAT-inclusive prices would hide it by
        # moving it between revenue and VAT.
        vat_included = False

    rows: list[dict[str, Any]] = []
    model_total = Decimal(0)
    model_vat = Decimal(0)
    for index, (line, rate) in enumerate(zip(lines, rates, strict=True)):
        row, value = _row(line, rate, vat_included, currency, source.vat_type, accounts)
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

    target = minor_to_decimal(source.total, currency)
    difference = target - model_total
    if difference:
        # Every row can be off by Fortnox's VAT rounding (up to a minor unit, or half a unit of a
        # zero-decimal currency); more than that is a gap in the data, not rounding.
        unit = max(_CENT, Decimal(1).scaleb(-currency_exponent(currency)))
        if abs(difference) > unit * (len(lines) + 1):
            raise InvoiceMappingError(
                f"Stripe's lines add up to {model_total} {currency} but its total is {target} {currency}: "
                "the difference is too large to be rounding"
            )
        rows.append(
            {
                "Description": ROUNDING_DESCRIPTION,
                "DeliveredQuantity": "1",
                "Price": _json_number(_fortnox_amount(difference, "rounding")),
                "VAT": 0,
                "AccountNumber": accounts.rounding,
            }
        )
        warnings.append(
            FieldWarning(
                "InvoiceRows",
                f"added a rounding row of {difference} {currency} on account {accounts.rounding} "
                "so that Fortnox's total equals Stripe's",
            )
        )

    payload: dict[str, Any] = {
        "CustomerNumber": source.customer_number,
        "Currency": currency,
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
    return MappedInvoice(
        payload=payload,
        currency=currency,
        total=target,
        fortnox_vat=model_vat,
        stripe_vat=minor_to_decimal(sum(line.tax for line in lines), currency),
        warnings=tuple(warnings),
    )


def _row(
    line: _Line,
    rate: int,
    vat_included: bool,
    currency: str,
    vat_type: str | None,
    accounts: InvoiceAccounts,
) -> tuple[dict[str, Any], Decimal]:
    """The Fortnox row for a line, and the row total Fortnox will compute for it."""
    natural = line.inclusive is None or line.inclusive == vat_included
    if natural:
        amount, discount = line.amount, line.discount
    else:
        # Stripe's line is in the other tax terms: the row carries its net (or gross) after discount.
        amount, discount = (line.gross if vat_included else line.net), 0
    amount_dec = minor_to_decimal(amount, currency)
    discount_dec = _fortnox_amount(minor_to_decimal(discount, currency), "discount")
    description = line.description
    quantity = line.quantity
    price = _fortnox_amount(amount_dec, "line amount")
    delivered = Decimal(1)
    if quantity is not None and quantity > 0 and quantity != 1 and not discount:
        unit_price = amount_dec / quantity
        if (
            quantity == quantity.quantize(_CENT)
            and unit_price == unit_price.quantize(_CENT)
            and unit_price.quantize(_CENT) * quantity == amount_dec
        ):
            price, delivered = unit_price.quantize(_CENT), quantity
    prefix = f"{_format_quantity(quantity)}{_TIMES}" if quantity is not None else ""
    if delivered == 1 and quantity is not None and quantity != 1 and not description.startswith(prefix):
        # Stripe's own subscription texts already start with "3 x " (with a multiplication sign).
        description = prefix + description
    if not natural and line.discount:
        description += f" (rabatt {minor_to_decimal(line.discount, currency)} {currency} avdragen)"
    text, _ = clean_text(description, MAX_DESCRIPTION)
    row: dict[str, Any] = {
        "Description": text or "Stripe",
        "DeliveredQuantity": _format_quantity(delivered),
        "Price": _json_number(price),
        "VAT": rate,
        "AccountNumber": accounts.sales_account(vat_type, rate),
    }
    if discount_dec:
        row["Discount"] = _json_number(discount_dec)
        row["DiscountType"] = "AMOUNT"
    return row, price * delivered - discount_dec


def _situation_warning(
    line: _Line, rate: int, vat_type: str | None, index: int, warnings: list[FieldWarning]
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


def _date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).astimezone(FORTNOX_ZONE).date()


def _timestamp(*values: object) -> int | None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _currency(raw: object) -> str:
    code = raw.upper() if isinstance(raw, str) else ""
    if code not in CURRENCY_CODES:
        raise InvoiceMappingError(f"Stripe currency {raw!r} is not an ISO 4217 code")
    return code


def _reference(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_EXTERNAL_REFERENCE:
        raise InvoiceMappingError(f"{what} {value!r} cannot be an external invoice reference")
    return value


def _customer_number(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvoiceMappingError("a Fortnox customer number is required")
    return value


# ----------------------------------------------------------------------------- public: sales


def map_stripe_invoice(
    invoice: Mapping[str, Any],
    customer_number: str,
    accounts: InvoiceAccounts | None = None,
    *,
    lines: Sequence[Mapping[str, Any]] | None = None,
    vat_type: str | None = None,
    seller_country: str = "SE",
) -> MappedInvoice:
    """A paid Stripe Invoice (JSON) as a Fortnox invoice for customer_number.

    `lines`: every line of the invoice, when the payload's `lines` list is cut short (`has_more`:
    webhooks carry at most the first page; fetch the rest with the Stripe API). `vat_type`: the Fortnox
    customer's VATType; by default derived from the invoice's customer address and tax ids.
    ExternalInvoiceReference1 is the Stripe invoice id (the idempotency key), ExternalInvoiceReference2
    the PaymentIntent id when the invoice names it (refunds carry it).
    """
    accounts = accounts or InvoiceAccounts()
    warnings: list[FieldWarning] = []
    stripe_id = _reference(invoice.get("id"), "Stripe invoice id")
    currency = _currency(invoice.get("currency"))
    if lines is None:
        listing = _mapping(invoice.get("lines"))
        if listing.get("has_more"):
            raise InvoiceMappingError(
                f"invoice {stripe_id} has more lines than the event carries: fetch them and pass lines="
            )
        lines = [line for line in listing.get("data") or [] if isinstance(line, Mapping)]
    parsed = [_invoice_line(line, i) for i, line in enumerate(lines)]
    shipping = _mapping(invoice.get("shipping_cost"))
    if _int(invoice.get("amount_shipping") or 0, "amount_shipping") and shipping:
        parsed.append(_shipping_line(shipping))
    if vat_type is None:
        vat_type = buyer_vat_type(
            invoice.get("customer_address"),
            invoice.get("customer_shipping"),
            invoice.get("customer_tax_exempt"),
            invoice.get("customer_tax_ids"),
            seller_country,
        )
    transitions = _mapping(invoice.get("status_transitions"))
    issued = _timestamp(transitions.get("finalized_at"), invoice.get("effective_at"), invoice.get("created"))
    if issued is None:
        raise InvoiceMappingError(f"invoice {stripe_id} has no date")
    due = _timestamp(invoice.get("due_date"))
    number = invoice.get("number")
    payment_intent = expandable_id(invoice.get("payment_intent")) or invoice_payment_intent(invoice)
    source = _Source(
        lines=tuple(parsed),
        currency=currency,
        total=_int(invoice.get("total"), "invoice total"),
        customer_number=_customer_number(customer_number),
        invoice_date=_date(issued),
        due_date=_date(due) if due else _date(issued),
        reference1=stripe_id,
        reference2=payment_intent,
        remarks=f"Stripe-faktura {number} ({stripe_id})"
        if isinstance(number, str)
        else f"Stripe {stripe_id}",
        vat_type=vat_type,
    )
    return _assemble(source, accounts, warnings)


def invoice_payment_intent(invoice: Mapping[str, Any]) -> str | None:
    """The PaymentIntent in an invoice's `payments` list (API versions from 2025, when expanded)."""
    payments = _mapping(invoice.get("payments")).get("data")
    for payment in payments if isinstance(payments, list) else []:
        found = expandable_id(_mapping(_mapping(payment).get("payment")).get("payment_intent"))
        if found and _mapping(payment).get("status") in (None, "paid"):
            return found
    return None


def map_checkout_session(
    session: Mapping[str, Any],
    line_items: Sequence[Mapping[str, Any]],
    customer_number: str,
    accounts: InvoiceAccounts | None = None,
    *,
    vat_type: str | None = None,
    seller_country: str = "SE",
) -> MappedInvoice:
    """A completed Checkout Session in payment mode, with its line items (fetched from the Stripe API:
    GET /v1/checkout/sessions/{id}/line_items, every page), as a paid-to-be Fortnox invoice.

    ExternalInvoiceReference1 and 2 are the session's PaymentIntent id, so that a
    payment_intent.succeeded for the same payment finds this invoice instead of making a second one.
    """
    accounts = accounts or InvoiceAccounts()
    warnings: list[FieldWarning] = []
    session_id = _reference(session.get("id"), "Checkout Session id")
    if session.get("mode") not in (None, "payment"):
        raise InvoiceMappingError(f"session {session_id} is in {session.get('mode')} mode, not payment")
    currency = _currency(session.get("currency"))
    parsed = [
        _checkout_line(item, i, warnings) for i, item in enumerate(line_items) if isinstance(item, Mapping)
    ]
    shipping = _mapping(session.get("shipping_cost"))
    if (
        _int(_mapping(session.get("total_details")).get("amount_shipping") or 0, "amount_shipping")
        and shipping
    ):
        parsed.append(_shipping_line(shipping))
    details = _mapping(session.get("customer_details"))
    if vat_type is None:
        vat_type = buyer_vat_type(
            details.get("address"),
            _mapping(session.get("collected_information")).get("shipping_details"),
            details.get("tax_exempt"),
            details.get("tax_ids"),
            seller_country,
        )
    created = _timestamp(session.get("created"))
    if created is None:
        raise InvoiceMappingError(f"session {session_id} has no date")
    payment_intent = expandable_id(session.get("payment_intent"))
    reference = payment_intent or session_id
    source = _Source(
        lines=tuple(parsed),
        currency=currency,
        total=_int(session.get("amount_total"), "session amount_total"),
        customer_number=_customer_number(customer_number),
        invoice_date=_date(created),
        due_date=_date(created),
        reference1=_reference(reference, "PaymentIntent id"),
        reference2=payment_intent,
        remarks=f"Stripe Checkout {session_id}",
        vat_type=vat_type,
    )
    return _assemble(source, accounts, warnings)


def map_payment_intent(
    payment_intent: Mapping[str, Any],
    customer_number: str,
    accounts: InvoiceAccounts | None = None,
    *,
    vat_rate: int = 0,
    vat_type: str | None = None,
    description: str | None = None,
) -> MappedInvoice:
    """A succeeded PaymentIntent without a Stripe invoice or Checkout line items: one row.

    A PaymentIntent carries no tax breakdown, so `vat_rate` says which VAT the amount includes
    (0: none); the row is VAT-inclusive, so the total is exact whatever the rate.
    """
    accounts = accounts or InvoiceAccounts()
    warnings: list[FieldWarning] = []
    intent_id = _reference(payment_intent.get("id"), "PaymentIntent id")
    currency = _currency(payment_intent.get("currency"))
    received = payment_intent.get("amount_received")
    amount = _int(received if received else payment_intent.get("amount"), "PaymentIntent amount")
    if vat_rate not in FORTNOX_VAT_RATES:
        raise InvoiceMappingError(f"VAT rate {vat_rate} is not one Fortnox has")
    created = _timestamp(payment_intent.get("created"))
    if created is None:
        raise InvoiceMappingError(f"PaymentIntent {intent_id} has no date")
    price = _fortnox_amount(minor_to_decimal(amount, currency), "amount")
    text = _description(
        description, payment_intent.get("description"), fallback=f"Stripe-betalning {intent_id}"
    )
    warnings.append(
        FieldWarning("InvoiceRows[0].VAT", f"no tax information on a PaymentIntent: {vat_rate} % VAT assumed")
    )
    day = _date(created).isoformat()
    payload: dict[str, Any] = {
        "CustomerNumber": _customer_number(customer_number),
        "Currency": currency,
        "InvoiceDate": day,
        "DueDate": day,
        "ExternalInvoiceReference1": intent_id,
        "ExternalInvoiceReference2": intent_id,
        "VATIncluded": True,
        "InvoiceRows": [
            {
                "Description": text,
                "DeliveredQuantity": "1",
                "Price": _json_number(price),
                "VAT": vat_rate,
                "AccountNumber": accounts.sales_account(vat_type, vat_rate),
            }
        ],
        "Remarks": f"Stripe PaymentIntent {intent_id}",
    }
    return MappedInvoice(
        payload=payload,
        currency=currency,
        total=price,
        fortnox_vat=fortnox_row_vat(price, vat_rate, True),
        stripe_vat=None,
        warnings=tuple(warnings),
    )


def stripe_invoice_paid_on(invoice: Mapping[str, Any]) -> date:
    """The Swedish date Stripe marked the invoice paid (status_transitions.paid_at)."""
    transitions = _mapping(invoice.get("status_transitions"))
    paid = _timestamp(transitions.get("paid_at"), invoice.get("effective_at"), invoice.get("created"))
    if paid is None:
        raise InvoiceMappingError("the invoice has no payment date")
    return _date(paid)


def stripe_date(timestamp: int) -> date:
    """A Stripe Unix timestamp as the Swedish calendar date Fortnox books it on."""
    return _date(_int(timestamp, "timestamp"))


# ----------------------------------------------------------------------------- public: payments


def payment_payload(
    fortnox_invoice: Mapping[str, Any],
    amount_minor: int,
    currency: str,
    paid_on: date,
    accounts: InvoiceAccounts | None = None,
    *,
    settlement_sek_minor: int | None = None,
) -> MappedPayment:
    """The payment of a Fortnox invoice (as Fortnox returned it) by what went through Stripe.

    `amount_minor` is positive: money received for an invoice, or paid back for a credit invoice (its
    negative total makes the payment negative). For a non-SEK invoice, `settlement_sek_minor` is the
    SEK amount Stripe booked (the balance transaction), if known; otherwise Fortnox's rate applies.
    When Fortnox rounded the total (RoundOff) and the payment covers the unrounded total, the round-off
    is written off to the rounding account so that the invoice ends fully paid.
    """
    accounts = accounts or InvoiceAccounts()
    warnings: list[FieldWarning] = []
    code = _currency(currency)
    invoice_currency = fortnox_invoice.get("Currency") or "SEK"
    if invoice_currency != code:
        raise InvoiceMappingError(f"a {code} payment cannot pay a {invoice_currency} invoice")
    number = str(fortnox_invoice.get("DocumentNumber") or "")
    if not number.isdigit():
        raise InvoiceMappingError(f"invoice number {number!r} is not a Fortnox document number")
    total = _decimal(fortnox_invoice.get("Total"), "Total")
    amount = _fortnox_amount(minor_to_decimal(abs(_int(amount_minor, "amount")), code), "payment")
    if not amount:
        # Fortnox refuses a zero payment; a free invoice (trial, 100 % coupon) needs none.
        raise InvoiceMappingError("nothing to pay: a zero payment cannot be registered")
    if total < 0:
        amount = -amount
    invoice_day = date.fromisoformat(str(fortnox_invoice.get("InvoiceDate")))
    payment_day = paid_on
    if payment_day < invoice_day:
        # Fortnox refuses a payment dated before its invoice; Stripe's clocks can disagree by a day.
        warnings.append(
            FieldWarning("PaymentDate", f"moved from {paid_on} to the invoice date {invoice_day}")
        )
        payment_day = invoice_day
    payload: dict[str, Any] = {
        "InvoiceNumber": int(number),
        "PaymentDate": payment_day.isoformat(),
        "ModeOfPaymentAccount": accounts.stripe_clearing,
    }
    if accounts.mode_of_payment:
        payload["ModeOfPayment"] = accounts.mode_of_payment
    if code == "SEK":
        payload["Amount"] = _json_number(amount)
    else:
        payload["AmountCurrency"] = _json_number(amount)
        if settlement_sek_minor is not None:
            sek = minor_to_decimal(abs(_int(settlement_sek_minor, "settlement amount")), "SEK")
            payload["Amount"] = _json_number(-sek if total < 0 else sek)
        elif fortnox_invoice.get("CurrencyRate"):
            rate = _decimal(fortnox_invoice.get("CurrencyRate"), "CurrencyRate")
            payload["Amount"] = _json_number(_round(amount * rate))
    balance_raw = fortnox_invoice.get("Balance")
    balance = _decimal(balance_raw, "Balance") if balance_raw is not None else total
    round_off = _decimal(fortnox_invoice.get("RoundOff") or 0, "RoundOff")
    remaining = balance - amount
    if round_off and remaining == round_off:
        payload["WriteOffs"] = [
            {
                "AccountNumber": accounts.rounding,
                "Amount": _json_number(remaining),
                "Currency": code,
                "Description": "Öresavrundning",
            }
        ]
    elif remaining and (remaining > 0) == (balance > 0):
        warnings.append(
            FieldWarning("Amount", f"the invoice keeps a balance of {remaining} {code} after this payment")
        )
    return MappedPayment(payload, tuple(warnings))


# ----------------------------------------------------------------------------- public: refunds


def refund_is_full(
    fortnox_invoice: Mapping[str, Any], refund_minor: int, currency: str, already_credited_minor: int = 0
) -> bool:
    """True when a refund takes back the whole invoice and nothing was credited before: then
    PUT /invoices/{n}/credit (Fortnox copies every row) is the right credit; otherwise credit_payload."""
    if already_credited_minor:
        return False
    if fortnox_invoice.get("CreditInvoiceReference") not in (None, "", "0", 0):
        return False
    total = _decimal(fortnox_invoice.get("Total"), "Total") - _decimal(
        fortnox_invoice.get("RoundOff") or 0, "RoundOff"
    )
    return minor_to_decimal(_int(refund_minor, "refund amount"), currency) == total


def credit_payload(
    fortnox_invoice: Mapping[str, Any],
    refund_minor: int,
    currency: str,
    refund_id: str,
    refunded_on: date,
    accounts: InvoiceAccounts | None = None,
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
    accounts = accounts or InvoiceAccounts()
    warnings: list[FieldWarning] = []
    code = _currency(currency)
    if fortnox_invoice.get("Currency", "SEK") != code:
        raise InvoiceMappingError(
            f"a {code} refund cannot credit a {fortnox_invoice.get('Currency')} invoice"
        )
    number = str(fortnox_invoice.get("DocumentNumber") or "")
    if not number.isdigit():
        raise InvoiceMappingError(f"invoice number {number!r} is not a Fortnox document number")
    refund = _fortnox_amount(minor_to_decimal(_int(refund_minor, "refund amount"), code), "refund")
    if refund <= 0:
        raise InvoiceMappingError("a refund must be a positive amount")
    credited = minor_to_decimal(_int(already_credited_minor, "credited amount"), code)
    invoice_total = _decimal(fortnox_invoice.get("Total"), "Total") - _decimal(
        fortnox_invoice.get("RoundOff") or 0, "RoundOff"
    )
    if refund + credited > invoice_total:
        raise InvoiceMappingError(
            f"refund {refund} {code} plus earlier credits {credited} exceed invoice {number}'s "
            f"{invoice_total}"
        )

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
                "Price": _json_number(Decimal(share).scaleb(-places)),
                "VAT": int(row.get("VAT") or 0),
                "AccountNumber": int(row["AccountNumber"]),
            }
        )
    invoice_day = date.fromisoformat(str(fortnox_invoice.get("InvoiceDate")))
    day = max(refunded_on, invoice_day)
    payload: dict[str, Any] = {
        "CustomerNumber": _customer_number(fortnox_invoice.get("CustomerNumber")),
        "Currency": code,
        "InvoiceDate": day.isoformat(),
        "DueDate": day.isoformat(),
        "CreditInvoiceReference": number,
        "ExternalInvoiceReference1": _reference(refund_id, "Stripe refund id"),
        "VATIncluded": True,
        "InvoiceRows": rows,
        "Remarks": f"Återbetalning {refund_id} i Stripe av faktura {number}",
    }
    if code != "SEK" and fortnox_invoice.get("CurrencyRate"):
        # Reverse at the invoice's rate, so the credit takes back exactly the SEK the sale booked.
        payload["CurrencyRate"] = _json_number(_decimal(fortnox_invoice["CurrencyRate"], "CurrencyRate"))
    vat = sum(
        (fortnox_row_vat(-_decimal(r["Price"], "Price"), int(r["VAT"]), True) for r in rows),
        Decimal(0),
    )
    return MappedInvoice(payload, code, -refund, vat, None, tuple(warnings))


def _row_gross(row: Mapping[str, Any], vat_included: bool) -> Decimal:
    if row.get("Total") is not None:
        total = _decimal(row["Total"], "row Total")
    else:
        price = _decimal(row.get("Price") or 0, "Price")
        quantity = _decimal(row.get("DeliveredQuantity") or 0, "DeliveredQuantity")
        discount = _decimal(row.get("Discount") or 0, "Discount")
        base = _round(price * quantity)
        total = base - (
            _round(base * discount / _HUNDRED)
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
