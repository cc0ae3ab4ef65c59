"""Fortnox invoice payments for what went through Stripe: round-off write-offs, currencies, dates."""

from __future__ import annotations

from datetime import date

import pytest

from stripe_fortnox_sync.core.errors import InvoiceMappingError
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.payments import payment_payload
from tests.invoice_examples import fortnox_invoice


def test_payment_writes_off_fortnoxs_round_off() -> None:
    payment = payment_payload(fortnox_invoice(), 12375, "sek", date(2024, 5, 2))
    assert payment.payload == {
        "InvoiceNumber": 12,
        "PaymentDate": "2024-05-02",
        "ModeOfPaymentAccount": 1580,
        "Amount": 123.75,
        "WriteOffs": [
            {"AccountNumber": 3740, "Amount": 0.25, "Currency": "SEK", "Description": "Öresavrundning"}
        ],
    }
    assert payment.warnings == ()


def test_payment_of_a_foreign_invoice() -> None:
    invoice = fortnox_invoice(Currency="EUR", CurrencyRate=11.5, Total=100.0, RoundOff=0.0, Balance=100.0)
    accounts = BookkeepingAccounts(mode_of_payment="STRIPE", stripe_clearing=1930)
    with_rate = payment_payload(invoice, 10000, "eur", date(2024, 5, 1), accounts)
    assert with_rate.payload == {
        "InvoiceNumber": 12,
        "PaymentDate": "2024-05-01",
        "ModeOfPaymentAccount": 1930,
        "ModeOfPayment": "STRIPE",
        "AmountCurrency": 100.0,
        "Amount": 1150.0,
    }
    settled = payment_payload(invoice, 10000, "eur", date(2024, 5, 1), settlement_sek_minor=113_777)
    assert settled.payload["Amount"] == 1137.77


def test_payment_before_the_invoice_date_moves_to_it() -> None:
    payment = payment_payload(
        fortnox_invoice(RoundOff=0, Total=123.75, Balance=123.75), 12375, "sek", date(2024, 4, 30)
    )
    assert payment.payload["PaymentDate"] == "2024-05-01"
    assert [w.field for w in payment.warnings] == ["PaymentDate"]


def test_refund_payment_of_a_credit_invoice_is_negative() -> None:
    credit = fortnox_invoice(Total=-124.0, RoundOff=-0.25, Balance=-124.0)
    payment = payment_payload(credit, 12375, "sek", date(2024, 5, 3))
    assert payment.payload["Amount"] == -123.75
    assert payment.payload["WriteOffs"][0]["Amount"] == -0.25


def test_partial_payment_is_flagged() -> None:
    payment = payment_payload(fortnox_invoice(), 10000, "sek", date(2024, 5, 2))
    assert "WriteOffs" not in payment.payload
    assert [w.field for w in payment.warnings] == ["Amount"]


def test_payment_currency_must_match_and_amount_must_not_be_zero() -> None:
    with pytest.raises(InvoiceMappingError):
        payment_payload(fortnox_invoice(), 100, "eur", date(2024, 5, 2))
    with pytest.raises(InvoiceMappingError, match="zero"):
        payment_payload(fortnox_invoice(), 0, "sek", date(2024, 5, 2))
