"""The accounts synced sales, payments and payouts are booked on: Swedish BAS accounts unless configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import Settings


@dataclass(frozen=True)
class BookkeepingAccounts:
    """Where synced sales, payments and payouts are booked (Swedish BAS accounts by default).

    Sales accounts follow the VAT situation of the row: Swedish VAT by rate (3001 25 %, 3002 12 %,
    3003 6 %, 3004 VAT-free), EU businesses under reverse charge (3308 services, 3108 goods), other VAT
    rates charged to EU consumers (one-stop shop, 3106; BAS has no dedicated OSS account, change it to
    your chart), outside the EU (3305 services, 3105 goods), Swedish reverse charge (3231).

    `stripe_clearing` is 1580 "Fordringar för kontokort och kuponger": Stripe holds the money for days
    before a payout, and pays out net of its fees. Booking payments straight to the bank account (1930)
    would show money that is not there yet and make every payout differ from the bank statement; with
    1580 a payout voucher moves each transaction's amount out of 1580, the payout to `bank`, Stripe's
    fees to `stripe_fees` and disputed amounts to `dispute_clearing` (1515 "Osäkra kundfordringar"),
    so 1580's balance equals what Stripe holds for you. Stripe's fees carry no VAT but are a service
    bought from Ireland: under reverse charge the buyer books output and input VAT on them
    (`reverse_charge_output_vat` 2614, `reverse_charge_input_vat` 2645). `output_vat_*` take the VAT of
    a sale made before invoices were synced and booked inside a payout. `rounding` (3740 "Öres- och
    kronutjämning") takes rounding rows and Fortnox's öresavrundning write-offs.

    Named `InvoiceAccounts` before payouts: the INVOICE_ACCOUNTS setting is still read
    (`configured_accounts`).
    """

    sweden_25: int = 3001
    sweden_12: int = 3002
    sweden_6: int = 3003
    sweden_exempt: int = 3004
    sweden_reverse_charge: int = 3231
    eu_reverse_charge_services: int = 3308
    eu_reverse_charge_goods: int = 3108
    eu_foreign_vat: int = 3106
    export_services: int = 3305
    export_goods: int = 3105
    rounding: int = 3740
    stripe_clearing: int = 1580
    bank: int = 1930
    stripe_fees: int = 6570
    dispute_clearing: int = 1515
    reverse_charge_output_vat: int = 2614
    reverse_charge_input_vat: int = 2645
    output_vat_25: int = 2611
    output_vat_12: int = 2621
    output_vat_6: int = 2631
    # Summary booking (docs/summary-booking.md): VAT charged to EU consumers at their country's rate
    # (one-stop shop) goes on `oss_output_vat` (BAS has none: 2618, change it to your chart) with its
    # sales on `eu_foreign_vat`, unless `oss_accounts` gives the country its own pair:
    # {"DE": [3107, 2619]} (sales account, VAT account).
    oss_output_vat: int = 2618
    oss_accounts: Any = ()
    # What is sold: decides between the service and the goods accounts for reverse charge and export.
    sells: Literal["services", "goods"] = "services"
    # A mode of payment code that exists in the Fortnox company (Inställningar > Betalningssätt), or
    # None to send only ModeOfPaymentAccount.
    mode_of_payment: str | None = None
    # Bookkeep invoices and payments at once (a booked invoice cannot be changed, only credited).
    bookkeep: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "oss_accounts", _oss_pairs(self.oss_accounts))
        for name, value in vars(self).items():
            if isinstance(value, int) and not isinstance(value, bool) and not 1000 <= value <= 9999:
                raise ValueError(f"{name} must be a four-digit account number, got {value}")
        if self.sells not in ("services", "goods"):
            raise ValueError("sells must be 'services' or 'goods'")

    def sales_account(self, vat_type: str | None, vat_rate: int) -> int:
        """The sales account for a row with this VAT rate, sold to a customer of this VAT type."""
        goods = self.sells == "goods"
        if vat_rate > 0:
            # The tax Stripe charged decides: Swedish VAT is a Swedish-VAT sale, whoever the buyer.
            swedish = {25: self.sweden_25, 12: self.sweden_12, 6: self.sweden_6}
            return swedish.get(vat_rate, self.eu_foreign_vat)
        if vat_type == "EUREVERSEDVAT":
            return self.eu_reverse_charge_goods if goods else self.eu_reverse_charge_services
        if vat_type == "EXPORT":
            return self.export_goods if goods else self.export_services
        if vat_type == "SEREVERSEDVAT":
            return self.sweden_reverse_charge
        return self.sweden_exempt

    def oss(self, country: str) -> tuple[int, int]:
        """The sales and VAT accounts of one-stop-shop sales to consumers in `country`."""
        pairs: dict[str, tuple[int, int]] = dict(self.oss_accounts)
        return pairs.get(country.upper(), (self.eu_foreign_vat, self.oss_output_vat))

    def output_vat(self, vat_rate: int) -> int:
        """The output VAT account of a Swedish VAT rate (25, 12 or 6 %)."""
        accounts = {25: self.output_vat_25, 12: self.output_vat_12, 6: self.output_vat_6}
        if vat_rate not in accounts:
            raise ValueError(f"no output VAT account for {vat_rate} %")
        return accounts[vat_rate]


def _oss_pairs(raw: Any) -> tuple[tuple[str, tuple[int, int]], ...]:
    """`oss_accounts` as given ({"DE": [3107, 2619]} or pairs), checked: four-digit accounts."""
    items = raw.items() if isinstance(raw, dict) else raw
    pairs: list[tuple[str, tuple[int, int]]] = []
    for country, accounts in items:
        if (
            not isinstance(country, str)
            or len(country) != 2
            or not isinstance(accounts, list | tuple)
            or len(accounts) != 2
            or not all(isinstance(a, int) and not isinstance(a, bool) and 1000 <= a <= 9999 for a in accounts)
        ):
            raise ValueError(
                f"oss_accounts: {country!r} must map a country code to [sales account, VAT account]"
            )
        pairs.append((country.upper(), (int(accounts[0]), int(accounts[1]))))
    return tuple(sorted(pairs))


def configured_accounts(settings: Settings) -> BookkeepingAccounts:
    """The accounts the settings give: INVOICE_ACCOUNTS (the old name), then BOOKKEEPING_ACCOUNTS over
    it key by key, over the BAS defaults; a ConfigError naming the setting for an unknown key or an
    account that is not four digits."""
    chosen = {**dict(settings.invoice_accounts), **dict(settings.bookkeeping_accounts)}
    try:
        return BookkeepingAccounts(**chosen)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"BOOKKEEPING_ACCOUNTS (or INVOICE_ACCOUNTS): {exc}") from None
