"""Stripe customer -> Fortnox customer fields: Stripe's example customer, names and their fallbacks,
addresses. VAT and companies are in test_customer_vat.py, text and codes in test_customer_cleaning.py.
"""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.customer import map_customer
from tests.builders import address, customer, shipping
from tests.unit.customer_cases import (
    FIXTURE_ID,
    SETTINGS,
    STRIPE_CUSTOMER,
    STRIPE_TAX_ID,
    Case,
    assert_maps,
)

CASES: list[Case] = [
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
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_map_customer(case: Case) -> None:
    assert_maps(case)


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
