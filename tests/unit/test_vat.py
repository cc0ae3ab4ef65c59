"""The buyer's Fortnox VAT type."""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.mapping.vat import buyer_vat_type, vat_type_for


@pytest.mark.parametrize(
    ("country", "exempt", "vat_number", "expected"),
    [
        ("SE", "none", False, "SEVAT"),
        ("se", "reverse", False, "SEREVERSEDVAT"),
        ("DE", "none", True, "EUREVERSEDVAT"),
        ("DE", "reverse", False, "EUREVERSEDVAT"),
        ("FR", "none", False, "EUVAT"),
        ("US", "none", False, "EXPORT"),
        (None, "none", False, None),
    ],
)
def test_vat_type_for(country: str | None, exempt: str, vat_number: bool, expected: str | None) -> None:
    assert vat_type_for(country, exempt, vat_number) == expected


def test_buyer_vat_type_reads_the_shipping_address_and_eu_vat_ids() -> None:
    shipping = {"name": "A", "address": {"country": "DE"}}
    assert buyer_vat_type(None, shipping, "none", [], "SE") == "EUVAT"
    assert buyer_vat_type({"country": "DE"}, None, "none", [{"type": "eu_vat", "value": "DE1"}], "SE") == (
        "EUREVERSEDVAT"
    )
    assert buyer_vat_type({}, None, "none", None, "SE") is None
