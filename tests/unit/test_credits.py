"""Stripe refunds -> Fortnox credits: full or partial, spread over the invoice's rows to the minor unit.

That Fortnox's arithmetic totals each credit invoice to minus the refund is checked in
tests/integration/test_mapping_arithmetic.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.credits import credit_payload, refund_is_full
from tests.builders import fixture
from tests.invoice_examples import fortnox_invoice


def test_full_and_partial_refunds() -> None:
    invoice = fortnox_invoice()
    assert refund_is_full(invoice, 12375, "sek")
    assert not refund_is_full(invoice, 12374, "sek")
    assert not refund_is_full(invoice, 12375, "sek", already_credited_minor=100)
    assert not refund_is_full(fortnox_invoice(CreditInvoiceReference="13"), 12375, "sek")


def test_partial_refund_credit_invoice() -> None:
    mapped = credit_payload(fortnox_invoice(), 5001, "sek", "re_1", date(2024, 5, 10))
    body = mapped.payload
    assert body["CreditInvoiceReference"] == "12"
    assert body["ExternalInvoiceReference1"] == "re_1"
    assert body["VATIncluded"] is True
    assert body["InvoiceDate"] == "2024-05-10"
    assert [(r["DeliveredQuantity"], r["AccountNumber"], r["VAT"]) for r in body["InvoiceRows"]] == [
        ("-1", 3001, 25),
        ("-1", 3003, 6),
    ]
    # 50.01 split 100 : 23.75 is 40.412 and 9.598: the spare öre goes to the larger remainder.
    assert [r["Price"] for r in body["InvoiceRows"]] == [40.41, 9.60]
    assert mapped.total == Decimal("-50.01")


def test_refunds_cannot_exceed_the_invoice() -> None:
    with pytest.raises(InvoiceMappingError, match="exceed"):
        credit_payload(
            fortnox_invoice(), 10000, "sek", "re_2", date(2024, 5, 10), already_credited_minor=2376
        )
    with pytest.raises(InvoiceMappingError):
        credit_payload(fortnox_invoice(), 0, "sek", "re_3", date(2024, 5, 10))


def test_stripe_refund_objects_drive_the_credit() -> None:
    # Stripe's example charge (1.00 USD) and its refund: the refund takes back the whole charge.
    charge, refund = fixture("stripe_charge.json"), fixture("stripe_refund.json")
    assert refund["charge"] == charge["id"]
    invoice = fortnox_invoice(Currency="USD", CurrencyRate=10.5, Total=1.0, RoundOff=0.0, Balance=0.0)
    assert refund_is_full(invoice, refund["amount"], refund["currency"])
    partial = credit_payload(
        invoice, refund["amount"] // 2, refund["currency"], refund["id"], date(2024, 5, 9)
    )
    assert partial.payload["ExternalInvoiceReference1"] == refund["id"]
    assert partial.payload["CurrencyRate"] == 10.5
    assert partial.total == Decimal("-0.50")
