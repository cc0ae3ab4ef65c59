"""Map a Stripe Customer (as JSON) to the fields of a Fortnox customer.

Pure functions only: no I/O, so the same mapping runs in the Lambda, the CLI and the tests.
The result holds only fields that have a value; working out which Fortnox fields to clear is
the sync layer's job, because only it knows what was sent before.

Anything that would make Fortnox reject the whole customer is fixed or dropped here, and every
such change is reported as a ``FieldWarning``: one bad postcode must not block an invoice.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from stripe_fortnox_sync.core.models import FieldWarning, FortnoxFields, MappedCustomer
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.identity import as_mapping
from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES, CURRENCY_CODES
from stripe_fortnox_sync.mapping.text import MAX_LENGTHS, clean_text, is_valid_email
from stripe_fortnox_sync.mapping.vat import vat_type_for

# Identifiers are checked against their limit after cleaning and dropped if too long: a cut
# postcode or VAT number would be wrong data, while a cut street name is still useful.
_NO_LIMIT = sys.maxsize

_SE_VAT_RE = re.compile(r"SE(\d{10})01")
_SE_ORG_NUMBER_RE = re.compile(r"(\d{6})[- ]?(\d{4})")
_VAT_SEPARATORS = re.compile(r"[\s.\-]+")

# Tax id types that identify a person, not a business (Brazilian CPF, Malaysian individual
# income tax number): they do not make the customer a company.
_PERSONAL_TAX_ID_TYPES = frozenset({"br_cpf", "my_itn"})


def normalise_vat_number(value: str) -> str:
    """Upper case without the spaces, dots and dashes people type into VAT numbers."""
    return _VAT_SEPARATORS.sub("", value).upper()


def swedish_org_number_from_vat(vat: str) -> str | None:
    """The organisation number inside a Swedish VAT number (SE + 10 digits + 01), else None."""
    if not isinstance(vat, str):
        return None
    match = _SE_VAT_RE.fullmatch(normalise_vat_number(vat))
    if match is None:
        return None
    digits = match.group(1)
    return f"{digits[:6]}-{digits[6:]}"


def map_customer(
    customer: Mapping[str, Any],
    settings: Settings,
    tax_ids: Sequence[Mapping[str, Any]] | None = None,
) -> MappedCustomer:
    """Map a Stripe Customer object (JSON) to the Fortnox customer fields that have a value.

    ``tax_ids`` defaults to the customer's expanded ``tax_ids.data`` when present: Stripe leaves
    tax ids out of the payload unless asked, so the caller may fetch and pass them.
    """
    stripe_id, id_reasons = clean_text(customer.get("id"), MAX_LENGTHS["ExternalReference"])
    if stripe_id is None or id_reasons:
        # Without a clean id there is nothing to link the Fortnox customer to.
        raise ValueError("Stripe customer has no usable id")

    out = _Builder()
    shipping = as_mapping(customer.get("shipping"))
    out.fields["Name"] = _name(customer, shipping, stripe_id, out)
    out.email("Email", customer.get("email"))
    out.text("Phone1", customer.get("phone"))
    country = _addresses(as_mapping(customer.get("address")), shipping, out)
    out.currency("Currency", customer.get("currency"))
    out.fields["ExternalReference"] = stripe_id
    _business(customer, settings, _tax_ids(customer, tax_ids), country, out)
    return MappedCustomer(fields=out.fields, warnings=tuple(out.warnings))


def _addresses(address: Mapping[str, Any], shipping: Mapping[str, Any], out: _Builder) -> str | None:
    """The billing and delivery address fields; returns the customer's country (billing first)."""
    country = _address("", address, out)
    out.text("DeliveryName", shipping.get("name"))
    delivery_country = _address("Delivery", as_mapping(shipping.get("address")), out)
    out.text("DeliveryPhone1", shipping.get("phone"))
    return country or delivery_country


def _address(prefix: str, address: Mapping[str, Any], out: _Builder) -> str | None:
    """One Stripe address as Fortnox's Address1 ... CountryCode, or with "Delivery" in front."""
    out.text(f"{prefix}Address1", address.get("line1"))
    out.text(f"{prefix}Address2", address.get("line2"))
    out.zip_code(f"{prefix}ZipCode", address.get("postal_code"))
    out.text(f"{prefix}City", address.get("city"))
    return out.country_code(f"{prefix}CountryCode", address.get("country"))


def _business(
    customer: Mapping[str, Any],
    settings: Settings,
    tax_id_list: Sequence[Mapping[str, Any]],
    customer_country: str | None,
    out: _Builder,
) -> None:
    """VAT and organisation numbers, company or private, and the VAT type."""
    metadata = as_mapping(customer.get("metadata"))
    tax_exempt = customer.get("tax_exempt")
    vat_number = _vat_number(tax_id_list, metadata.get(settings.vat_number_metadata_key), out)
    org_number = _organisation_number(
        metadata.get(settings.organisation_number_metadata_key), customer_country, out
    )
    if org_number is None and vat_number is not None:
        org_number = swedish_org_number_from_vat(vat_number)
    if org_number is not None:
        out.fields["OrganisationNumber"] = org_number

    # Someone typed a business identifier, even one Fortnox cannot take: still a business.
    is_company = (
        any(_tax_id_type(t) not in _PERSONAL_TAX_ID_TYPES for t in tax_id_list if _has_text(t.get("value")))
        or _has_text(metadata.get(settings.organisation_number_metadata_key))
        or _has_text(metadata.get(settings.vat_number_metadata_key))
        or _has_text(customer.get("business_name"))
        or tax_exempt == "reverse"
    )
    out.fields["Type"] = "COMPANY" if is_company else "PRIVATE"

    # A country-less customer gets no VAT type: a guess could book VAT wrongly, and left out,
    # Fortnox keeps what it has (its default on create).
    vat_type = vat_type_for(customer_country, tax_exempt, vat_number is not None, settings.seller_country)
    if vat_type is not None:
        out.fields["VATType"] = vat_type


class _Builder:
    """Collects fields and warnings so each rule reads as one line in ``map_customer``."""

    def __init__(self) -> None:
        self.fields: FortnoxFields = {}
        self.warnings: list[FieldWarning] = []

    def warn(self, field: str, reasons: Iterable[str]) -> None:
        self.warnings.extend(FieldWarning(field, reason) for reason in reasons)

    def text(self, field: str, value: object) -> None:
        cleaned, reasons = clean_text(value, MAX_LENGTHS[field])
        self.warn(field, reasons)
        if cleaned is not None:
            self.fields[field] = cleaned

    def cleaned(self, field: str, value: object) -> str | None:
        """value cleaned without cutting (the caller checks the length), its changes warned."""
        cleaned, reasons = clean_text(value, _NO_LIMIT)
        self.warn(field, reasons)
        return cleaned

    def checked(
        self, field: str, value: object, kept: Callable[[str], str | None], problem: str
    ) -> str | None:
        """value cleaned, then set as `kept` returns it, or dropped (None) with `problem` warned."""
        cleaned = self.cleaned(field, value)
        if cleaned is None:
            return None
        result = kept(cleaned)
        if result is None:
            self.warn(field, [f"dropped: {problem}"])
        else:
            self.fields[field] = result
        return result

    def email(self, field: str, value: object) -> None:
        self.checked(field, value, lambda v: v if is_valid_email(v) else None, "not a valid e-mail address")

    def currency(self, field: str, value: object) -> None:
        # Stripe sends currencies in lower case; Fortnox wants the ISO form.
        self.checked(field, value, _listed_upper(CURRENCY_CODES), "not an ISO 4217 currency code")

    def zip_code(self, field: str, value: object) -> None:
        # Kept exactly as typed (a Swedish "123 45" keeps its space): only the length matters.
        limit = MAX_LENGTHS[field]
        self.checked(
            field, value, lambda v: v if len(v) <= limit else None, f"postcode longer than {limit} characters"
        )

    def country_code(self, field: str, value: object) -> str | None:
        return self.checked(
            field, value, _listed_upper(COUNTRY_CODES), "not an ISO 3166-1 alpha-2 country code"
        )


def _listed_upper(codes: AbstractSet[str]) -> Callable[[str], str | None]:
    """The value in upper case if it is one of `codes` (ISO codes), else None."""
    return lambda value: value.upper() if value.upper() in codes else None


def _tax_ids(
    customer: Mapping[str, Any], tax_ids: Sequence[Mapping[str, Any]] | None
) -> list[Mapping[str, Any]]:
    if tax_ids is None:
        expanded = customer.get("tax_ids")
        # Only present when the customer was fetched with expand[]=tax_ids.
        tax_ids = expanded.get("data") if isinstance(expanded, Mapping) else expanded
    if not isinstance(tax_ids, Sequence) or isinstance(tax_ids, str):
        return []
    return [t for t in tax_ids if isinstance(t, Mapping)]


def _tax_id_type(tax_id: Mapping[str, Any]) -> str:
    kind = tax_id.get("type")
    return kind if isinstance(kind, str) else ""


def _has_text(value: object) -> bool:
    return clean_text(value, _NO_LIMIT)[0] is not None


def _name(customer: Mapping[str, Any], shipping: Mapping[str, Any], stripe_id: str, out: _Builder) -> str:
    # Fortnox requires a Name, so walk from the most to the least specific source.
    candidates = (
        ("name", customer.get("name")),
        ("business_name", customer.get("business_name")),
        ("individual_name", customer.get("individual_name")),
        ("shipping.name", shipping.get("name")),
        ("email", customer.get("email")),
    )
    for source, raw in candidates:
        cleaned, reasons = clean_text(raw, MAX_LENGTHS["Name"])
        if cleaned is not None:
            out.warn("Name", reasons)
            return cleaned
        # Say why a value that was there could not be used, or the fallback looks arbitrary.
        out.warn("Name", (f"{source} not used: {reason}" for reason in reasons))
    out.warn("Name", ["no name in Stripe: used a placeholder with the Stripe id"])
    return f"Stripe customer {stripe_id}"


def _vat_number(tax_ids: Sequence[Mapping[str, Any]], from_metadata: object, out: _Builder) -> str | None:
    eu_vat = [t.get("value") for t in tax_ids if _tax_id_type(t) == "eu_vat"]
    others = [t.get("value") for t in tax_ids if _tax_id_type(t) != "eu_vat"]
    limit = MAX_LENGTHS["VATNumber"]
    for raw in (*eu_vat, *others, from_metadata):
        cleaned, reasons = clean_text(raw, _NO_LIMIT)
        vat = normalise_vat_number(cleaned) if cleaned is not None else ""
        if not vat:
            continue
        out.warn("VATNumber", reasons)
        if len(vat) > limit:
            # A cut VAT number is a wrong one: try the next candidate instead.
            out.warn("VATNumber", [f"dropped: longer than {limit} characters"])
            continue
        out.fields["VATNumber"] = vat
        return vat
    return None


def _organisation_number(raw: object, country: str | None, out: _Builder) -> str | None:
    cleaned = out.cleaned("OrganisationNumber", raw)
    if cleaned is None:
        return None
    # A bare 10-digit number is Swedish when the customer is, or when nothing says otherwise
    # (the Fortnox company is Swedish); elsewhere, e.g. Belgium, 10 digits mean something else.
    match = _SE_ORG_NUMBER_RE.fullmatch(cleaned)
    if match is not None and country in (None, "SE"):
        return f"{match.group(1)}-{match.group(2)}"
    limit = MAX_LENGTHS["OrganisationNumber"]
    if len(cleaned) > limit:
        out.warn("OrganisationNumber", [f"dropped: longer than {limit} characters"])
        return None
    return cleaned
