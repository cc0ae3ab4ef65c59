"""The simulated Fortnox company's setup: currencies, chart of accounts, currency rates, VAT rates.

These are the defaults of the knobs (see knobs.py); tests change them through `configure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "BAS_ACCOUNTS",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CURRENCIES",
    "DEFAULT_CURRENCY_RATES",
    "VAT_RATES",
]

DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("SEK", "EUR", "USD", "GBP", "NOK", "DKK")

# The BAS accounts the simulated company has (name for the curious; only the numbers are checked).
# Sales accounts by VAT situation, receivables, the bank and Stripe clearing accounts, output VAT and
# öresutjämning: enough for every default of mapping.accounts.InvoiceAccounts and a few alternatives.
BAS_ACCOUNTS: Final[Mapping[int, str]] = {
    1510: "Kundfordringar",
    1580: "Fordringar för kontokort och kuponger",
    1910: "Kassa",
    1920: "PlusGiro",
    1930: "Företagskonto/checkkonto/affärskonto",
    1940: "Övriga bankkonton",
    2611: "Utgående moms på försäljning inom Sverige, 25 %",
    2621: "Utgående moms på försäljning inom Sverige, 12 %",
    2631: "Utgående moms på försäljning inom Sverige, 6 %",
    2614: "Utgående moms omvänd skattskyldighet, 25 %",
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
