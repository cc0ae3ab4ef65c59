"""Summary booking's arithmetic: a payment's tax data as buckets, SEK conversion, refunds in the
sale's proportions, and the day voucher (balanced to the öre by construction)."""

from __future__ import annotations

from datetime import date

import pytest

from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.day_voucher import DayEntry, day_voucher, description
from stripe_fortnox_sync.mapping.summary import (
    Bucket,
    Buyer,
    Kind,
    Part,
    VatUnknown,
    in_sek,
    refund_parts,
    sale_parts,
    tax_entries,
)

SE = Buyer("SE", "SEVAT")
DE = Buyer("DE", "EUVAT")
DAY = date(2024, 5, 3)


def automatic_tax(amount: int, taxable: int, reason: str = "standard_rated") -> dict[str, object]:
    """An entry of an invoice's `total_taxes` (API versions from 2025-03-31)."""
    return {
        "amount": amount,
        "tax_behavior": "exclusive",
        "tax_rate_details": {"tax_rate": "txr_1"},
        "taxability_reason": reason,
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }


def test_total_taxes_of_a_german_consumer_are_an_oss_bucket_at_germanys_rate() -> None:
    taxes = tax_entries({"total_taxes": [automatic_tax(1900, 10000)]})
    (part,) = sale_parts(11900, taxes, DE, "SE", "in_1")
    assert part == Part(Bucket("DE", 19, Kind.OSS), 10000, 1900)


def test_older_total_tax_amounts_and_checkouts_breakdown_are_read_alike() -> None:
    old = {"total_tax_amounts": [{"amount": 600, "taxable_amount": 10000, "tax_rate": "txr_6"}]}
    checkout = {
        "total_details": {
            "breakdown": {
                "taxes": [
                    {
                        "amount": 1200,
                        "taxable_amount": 10000,
                        "rate": {"id": "txr_12", "percentage": 12, "country": "SE"},
                        "taxability_reason": "standard_rated",
                    }
                ]
            }
        }
    }
    assert sale_parts(10600, tax_entries(old), SE, "SE", "in_2") == [
        Part(Bucket("SE", 6, Kind.DOMESTIC), 10000, 600)
    ]
    assert sale_parts(11200, tax_entries(checkout), SE, "SE", "cs_1") == [
        Part(Bucket("SE", 12, Kind.DOMESTIC), 10000, 1200)
    ]


def test_reverse_charge_and_export_follow_the_tax_data_and_the_buyer() -> None:
    rc = tax_entries({"total_taxes": [automatic_tax(0, 5000, "reverse_charge")]})
    assert sale_parts(5000, rc, Buyer("FR", "EUREVERSEDVAT"), "SE", "in_3") == [
        Part(Bucket("FR", 0, Kind.REVERSE_CHARGE), 5000, 0)
    ]
    assert sale_parts(5000, None, Buyer("US", "EXPORT"), "SE", "pi_1") == [
        Part(Bucket("US", 0, Kind.EXPORT), 5000, 0)
    ]


def test_an_eu_consumer_without_tax_data_is_never_guessed() -> None:
    with pytest.raises(VatUnknown):
        sale_parts(5000, None, DE, "SE", "pi_2")
    with pytest.raises(VatUnknown):
        sale_parts(5000, None, Buyer(None, None), "SE", "pi_3")


def test_a_bare_swedish_payment_includes_the_payment_intent_vat_rate() -> None:
    assert sale_parts(12500, None, SE, "SE", "pi_4", untaxed_rate=25) == [
        Part(Bucket("SE", 25, Kind.DOMESTIC), 10000, 2500)
    ]


def test_sek_conversion_keeps_the_rate_for_tax_and_puts_the_remainder_on_the_largest_part() -> None:
    parts = [Part(Bucket("DE", 19, Kind.OSS), 1000, 190), Part(Bucket("DE", 7, Kind.OSS), 333, 23)]
    sek = in_sek(parts, 17_777)  # 15.46 EUR settled as 177.77 SEK
    assert sum(p.gross for p in sek) == 17_777
    assert sek[0].vat == round(190 * 17_777 / 1546) and sek[1].vat == round(23 * 17_777 / 1546)


def test_a_refund_reverses_its_sale_in_proportion() -> None:
    sale = [Part(Bucket("SE", 25, Kind.DOMESTIC), 8000, 2000), Part(Bucket("SE", 6, Kind.DOMESTIC), 1000, 60)]
    back = refund_parts(sale, 5_530)  # half of 110.60
    assert sum(p.gross for p in back) == -5_530
    assert back[0] == Part(Bucket("SE", 25, Kind.DOMESTIC), -4000, -1000)
    assert back[1] == Part(Bucket("SE", 6, Kind.DOMESTIC), -500, -30)


def test_the_day_voucher_balances_and_books_each_bucket_on_its_accounts() -> None:
    accounts = BookkeepingAccounts(oss_accounts={"DE": [3107, 2619]})
    entries = [
        DayEntry("pi_1", "sale", DAY, (Part(Bucket("SE", 25, Kind.DOMESTIC), 8000, 2000),)),
        DayEntry("pi_2", "sale", DAY, (Part(Bucket("DE", 19, Kind.OSS), 10000, 1900),)),
        DayEntry("pi_3", "sale", DAY, (Part(Bucket("FR", 0, Kind.REVERSE_CHARGE), 5000, 0),)),
        DayEntry("re_1", "refund", DAY, (Part(Bucket("SE", 25, Kind.DOMESTIC), -800, -200),), sale="pi_1"),
    ]
    voucher = day_voucher(DAY, entries, accounts)
    assert voucher is not None and voucher.description == description(DAY) == "Stripe försäljning 2024-05-03"
    by_account = {r.account: r.amount for r in voucher.rows}
    assert by_account == {1580: 25900, 3001: -7200, 2611: -1800, 3107: -10000, 2619: -1900, 3308: -5000}
    assert sum(r.amount for r in voucher.rows) == 0


def test_entries_survive_the_state_table_as_json() -> None:
    entry = DayEntry("re_1", "refund", DAY, (Part(Bucket("DE", 19, Kind.OSS), -100, -19),), sale="pi_1")
    assert DayEntry.from_json(entry.to_json()) == entry


def test_entries_that_cancel_out_give_no_voucher() -> None:
    part = Part(Bucket("SE", 25, Kind.DOMESTIC), 800, 200)
    entries = [
        DayEntry("pi_1", "sale", DAY, (part,)),
        DayEntry("re_1", "refund", DAY, (Part(part.bucket, -800, -200),), sale="pi_1"),
    ]
    assert day_voucher(DAY, entries, BookkeepingAccounts()) is None


def test_an_invoice_without_tax_totals_is_read_from_its_lines_taxes() -> None:
    invoice = {
        "lines": {
            "data": [
                {"taxes": [automatic_tax(2500, 10000)]},
                {"tax_amounts": [{"amount": 600, "taxable_amount": 10000, "inclusive": False}]},
            ]
        }
    }
    assert sale_parts(23100, tax_entries(invoice), SE, "SE", "in_4") == [
        Part(Bucket("SE", 6, Kind.DOMESTIC), 10000, 600),
        Part(Bucket("SE", 25, Kind.DOMESTIC), 10000, 2500),
    ]
