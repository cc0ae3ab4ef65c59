"""Stripe customer -> Fortnox customer: VAT type, VAT and organisation numbers, private or company."""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer, swedish_org_number_from_vat
from tests.builders import address, customer, tax_id
from tests.unit.customer_cases import (
    Case,
    assert_maps,
)

CASES: list[Case] = [
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
        [tax_id("SE556677889901", None)],
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
        [tax_id("GB123456789", None, kind="gb_vat"), tax_id("IE6388047V", None)],
        {"VATNumber": "IE6388047V", "VATType": "EUREVERSEDVAT"},
        set(),
        set(),
    ),
    (
        "non-EU business tax id used as VAT number",
        customer(name="Acme Inc.", address=address("US", city="Wilmington"), currency="usd"),
        [tax_id("12-3456789", None, kind="us_ein")],
        {"VATNumber": "123456789", "Type": "COMPANY", "VATType": "EXPORT", "Currency": "USD"},
        set(),
        set(),
    ),
    (
        "personal tax id does not make a company",
        customer(name="João Silva", address=address("BR")),
        [tax_id("123.456.789-09", None, kind="br_cpf")],
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
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_map_customer(case: Case) -> None:
    assert_maps(case)


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
