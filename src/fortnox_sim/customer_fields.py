"""The customer resource's schema: fortnox_Customer's fields, defaults, list shape and search filters,
and the customer-specific value rules (clearing with "", e-mail, country codes, currencies)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES

from .knobs import Knobs
from .replies import _bad
from .validation import Field, FieldChecker

__all__ = ["LASTMODIFIED_FORMATS", "SEARCH_FILTERS", "apply", "list_item", "new_customer", "validated"]

# Read-only fields: Fortnox ignores them in a request body instead of rejecting them.
_READ_ONLY: Final[frozenset[str]] = frozenset({"@url", "Country", "DeliveryCountry", "VisitingCountry"})

# Fortnox derives Country from CountryCode. It answers with a country name; the simulator knows a
# few common ones in English and falls back to the code itself.
_COUNTRY_NAMES: Final[Mapping[str, str]] = {
    "SE": "Sweden",
    "NO": "Norway",
    "DK": "Denmark",
    "FI": "Finland",
    "IS": "Iceland",
    "DE": "Germany",
    "GB": "United Kingdom",
    "US": "United States",
    "FR": "France",
    "NL": "Netherlands",
    "BE": "Belgium",
    "ES": "Spain",
    "IT": "Italy",
    "PL": "Poland",
    "AT": "Austria",
    "CH": "Switzerland",
    "IE": "Ireland",
    "EE": "Estonia",
    "LV": "Latvia",
    "LT": "Lithuania",
    "PT": "Portugal",
    "CA": "Canada",
    "AU": "Australia",
}
_DERIVED_COUNTRY: Final[Mapping[str, str]] = {
    "CountryCode": "Country",
    "DeliveryCountryCode": "DeliveryCountry",
    "VisitingCountryCode": "VisitingCountry",
}

_DELIVERY_TYPE = Field("str", enum=("PRINT", "EMAIL", "PRINTSERVICE"))

# fortnox_Customer from the official OpenAPI spec, compacted: type, minLength, maxLength, enum.
# OrganisationNumber has no limit in fortnox_Customer; 30 comes from fortnox_CustomerListItem.
_FIELDS: Final[Mapping[str, Field]] = {
    "Active": Field("bool"),
    "Address1": Field("str", 1, 1024),
    "Address2": Field("str", 0, 1024),
    "City": Field("str", 0, 1024),
    "Comments": Field("str", 0, 1024),
    "CostCenter": Field("str"),
    "CountryCode": Field("str", 2, 2),
    "Currency": Field("str", 3, 3),
    "CustomerNumber": Field("str", 0, 1024),
    "DefaultDeliveryTypes": Field(
        "object", sub={"Invoice": _DELIVERY_TYPE, "Offer": _DELIVERY_TYPE, "Order": _DELIVERY_TYPE}
    ),
    "DefaultTemplates": Field(
        "object", sub={name: Field("str") for name in ("CashInvoice", "Invoice", "Offer", "Order")}
    ),
    "DeliveryAddress1": Field("str", 0, 1024),
    "DeliveryAddress2": Field("str", 0, 1024),
    "DeliveryCity": Field("str", 0, 1024),
    "DeliveryCountryCode": Field("str", 2, 2),
    "DeliveryFax": Field("str", 0, 1024),
    "DeliveryName": Field("str", 0, 1024),
    "DeliveryPhone1": Field("str", 0, 1024),
    "DeliveryPhone2": Field("str", 0, 1024),
    "DeliveryZipCode": Field("str", 0, 10),
    "Email": Field("str", 0, 1024),
    "EmailInvoice": Field("str", 0, 1024),
    "EmailInvoiceBCC": Field("str", 0, 1024),
    "EmailInvoiceCC": Field("str", 0, 1024),
    "EmailOffer": Field("str", 0, 1024),
    "EmailOfferBCC": Field("str", 0, 1024),
    "EmailOfferCC": Field("str", 0, 1024),
    "EmailOrder": Field("str", 0, 1024),
    "EmailOrderBCC": Field("str", 0, 1024),
    "EmailOrderCC": Field("str", 0, 1024),
    "ExternalReference": Field("str", 0, 1024),
    "Fax": Field("str", 0, 1024),
    "GLN": Field("str", 13, 13),
    "GLNDelivery": Field("str", 13, 13),
    "InvoiceAdministrationFee": Field("str"),
    "InvoiceDiscount": Field("number"),
    "InvoiceFreight": Field("str"),
    "InvoiceRemark": Field("str", 0, 1024),
    "Name": Field("str", 1, 1024),
    "OrganisationNumber": Field("str", 0, 30),
    "OurReference": Field("str", 0, 50),
    "Phone1": Field("str", 0, 1024),
    "Phone2": Field("str", 0, 1024),
    "PriceList": Field("str"),
    "Project": Field("str"),
    "SalesAccount": Field("str", 4, 4),
    "ShowPriceVATIncluded": Field("bool"),
    "TermsOfDelivery": Field("str"),
    "TermsOfPayment": Field("str"),
    "Type": Field("str", enum=("PRIVATE", "COMPANY")),
    "VATNumber": Field("str"),
    "VATType": Field("str", enum=("SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")),
    "VisitingAddress": Field("str", 0, 128),
    "VisitingCity": Field("str", 0, 128),
    "VisitingCountryCode": Field("str", 2, 2),
    "VisitingZipCode": Field("str", 0, 10),
    "WWW": Field("str", 0, 128),
    "WayOfDelivery": Field("str"),
    "YourReference": Field("str", 0, 50),
    "ZipCode": Field("str", 0, 10),
}

# What a fresh customer looks like before the request's fields are applied. Unset text fields are
# null, as Fortnox answers for many of them, so clients must cope with null.
_DEFAULTS: Final[Mapping[str, Any]] = {
    "Active": True,
    "Currency": "SEK",
    "Type": "COMPANY",
    "VATType": "SEVAT",
    "ShowPriceVATIncluded": False,
    "DefaultDeliveryTypes": {"Invoice": "PRINT", "Offer": "PRINT", "Order": "PRINT"},
    "DefaultTemplates": {
        "CashInvoice": "DEFAULTTEMPLATE",
        "Invoice": "DEFAULTTEMPLATE",
        "Offer": "DEFAULTTEMPLATE",
        "Order": "DEFAULTTEMPLATE",
    },
}

# The list endpoint answers only these fields (fortnox_CustomerListItem); Phone is Phone1.
_LIST_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("Address1", "Address1"),
    ("Address2", "Address2"),
    ("City", "City"),
    ("CustomerNumber", "CustomerNumber"),
    ("Email", "Email"),
    ("Name", "Name"),
    ("OrganisationNumber", "OrganisationNumber"),
    ("Phone", "Phone1"),
    ("ZipCode", "ZipCode"),
)

# Search parameter -> customer field. Fortnox allows one of these per request.
SEARCH_FILTERS: Final[Mapping[str, str]] = {
    "email": "Email",
    "name": "Name",
    "organisationnumber": "OrganisationNumber",
    "customernumber": "CustomerNumber",
    "phone": "Phone1",
    "zipcode": "ZipCode",
    "city": "City",
    "gln": "GLN",
    "glndelivery": "GLNDelivery",
}

_EMAIL_RE: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CUSTOMER_NUMBER_RE: Final = re.compile(r"[A-Za-z0-9+/_-]+")
LASTMODIFIED_FORMATS: Final[tuple[str, ...]] = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def validated(content_type: str | None, body: bytes, knobs: Knobs, *, creating: bool) -> dict[str, Any]:
    """A customer body's fields, checked; read-only ones dropped, null ones left out."""
    clean = _CustomerChecker(knobs).body(content_type, body, "Customer", _FIELDS, _READ_ONLY)
    name_value = clean.get("Name")
    if (creating and name_value is None) or (name_value is not None and not name_value.strip()):
        # Fortnox reports a missing Name with the "customer number used" code (reported).
        raise _bad("customer_number_used", "Customer name (Name) is required")
    return clean


def new_customer(number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh customer with every field (unset ones null), the defaults, then the checked fields."""
    customer: dict[str, Any] = {name: None for name in _FIELDS}
    customer.update({k: None for k in _READ_ONLY if k != "@url"})
    for name, value in _DEFAULTS.items():
        customer[name] = dict(value) if isinstance(value, dict) else value
    customer["CustomerNumber"] = number
    apply(customer, fields)
    return dict(sorted(customer.items()))


def apply(customer: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """A partial update: nested objects are merged, a country code also sets its country's name."""
    for name, value in fields.items():
        if isinstance(value, dict):
            customer[name] = {**customer.get(name, {}), **value}
        else:
            customer[name] = value
        derived = _DERIVED_COUNTRY.get(name)
        if derived is not None:
            customer[derived] = _COUNTRY_NAMES.get(value, value) if value else value


def list_item(customer: Mapping[str, Any], url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"@url": url}
    for out_name, source in _LIST_FIELDS:
        value = customer.get(source)
        # List items show unset fields as "" (documented example), not null.
        item[out_name] = "" if value is None else value
    return item


class _CustomerChecker(FieldChecker):
    """fortnox_Customer's rules: "" clears a field, numbers are floats, some strings have a format."""

    # A customer is stored as it is answered; its one number (InvoiceDiscount) goes out as a float.
    parse_float = None

    def __init__(self, knobs: Knobs) -> None:
        self.currencies = frozenset(knobs.currencies)
        self.strict = knobs.strict_min_length

    def number(self, name: str, value: Any, spec: Field) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _bad("wrong_type", f"{name} must be a number")
        return float(value)

    def string(self, name: str, value: Any, spec: Field) -> str:
        text = self.text(name, value)
        if text == "" and name != "Name":
            return self._cleared(name, spec)
        self.check_max_len(name, text, spec)
        if len(text) < spec.min_len and name != "Name":
            raise _bad("too_short", f"{name} must be at least {spec.min_len} characters")
        self.check_enum(name, text, spec)
        self._check_format(name, text)
        return text

    def _cleared(self, name: str, spec: Field) -> str:
        if spec.enum:
            raise _bad("invalid_enum", f"{name} must be one of {', '.join(spec.enum)}")
        if name == "Currency":
            raise _bad("invalid_currency", "Currency must not be empty")
        if self.strict and spec.min_len > 0:
            raise _bad("too_short", f"{name} must be at least {spec.min_len} characters")
        return ""

    def _check_format(self, name: str, text: str) -> None:
        if name.startswith("Email") and not _EMAIL_RE.fullmatch(text):
            raise _bad("invalid_email", f"{name} is not a valid e-mail address")
        if name in _DERIVED_COUNTRY and text not in COUNTRY_CODES:
            raise _bad("invalid_country_code", f"{name} {text!r} is not an ISO 3166-1 code")
        if name == "Currency" and text not in self.currencies:
            raise _bad("invalid_currency", f"Currency {text!r} does not exist in this company")
        if name == "CustomerNumber" and not _CUSTOMER_NUMBER_RE.fullmatch(text):
            raise _bad("invalid_customer_number", "CustomerNumber may hold only A-Z, a-z, 0-9, +, -, / and _")
