"""Settings from the environment: the invoice switches are opt-in and validated at cold start."""

from __future__ import annotations

from datetime import date

import pytest

from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import FeeVat, Settings
from stripe_fortnox_sync.mapping.accounts import configured_accounts
from stripe_fortnox_sync.sync.routes import (
    DEFAULT_TYPES,
    OPT_IN_TYPES,
    SUPPORTED_TYPES,
    books_payouts,
    books_sales,
    enabled_types,
)

VARIABLES = (
    "ENABLED_EVENT_TYPES",
    "INVOICE_CHECKOUT_PAYMENTS",
    "PAYMENT_INTENT_VAT_RATE",
    "CUSTOMER_MATCH_RULE",
    "CHECKOUT_MODES",
    "INVOICE_ACCOUNTS",
    "BOOKKEEPING_ACCOUNTS",
    "PAYOUT_VOUCHER_SERIES",
    "STRIPE_FEE_VAT",
    "PAYOUT_ITEMISED_ROWS",
    "SALES_START_DATE",
    "STRIPE_LIVEMODE",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_invoice_types_are_supported_and_off_by_default() -> None:
    assert set(SUPPORTED_TYPES) >= set(OPT_IN_TYPES)
    assert not set(OPT_IN_TYPES) & set(DEFAULT_TYPES)
    settings = Settings.from_env()
    assert enabled_types(settings) == frozenset(DEFAULT_TYPES)
    assert (settings.invoice_checkout_payments, settings.payment_intent_vat_rate) == (False, 25)
    assert books_sales(settings) is False and books_sales(Settings()) is False


@pytest.mark.parametrize("kind", sorted(OPT_IN_TYPES))
def test_any_opt_in_type_enables_invoices_or_payouts(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setenv("ENABLED_EVENT_TYPES", f"customer.created, {kind}")
    settings = Settings.from_env()
    assert settings.event_types == ("customer.created", kind)
    # A payout event books vouchers; every other opt-in type (a lost dispute too) books invoices.
    assert (books_payouts(settings), books_sales(settings)) == (
        kind.startswith("payout."),
        not kind.startswith("payout."),
    )


def test_checkout_payments_alone_enable_invoices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_CHECKOUT_PAYMENTS", "true")
    settings = Settings.from_env()
    assert settings.invoice_checkout_payments and books_sales(settings)
    assert not set(OPT_IN_TYPES) & enabled_types(settings)


def test_checkout_payments_must_be_a_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_CHECKOUT_PAYMENTS", "sometimes")
    with pytest.raises(ConfigError, match="INVOICE_CHECKOUT_PAYMENTS"):
        Settings.from_env()


@pytest.mark.parametrize("rate", [0, 6, 12, 25])
def test_payment_intent_vat_rate_takes_a_swedish_rate(monkeypatch: pytest.MonkeyPatch, rate: int) -> None:
    monkeypatch.setenv("PAYMENT_INTENT_VAT_RATE", str(rate))
    assert Settings.from_env().payment_intent_vat_rate == rate


@pytest.mark.parametrize("raw", ["7", "-1", "25.0", "moms"])
def test_payment_intent_vat_rate_refuses_anything_else(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PAYMENT_INTENT_VAT_RATE", raw)
    with pytest.raises(ConfigError, match="PAYMENT_INTENT_VAT_RATE"):
        Settings.from_env()


def test_an_unknown_event_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLED_EVENT_TYPES", "refund.created,refund.failed")
    with pytest.raises(ConfigError, match=r"refund\.failed"):
        enabled_types(Settings.from_env())


def test_payout_settings_default_to_reverse_charge_series_a_and_no_start_date() -> None:
    settings = Settings.from_env()
    assert (settings.payout_voucher_series, settings.fee_vat, settings.payout_itemised_rows) == (
        "A",
        FeeVat.REVERSE_CHARGE,
        50,
    )
    assert settings.sales_start_date is None


def test_payout_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYOUT_VOUCHER_SERIES", " s ")
    monkeypatch.setenv("STRIPE_FEE_VAT", "NONE")
    monkeypatch.setenv("PAYOUT_ITEMISED_ROWS", "3")
    monkeypatch.setenv("SALES_START_DATE", "2024-05-01")
    settings = Settings.from_env()
    assert (settings.payout_voucher_series, settings.fee_vat) == ("S", FeeVat.NONE)
    assert (settings.payout_itemised_rows, settings.sales_start_date) == (3, date(2024, 5, 1))
    for name, raw in [
        ("PAYOUT_VOUCHER_SERIES", "A-1"),
        ("STRIPE_FEE_VAT", "25"),
        ("PAYOUT_ITEMISED_ROWS", "0"),
        ("SALES_START_DATE", "1 May 2024"),
    ]:
        monkeypatch.setenv(name, raw)
        with pytest.raises(ConfigError, match=name):
            Settings.from_env()
        monkeypatch.delenv(name)


def test_the_old_invoice_accounts_are_still_read_and_the_new_name_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INVOICE_ACCOUNTS", '{"stripe_clearing": 1581, "bank": 1940}')
    monkeypatch.setenv("BOOKKEEPING_ACCOUNTS", '{"bank": 1920, "stripe_fees": 6064}')
    accounts = configured_accounts(Settings.from_env())
    assert (accounts.stripe_clearing, accounts.bank, accounts.stripe_fees) == (1581, 1920, 6064)
    monkeypatch.setenv("BOOKKEEPING_ACCOUNTS", '{"dispute_clearing": 151}')
    with pytest.raises(ConfigError, match=r"BOOKKEEPING_ACCOUNTS.*dispute_clearing"):
        configured_accounts(Settings.from_env())
