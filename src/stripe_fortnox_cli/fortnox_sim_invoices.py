"""Invoices and invoice payments for the Fortnox simulator (`fortnox_sim.py` routes to this module).

Endpoints, with the request and answer shapes of the official OpenAPI spec (`fortnox_InvoicePayload`,
`fortnox_Invoice`, `fortnox_InvoicePayment`):

  GET  /3/invoices                          list: pagination, one search filter (substring, as for
                                            customers), filter=cancelled|fullypaid|unpaid|unpaidoverdue|
                                            unbooked
  POST /3/invoices                          create; CreditInvoiceReference makes it a (partial) credit
  GET|PUT /3/invoices/{DocumentNumber}      read; partial update (rows replaced when sent)
  PUT  /3/invoices/{n}/bookkeep|cancel|credit
  GET|POST /3/invoicepayments               list (filter invoicenumber); register a payment
  GET|DELETE /3/invoicepayments/{Number}    read; remove an unbooked payment
  PUT  /3/invoicepayments/{Number}/bookkeep

What Fortnox computes is modelled by `compute_totals`, a pure function the tests share. The spec names
the fields (row `Total`, `TotalExcludingVAT`, `PriceExcludingVAT`; invoice `Net`, `TotalVAT`, `Gross`,
`RoundOff`, `Total`, `Balance`) but not the arithmetic, so the rules below are ASSUMPTIONS, each kept as
simple as Fortnox's invoice form suggests:

- Amounts have two decimals in every currency; rounding is half up (away from zero), the Swedish
  convention, so a credit invoice mirrors its invoice exactly.
- Row: `Price` is rounded to 2 decimals; row total = round(Price x DeliveredQuantity) less the
  discount: `DiscountType` AMOUNT takes `Discount` off the row total (not per unit), PERCENT takes
  round(row total x Discount / 100). With `VATIncluded` the row total includes VAT.
- VAT is computed per row: round(total x VAT / 100), or with `VATIncluded` the VAT inside the row,
  round(total x VAT / (100 + VAT)). `TotalVAT` is the sum of the rows' VAT.
- `Net` = sum of row totals excluding VAT; `Gross` = `Net` + `TotalVAT` (before round-off).
- Öresavrundning: a SEK invoice's total is rounded to whole kronor (half up) and the difference is
  `RoundOff`, as with Fortnox's usual company setting (knob `invoice_round_off`, on by default; other
  currencies are never rounded). `Total` = `Gross` + `RoundOff`.
- `Balance` starts at `Total`; a payment lowers it by its amount in the invoice currency (`Amount` for
  SEK, `AmountCurrency` otherwise) plus the sum of its `WriteOffs` amounts.

Credits: PUT /credit copies every row with the quantity negated (and the external references) into a
new credit invoice dated today, links both ways through `CreditInvoiceReference`, and works once per
invoice (reported Fortnox behaviour). A POST with `CreditInvoiceReference` makes a partial credit; any
number of them is accepted while their totals (before öresavrundning) stay within the invoice's. A
credit invoice has its own negative balance, settled by a negative payment (the refund paid out).
Invoices in other currencies take `CurrencyRate` from the knob `currency_rates` unless given.

Simulator strictness, so that a client bug shows up as a 400 rather than as wrong books: every row
account must exist in the chart of accounts (knob `accounts`, a BAS subset); dates in a closed financial
year (knob `closed_years`) are refused on create, bookkeep and payment; a payment needs a booked invoice
(knob `payment_requires_booked`), may not precede the invoice date, and may not exceed the balance;
`ArticleNumber`, house work (ROT/RUT), `Freight` and `AdministrationFee` are not simulated and are
refused. Fortnox's own error codes for these cases are not documented: the codes in
`INVOICE_ERROR_CODES` are invented (29901xx), like the simulator's other 2990xxx codes.

Standard library only, like the rest of the simulator. The simulator calls `handle_invoice_request`
while holding its lock, so nothing here locks.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final, Literal
from urllib.parse import unquote

__all__ = [
    "BAS_ACCOUNTS",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CURRENCY_RATES",
    "INVOICE_ERROR_CODES",
    "InvoiceApiError",
    "InvoiceBook",
    "InvoiceContext",
    "InvoiceTotals",
    "RowAmounts",
    "compute_totals",
    "handle_invoice_request",
    "invoice_route_template",
    "to_decimal",
]

# Error code names used here that the simulator's ERROR_CODES does not already define. Invented
# numbers (Fortnox documents none of these): clients must rely on the HTTP status, not on them.
INVOICE_ERROR_CODES: Final[Mapping[str, int]] = {
    "invoice_not_found": 2990101,  # HTTP 404: no such invoice
    "payment_not_found": 2990102,  # HTTP 404: no such invoice payment
    "customer_not_found": 2990103,  # CustomerNumber names no customer
    "account_not_found": 2990104,  # an account that is not in the chart of accounts
    "financial_year_closed": 2990105,  # a date in a closed (locked) financial year
    "invoice_booked": 2990106,  # a booked invoice cannot be changed or cancelled: credit it
    "invoice_cancelled": 2990107,
    "already_credited": 2990108,  # PUT /credit works once per invoice (reported)
    "already_booked": 2990109,
    "invalid_date": 2990110,  # not YYYY-MM-DD, or a due date before the invoice date
    "payment_before_invoice": 2990111,  # PaymentDate before the invoice's InvoiceDate
    "invalid_amount": 2990112,  # missing, zero, wrong sign, or more than the balance
    "invalid_vat": 2990113,  # a VAT rate Fortnox does not have
    "invalid_credit_reference": 2990114,
    "unsupported": 2990115,  # a feature the simulator does not model (articles, ROT/RUT, freight)
    "invoice_not_booked": 2990116,  # a payment on an unbooked invoice
    "credit_exceeds_invoice": 2990117,  # credits would exceed what the invoice is worth
}

# The BAS accounts the simulated company has (name for the curious; only the numbers are checked).
# Sales accounts by VAT situation, receivables, the bank and Stripe clearing accounts, output VAT and
# öresutjämning: enough for every default of invoice_mapping.InvoiceAccounts and a few alternatives.
BAS_ACCOUNTS: Final[Mapping[int, str]] = {
    1510: "Kundfordringar",
    1580: "Fordringar för kontokort och kuponger",
    1910: "Kassa",
    1920: "PlusGiro",
    1930: "Företagskonto/checkkonto/affärskonto",
    1940: "Övriga bankkonton",
    2611: "Utgående moms på försäljning inom Sverige, 25 %",
    2621: "Utgående moms på försäljning inom Sverige, 12 %",
    2631: "Utgående moms på försäljning inom Sverige, 6 %",
    2614: "Utgående moms omvänd skattskyldighet, 25 %",
    3001: "Försäljning inom Sverige, 25 % moms",
    3002: "Försäljning inom Sverige, 12 % moms",
    3003: "Försäljning inom Sverige, 6 % moms",
    3004: "Försäljning inom Sverige, momsfri",
    3105: "Försäljning varor till land utanför EU",
    3106: "Försäljning varor till annat EU-land, momspliktig",
    3108: "Försäljning varor till annat EU-land, momsfri",
    3231: "Försäljning inom byggsektorn, omvänd skattskyldighet moms",
    3305: "Försäljning tjänster till land utanför EU",
    3308: "Försäljning tjänster till annat EU-land",
    3740: "Öres- och kronutjämning",
    3960: "Valutakursvinster på fordringar och skulder av rörelsekaraktär",
    6570: "Bankkostnader",
    7960: "Valutakursförluster på fordringar och skulder av rörelsekaraktär",
}
DEFAULT_ACCOUNTS: Final[tuple[int, ...]] = tuple(sorted(BAS_ACCOUNTS))

# SEK per unit, used when an invoice or payment in another currency gives no CurrencyRate (Fortnox
# takes the day's rate from its currency register; a fixed table keeps tests deterministic).
DEFAULT_CURRENCY_RATES: Final[Mapping[str, float]] = {
    "SEK": 1.0,
    "EUR": 11.5,
    "USD": 10.5,
    "GBP": 13.5,
    "NOK": 1.0,
    "DKK": 1.54,
}

# VAT rates Fortnox accepts on a row: the Swedish ones plus the integer rates other EU countries use
# (one-stop-shop sales). Anything else is refused.
VAT_RATES: Final[frozenset[int]] = frozenset(
    {0, 6, 12, 25} | {3, 4, 5, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27}
)

_CENT: Final = Decimal("0.01")
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)
_MAX_AMOUNT: Final = Decimal("1e13")  # beyond this a JSON double cannot carry the öre exactly
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_DEFAULT_TERMS_DAYS: Final = 30


class InvoiceApiError(Exception):
    """Turned into Fortnox's error envelope by the simulator; code_name is a key of ERROR_CODES."""

    def __init__(self, status: int, code_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code_name = code_name
        self.message = message


def _bad(code_name: str, message: str, status: int = 400) -> InvoiceApiError:
    return InvoiceApiError(status, code_name, message)


# ----------------------------------------------------------------------------- arithmetic


def to_decimal(value: Any) -> Decimal:
    """A JSON number (int, float, Decimal) or numeric string as an exact Decimal.

    Floats go through repr, so 19.99 is 19.99 and not 19.989999999999998436805981327779591083526611328125.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{type(value).__name__} is not a number")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def _round(value: Decimal, exponent: Decimal = _CENT) -> Decimal:
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RowAmounts:
    """What Fortnox shows on one invoice row, computed from what was sent."""

    price: Decimal
    quantity: Decimal
    discount: Decimal  # money taken off the row
    vat_rate: int
    total: Decimal  # price x quantity less discount, including VAT when the invoice is VATIncluded
    vat: Decimal
    total_excluding_vat: Decimal
    price_excluding_vat: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    rows: tuple[RowAmounts, ...]
    net: Decimal
    total_vat: Decimal
    gross: Decimal  # net + VAT, before öresavrundning
    round_off: Decimal
    total: Decimal  # gross + round_off: what the customer owes


def compute_row(row: Mapping[str, Any], vat_included: bool) -> RowAmounts:
    """One row as Fortnox computes it (see the module docstring for the assumed rules)."""
    price = _round(to_decimal(row.get("Price") or 0))
    quantity = to_decimal(row.get("DeliveredQuantity") or 0)
    rate = int(row.get("VAT") or 0)
    base = _round(price * quantity)
    raw_discount = to_decimal(row.get("Discount") or 0)
    if (row.get("DiscountType") or "PERCENT") == "PERCENT":
        discount = _round(base * raw_discount / _HUNDRED)
    else:
        discount = _round(raw_discount)
    total = base - discount
    rate_dec = Decimal(rate)
    if vat_included:
        vat = _round(total * rate_dec / (_HUNDRED + rate_dec))
        excluding = total - vat
        price_excluding = _round(price * _HUNDRED / (_HUNDRED + rate_dec))
    else:
        vat = _round(total * rate_dec / _HUNDRED)
        excluding = total
        price_excluding = price
    return RowAmounts(price, quantity, discount, rate, total, vat, excluding, price_excluding)


def compute_totals(
    rows: Sequence[Mapping[str, Any]], *, vat_included: bool, currency: str, round_off: bool
) -> InvoiceTotals:
    """An invoice's totals as Fortnox computes them from its rows (shared with the tests)."""
    computed = tuple(compute_row(row, vat_included) for row in rows)
    net = sum((r.total_excluding_vat for r in computed), Decimal(0))
    total_vat = sum((r.vat for r in computed), Decimal(0))
    gross = net + total_vat
    rounded = _round(gross, _ONE) if round_off and currency == "SEK" else gross
    return InvoiceTotals(computed, net, total_vat, gross, rounded - gross, rounded)


# ----------------------------------------------------------------------------- field specs

_Kind = Literal["str", "bool", "number", "int", "date", "quantity", "object", "array"]


@dataclass(frozen=True)
class _Field:
    kind: _Kind = "str"
    max_len: int | None = None
    exact_len: int | None = None
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    sub: Mapping[str, _Field] | None = None  # object fields, or an array's item fields


_S = _Field("str")
_S1024 = _Field("str", 1024)
_ACCOUNT = _Field("int", minimum=1000, maximum=9999)

# fortnox_InvoicePayload_InvoiceRow. Description's 255 comes from fortnox_Invoice_InvoiceRow (the
# payload row gives no limit); DeliveredQuantity is a string in the spec, numbers are accepted too.
_ROW_FIELDS: Final[Mapping[str, _Field]] = {
    "AccountNumber": _ACCOUNT,
    "ArticleNumber": _S,
    "CostCenter": _S,
    "DeliveredQuantity": _Field("quantity"),
    "Description": _Field("str", 255),
    "Discount": _Field("number"),
    "DiscountType": _Field("str", enum=("AMOUNT", "PERCENT")),
    "HouseWork": _Field("bool"),
    "HouseWorkHoursToReport": _Field("int", minimum=0, maximum=999),
    "HouseWorkType": _S,
    "Price": _Field("number"),
    "Project": _S,
    "RowId": _Field("int"),
    "StockPointCode": _S,
    "Unit": _S,
    "VAT": _Field("int"),
    "VATCode": _S,
}
_ROW_READ_ONLY: Final[frozenset[str]] = frozenset(
    {"ContributionPercent", "ContributionValue", "PriceExcludingVAT", "Total", "TotalExcludingVAT"}
)

# fortnox_InvoicePayload, compacted.
_INVOICE_FIELDS: Final[Mapping[str, _Field]] = {
    "Address1": _S,
    "Address2": _S,
    "AdministrationFee": _Field("number"),
    "City": _S1024,
    "Comments": _S1024,
    "CostCenter": _S,
    "Country": _S,
    "CreditInvoiceReference": _S,
    "Currency": _S,
    "CurrencyRate": _Field("number"),
    "CurrencyUnit": _Field("int"),
    "CustomerName": _S,
    "CustomerNumber": _S,
    "DeliveryAddress1": _S1024,
    "DeliveryAddress2": _S1024,
    "DeliveryCity": _S1024,
    "DeliveryCountry": _S,
    "DeliveryDate": _Field("date"),
    "DeliveryName": _S1024,
    "DeliveryZipCode": _S1024,
    "DocumentNumber": _S,
    "DueDate": _Field("date"),
    "EDIInformation": _Field(
        "object",
        sub={
            "EDIGlobalLocationNumber": _Field("str", 13),
            "EDIGlobalLocationNumberDelivery": _Field("str", 13),
            "EDIInvoiceExtra1": _S,
            "EDIInvoiceExtra2": _S,
            "EDIOurElectronicReference": _S,
            "EDIYourElectronicReference": _S,
        },
    ),
    "EUQuarterlyReport": _Field("bool"),
    "EmailInformation": _Field(
        "object",
        sub={
            "EmailAddressBCC": _S,
            "EmailAddressCC": _S,
            "EmailAddressFrom": _S,
            "EmailAddressTo": _S,
            "EmailBody": _Field("str", 20000),
            "EmailSubject": _Field("str", 100),
        },
    ),
    "ExternalInvoiceReference1": _Field("str", 80),
    "ExternalInvoiceReference2": _Field("str", 80),
    "Freight": _Field("number"),
    "InvoiceDate": _Field("date"),
    "InvoiceRows": _Field("array", sub=_ROW_FIELDS),
    "InvoiceType": _Field(
        "str", enum=("INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE")
    ),
    "Labels": _Field("array", sub={"Id": _Field("int")}),
    "Language": _Field("str", enum=("SV", "EN")),
    "NotCompleted": _Field("bool"),
    "OCR": _S,
    "OurReference": _Field("str", 50),
    "OutboundDate": _Field("date"),
    "PaymentWay": _Field("str", enum=("CASH", "CARD", "AG")),
    "Phone1": _S1024,
    "Phone2": _S1024,
    "PriceList": _S,
    "PrintTemplate": _S,
    "Project": _S,
    "Remarks": _S1024,
    "TaxReductionType": _Field("str", enum=("none", "rot", "rut", "green")),
    "TermsOfDelivery": _S,
    "TermsOfPayment": _S,
    "VATIncluded": _Field("bool"),
    "WayOfDelivery": _S,
    "YourOrderNumber": _Field("str", 75),
    "YourReference": _Field("str", 50),
    "ZipCode": _S1024,
}

# fortnox_Invoice fields that are not in the payload: Fortnox computes them, so a body that carries
# them (a GET answer sent back) is accepted and they are ignored.
_INVOICE_READ_ONLY: Final[frozenset[str]] = frozenset(
    {
        "@url", "@urlTaxReductionList", "AccountingMethod", "AdministrationFeeVAT", "Balance",
        "BasisTaxReduction", "Booked", "Cancelled", "ContractReference", "ContributionPercent",
        "ContributionValue", "Credit", "FinalPayDate", "FreightVAT", "Gross", "HouseWork",
        "InvoicePeriodEnd", "InvoicePeriodReference", "InvoicePeriodStart", "LastRemindDate", "Net",
        "NoxFinans", "OfferReference", "OrderReference", "OrganisationNumber", "Reminders", "RoundOff",
        "Sent", "TaxReduction", "TimeBasisReference", "Total", "TotalToPay", "TotalVAT", "VoucherNumber",
        "VoucherSeries", "VoucherYear", "WarehouseReady",
    }
)  # fmt: skip

_WRITE_OFF_FIELDS: Final[Mapping[str, _Field]] = {
    "AccountNumber": _ACCOUNT,
    "Amount": _Field("number"),
    "CostCenter": _S,
    "Currency": _Field("str", exact_len=3),
    "Description": _S,
    "Project": _S,
    "TransactionInformation": _S,
}

# fortnox_InvoicePayment: the writable part.
_PAYMENT_FIELDS: Final[Mapping[str, _Field]] = {
    "Amount": _Field("number"),
    "AmountCurrency": _Field("number"),
    "CurrencyRate": _Field("number"),
    "CurrencyUnit": _Field("number"),
    "InvoiceNumber": _Field("int"),
    "ModeOfPayment": _S,
    "ModeOfPaymentAccount": _ACCOUNT,
    "PaymentDate": _Field("date"),
    "WriteOffs": _Field("array", sub=_WRITE_OFF_FIELDS),
}
_PAYMENT_READ_ONLY: Final[frozenset[str]] = frozenset(
    {
        "@url", "Booked", "Currency", "ExternalInvoiceReference1", "ExternalInvoiceReference2",
        "InvoiceCustomerName", "InvoiceCustomerNumber", "InvoiceDueDate", "InvoiceOCR", "InvoiceTotal",
        "Number", "Source", "VoucherNumber", "VoucherSeries", "VoucherYear",
    }
)  # fmt: skip

# Every field of fortnox_Invoice, so an answer always has the full shape (unset ones are null).
_INVOICE_SHAPE: Final[tuple[str, ...]] = tuple(
    sorted(set(_INVOICE_FIELDS) | _INVOICE_READ_ONLY | {"Freight", "AdministrationFee"})
)

# fortnox_InvoiceListItem.
_LIST_FIELDS: Final[tuple[str, ...]] = (
    "@url", "Balance", "Booked", "Cancelled", "CostCenter", "Currency", "CurrencyRate", "CurrencyUnit",
    "CustomerName", "CustomerNumber", "DocumentNumber", "DueDate", "ExternalInvoiceReference1",
    "ExternalInvoiceReference2", "FinalPayDate", "InvoiceDate", "InvoiceType", "NoxFinans", "OCR",
    "Project", "Sent", "TermsOfPayment", "Total", "VoucherNumber", "VoucherSeries", "VoucherYear",
    "WayOfDelivery",
)  # fmt: skip
_PAYMENT_LIST_FIELDS: Final[tuple[str, ...]] = (
    "@url", "Amount", "Booked", "Currency", "CurrencyRate", "CurrencyUnit", "InvoiceNumber", "Number",
    "PaymentDate", "Source", "WriteOffExist",
)  # fmt: skip

# Search parameter -> invoice field: substring matches, one at a time (as Fortnox's customer search).
_SEARCH_FILTERS: Final[Mapping[str, str]] = {
    "externalinvoicereference1": "ExternalInvoiceReference1",
    "externalinvoicereference2": "ExternalInvoiceReference2",
    "customernumber": "CustomerNumber",
    "customername": "CustomerName",
    "documentnumber": "DocumentNumber",
    "ocr": "OCR",
    "yourreference": "YourReference",
    "ourreference": "OurReference",
    "yourordernumber": "YourOrderNumber",
    "project": "Project",
    "costcenter": "CostCenter",
    "currency": "Currency",
}
_STATUS_FILTERS: Final[tuple[str, ...]] = ("cancelled", "fullypaid", "unpaid", "unpaidoverdue", "unbooked")
_SORT_KEYS: Final[tuple[str, ...]] = (
    "documentnumber", "customernumber", "customername", "invoicedate", "ocr", "total",
)  # fmt: skip


def _first_invalid_char(value: str) -> str | None:
    for char in value:
        # Cc: control characters; Cs: lone surrogates. Fortnox answers 2000359 for both and for emoji.
        if ord(char) > 0xFFFF or unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _parse_date(name: str, value: str) -> date:
    if not _DATE_RE.fullmatch(value):
        raise _bad("invalid_date", f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad("invalid_date", f"{name} is not a valid date: {value!r}") from None


def _checked(name: str, value: Any, spec: _Field) -> Any:
    """One field's value checked against its spec; numbers come back as Decimal, dates as str."""
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise _bad("wrong_type", f"{name} must be true or false")
        return value
    if spec.kind in ("number", "quantity"):
        if spec.kind == "number" and isinstance(value, str):
            raise _bad("wrong_type", f"{name} must be a number")
        try:
            number = to_decimal(value)
        except ValueError:
            raise _bad("wrong_type", f"{name} must be a number") from None
        if abs(number) >= _MAX_AMOUNT:
            raise _bad("wrong_type", f"{name} is too large")
        return number
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise _bad("wrong_type", f"{name} must be a whole number")
        try:
            number = to_decimal(value)
        except ValueError:
            raise _bad("wrong_type", f"{name} must be a whole number") from None
        if number != number.to_integral_value():
            raise _bad("wrong_type", f"{name} must be a whole number")
        whole = int(number)
        if (spec.minimum is not None and whole < spec.minimum) or (
            spec.maximum is not None and whole > spec.maximum
        ):
            raise _bad("wrong_type", f"{name} must be between {spec.minimum} and {spec.maximum}")
        return whole
    if spec.kind == "object":
        if not isinstance(value, dict) or spec.sub is None:
            raise _bad("wrong_type", f"{name} must be an object")
        return _checked_object(name, value, spec.sub, frozenset())
    if spec.kind == "array":
        if not isinstance(value, list) or spec.sub is None:
            raise _bad("wrong_type", f"{name} must be a list")
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise _bad("wrong_type", f"{name}[{index}] must be an object")
            read_only = _ROW_READ_ONLY if spec.sub is _ROW_FIELDS else frozenset()
            items.append(_checked_object(f"{name}[{index}]", item, spec.sub, read_only))
        return items
    if not isinstance(value, str):
        raise _bad("wrong_type", f"{name} must be a string")
    bad = _first_invalid_char(value)
    if bad is not None:
        raise _bad("invalid_characters", f"Invalid characters in {name} (U+{ord(bad):04X})")
    if spec.max_len is not None and len(value) > spec.max_len:
        raise _bad("too_long", f"{name} must be at most {spec.max_len} characters")
    if spec.exact_len is not None and value and len(value) != spec.exact_len:
        raise _bad("too_long", f"{name} must be exactly {spec.exact_len} characters")
    if spec.enum and value not in spec.enum:
        raise _bad("invalid_enum", f"{name} must be one of {', '.join(spec.enum)}")
    if spec.kind == "date" and value:
        _parse_date(name, value)
    return value


def _checked_object(
    name: str, value: Mapping[str, Any], fields: Mapping[str, _Field], read_only: frozenset[str]
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if key in read_only:
            continue
        spec = fields.get(key)
        if spec is None:
            raise _bad("unknown_field", f"Unknown field: {name}.{key}" if name else f"Unknown field: {key}")
        if item is None:  # null is "not sent", as for customers
            continue
        clean[key] = _checked(f"{name}.{key}" if name else key, item, spec)
    return clean


# ----------------------------------------------------------------------------- state


@dataclass
class InvoiceBook:
    """One tenant's invoices and payments (amounts as Decimal; rendered to JSON numbers on the way out)."""

    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    modified_at: dict[str, float] = field(default_factory=dict)
    next_invoice: int = 1
    next_payment: int = 1
    next_row_id: int = 1
    # Voucher numbers per (series, year): B for invoices, C for payments (Fortnox's usual series).
    vouchers: Counter[tuple[str, int]] = field(default_factory=Counter)


@dataclass(frozen=True)
class InvoiceContext:
    """What one request needs from the rest of the simulator (read under its lock)."""

    customers: Mapping[str, Mapping[str, Any]]
    currencies: frozenset[str]
    accounts: frozenset[int]
    closed_years: frozenset[int]
    round_off: bool
    currency_rates: Mapping[str, float]
    payment_requires_booked: bool
    search_wildcards: bool
    now: float  # wall-clock epoch seconds (the simulator's clock)
    zone: tzinfo
    base_url: str  # ".../3"

    @property
    def today(self) -> date:
        return datetime.fromtimestamp(self.now, self.zone).date()


def invoice_route_template(path: str) -> str | None:
    """The stats route of an invoice path ("/3/invoices/{n}/bookkeep"), None for other resources."""
    segments = path.split("/")
    if len(segments) < 3 or segments[1] != "3" or segments[2] not in ("invoices", "invoicepayments"):
        return None
    base = f"/3/{segments[2]}"
    if len(segments) == 3:
        return base
    if len(segments) == 4:
        return base + "/{n}"
    actions = ("bookkeep", "cancel", "credit") if segments[2] == "invoices" else ("bookkeep",)
    if len(segments) == 5 and segments[4] in actions:
        return f"{base}/{{n}}/{segments[4]}"
    return "/3/{unknown}"


def handle_invoice_request(
    book: InvoiceBook,
    ctx: InvoiceContext,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    content_type: str | None,
    body: bytes,
) -> tuple[int, Any]:
    """Answer one /3/invoices or /3/invoicepayments request: (status, JSON body or None)."""
    return _Handler(book, ctx, content_type, body).handle(method, path, query)


def _wrapped_body(content_type: str | None, body: bytes, wrapper: str) -> dict[str, Any]:
    if (content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        raise _bad("invalid_content_type", "Invalid Content-Type, use application/json")
    try:
        # Decimal keeps 19.99 exact: Fortnox reads amounts as decimals, not doubles.
        data = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("invalid_body", "The request body is not valid JSON") from None
    if not isinstance(data, dict) or set(data) != {wrapper} or not isinstance(data[wrapper], dict):
        raise _bad("invalid_body", f'The body must be {{"{wrapper}": {{...}}}}')
    inner: dict[str, Any] = data[wrapper]
    return inner


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _number_key(number: str) -> tuple[int, int, str]:
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def _like(value: str, wildcards: bool) -> re.Pattern[str]:
    parts = []
    for char in value:
        if wildcards and char == "%":
            parts.append(".*")
        elif wildcards and char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _ocr(number: int) -> str:
    """Document number, a length digit and a Luhn check digit: the usual Swedish OCR layout."""
    digits = f"{number}{(len(str(number)) + 2) % 10}"
    total = 0
    for index, char in enumerate(reversed(digits)):
        d = int(char) * (2 if index % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


class _Handler:
    def __init__(self, book: InvoiceBook, ctx: InvoiceContext, content_type: str | None, body: bytes) -> None:
        self.book = book
        self.ctx = ctx
        self.content_type = content_type
        self.body = body

    # ------------------------------------------------------------------ routing

    def handle(self, method: str, path: str, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        segments = path.split("/")
        resource = segments[2]
        # Split before unquoting, as for customers.
        number = unquote(segments[3]) if len(segments) > 3 else None
        action = segments[4] if len(segments) == 5 else None
        if len(segments) > 5 or (len(segments) == 4 and not number):
            raise _bad("unknown_resource", f"The simulator does not implement {path}", 404)
        if resource == "invoices":
            routes: dict[tuple[str | None, str], Callable[[], tuple[int, Any]]] = {
                ("", "GET"): lambda: self.list_invoices(query),
                ("", "POST"): lambda: self.create_invoice(),
                ("{n}", "GET"): lambda: (200, {"Invoice": self.render(self.invoice(number))}),
                ("{n}", "PUT"): lambda: self.update_invoice(self.invoice(number)),
                ("bookkeep", "PUT"): lambda: self.bookkeep_invoice(self.invoice(number)),
                ("cancel", "PUT"): lambda: self.cancel_invoice(self.invoice(number)),
                ("credit", "PUT"): lambda: self.credit_invoice(self.invoice(number)),
            }
        else:
            routes = {
                ("", "GET"): lambda: self.list_payments(query),
                ("", "POST"): lambda: self.create_payment(),
                ("{n}", "GET"): lambda: (200, {"InvoicePayment": self.render_payment(self.payment(number))}),
                ("{n}", "DELETE"): lambda: self.delete_payment(self.payment(number)),
                ("bookkeep", "PUT"): lambda: self.bookkeep_payment(self.payment(number)),
            }
        key = "" if number is None else ("{n}" if action is None else action)
        if not any(k == key for k, _ in routes):
            raise _bad("unknown_resource", f"The simulator does not implement {path}", 404)
        handler = routes.get((key, method))
        if handler is None:
            raise _bad(
                "method_not_allowed", f"{method} is not allowed on {invoice_route_template(path)}", 405
            )
        return handler()

    # ------------------------------------------------------------------ helpers

    def invoice(self, number: str | None) -> dict[str, Any]:
        invoice = self.book.invoices.get(number or "")
        if invoice is None:
            raise _bad("invoice_not_found", f"Invoice {number} not found", 404)
        return invoice

    def payment(self, number: str | None) -> dict[str, Any]:
        payment = self.book.payments.get(number or "")
        if payment is None:
            raise _bad("payment_not_found", f"Invoice payment {number} not found", 404)
        return payment

    def check_year(self, day: date, what: str) -> None:
        if day.year in self.ctx.closed_years:
            raise _bad(
                "financial_year_closed",
                f"{what} {day.isoformat()} is in the financial year {day.year}, which is closed (locked)",
            )

    def check_account(self, account: int, what: str) -> None:
        if account not in self.ctx.accounts:
            raise _bad(
                "account_not_found", f"Account {account} ({what}) does not exist in the chart of accounts"
            )

    def touch(self, number: str) -> None:
        self.book.modified_at[number] = self.ctx.now

    def voucher(self, series: str, year: int) -> dict[str, Any]:
        self.book.vouchers[(series, year)] += 1
        return {
            "VoucherSeries": series,
            "VoucherNumber": self.book.vouchers[(series, year)],
            "VoucherYear": year,
        }

    def url(self, resource: str, number: str) -> str:
        return f"{self.ctx.base_url}/{resource}/{number}"

    def render(self, invoice: Mapping[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in invoice.items() if not k.startswith("_")}
        result["@url"] = self.url("invoices", invoice["DocumentNumber"])
        rendered: dict[str, Any] = _jsonable(result)
        for row in rendered["InvoiceRows"]:
            # A string in the spec, shown with two decimals as Fortnox does ("3.00").
            quantity = to_decimal(row["DeliveredQuantity"])
            row["DeliveredQuantity"] = f"{quantity:.2f}" if quantity == round(quantity, 2) else str(quantity)
        return rendered

    def render_payment(self, payment: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(payment)
        result["@url"] = self.url("invoicepayments", payment["Number"])
        rendered: dict[str, Any] = _jsonable(result)
        return rendered

    # ------------------------------------------------------------------ invoices: reads

    def list_invoices(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        def param(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        limit = self.positive(param("limit"), "limit", 100, 500)
        page = self.positive(param("page"), "page", 1, None)
        searches = [name for name in _SEARCH_FILTERS if name in query]
        if len(searches) > 1:
            raise _bad("multiple_filters", f"Only one search filter at a time, got {', '.join(searches)}")
        status = param("filter")
        if status is not None and status not in _STATUS_FILTERS:
            raise _bad("invalid_parameter", f"filter must be one of {', '.join(_STATUS_FILTERS)}")
        sortby = param("sortby") or "documentnumber"
        sortorder = param("sortorder") or "ascending"
        if sortby not in _SORT_KEYS or sortorder not in ("ascending", "descending"):
            raise _bad("invalid_parameter", "sortby/sortorder has an unknown value")
        from_date = param("fromdate")
        to_date = param("todate")
        for name, raw in (("fromdate", from_date), ("todate", to_date)):
            if raw is not None and not _DATE_RE.fullmatch(raw):
                raise _bad("invalid_parameter", f"{name} must be YYYY-MM-DD")

        matches = [self.book.invoices[n] for n in sorted(self.book.invoices, key=_number_key)]
        if searches:
            pattern = _like(param(searches[0]) or "", self.ctx.search_wildcards)
            target = _SEARCH_FILTERS[searches[0]]
            matches = [i for i in matches if i.get(target) and pattern.search(str(i[target]))]
        if status is not None:
            matches = [i for i in matches if self.status_matches(i, status)]
        if from_date is not None:
            matches = [i for i in matches if i["InvoiceDate"] >= from_date]
        if to_date is not None:
            matches = [i for i in matches if i["InvoiceDate"] <= to_date]
        sort_field = {
            "documentnumber": "DocumentNumber",
            "customernumber": "CustomerNumber",
            "customername": "CustomerName",
            "invoicedate": "InvoiceDate",
            "ocr": "OCR",
            "total": "Total",
        }[sortby]
        if sortby != "documentnumber":
            matches.sort(
                key=lambda i: (
                    i.get(sort_field) if sortby == "total" else str(i.get(sort_field) or "").casefold(),
                    _number_key(i["DocumentNumber"]),
                )
            )
        if sortorder == "descending":
            matches.reverse()
        total = len(matches)
        items = []
        for invoice in matches[(page - 1) * limit : page * limit]:
            rendered = self.render(invoice)
            items.append({name: rendered.get(name) for name in _LIST_FIELDS})
        meta = {
            "@TotalResources": total,
            "@TotalPages": max(1, math.ceil(total / limit)),
            "@CurrentPage": page,
        }
        return 200, {"Invoices": items, "MetaInformation": meta}

    def status_matches(self, invoice: Mapping[str, Any], status: str) -> bool:
        cancelled = bool(invoice["Cancelled"])
        if status == "cancelled":
            return cancelled
        if status == "unbooked":
            return not cancelled and not invoice["Booked"]
        paid = invoice["Balance"] == 0
        if status == "fullypaid":
            return not cancelled and paid
        overdue = invoice["DueDate"] < self.ctx.today.isoformat()
        return not cancelled and not paid and (status == "unpaid" or overdue)

    @staticmethod
    def positive(raw: str | None, name: str, default: int, maximum: int | None) -> int:
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad("invalid_parameter", f"{name} must be a whole number") from None
        if value < 1 or (maximum is not None and value > maximum):
            raise _bad("invalid_parameter", f"{name} must be {f'1..{maximum}' if maximum else 'at least 1'}")
        return value

    # ------------------------------------------------------------------ invoices: writes

    def create_invoice(self) -> tuple[int, Any]:
        fields = _checked_object(
            "", _wrapped_body(self.content_type, self.body, "Invoice"), _INVOICE_FIELDS, _INVOICE_READ_ONLY
        )
        customer_number = fields.get("CustomerNumber")
        if not customer_number:
            raise _bad("customer_not_found", "CustomerNumber is required")
        customer = self.ctx.customers.get(customer_number)
        if customer is None:
            raise _bad("customer_not_found", f"Customer {customer_number} does not exist")

        number = fields.pop("DocumentNumber", "") or ""
        if number:
            if not _DIGITS_RE.fullmatch(number) or number in self.book.invoices:
                raise _bad("invalid_parameter", f"DocumentNumber {number} is not valid or already in use")
        else:
            while str(self.book.next_invoice) in self.book.invoices:
                self.book.next_invoice += 1
            number = str(self.book.next_invoice)

        invoice: dict[str, Any] = {name: None for name in _INVOICE_SHAPE}
        invoice.update(
            {
                "DocumentNumber": number,
                "CustomerNumber": customer_number,
                "CustomerName": customer.get("Name"),
                "Address1": customer.get("Address1"),
                "Address2": customer.get("Address2"),
                "ZipCode": customer.get("ZipCode"),
                "City": customer.get("City"),
                "Country": customer.get("Country"),
                "OrganisationNumber": customer.get("OrganisationNumber"),
                "Currency": customer.get("Currency") or "SEK",
                "CurrencyUnit": 1,
                "InvoiceType": "INVOICE",
                "Language": "SV",
                "AccountingMethod": "ACCRUAL",
                "VATIncluded": bool(customer.get("ShowPriceVATIncluded")),
                "TermsOfPayment": str(_DEFAULT_TERMS_DAYS),
                "InvoiceDate": self.ctx.today.isoformat(),
                "Booked": False,
                "Cancelled": False,
                "Sent": False,
                "NotCompleted": False,
                "NoxFinans": False,
                "HouseWork": False,
                "EUQuarterlyReport": False,
                "Credit": "false",
                "CreditInvoiceReference": "0",
                "Freight": Decimal(0),
                "FreightVAT": Decimal(0),
                "AdministrationFee": Decimal(0),
                "AdministrationFeeVAT": Decimal(0),
                "OCR": _ocr(int(number)),
                "InvoiceRows": [],
                "ExternalInvoiceReference1": "",
                "ExternalInvoiceReference2": "",
                "_credits": [],  # document numbers of credit invoices referencing this one
                "_vat_type": customer.get("VATType") or "SEVAT",
            }
        )
        credit_of = fields.pop("CreditInvoiceReference", None)
        self.apply(invoice, fields, creating=True)
        original = self.credit_reference(invoice, credit_of)
        self.book.invoices[number] = invoice
        self.book.next_invoice = max(self.book.next_invoice, int(number) + 1)
        if original is not None:
            self.link_credit(original, invoice)
        self.touch(number)
        return 201, {"Invoice": self.render(invoice)}

    def update_invoice(self, invoice: dict[str, Any]) -> tuple[int, Any]:
        fields = _checked_object(
            "", _wrapped_body(self.content_type, self.body, "Invoice"), _INVOICE_FIELDS, _INVOICE_READ_ONLY
        )
        self.assert_changeable(invoice)
        for name in ("DocumentNumber", "CustomerNumber", "CreditInvoiceReference"):
            given = fields.pop(name, None)
            if given not in (None, "", invoice[name]):
                raise _bad("invalid_parameter", f"{name} cannot be changed")
        amounts_change = "InvoiceRows" in fields or "VATIncluded" in fields or "Currency" in fields
        if amounts_change and (invoice["_credits"] or invoice["Credit"] == "true"):
            # Changing an invoice that has credits (or is one) would break the credit arithmetic.
            raise _bad("invalid_credit_reference", "The rows of an invoice linked to a credit cannot change")
        if amounts_change and invoice["Balance"] != invoice["Total"]:
            raise _bad("invalid_amount", "The rows of an invoice with payments cannot change")
        self.apply(invoice, fields, creating=False)
        self.touch(invoice["DocumentNumber"])
        return 200, {"Invoice": self.render(invoice)}

    def assert_changeable(self, invoice: Mapping[str, Any]) -> None:
        if invoice["Cancelled"]:
            raise _bad("invoice_cancelled", f"Invoice {invoice['DocumentNumber']} is cancelled")
        if invoice["Booked"]:
            raise _bad(
                "invoice_booked",
                f"Invoice {invoice['DocumentNumber']} is booked and cannot be changed: credit it instead",
            )

    def apply(self, invoice: dict[str, Any], fields: dict[str, Any], *, creating: bool) -> None:
        """Validate the semantics of a create or update and apply it, recomputing the totals."""
        for unsupported in ("Freight", "AdministrationFee"):
            if fields.get(unsupported, 0) != 0:
                raise _bad("unsupported", f"{unsupported} is not simulated: send it as an invoice row")
        if fields.get("TaxReductionType") not in (None, "none"):
            raise _bad("unsupported", "Tax reductions (ROT/RUT) are not simulated")
        rows = fields.pop("InvoiceRows", None)
        currency = fields.get("Currency", invoice["Currency"])
        if currency not in self.ctx.currencies:
            raise _bad("invalid_currency", f"Currency {currency!r} does not exist in this company")
        if currency != invoice["Currency"] and "CurrencyRate" not in fields:
            fields["CurrencyRate"] = None  # a new currency takes the register's rate
        invoice.update(fields)
        if invoice.get("CurrencyRate") is None:
            invoice["CurrencyRate"] = to_decimal(self.ctx.currency_rates.get(currency, 1.0))
        if invoice["CurrencyRate"] <= 0:
            raise _bad("invalid_amount", "CurrencyRate must be positive")
        if currency == "SEK" and invoice["CurrencyRate"] != 1:
            raise _bad("invalid_amount", "CurrencyRate must be 1 for SEK")

        invoice_date = _parse_date("InvoiceDate", invoice["InvoiceDate"])
        self.check_year(invoice_date, "InvoiceDate")
        if creating and "DueDate" not in fields:
            terms = str(invoice.get("TermsOfPayment") or "")
            days = int(terms) if terms.isdigit() else _DEFAULT_TERMS_DAYS
            invoice["DueDate"] = (invoice_date + timedelta(days=days)).isoformat()
        if _parse_date("DueDate", invoice["DueDate"]) < invoice_date:
            raise _bad("invalid_date", "DueDate cannot be before InvoiceDate")

        if rows is not None:
            invoice["InvoiceRows"] = [self.row(index, row, invoice) for index, row in enumerate(rows)]
        self.recompute(invoice)

    def row(self, index: int, row: Mapping[str, Any], invoice: Mapping[str, Any]) -> dict[str, Any]:
        name = f"InvoiceRows[{index}]"
        if row.get("ArticleNumber"):
            raise _bad("unsupported", f"{name}: articles are not simulated, send AccountNumber and Price")
        if row.get("HouseWork"):
            raise _bad("unsupported", f"{name}: house work (ROT/RUT) is not simulated")
        if row.get("DiscountType", "PERCENT") == "PERCENT" and not 0 <= row.get("Discount", 0) <= 100:
            raise _bad("invalid_amount", f"{name}.Discount must be 0..100 percent")
        reversed_vat = invoice["_vat_type"] in ("SEREVERSEDVAT", "EUREVERSEDVAT", "EXPORT")
        vat = row.get("VAT", 0 if reversed_vat else 25)
        if vat not in VAT_RATES:
            raise _bad("invalid_vat", f"{name}.VAT {vat} is not a VAT rate Fortnox has")
        priced = "Price" in row or "DeliveredQuantity" in row
        account = row.get("AccountNumber", 3001 if priced else None)
        if account is not None:
            self.check_account(account, f"{name}.AccountNumber")
        quantity = row.get("DeliveredQuantity", Decimal(0))
        self.book.next_row_id += 1
        stored: dict[str, Any] = {
            "RowId": self.book.next_row_id - 1,
            "AccountNumber": account,
            "ArticleNumber": "",
            "CostCenter": row.get("CostCenter", ""),
            "DeliveredQuantity": quantity,
            "Description": row.get("Description", ""),
            "Discount": row.get("Discount", Decimal(0)),
            "DiscountType": row.get("DiscountType", "PERCENT"),
            "HouseWork": False,
            "Price": row.get("Price", Decimal(0)),
            "Project": row.get("Project", ""),
            "Unit": row.get("Unit", ""),
            "VAT": vat,
            "VATCode": row.get("VATCode"),
        }
        return stored

    def recompute(self, invoice: dict[str, Any]) -> None:
        totals = compute_totals(
            invoice["InvoiceRows"],
            vat_included=bool(invoice["VATIncluded"]),
            currency=invoice["Currency"],
            round_off=self.ctx.round_off,
        )
        for row, amounts in zip(invoice["InvoiceRows"], totals.rows, strict=True):
            row["Price"] = amounts.price
            row["Total"] = amounts.total
            row["TotalExcludingVAT"] = amounts.total_excluding_vat
            row["PriceExcludingVAT"] = amounts.price_excluding_vat
        invoice.update(
            Net=totals.net,
            TotalVAT=totals.total_vat,
            Gross=totals.gross,
            RoundOff=totals.round_off,
            Total=totals.total,
            TotalToPay=totals.total,
            Balance=totals.total,
            Credit="true" if totals.total < 0 else "false",
        )

    def credit_reference(self, invoice: dict[str, Any], reference: str | None) -> dict[str, Any] | None:
        """Check a credit invoice against the invoice it credits; None when it is no credit."""
        if reference in (None, "", "0"):
            return None
        original = self.book.invoices.get(str(reference))
        if original is None:
            raise _bad("invalid_credit_reference", f"CreditInvoiceReference {reference}: no such invoice")
        if original["Cancelled"]:
            raise _bad("invalid_credit_reference", f"Invoice {reference} is cancelled and cannot be credited")
        if original["Credit"] == "true":
            raise _bad("invalid_credit_reference", f"Invoice {reference} is itself a credit invoice")
        if (
            original["CustomerNumber"] != invoice["CustomerNumber"]
            or original["Currency"] != invoice["Currency"]
        ):
            raise _bad(
                "invalid_credit_reference", "A credit invoice must have its invoice's customer and currency"
            )
        # Compared before öresavrundning: refunds of a few öre each must not round up past the invoice.
        if invoice["Gross"] >= 0:
            raise _bad("invalid_credit_reference", "A credit invoice must have a negative total")
        credited = sum((-self.book.invoices[n]["Gross"] for n in original["_credits"]), Decimal(0))
        if credited - invoice["Gross"] > original["Gross"]:
            raise _bad(
                "credit_exceeds_invoice",
                f"Credits ({credited - invoice['Gross']}) would exceed invoice {reference}'s total "
                f"({original['Gross']})",
            )
        invoice["CreditInvoiceReference"] = original["DocumentNumber"]
        return original

    def link_credit(self, original: dict[str, Any], credit: Mapping[str, Any]) -> None:
        original["_credits"].append(credit["DocumentNumber"])
        if original["CreditInvoiceReference"] in (None, "", "0"):
            # The invoice shows its first credit invoice: Fortnox has one reference field.
            original["CreditInvoiceReference"] = credit["DocumentNumber"]
        self.touch(original["DocumentNumber"])

    def bookkeep_invoice(self, invoice: dict[str, Any]) -> tuple[int, Any]:
        if invoice["Cancelled"]:
            raise _bad("invoice_cancelled", f"Invoice {invoice['DocumentNumber']} is cancelled")
        if invoice["Booked"]:
            raise _bad("already_booked", f"Invoice {invoice['DocumentNumber']} is already booked")
        day = _parse_date("InvoiceDate", invoice["InvoiceDate"])
        self.check_year(day, "InvoiceDate")
        for row in invoice["InvoiceRows"]:
            # The chart may have changed since the invoice was saved.
            if row["AccountNumber"] is not None:
                self.check_account(row["AccountNumber"], "InvoiceRows.AccountNumber")
        invoice["Booked"] = True
        invoice.update(self.voucher("B", day.year))
        self.touch(invoice["DocumentNumber"])
        return 200, {"Invoice": self.render(invoice)}

    def cancel_invoice(self, invoice: dict[str, Any]) -> tuple[int, Any]:
        self.assert_changeable(invoice)
        if invoice["Balance"] != invoice["Total"]:
            raise _bad(
                "invalid_amount", f"Invoice {invoice['DocumentNumber']} has payments: remove them first"
            )
        invoice["Cancelled"] = True
        invoice["Balance"] = Decimal(0)
        self.touch(invoice["DocumentNumber"])
        return 200, {"Invoice": self.render(invoice)}

    def credit_invoice(self, invoice: dict[str, Any]) -> tuple[int, Any]:
        number = invoice["DocumentNumber"]
        if invoice["Cancelled"]:
            raise _bad("invoice_cancelled", f"Invoice {number} is cancelled")
        if invoice["Credit"] == "true":
            raise _bad("invalid_credit_reference", f"Invoice {number} is a credit invoice")
        if invoice["CreditInvoiceReference"] not in (None, "", "0"):
            # Reported: Fortnox makes one credit invoice per invoice through this action.
            raise _bad(
                "already_credited",
                f"Invoice {number} already has a credit invoice ({invoice['CreditInvoiceReference']})",
            )
        while str(self.book.next_invoice) in self.book.invoices:
            self.book.next_invoice += 1
        credit_number = str(self.book.next_invoice)
        self.book.next_invoice += 1
        credit: dict[str, Any] = dict(invoice)
        rows = []
        for row in invoice["InvoiceRows"]:
            self.book.next_row_id += 1
            quantity = -to_decimal(row["DeliveredQuantity"])
            # A PERCENT discount scales with the row; an AMOUNT discount is on the row total, so it
            # changes sign with the quantity.
            discount = row["Discount"] if row["DiscountType"] == "PERCENT" else -row["Discount"]
            rows.append(
                {
                    **row,
                    "RowId": self.book.next_row_id - 1,
                    "DeliveredQuantity": quantity,
                    "Discount": discount,
                }
            )
        credit.update(
            DocumentNumber=credit_number,
            OCR=_ocr(int(credit_number)),
            InvoiceRows=rows,
            InvoiceDate=max(self.ctx.today.isoformat(), invoice["InvoiceDate"]),
            Booked=False,
            Sent=False,
            VoucherNumber=None,
            VoucherSeries=None,
            VoucherYear=None,
            FinalPayDate=None,
            CreditInvoiceReference=number,
            _credits=[],
        )
        credit["DueDate"] = credit["InvoiceDate"]
        self.recompute(credit)
        self.book.invoices[credit_number] = credit
        self.link_credit(invoice, credit)
        self.touch(credit_number)
        return 200, {"Invoice": self.render(invoice)}

    # ------------------------------------------------------------------ payments

    def list_payments(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        def param(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        limit = self.positive(param("limit"), "limit", 100, 500)
        page = self.positive(param("page"), "page", 1, None)
        wanted = param("invoicenumber")
        payments = [self.book.payments[n] for n in sorted(self.book.payments, key=_number_key)]
        if wanted is not None:
            payments = [p for p in payments if str(p["InvoiceNumber"]) == wanted.strip()]
        total = len(payments)
        items = []
        for payment in payments[(page - 1) * limit : page * limit]:
            rendered = self.render_payment(payment)
            rendered["WriteOffExist"] = bool(payment["WriteOffs"])
            items.append({name: rendered.get(name) for name in _PAYMENT_LIST_FIELDS})
        meta = {
            "@TotalResources": total,
            "@TotalPages": max(1, math.ceil(total / limit)),
            "@CurrentPage": page,
        }
        return 200, {"InvoicePayments": items, "MetaInformation": meta}

    def create_payment(self) -> tuple[int, Any]:
        fields = _checked_object(
            "",
            _wrapped_body(self.content_type, self.body, "InvoicePayment"),
            _PAYMENT_FIELDS,
            _PAYMENT_READ_ONLY,
        )
        if "InvoiceNumber" not in fields:
            raise _bad("invoice_not_found", "InvoiceNumber is required")
        invoice = self.book.invoices.get(str(fields["InvoiceNumber"]))
        if invoice is None:
            raise _bad("invoice_not_found", f"Invoice {fields['InvoiceNumber']} does not exist")
        number = invoice["DocumentNumber"]
        if invoice["Cancelled"]:
            raise _bad("invoice_cancelled", f"Invoice {number} is cancelled")
        if self.ctx.payment_requires_booked and not invoice["Booked"]:
            raise _bad(
                "invoice_not_booked", f"Invoice {number} must be booked before a payment is registered"
            )

        payment_date = _parse_date("PaymentDate", fields.get("PaymentDate") or self.ctx.today.isoformat())
        if payment_date.isoformat() < invoice["InvoiceDate"]:
            raise _bad(
                "payment_before_invoice",
                f"PaymentDate {payment_date.isoformat()} is before the invoice date {invoice['InvoiceDate']}",
            )
        self.check_year(payment_date, "PaymentDate")

        currency = invoice["Currency"]
        rate = fields.get("CurrencyRate") or invoice["CurrencyRate"]
        if currency == "SEK":
            if "Amount" not in fields:
                raise _bad("invalid_amount", "Amount is required")
            amount = _round(fields["Amount"])
            amount_currency = amount
        else:
            if "AmountCurrency" not in fields:
                raise _bad("invalid_amount", f"AmountCurrency is required for an invoice in {currency}")
            amount_currency = _round(fields["AmountCurrency"])
            amount = _round(fields["Amount"]) if "Amount" in fields else _round(amount_currency * rate)
        write_offs = []
        for index, write_off in enumerate(fields.get("WriteOffs", [])):
            if "AccountNumber" not in write_off or "Amount" not in write_off:
                raise _bad("invalid_amount", f"WriteOffs[{index}] needs AccountNumber and Amount")
            self.check_account(write_off["AccountNumber"], f"WriteOffs[{index}].AccountNumber")
            write_offs.append({**write_off, "Amount": _round(write_off["Amount"]), "Currency": currency})
        settled = amount_currency + sum((w["Amount"] for w in write_offs), Decimal(0))
        balance = invoice["Balance"]
        if amount_currency == 0:
            raise _bad("invalid_amount", "The payment amount must not be zero")
        # A payment that nets to zero with its write-offs is allowed even on a zero balance: money
        # did arrive (0.01 SEK on an invoice öresavrundning took down to 0.00).
        if settled and ((settled > 0) != (balance > 0) or abs(settled) > abs(balance)):
            raise _bad(
                "invalid_amount",
                f"Payment {settled} (with write-offs) does not fit invoice {number}'s balance {balance}",
            )
        account = fields.get("ModeOfPaymentAccount", 1930)
        self.check_account(account, "ModeOfPaymentAccount")

        payment_number = str(self.book.next_payment)
        self.book.next_payment += 1
        payment: dict[str, Any] = {
            "Number": payment_number,
            "InvoiceNumber": int(number),
            "Amount": amount,
            "AmountCurrency": amount_currency,
            "Booked": False,
            "Currency": currency,
            "CurrencyRate": rate,
            "CurrencyUnit": fields.get("CurrencyUnit", Decimal(1)),
            "ExternalInvoiceReference1": invoice["ExternalInvoiceReference1"],
            "ExternalInvoiceReference2": invoice["ExternalInvoiceReference2"],
            "InvoiceCustomerName": invoice["CustomerName"],
            "InvoiceCustomerNumber": invoice["CustomerNumber"],
            "InvoiceDueDate": invoice["DueDate"],
            "InvoiceOCR": invoice["OCR"],
            "InvoiceTotal": str(invoice["Total"]),
            "ModeOfPayment": fields.get("ModeOfPayment", ""),
            "ModeOfPaymentAccount": account,
            "PaymentDate": payment_date.isoformat(),
            "Source": "direct",
            "VoucherNumber": None,
            "VoucherSeries": None,
            "VoucherYear": None,
            "WriteOffs": write_offs,
        }
        self.book.payments[payment_number] = payment
        invoice["Balance"] = balance - settled
        if invoice["Balance"] == 0:
            invoice["FinalPayDate"] = payment_date.isoformat()
        self.touch(number)
        return 201, {"InvoicePayment": self.render_payment(payment)}

    def bookkeep_payment(self, payment: dict[str, Any]) -> tuple[int, Any]:
        if payment["Booked"]:
            raise _bad("already_booked", f"Invoice payment {payment['Number']} is already booked")
        day = _parse_date("PaymentDate", payment["PaymentDate"])
        self.check_year(day, "PaymentDate")
        payment["Booked"] = True
        payment.update(self.voucher("C", day.year))
        return 200, {"InvoicePayment": self.render_payment(payment)}

    def delete_payment(self, payment: dict[str, Any]) -> tuple[int, Any]:
        if payment["Booked"]:
            raise _bad(
                "already_booked", f"Invoice payment {payment['Number']} is booked and cannot be removed"
            )
        invoice = self.book.invoices[str(payment["InvoiceNumber"])]
        settled = payment["AmountCurrency"] + sum((w["Amount"] for w in payment["WriteOffs"]), Decimal(0))
        invoice["Balance"] += settled
        invoice["FinalPayDate"] = None
        del self.book.payments[payment["Number"]]
        self.touch(invoice["DocumentNumber"])
        return 204, None


def render_invoices(book: InvoiceBook, base_url: str) -> list[dict[str, Any]]:
    """Every invoice of a book as the API shows it, for the simulator's inspection accessors."""
    handler = _Handler(book, _inspection_context(base_url), None, b"")
    return [handler.render(book.invoices[n]) for n in sorted(book.invoices, key=_number_key)]


def render_payments(book: InvoiceBook, base_url: str) -> list[dict[str, Any]]:
    handler = _Handler(book, _inspection_context(base_url), None, b"")
    return [handler.render_payment(book.payments[n]) for n in sorted(book.payments, key=_number_key)]


def _inspection_context(base_url: str) -> InvoiceContext:
    return InvoiceContext(
        customers={},
        currencies=frozenset(),
        accounts=frozenset(),
        closed_years=frozenset(),
        round_off=False,
        currency_rates={},
        payment_requires_booked=True,
        search_wildcards=True,
        now=0.0,
        zone=UTC,
        base_url=base_url,
    )


def checked_accounts(accounts: Iterable[Any]) -> tuple[int, ...]:
    """A chart of accounts for the knob: four-digit account numbers, sorted."""
    if isinstance(accounts, str | bytes):
        raise ValueError("accounts must be a list of account numbers")
    result = set()
    for account in accounts:
        number = int(account) if isinstance(account, str) and account.isdigit() else account
        if isinstance(number, bool) or not isinstance(number, int) or not 1000 <= number <= 9999:
            raise ValueError(f"account {account!r} is not a four-digit account number")
        result.add(number)
    return tuple(sorted(result))


def invoice_knob_changes(
    *,
    accounts: Iterable[Any] | None,
    closed_years: Iterable[int] | None,
    invoice_round_off: bool | None,
    currency_rates: Mapping[str, float] | None,
    payment_requires_booked: bool | None,
) -> dict[str, Any]:
    """The simulator's invoice knobs, checked: name -> new value (None: unchanged)."""
    years: tuple[int, ...] | None = None
    if closed_years is not None:
        if isinstance(closed_years, str | bytes):
            raise ValueError("closed_years must be a list of years")
        years = tuple(sorted({int(year) for year in closed_years}))
        if not all(1900 <= year <= 9999 for year in years):
            raise ValueError("closed_years must be four-digit years")
    rates: dict[str, float] | None = None
    if currency_rates is not None:
        if not isinstance(currency_rates, Mapping):
            raise ValueError("currency_rates must map currency codes to SEK rates")
        rates = {}
        for code, rate in currency_rates.items():
            if not (isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code)):
                raise ValueError(f"currency_rates: {code!r} is not a three-letter upper-case code")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1e6:
                raise ValueError(f"currency_rates: the rate for {code} must be a positive number")
            rates[code] = float(rate)
        rates["SEK"] = 1.0
    return {
        "accounts": checked_accounts(accounts) if accounts is not None else None,
        "closed_years": years,
        "invoice_round_off": invoice_round_off,
        "currency_rates": rates,
        "payment_requires_booked": payment_requires_booked,
    }
