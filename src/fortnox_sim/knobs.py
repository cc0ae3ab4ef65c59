"""The simulator's knobs: limits, faults, validation strictness and the company's invoice and
bookkeeping setup (the latter's checks in book_knobs.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from .book_knobs import YearSpan, financial_years, locked_period_end, voucher_series
from .company import (
    DEFAULT_ACCOUNTS,
    DEFAULT_CURRENCIES,
    DEFAULT_CURRENCY_RATES,
    DEFAULT_VOUCHER_SERIES,
    default_financial_years,
)
from .zone import fortnox_date

__all__ = ["KnobChanges", "Knobs", "checked_changes"]


@dataclass
class Knobs:
    error_rate: float = 0.0
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    timeout_applies_write: bool = False
    rate_limit_enabled: bool = True
    max_requests: int = 25
    window_seconds: float = 5.0
    token_lifetime: float = 3600.0
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES
    # The spec gives Address1 minLength 1 and the country codes minLength 2, yet clearing a field
    # means sending "". Off (the default), "" clears any optional field; on, "" must satisfy
    # minLength like any other value.
    strict_min_length: bool = False
    # ILIKE treats "_" and "%" in the value as wildcards unless Fortnox escapes them, which is
    # undocumented. On (the default) a search for "a_b" also finds "axb", the harsher case.
    search_wildcards: bool = True
    # Invoices: the chart of accounts row and payment accounts must be in, years whose books are
    # closed, öresavrundning of SEK totals, SEK rates for other currencies, and whether a payment
    # needs a booked invoice.
    accounts: tuple[int, ...] = DEFAULT_ACCOUNTS
    closed_years: tuple[int, ...] = ()
    invoice_round_off: bool = True
    currency_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CURRENCY_RATES))
    payment_requires_booked: bool = True
    # Bookkeeping: the financial years (FromDate, ToDate) every tenant has, the last day of the
    # locked period ("" for none), the voucher series (code -> Description, Manual), accounts in the
    # chart that are inactive, and whether an invoice may have one connected credit invoice only
    # (Fortnox's interface offers one; whether its API refuses a second is not documented).
    financial_years: tuple[YearSpan, ...] = field(
        default_factory=lambda: default_financial_years(fortnox_date(time.time()))
    )
    locked_period_end: str = ""
    voucher_series: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {code: dict(series) for code, series in DEFAULT_VOUCHER_SERIES.items()}
    )
    inactive_accounts: tuple[int, ...] = ()
    one_connected_credit: bool = False
    # /3/companyinformation per TenantId: {"CompanyName": ..., "OrganizationNumber": ...}.
    companies: dict[str, dict[str, str]] = field(default_factory=dict)


class KnobChanges(TypedDict, total=False):
    """What `FortnoxSimulator.configure` takes; None (or leaving a knob out) keeps its value."""

    error_rate: float | None
    latency_ms: float | None
    timeout_rate: float | None
    timeout_seconds: float | None
    timeout_applies_write: bool | None
    rate_limit_enabled: bool | None
    max_requests: int | None
    window_seconds: float | None
    token_lifetime: float | None
    currencies: Iterable[str] | None
    strict_min_length: bool | None
    search_wildcards: bool | None
    accounts: Iterable[int] | None
    closed_years: Iterable[int] | None
    invoice_round_off: bool | None
    currency_rates: Mapping[str, float] | None
    payment_requires_booked: bool | None
    # Years as 2027, ["2027-07-01", "2028-06-30"] or {"FromDate": ..., "ToDate": ...}.
    financial_years: Iterable[int | Iterable[str] | Mapping[str, str]] | None
    locked_period_end: str | None  # "YYYY-MM-DD", or "" to unlock
    voucher_series: Mapping[str, bool | Mapping[str, Any]] | None  # code -> Manual, or the series
    inactive_accounts: Iterable[int] | None
    one_connected_credit: bool | None
    companies: Mapping[str, Mapping[str, str]] | None  # TenantId -> CompanyInformation fields


def checked_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The knobs to set, checked and normalised: name -> new value (knobs given as None left out)."""
    for name in changes:
        if name not in KnobChanges.__optional_keys__:
            # What Python says for an unknown keyword: /_sim/config reports it as an unknown knob.
            raise TypeError(f"FortnoxSimulator.configure() got an unexpected keyword argument {name!r}")
    _check_ranges(changes)
    # None leaves a knob as it is: only what is given is checked and normalised.
    normalised = {
        name: normalise(changes[name])
        for name, normalise in _NORMALISED.items()
        if changes.get(name) is not None
    }
    merged = {**changes, **normalised}
    return {name: value for name, value in merged.items() if value is not None}


def _check_ranges(changes: Mapping[str, Any]) -> None:
    for name in ("error_rate", "timeout_rate"):
        rate = changes.get(name)
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    for name in ("latency_ms", "timeout_seconds", "token_lifetime"):
        amount = changes.get(name)
        if amount is not None and amount < 0:
            raise ValueError(f"{name} must not be negative")
    max_requests = changes.get("max_requests")
    if max_requests is not None and max_requests < 1:
        raise ValueError("max_requests must be at least 1")
    window_seconds = changes.get("window_seconds")
    if window_seconds is not None and window_seconds <= 0:
        raise ValueError("window_seconds must be positive")


def _currencies(currencies: Iterable[str]) -> tuple[str, ...]:
    if isinstance(currencies, str):
        raise ValueError("currencies must be a list of codes, not one string")
    codes = tuple(currencies)
    if not all(isinstance(c, str) and re.fullmatch(r"[A-Z]{3}", c) for c in codes):
        raise ValueError("currencies must be three-letter upper-case codes")
    return codes


def _closed_years(closed_years: Iterable[int]) -> tuple[int, ...]:
    if isinstance(closed_years, str | bytes):
        raise ValueError("closed_years must be a list of years")
    years = tuple(sorted({int(year) for year in closed_years}))
    if not all(1900 <= year <= 9999 for year in years):
        raise ValueError("closed_years must be four-digit years")
    return years


def _currency_rates(currency_rates: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(currency_rates, Mapping):
        raise ValueError("currency_rates must map currency codes to SEK rates")
    rates = {}
    for code, rate in currency_rates.items():
        if not (isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code)):
            raise ValueError(f"currency_rates: {code!r} is not a three-letter upper-case code")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1e6:
            raise ValueError(f"currency_rates: the rate for {code} must be a positive number")
        rates[code] = float(rate)
    rates["SEK"] = 1.0
    return rates


def _accounts(accounts: Iterable[Any]) -> tuple[int, ...]:
    """A chart of accounts: four-digit account numbers, sorted."""
    if isinstance(accounts, str | bytes):
        raise ValueError("accounts must be a list of account numbers")
    result = set()
    for account in accounts:
        number = int(account) if isinstance(account, str) and account.isdigit() else account
        if isinstance(number, bool) or not isinstance(number, int) or not 1000 <= number <= 9999:
            raise ValueError(f"account {account!r} is not a four-digit account number")
        result.add(number)
    return tuple(sorted(result))


# The knobs whose values are checked and brought to one form, in the order they are checked.
def _companies(companies: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    if not isinstance(companies, Mapping) or not all(isinstance(v, Mapping) for v in companies.values()):
        raise ValueError("companies must map a TenantId to its CompanyInformation fields")
    return {str(k): {str(f): str(v) for f, v in fields.items()} for k, fields in companies.items()}


_NORMALISED: Final[Mapping[str, Callable[[Any], Any]]] = {
    "currencies": _currencies,
    "closed_years": _closed_years,
    "currency_rates": _currency_rates,
    "accounts": _accounts,
    "inactive_accounts": _accounts,
    "financial_years": financial_years,
    "locked_period_end": locked_period_end,
    "voucher_series": voucher_series,
    "companies": _companies,
}
