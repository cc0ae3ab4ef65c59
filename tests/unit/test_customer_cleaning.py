"""Stripe customer -> Fortnox customer: currency and e-mail, text cleaned to what Fortnox takes, and
whatever Stripe sends (hypothesis) within Fortnox's limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES, CURRENCY_CODES, EU_COUNTRY_CODES
from stripe_fortnox_sync.mapping.text import MAX_LENGTHS, clean_text
from tests.builders import address, customer
from tests.unit.customer_cases import (
    SETTINGS,
    Case,
    assert_fortnox_limits,
    assert_maps,
)

CASES: list[Case] = [
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


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_map_customer(case: Case) -> None:
    assert_maps(case)


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


# Whatever Stripe sends, Fortnox's limits hold -------------------------------------------------

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


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stripe_customer=_customers, extra_tax_ids=st.one_of(st.none(), _tax_ids))
def test_any_stripe_customer_fits_fortnox(
    stripe_customer: dict[str, Any], extra_tax_ids: list[dict[str, Any]] | None
) -> None:
    result = map_customer(stripe_customer, SETTINGS, extra_tax_ids)

    assert_fortnox_limits(result.fields)
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
