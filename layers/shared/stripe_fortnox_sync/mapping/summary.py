"""Summary booking's arithmetic: a payment's own tax data as parts per bucket (country, VAT rate and
kind: domestic, one-stop shop, reverse charge, export), in Stripe's settled SEK; a refund as the
reversal of the sale it refunds, in the same proportions. Pure functions, no I/O.

Tax data, in the shapes Stripe gives it: an invoice's `total_taxes` (API versions from 2025-03-31:
`tax_rate_details` and `taxability_reason`), its `total_tax_amounts` before that, a Checkout
Session's `total_details.breakdown.taxes` (its `rate` object expanded). A payment without any is
read from the buyer alone where that decides its VAT (a Swedish buyer, reverse charge, export); an
EU consumer's (or a buyer without a country) is `VatUnknown`: parked, never guessed.

Amounts are minor units of the payment's currency until `in_sek` converts them at the rate Stripe
settled the payment for (its balance transaction): each part's gross rounded to the öre, the tax at
the same rate, the remainder of the gross on the largest part, so the parts sum to the SEK exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.iso_codes import EU_COUNTRY_CODES
from stripe_fortnox_sync.mapping.money import as_decimal, as_int
from stripe_fortnox_sync.mapping.vat import derive_rate


class VatUnknown(Exception):
    """The payment's VAT cannot be told from what Stripe gives: parked as `vat_unknown`."""


class Kind(StrEnum):
    DOMESTIC = "domestic"
    OSS = "oss"
    REVERSE_CHARGE = "reverse_charge"
    EXPORT = "export"


@dataclass(frozen=True, order=True)
class Bucket:
    """Where a part of a sale is booked: the buyer's country, the VAT rate and the kind of sale."""

    country: str
    rate: int
    kind: Kind

    def label(self) -> str:
        return f"{self.country} {self.rate} % {self.kind.value}"


@dataclass(frozen=True)
class Part:
    """A bucket's share of a payment or refund: `net` and `vat` in minor units (negative: a refund)."""

    bucket: Bucket
    net: int
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat


@dataclass(frozen=True)
class TaxEntry:
    amount: int
    taxable: int
    reason: str
    percentage: Decimal | None
    country: str | None


def _tax_entry(raw: Mapping[str, Any]) -> TaxEntry:
    rate = raw.get("rate") or raw.get("tax_rate") or as_mapping(raw.get("tax_rate_details")).get("tax_rate")
    rate_obj = as_mapping(rate)
    percentage = rate_obj.get("effective_percentage") or rate_obj.get("percentage")
    taxable = raw.get("taxable_amount")
    country = rate_obj.get("country")
    return TaxEntry(
        amount=as_int(raw.get("amount", 0), "tax amount"),
        taxable=taxable if isinstance(taxable, int) and not isinstance(taxable, bool) else 0,
        reason=str(raw.get("taxability_reason") or rate_obj.get("taxability_reason") or ""),
        percentage=as_decimal(percentage, "tax percentage") if percentage is not None else None,
        country=country.upper() if isinstance(country, str) and country else None,
    )


def tax_entries(
    obj: Mapping[str, Any], lines: Sequence[Mapping[str, Any]] | None = None
) -> list[TaxEntry] | None:
    """The payment's tax entries (None: Stripe gave no tax data at all): the invoice's or session's
    totals, else its lines' own (`lines`: every line, when the event's list is cut short)."""
    for raw in (
        obj.get("total_taxes"),
        obj.get("total_tax_amounts"),
        as_mapping(as_mapping(obj.get("total_details")).get("breakdown")).get("taxes"),
    ):
        if isinstance(raw, list) and raw:
            return [_tax_entry(t) for t in raw if isinstance(t, Mapping)]
    if lines is None:
        listed = as_mapping(obj.get("lines")).get("data")
        lines = [line for line in listed if isinstance(line, Mapping)] if isinstance(listed, list) else []
    shipping = as_mapping(obj.get("shipping_cost"))
    found = [
        _tax_entry(t)
        for part in (*lines, shipping)
        for t in (part.get("taxes") if isinstance(part.get("taxes"), list) else part.get("tax_amounts")) or []
        if isinstance(t, Mapping)
    ]
    return found or None


def _rate(entry: TaxEntry) -> int:
    if entry.percentage is not None and entry.percentage == entry.percentage.to_integral_value():
        return int(entry.percentage)
    return derive_rate(entry.amount, entry.taxable) if entry.amount else 0


@dataclass(frozen=True)
class Buyer:
    """The buyer as the sale names it: country (upper case, or None) and Fortnox VAT type."""

    country: str | None
    vat_type: str | None


def _untaxed_bucket(buyer: Buyer, seller: str, what: str) -> Bucket:
    """The bucket of a part without tax, from the buyer alone (as the invoice mapping reads it)."""
    country = buyer.country or ""
    if buyer.vat_type in ("EUREVERSEDVAT", "SEREVERSEDVAT"):
        return Bucket(country, 0, Kind.REVERSE_CHARGE)
    if buyer.vat_type == "EXPORT":
        return Bucket(country, 0, Kind.EXPORT)
    if buyer.vat_type == "SEVAT" or country == seller:
        return Bucket(seller, 0, Kind.DOMESTIC)
    raise VatUnknown(
        f"{what} has no tax data and its buyer is "
        + (f"a consumer in {country}" if country else "without a country")
        + ": its VAT cannot be told"
    )


def _taxed_bucket(entry: TaxEntry, buyer: Buyer, seller: str, what: str) -> Bucket:
    country = entry.country or buyer.country or ""
    rate = _rate(entry)
    if entry.reason == "reverse_charge":
        return Bucket(country, 0, Kind.REVERSE_CHARGE)
    if entry.amount == 0 and rate == 0:
        if country and country != seller and country in EU_COUNTRY_CODES and buyer.vat_type == "EUVAT":
            return Bucket(country, 0, Kind.OSS)
        return _untaxed_bucket(buyer if country == buyer.country else Buyer(country, None), seller, what)
    if country == seller:
        return Bucket(seller, rate, Kind.DOMESTIC)
    if country in EU_COUNTRY_CODES:
        return Bucket(country, rate, Kind.OSS)
    raise VatUnknown(f"{what} carries {rate} % tax of {country or 'no country'}, neither Swedish nor EU VAT")


def sale_parts(
    total: int,
    taxes: Sequence[TaxEntry] | None,
    buyer: Buyer,
    seller: str,
    what: str,
    untaxed_rate: int = 0,
) -> list[Part]:
    """A sale of `total` (minor units, tax included) as parts per bucket, from its tax entries.

    What the entries do not cover (an untaxed line) is a part of rate 0 in the buyer's bucket; a
    sale without entries is one part in the buyer's bucket, `untaxed_rate` included for a domestic
    buyer (a bare PaymentIntent: PaymentIntentVatRate)."""
    seller = seller.upper()
    if not taxes:
        bucket = _untaxed_bucket(buyer, seller, what)
        if bucket.kind is Kind.DOMESTIC and untaxed_rate:
            vat = _half_up(total * untaxed_rate, 100 + untaxed_rate)
            return [Part(Bucket(seller, untaxed_rate, Kind.DOMESTIC), total - vat, vat)]
        return [Part(bucket, total, 0)]
    sums: dict[Bucket, list[int]] = {}
    for entry in taxes:
        bucket = _taxed_bucket(entry, buyer, seller, what)
        net_vat = sums.setdefault(bucket, [0, 0])
        net_vat[0] += entry.taxable
        net_vat[1] += entry.amount
    parts = [Part(b, nv[0], nv[1]) for b, nv in sums.items()]
    rest = total - sum(p.gross for p in parts)
    if rest and abs(rest) <= len(taxes):
        # Stripe's rounding between the taxable amounts and the total: onto the largest part's net.
        largest = max(range(len(parts)), key=lambda i: abs(parts[i].gross))
        p = parts[largest]
        parts[largest] = Part(p.bucket, p.net + rest, p.vat)
    elif rest:
        parts.append(Part(_untaxed_bucket(buyer, seller, what), rest, 0))
    return _merged(parts)


def _merged(parts: Sequence[Part]) -> list[Part]:
    sums: dict[Bucket, tuple[int, int]] = {}
    for p in parts:
        net, vat = sums.get(p.bucket, (0, 0))
        sums[p.bucket] = (net + p.net, vat + p.vat)
    return [Part(b, net, vat) for b, (net, vat) in sorted(sums.items())]


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    whole, rest = divmod(abs(numerator), abs(denominator))
    return sign * (whole + (1 if 2 * rest >= abs(denominator) else 0))


def scaled(parts: Sequence[Part], target: int) -> list[Part]:
    """`parts` scaled to a gross of `target`: each gross and its tax at the same ratio, rounded, the
    remainder of the gross on the largest part (by size). A refund passes a negative target."""
    total = sum(p.gross for p in parts)
    if not parts:
        return []
    if total == 0:
        raise VatUnknown("a sale of 0 cannot be scaled")
    grosses = [_half_up(p.gross * target, total) for p in parts]
    vats = [_half_up(p.vat * target, total) for p in parts]
    largest = max(range(len(parts)), key=lambda i: abs(parts[i].gross))
    grosses[largest] += target - sum(grosses)
    return [Part(p.bucket, g - v, v) for p, g, v in zip(parts, grosses, vats, strict=True)]


def in_sek(parts: Sequence[Part], sek_gross: int) -> list[Part]:
    """A payment's parts in SEK, `sek_gross` being what Stripe settled it for."""
    if sum(p.gross for p in parts) == sek_gross:
        return list(parts)
    return scaled(parts, sek_gross)


def refund_parts(sale: Sequence[Part], refund_sek: int) -> list[Part]:
    """A refund of `refund_sek` (positive, SEK) as the reversal of its sale's parts (in SEK), in the
    sale's proportions."""
    return scaled(sale, -refund_sek)
