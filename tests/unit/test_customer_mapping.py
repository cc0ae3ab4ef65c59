"""Stripe customer -> Fortnox customer fields.

The fixtures are Stripe's own example objects (customer and tax_id), copied into the repo so the
tests never depend on anything outside it. Most cases start from that customer and change the
fields a real customer would have set.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer, swedish_org_number_from_vat
from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES, CURRENCY_CODES, EU_COUNTRY_CODES
from stripe_fortnox_sync.mapping.text import MAX_LENGTHS, clean_text, is_valid_email

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STRIPE_CUSTOMER: dict[str, Any] = json.loads((FIXTURES / "stripe_customer.json").read_text("utf-8"))
STRIPE_TAX_ID: dict[str, Any] = json.loads((FIXTURES / "stripe_tax_id.json").read_text("utf-8"))
FIXTURE_ID = STRIPE_CUSTOMER["id"]
SETTINGS = Settings()

NULL_ADDRESS = {"line1": None, "line2": None, "postal_code": None, "city": None, "state": None}


def customer(**overrides: Any) -> dict[str, Any]:
    """Stripe's example customer with some fields changed, as a webhook would carry it."""
    data = copy.deepcopy(STRIPE_CUSTOMER)
    data.update(overrides)
    return data


def address(country: str | None = None, **fields: Any) -> dict[str, Any]:
    return {**NULL_ADDRESS, "country": country, **fields}


def shipping(name: str | None = None, phone: str | None = None, **address_fields: Any) -> dict[str, Any]:
    return {"name": name, "phone": phone, "address": address(**address_fields)}


def tax_id(value: str, kind: str = "eu_vat", country: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(STRIPE_TAX_ID)
    data.update(type=kind, value=value, country=country)
    return data


def warned(result_warnings: tuple[FieldWarning, ...]) -> set[str]:
    return {w.field for w in result_warnings}


# --- whole customers ------------------------------------------------------------------------

# (case id, Stripe customer, tax_ids argument, expected fields (subset), fields that must be
# absent, fields that must carry a warning)
CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]] | None, dict[str, Any], set[str], set[str]]] = [
    (
        "stripe fixture customer",
        customer(),
        None,
        {
            "Name": f"Stripe customer {FIXTURE_ID}",
            "Currency": "USD",
            "ExternalReference": FIXTURE_ID,
            "Type": "PRIVATE",
        },
        {"Email", "Phone1", "Address1", "ZipCode", "CountryCode", "DeliveryName", "VATType", "VATNumber"},
        {"Name"},
    ),
    (
        "stripe fixture customer with fixture tax id passed in",
        customer(),
        [STRIPE_TAX_ID],
        {"VATNumber": "DE123456789", "Type": "COMPANY", "ExternalReference": FIXTURE_ID},
        {"VATType", "OrganisationNumber"},
        {"Name"},
    ),
    (
        "stripe fixture customer with tax ids expanded",
        customer(tax_ids={"object": "list", "data": [STRIPE_TAX_ID], "has_more": False}),
        None,
        {"VATNumber": "DE123456789", "Type": "COMPANY"},
        {"VATType"},
        {"Name"},
    ),
    (
        "explicit empty tax_ids argument wins over the expanded list",
        customer(tax_ids={"object": "list", "data": [STRIPE_TAX_ID]}),
        [],
        {"Type": "PRIVATE"},
        {"VATNumber"},
        {"Name"},
    ),
    # Name fallbacks, one step at a time.
    (
        "name",
        customer(name="Anna Svensson", business_name="Svensson AB", email="anna@example.se"),
        None,
        {"Name": "Anna Svensson"},
        set(),
        set(),
    ),
    (
        "no name: business_name",
        customer(name=None, business_name="Svensson Bygg AB", individual_name="Anna Svensson"),
        None,
        {"Name": "Svensson Bygg AB", "Type": "COMPANY"},
        set(),
        set(),
    ),
    (
        "no name: individual_name",
        customer(name="", business_name=None, individual_name="Anna Svensson"),
        None,
        {"Name": "Anna Svensson", "Type": "PRIVATE"},
        set(),
        set(),
    ),
    (
        "no name: shipping name",
        customer(name="   ", shipping=shipping(name="Erik Johansson", city="Uppsala", country="SE")),
        None,
        {"Name": "Erik Johansson", "DeliveryName": "Erik Johansson", "DeliveryCity": "Uppsala"},
        set(),
        set(),
    ),
    (
        "no name: email",
        customer(name=None, email="erik.johansson@example.se"),
        None,
        {"Name": "erik.johansson@example.se", "Email": "erik.johansson@example.se"},
        set(),
        set(),
    ),
    (
        "no name: placeholder with the Stripe id",
        customer(id="cus_NffrFeUfNV2Hib", name=None, email=None),
        None,
        {"Name": "Stripe customer cus_NffrFeUfNV2Hib", "ExternalReference": "cus_NffrFeUfNV2Hib"},
        set(),
        {"Name"},
    ),
    (
        "name of emoji only falls back to business_name",
        customer(name="🚀🚀", business_name="Rocket AB"),
        None,
        {"Name": "Rocket AB"},
        set(),
        {"Name"},
    ),
    # Addresses.
    (
        "swedish billing address, postcode with a space kept as given",
        customer(
            name="Karin Lindqvist",
            phone="+46 70 123 45 67",
            address=address(
                "SE", line1="Storgatan 12", line2="lgh 1102", postal_code="123 45", city="Stockholm"
            ),
        ),
        None,
        {
            "Address1": "Storgatan 12",
            "Address2": "lgh 1102",
            "ZipCode": "123 45",
            "City": "Stockholm",
            "CountryCode": "SE",
            "Phone1": "+46 70 123 45 67",
            "VATType": "SEVAT",
            "Type": "PRIVATE",
        },
        set(),
        set(),
    ),
    (
        "long address line cut to 1024",
        customer(name="Long Street Ltd", address=address("GB", line1="Very Long Road " * 200, city="London")),
        None,
        {"City": "London", "CountryCode": "GB", "VATType": "EXPORT"},
        set(),
        {"Address1"},
    ),
    (
        "12-character postcode dropped, never cut",
        customer(name="Postcode Test", address=address("GB", postal_code="SW1A 1AA 123", city="London")),
        None,
        {"City": "London"},
        {"ZipCode"},
        {"ZipCode"},
    ),
    (
        "10-character postcode fits exactly",
        customer(name="Postcode Test", address=address("US", postal_code="94107-1234", city="San Francisco")),
        None,
        {"ZipCode": "94107-1234", "VATType": "EXPORT"},
        set(),
        set(),
    ),
    (
        "shipping address mapped to delivery fields",
        customer(
            name="Jonas Berg",
            shipping=shipping(
                name="Jonas Berg c/o Lager 3",
                phone="+46 8 123 456",
                line1="Industrivägen 4",
                line2="Port B",
                postal_code="41705",
                city="Göteborg",
                country="se",
            ),
        ),
        None,
        {
            "DeliveryName": "Jonas Berg c/o Lager 3",
            "DeliveryPhone1": "+46 8 123 456",
            "DeliveryAddress1": "Industrivägen 4",
            "DeliveryAddress2": "Port B",
            "DeliveryZipCode": "41705",
            "DeliveryCity": "Göteborg",
            "DeliveryCountryCode": "SE",
            "VATType": "SEVAT",
        },
        {"CountryCode", "Address1"},
        set(),
    ),
    (
        "shipping postcode too long dropped",
        customer(name="X", shipping=shipping(name="X", postal_code="1234567890123", country="DE")),
        None,
        {"DeliveryCountryCode": "DE"},
        {"DeliveryZipCode"},
        {"DeliveryZipCode"},
    ),
    (
        "address and shipping empty objects",
        customer(name="Empty", address={}, shipping={}),
        None,
        {"Name": "Empty"},
        {"Address1", "CountryCode", "DeliveryName", "DeliveryCountryCode", "VATType"},
        set(),
    ),
    (
        "shipping with a null address",
        customer(name="Null", shipping={"name": "Null Receiver", "phone": None, "address": None}),
        None,
        {"DeliveryName": "Null Receiver"},
        {"DeliveryAddress1", "DeliveryPhone1"},
        set(),
    ),
    (
        "unknown country XX dropped, so no VAT type",
        customer(name="Nowhere", address=address("XX", city="Atlantis")),
        None,
        {"City": "Atlantis"},
        {"CountryCode", "VATType"},
        {"CountryCode"},
    ),
    (
        "unknown billing country falls back to shipping country for VAT type",
        customer(name="Fallback", address=address("XX"), shipping=shipping(name="Fallback", country="NO")),
        None,
        {"DeliveryCountryCode": "NO", "VATType": "EXPORT"},
        {"CountryCode"},
        {"CountryCode"},
    ),
    # VAT and company rules.
    (
        "EU business with eu_vat",
        customer(
            name="Müller Maschinenbau GmbH",
            address=address("DE", line1="Hauptstraße 5", postal_code="10115", city="Berlin"),
            currency="eur",
        ),
        [tax_id("DE 123 456 789", country="DE")],
        {
            "Type": "COMPANY",
            "VATNumber": "DE123456789",
            "VATType": "EUREVERSEDVAT",
            "CountryCode": "DE",
            "Currency": "EUR",
        },
        {"OrganisationNumber"},
        set(),
    ),
    (
        "EU consumer",
        customer(
            name="Camille Durand", address=address("FR", postal_code="75001", city="Paris"), currency="eur"
        ),
        None,
        {"Type": "PRIVATE", "VATType": "EUVAT", "CountryCode": "FR"},
        {"VATNumber"},
        set(),
    ),
    (
        "Greek customer is in the EU as GR",
        customer(name="Νίκος Παπαδόπουλος", address=address("GR", city="Αθήνα")),
        [tax_id("EL123456789", country="GR")],
        {"Name": "Νίκος Παπαδόπουλος", "VATType": "EUREVERSEDVAT", "VATNumber": "EL123456789"},
        set(),
        set(),
    ),
    (
        "Swedish company with SE VAT number: organisation number derived",
        customer(
            name="Nordisk Design AB",
            address=address("SE", line1="Sveavägen 1", postal_code="111 57", city="Stockholm"),
            currency="sek",
        ),
        [tax_id("SE556677889901", country="SE")],
        {
            "Type": "COMPANY",
            "VATNumber": "SE556677889901",
            "OrganisationNumber": "556677-8899",
            "VATType": "SEVAT",
            "Currency": "SEK",
            "ZipCode": "111 57",
        },
        set(),
        set(),
    ),
    (
        "organisation number in metadata wins over the one in the VAT number",
        customer(
            name="Nordisk Design AB", address=address("SE"), metadata={"organisation_number": "5560001111"}
        ),
        [tax_id("SE556677889901")],
        {"OrganisationNumber": "556000-1111", "Type": "COMPANY"},
        set(),
        set(),
    ),
    (
        "organisation number in metadata with a dash, no tax id",
        customer(
            name="Bygg & Montage AB", address=address("SE"), metadata={"organisation_number": "559123-4567"}
        ),
        None,
        {"OrganisationNumber": "559123-4567", "Type": "COMPANY", "VATType": "SEVAT"},
        {"VATNumber"},
        set(),
    ),
    (
        "foreign organisation number kept as given",
        customer(name="Acme GmbH", address=address("DE"), metadata={"organisation_number": "HRB 123456 B"}),
        None,
        {"OrganisationNumber": "HRB 123456 B", "Type": "COMPANY", "VATType": "EUVAT"},
        set(),
        set(),
    ),
    (
        "Belgian 10-digit enterprise number is not reformatted",
        customer(name="Brussels BV", address=address("BE"), metadata={"organisation_number": "0123456789"}),
        None,
        {"OrganisationNumber": "0123456789"},
        set(),
        set(),
    ),
    (
        "organisation number over 30 characters dropped",
        customer(name="Junk Ltd", metadata={"organisation_number": "1234567890" * 4}),
        None,
        {"Type": "COMPANY"},
        {"OrganisationNumber"},
        {"OrganisationNumber"},
    ),
    (
        "VAT number from metadata, normalised",
        customer(name="Dansk ApS", address=address("DK"), metadata={"vat_number": "dk-12.34.56.78"}),
        None,
        {"VATNumber": "DK12345678", "Type": "COMPANY", "VATType": "EUREVERSEDVAT"},
        set(),
        set(),
    ),
    (
        "eu_vat preferred over other tax ids",
        customer(name="Multi Tax Ltd", address=address("IE")),
        [tax_id("GB123456789", kind="gb_vat"), tax_id("IE6388047V")],
        {"VATNumber": "IE6388047V", "VATType": "EUREVERSEDVAT"},
        set(),
        set(),
    ),
    (
        "non-EU business tax id used as VAT number",
        customer(name="Acme Inc.", address=address("US", city="Wilmington"), currency="usd"),
        [tax_id("12-3456789", kind="us_ein")],
        {"VATNumber": "123456789", "Type": "COMPANY", "VATType": "EXPORT", "Currency": "USD"},
        set(),
        set(),
    ),
    (
        "personal tax id does not make a company",
        customer(name="João Silva", address=address("BR")),
        [tax_id("123.456.789-09", kind="br_cpf")],
        {"Type": "PRIVATE", "VATType": "EXPORT"},
        set(),
        set(),
    ),
    (
        "US consumer",
        customer(
            name="John Smith",
            email="john.smith@example.com",
            address=address("US", line1="1 Market St", postal_code="94105", city="San Francisco", state="CA"),
        ),
        None,
        {"VATType": "EXPORT", "Type": "PRIVATE", "CountryCode": "US", "Email": "john.smith@example.com"},
        set(),
        set(),
    ),
    (
        "Swedish customer tax_exempt reverse",
        customer(name="Bygg AB", address=address("SE"), tax_exempt="reverse"),
        None,
        {"VATType": "SEREVERSEDVAT", "Type": "COMPANY"},
        set(),
        set(),
    ),
    (
        "Swedish customer tax_exempt exempt",
        customer(name="Stiftelsen X", address=address("SE"), tax_exempt="exempt"),
        None,
        {"VATType": "SEREVERSEDVAT", "Type": "PRIVATE"},
        set(),
        set(),
    ),
    (
        "EU customer tax_exempt reverse without a VAT number",
        customer(name="Studio Rossi", address=address("IT"), tax_exempt="reverse"),
        None,
        {"VATType": "EUREVERSEDVAT", "Type": "COMPANY"},
        {"VATNumber"},
        set(),
    ),
    (
        "EU customer tax_exempt exempt",
        customer(name="Fundación Y", address=address("ES"), tax_exempt="exempt"),
        None,
        {"VATType": "EUREVERSEDVAT", "Type": "PRIVATE"},
        set(),
        set(),
    ),
    (
        "non-EU customer tax_exempt reverse is still export",
        customer(name="Swiss AG", address=address("CH"), tax_exempt="reverse"),
        None,
        {"VATType": "EXPORT", "Type": "COMPANY"},
        set(),
        set(),
    ),
    # Currency and e-mail.
    (
        "lowercase currency upper-cased",
        customer(name="Krona", currency="sek"),
        None,
        {"Currency": "SEK"},
        set(),
        set(),
    ),
    (
        "unknown currency dropped",
        customer(name="Fake Money", currency="xyz"),
        None,
        {},
        {"Currency"},
        {"Currency"},
    ),
    (
        "null currency left out",
        customer(name="No Money", currency=None),
        None,
        {},
        {"Currency"},
        set(),
    ),
    (
        "invalid email dropped",
        customer(name="Typo Person", email="typo.person@example"),
        None,
        {"Name": "Typo Person"},
        {"Email"},
        {"Email"},
    ),
    (
        "email with surrounding spaces kept, trimmed",
        customer(name="Spacey", email="  spacey@example.org "),
        None,
        {"Email": "spacey@example.org"},
        set(),
        set(),
    ),
    # Text cleaning.
    (
        "emoji in name removed",
        customer(name="Café 😀 Sundbyberg 🇸🇪"),
        None,
        {"Name": "Café Sundbyberg"},
        set(),
        {"Name"},
    ),
    (
        "control characters removed, line breaks become spaces",
        customer(
            name="ACME\x00 AB\u200b",
            address=address("SE", line1="Storgatan 1\r\nLägenhet 3", city="\tMalmö\x07"),
            phone="+46\x0b 40 12 34",
        ),
        None,
        {"Name": "ACME AB", "Address1": "Storgatan 1 Lägenhet 3", "City": "Malmö", "Phone1": "+46 40 12 34"},
        set(),
        {"Name", "Address1", "City", "Phone1"},
    ),
    (
        "Arabic name kept intact",
        customer(name="محمد عبد الله", address=address("AE", city="دبي")),
        None,
        {"Name": "محمد عبد الله", "City": "دبي", "VATType": "EXPORT"},
        set(),
        set(),
    ),
    (
        "Chinese name kept intact",
        customer(name="王小明", business_name="北京科技有限公司", address=address("CN", city="北京")),
        None,
        {"Name": "王小明", "City": "北京", "Type": "COMPANY"},
        set(),
        set(),
    ),
    (
        "Cyrillic name kept intact",
        customer(name="Екатерина Иванова", address=address("UA", city="Київ")),
        None,
        {"Name": "Екатерина Иванова", "City": "Київ"},
        set(),
        set(),
    ),
    (
        "all-null customer",
        {
            "id": "cus_AllNull0000001",
            "object": "customer",
            "name": None,
            "business_name": None,
            "individual_name": None,
            "email": None,
            "phone": None,
            "address": None,
            "shipping": None,
            "currency": None,
            "tax_exempt": None,
            "metadata": None,
            "tax_ids": None,
        },
        None,
        {
            "Name": "Stripe customer cus_AllNull0000001",
            "ExternalReference": "cus_AllNull0000001",
            "Type": "PRIVATE",
        },
        set(),
        {"Name"},
    ),
    (
        "deleted customer stub",
        {"id": "cus_Deleted000001", "object": "customer", "deleted": True},
        None,
        {"Name": "Stripe customer cus_Deleted000001", "ExternalReference": "cus_Deleted000001"},
        set(),
        {"Name"},
    ),
]


@pytest.mark.parametrize(
    ("stripe_customer", "tax_ids", "expected", "absent", "warned_fields"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_map_customer(
    stripe_customer: dict[str, Any],
    tax_ids: list[dict[str, Any]] | None,
    expected: dict[str, Any],
    absent: set[str],
    warned_fields: set[str],
) -> None:
    before = copy.deepcopy(stripe_customer)
    result = map_customer(stripe_customer, SETTINGS, tax_ids)

    assert {k: result.fields.get(k) for k in expected} == expected
    assert absent.isdisjoint(result.fields), sorted(absent & result.fields.keys())
    assert warned(result.warnings) == warned_fields, result.warnings
    assert result.fields["ExternalReference"] == stripe_customer["id"]
    assert stripe_customer == before, "the mapping must not change its input"
    _assert_fortnox_limits(result.fields)


def test_fixture_customer_maps_to_exactly_these_fields() -> None:
    result = map_customer(STRIPE_CUSTOMER, SETTINGS)
    assert result.fields == {
        "Name": "Stripe customer cus_QXg1o8vcGmoR32",
        "Currency": "USD",
        "ExternalReference": "cus_QXg1o8vcGmoR32",
        "Type": "PRIVATE",
    }
    assert result.warnings == (
        FieldWarning("Name", "no name in Stripe: used a placeholder with the Stripe id"),
    )


def test_long_address_is_cut_to_1024_with_a_warning() -> None:
    result = map_customer(customer(name="X", address=address("SE", line1="a" * 1500)), SETTINGS)
    assert result.fields["Address1"] == "a" * 1024
    assert FieldWarning("Address1", "cut to 1024 characters") in result.warnings


def test_dropped_values_say_why() -> None:
    result = map_customer(
        customer(
            name="Reasons",
            email="not an email",
            currency="abc",
            address=address("xx", postal_code="123456789012"),
        ),
        SETTINGS,
    )
    assert set(result.warnings) >= {
        FieldWarning("Email", "dropped: not a valid e-mail address"),
        FieldWarning("Currency", "dropped: not an ISO 4217 currency code"),
        FieldWarning("CountryCode", "dropped: not an ISO 3166-1 alpha-2 country code"),
        FieldWarning("ZipCode", "dropped: postcode longer than 10 characters"),
    }


def test_reasons_carry_no_personal_data() -> None:
    result = map_customer(
        customer(
            name="Secret 😀 Person", email="secret.person@", address=address("SE", postal_code="SECRET-1234")
        ),
        SETTINGS,
    )
    assert result.warnings
    assert not any("ecret" in w.reason for w in result.warnings)


def test_seller_country_and_metadata_keys_come_from_settings() -> None:
    settings = Settings(
        seller_country="DE", organisation_number_metadata_key="org", vat_number_metadata_key="vat"
    )
    german = map_customer(customer(name="Lokal GmbH", address=address("DE")), settings)
    swedish = map_customer(
        customer(
            name="Svensk AB", address=address("SE"), metadata={"org": "5566778899", "vat": "SE556677889901"}
        ),
        settings,
    )
    assert german.fields["VATType"] == "SEVAT"  # Fortnox calls domestic VAT "SEVAT" whatever the country
    assert swedish.fields["VATType"] == "EUREVERSEDVAT"
    assert swedish.fields["OrganisationNumber"] == "556677-8899"
    assert swedish.fields["VATNumber"] == "SE556677889901"
    assert swedish.fields["Type"] == "COMPANY"


def test_no_empty_values_are_returned() -> None:
    result = map_customer(
        customer(name="Blank", email="", phone=" ", address=address("", line1="", city="  "), currency=""),
        SETTINGS,
    )
    assert set(result.fields) == {"Name", "ExternalReference", "Type"}
    assert result.warnings == ()


@pytest.mark.parametrize("bad_id", [None, "", "   ", "cus_\x00bad"])
def test_customer_without_a_usable_id_is_refused(bad_id: str | None) -> None:
    with pytest.raises(ValueError, match="no usable id"):
        map_customer(customer(id=bad_id), SETTINGS)


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vat", "org_number"),
    [
        ("SE556677889901", "556677-8899"),
        ("se 5566778899 01", "556677-8899"),
        ("SE-556677-8899-01", "556677-8899"),
        ("SE556677889902", None),
        ("SE55667788990", None),
        ("DE123456789", None),
        ("5566778899", None),
        ("", None),
    ],
)
def test_swedish_org_number_from_vat(vat: str, org_number: str | None) -> None:
    assert swedish_org_number_from_vat(vat) == org_number


# --- property: whatever Stripe sends, Fortnox's limits hold -------------------------------------

# Every text field gets arbitrary Unicode, including surrogates, plus the characters most likely
# to break Fortnox, so the generator hits them far more often than blind chance would.
_tricky = st.sampled_from(
    ["\n", "\r", "\t", "\x00", "\x1f", "\u200b", "\ufeff", "😀", "\U0001f1f8", " ", "-"]
)
_any_char = st.characters(codec=None, exclude_categories=())
_text = st.text(alphabet=st.one_of(_any_char, _tricky), max_size=40)
_long_text = st.text(alphabet=st.one_of(_any_char, _tricky), min_size=1000, max_size=1100)
_field = st.one_of(st.none(), _text, st.just(""))
_country = st.one_of(
    _field,
    st.sampled_from(sorted(COUNTRY_CODES | {"XX", "UK", "EU"})).map(lambda c: c.lower()),
)
_email = st.one_of(_field, st.emails().map(str))
_address: st.SearchStrategy[dict[str, Any] | None] = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {
            "line1": st.one_of(_field, _long_text),
            "line2": _field,
            "postal_code": _field,
            "city": _field,
            "state": _field,
            "country": _country,
        }
    ),
)
_shipping = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries({"name": _field, "phone": _field, "address": _address}),
)
_tax_ids = st.lists(
    st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["eu_vat", "gb_vat", "us_ein", "br_cpf"]), _text), "value": _field}
    ),
    max_size=3,
)
_customers = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"cus_[A-Za-z0-9]{14}", fullmatch=True),
        "object": st.just("customer"),
        "name": st.one_of(_field, _long_text),
        "business_name": _field,
        "individual_name": _field,
        "email": _email,
        "phone": _field,
        "address": _address,
        "shipping": _shipping,
        "currency": st.one_of(_field, st.sampled_from(sorted(CURRENCY_CODES)).map(str.lower)),
        "tax_exempt": st.one_of(st.none(), st.sampled_from(["none", "exempt", "reverse"]), _text),
        "metadata": st.one_of(
            st.none(),
            st.fixed_dictionaries({"organisation_number": _field, "vat_number": _field}),
        ),
        "tax_ids": st.one_of(st.none(), st.fixed_dictionaries({"data": _tax_ids})),
    }
)


def _assert_fortnox_limits(fields: dict[str, Any]) -> None:
    assert 1 <= len(fields["Name"]) <= 1024
    assert fields["Type"] in ("PRIVATE", "COMPANY")
    assert fields.get("VATType") in (None, "SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")
    for key in ("CountryCode", "DeliveryCountryCode"):
        assert fields.get(key) is None or fields[key] in COUNTRY_CODES
    assert fields.get("Currency") is None or fields["Currency"] in CURRENCY_CODES
    assert fields.get("Email") is None or is_valid_email(fields["Email"])
    for key, value in fields.items():
        assert isinstance(value, str), key
        assert value, f"{key} is empty"
        assert value == value.strip(), f"{key} has surrounding white space"
        if key not in ("Type", "VATType"):  # checked against their value sets above
            assert len(value) <= MAX_LENGTHS[key], key
        bad = [c for c in value if ord(c) > 0xFFFF or unicodedata.category(c) in ("Cc", "Cf", "Cs")]
        assert not bad, f"{key} keeps {bad!r}"
        value.encode("utf-8")  # raises on anything Fortnox could not even receive


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stripe_customer=_customers, extra_tax_ids=st.one_of(st.none(), _tax_ids))
def test_any_stripe_customer_fits_fortnox(
    stripe_customer: dict[str, Any], extra_tax_ids: list[dict[str, Any]] | None
) -> None:
    result = map_customer(stripe_customer, SETTINGS, extra_tax_ids)

    _assert_fortnox_limits(result.fields)
    assert result.fields["ExternalReference"] == stripe_customer["id"]
    if result.fields.get("VATType") in ("EUVAT", "EUREVERSEDVAT"):
        country = result.fields.get("CountryCode") or result.fields.get("DeliveryCountryCode")
        assert country in EU_COUNTRY_CODES
    for warning in result.warnings:
        assert warning.reason
        assert warning.field in MAX_LENGTHS


@given(value=st.one_of(_text, _long_text), max_length=st.integers(min_value=1, max_value=1100))
def test_clean_text_output_is_clean_and_stable(value: str, max_length: int) -> None:
    cleaned, _ = clean_text(value, max_length)
    if cleaned is None:
        return
    assert 1 <= len(cleaned) <= max_length
    assert clean_text(cleaned, max_length) == (cleaned, [])
