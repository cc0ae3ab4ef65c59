"""The simulated Fortnox company's setup: currencies, chart of accounts, currency rates, VAT rates,
financial years, voucher series, and the accounts its own bookings (invoices, payments) use.

These are the defaults of the knobs (see knobs.py); tests change them through `configure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

__all__ = [
    "BAS_ACCOUNTS",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CURRENCIES",
    "DEFAULT_CURRENCY_RATES",
    "DEFAULT_VOUCHER_SERIES",
    "FIRST_FINANCIAL_YEAR",
    "FX_GAIN_ACCOUNT",
    "FX_LOSS_ACCOUNT",
    "OTHER_VAT_ACCOUNT",
    "OUTPUT_VAT_ACCOUNTS",
    "RECEIVABLES_ACCOUNT",
    "ROUND_OFF_ACCOUNT",
    "VAT_RATES",
    "default_financial_years",
]

DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("SEK", "EUR", "USD", "GBP", "NOK", "DKK")

# The BAS accounts the simulated company has (name for the curious; only the numbers are checked).
# Sales accounts by VAT situation, receivables, the bank and Stripe clearing accounts, output VAT and
# öresutjämning: enough for every default of mapping.accounts.InvoiceAccounts and a few alternatives;
# and what a Stripe payout voucher books: disputes (1515), fees (6570) with reverse-charge VAT
# (2614 / 2645), input VAT (2640), exchange differences (3960 / 7960).
BAS_ACCOUNTS: Final[Mapping[int, str]] = {
    1510: "Kundfordringar",
    1515: "Osäkra kundfordringar",
    1580: "Fordringar för kontokort och kuponger",
    1910: "Kassa",
    1920: "PlusGiro",
    1930: "Företagskonto/checkkonto/affärskonto",
    1940: "Övriga bankkonton",
    2611: "Utgående moms på försäljning inom Sverige, 25 %",
    2621: "Utgående moms på försäljning inom Sverige, 12 %",
    2631: "Utgående moms på försäljning inom Sverige, 6 %",
    2614: "Utgående moms omvänd skattskyldighet, 25 %",
    2618: "Vilande utgående moms",
    2640: "Ingående moms",
    2645: "Beräknad ingående moms på förvärv från utlandet",
    3001: "Försäljning inom Sverige, 25 % moms",
    3002: "Försäljning inom Sverige, 12 % moms",
    3003: "Försäljning inom Sverige, 6 % moms",
    3004: "Försäljning inom Sverige, momsfri",
    3105: "Försäljning varor till land utanför EU",
    3106: "Försäljning varor till annat EU-land, momspliktig",
    3108: "Försäljning varor till annat EU-land, momsfri",
    3231: "Försäljning inom byggsektorn, omvänd skattskyldighet moms",
    3305: "Försäljning tjänster till land utanför EU",
    3308: "Försäljning tjänster till annat EU-land",
    3740: "Öres- och kronutjämning",
    3960: "Valutakursvinster på fordringar och skulder av rörelsekaraktär",
    6570: "Bankkostnader",
    7960: "Valutakursförluster på fordringar och skulder av rörelsekaraktär",
}
DEFAULT_ACCOUNTS: Final[tuple[int, ...]] = tuple(sorted(BAS_ACCOUNTS))

# SEK per unit, used when an invoice or payment in another currency gives no CurrencyRate (Fortnox
# takes the day's rate from its currency register; a fixed table keeps tests deterministic).
DEFAULT_CURRENCY_RATES: Final[Mapping[str, float]] = {
    "SEK": 1.0,
    "EUR": 11.5,
    "USD": 10.5,
    "GBP": 13.5,
    "NOK": 1.0,
    "DKK": 1.54,
}

# VAT rates Fortnox accepts on a row: the Swedish ones plus the integer rates other EU countries use
# (one-stop-shop sales). Anything else is refused.
VAT_RATES: Final[frozenset[int]] = frozenset(
    {0, 6, 12, 25} | {3, 4, 5, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27}
)

# Where a booked invoice puts its amounts (a credit invoice the reverse): the receivable, the output
# VAT by rate, the round-off (and öre lost converting another currency to SEK). Fortnox takes these
# from the company's settings; these are BAS's usual choices. BAS has no account for VAT charged at
# another EU country's rate (one-stop shop): the simulator books it on 2618 so that 2611/2621/2631
# hold Swedish VAT only (its own choice, not Fortnox's).
RECEIVABLES_ACCOUNT: Final = 1510
OUTPUT_VAT_ACCOUNTS: Final[Mapping[int, int]] = {25: 2611, 12: 2621, 6: 2631}
OTHER_VAT_ACCOUNT: Final = 2618
ROUND_OFF_ACCOUNT: Final = 3740
# A payment worth more SEK than the receivable it settles is an exchange gain, less a loss.
FX_GAIN_ACCOUNT: Final = 3960
FX_LOSS_ACCOUNT: Final = 7960

# Fortnox's usual series: A for manual vouchers, B for customer invoices, C for their payments. Only
# a series marked Manual takes vouchers through the API; B and C are filled by bookkeeping.
DEFAULT_VOUCHER_SERIES: Final[Mapping[str, Mapping[str, Any]]] = {
    "A": {"Description": "Redovisning", "Manual": True},
    "B": {"Description": "Kundfakturor", "Manual": False},
    "C": {"Description": "Kundinbetalningar", "Manual": False},
}

# The simulated company's financial years: one per calendar year, from 2000 up to the current one.
# The next year does not exist until a test adds it (users forget to create it). Not just the current
# and previous year: the suite books Stripe's own example objects (dated 2009) and fixtures dated
# 2023 and 2024. Tests that need a missing year set the knob `financial_years`.
FIRST_FINANCIAL_YEAR: Final = 2000


def default_financial_years(today: date) -> tuple[tuple[str, str], ...]:
    """Calendar years from FIRST_FINANCIAL_YEAR to today's, as (FromDate, ToDate)."""
    last = max(today.year, FIRST_FINANCIAL_YEAR)
    return tuple((f"{year}-01-01", f"{year}-12-31") for year in range(FIRST_FINANCIAL_YEAR, last + 1))
