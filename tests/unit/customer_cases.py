"""What the customer mapping tests share (test_customer_mapping, test_customer_vat,
test_customer_cleaning): each case maps one Stripe customer and checks what Fortnox gets.

Most cases start from Stripe's own example customer (tests/builders.py) and change the fields a real
customer would have set.
"""

from __future__ import annotations

import copy
import unicodedata
from typing import Any

from stripe_fortnox_sync.core.models import FieldWarning
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES, CURRENCY_CODES
from stripe_fortnox_sync.mapping.text import MAX_LENGTHS, is_valid_email
from tests.builders import fixture

STRIPE_CUSTOMER = fixture("stripe_customer.json")
STRIPE_TAX_ID = fixture("stripe_tax_id.json")
FIXTURE_ID = STRIPE_CUSTOMER["id"]
SETTINGS = Settings()

# (case id, Stripe customer, tax_ids argument, expected fields (subset), fields that must be
# absent, fields that must carry a warning)
Case = tuple[str, dict[str, Any], list[dict[str, Any]] | None, dict[str, Any], set[str], set[str]]


def warned(result_warnings: tuple[FieldWarning, ...]) -> set[str]:
    return {w.field for w in result_warnings}


def assert_maps(case: Case) -> None:
    """One case: the expected fields and warnings, nothing absent present, Fortnox's limits kept."""
    _, stripe_customer, tax_ids, expected, absent, warned_fields = case
    before = copy.deepcopy(stripe_customer)
    result = map_customer(stripe_customer, SETTINGS, tax_ids)

    assert {k: result.fields.get(k) for k in expected} == expected
    assert absent.isdisjoint(result.fields), sorted(absent & result.fields.keys())
    assert warned(result.warnings) == warned_fields, result.warnings
    assert result.fields["ExternalReference"] == stripe_customer["id"]
    assert stripe_customer == before, "the mapping must not change its input"
    assert_fortnox_limits(result.fields)


def assert_fortnox_limits(fields: dict[str, Any]) -> None:
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
