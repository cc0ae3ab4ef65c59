"""The simulator's general ledger (/_sim/ledger): what booked invoices, payments, credits and manual
vouchers put on each account, in SEK and in other currencies, and the ledger's filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from fortnox_sim import FortnoxSimulator
from tests.integration.simulator_api import TENANT
from tests.integration.simulator_books import BooksApi, voucher_body, voucher_row


def row(price: float, vat: int = 25, account: int | None = None, quantity: str = "1") -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Description": "Plan",
        "DeliveredQuantity": quantity,
        "Price": price,
        "VAT": vat,
    }
    return {**fields, "AccountNumber": account} if account else fields


def d(value: str) -> Decimal:
    return Decimal(value)


def sold_and_paid(books: BooksApi) -> None:
    """A SEK sale of 99.00 + 25 % VAT (123.75, rounded to 124.00), paid to Stripe's clearing account."""
    books.invoice()
    books.booked("1")
    books.paid_and_booked(InvoiceNumber=1, Amount=123.75, WriteOffs=[{"AccountNumber": 3740, "Amount": 0.25}])


def test_a_paid_sek_invoice_leaves_receivables_at_zero_and_clearing_at_the_amount(books: BooksApi) -> None:
    sold_and_paid(books)
    assert books.balances() == {
        1510: d("0"),
        1580: d("123.75"),
        2611: d("-24.75"),
        3001: d("-99"),
        3740: d("0"),  # +0.25 round-off on the invoice, written off by the payment
    }
    ledger = books.ledger()
    assert ledger["debit"] == ledger["credit"] == 248.0  # every voucher balances
    receivables = ledger["accounts"]["1510"]
    assert receivables["name"] == "Kundfordringar"
    assert [
        (e["document"], e["voucher"], e["date"], e["debit"], e["credit"]) for e in receivables["entries"]
    ] == [
        ("invoice 1", "B 1", "2024-05-01", 124.0, 0.0),
        ("invoice payment 1", "C 1", "2024-05-02", 0.0, 124.0),
    ]
    assert receivables["entries"][0]["text"] == "Kundfaktura Kund AB (1)"
    assert (receivables["debit"], receivables["credit"], receivables["net"]) == (124.0, 124.0, 0.0)


def test_a_credit_and_its_payback_return_both(books: BooksApi) -> None:
    sold_and_paid(books)
    assert books.action("1", "credit").status_code == 200
    credit_date = books.booked("2")["InvoiceDate"]  # PUT /credit dates the credit invoice today
    write_off = [{"AccountNumber": 3740, "Amount": -0.25}]
    books.paid_and_booked(InvoiceNumber=2, Amount=-123.75, WriteOffs=write_off, PaymentDate=credit_date)
    assert set(books.balances().values()) == {d("0")}
    clearing = books.ledger(account=1580)["accounts"]["1580"]["entries"]
    assert [(e["document"], e["debit"], e["credit"]) for e in clearing] == [
        ("invoice payment 1", 123.75, 0.0),
        ("invoice payment 2", 0.0, 123.75),
    ]
    credit = books.call("GET", "/vouchers/B/1", params={"financialyeardate": credit_date}).json()["Voucher"]
    assert credit["Description"] == "Kreditfaktura Kund AB (2)"
    assert credit["VoucherRows"][0] == {
        **credit["VoucherRows"][0],
        "Account": 1510,
        "Debit": 0.0,
        "Credit": 124.0,
    }


def test_vat_goes_to_the_account_of_its_rate(books: BooksApi) -> None:
    rows = [row(100), row(100, 12, 3002), row(100, 6, 3003), row(100, 19, 3106), row(100, 0, 3004)]
    invoice = books.invoice(*rows)
    assert invoice["Total"] == 562.0  # 500 + 25 + 12 + 6 + 19
    books.booked("1")
    balances = books.balances()
    assert {a: balances[a] for a in (2611, 2621, 2631, 2618)} == {
        2611: d("-25"),
        2621: d("-12"),
        2631: d("-6"),
        2618: d("-19"),  # another EU country's rate: kept off the Swedish VAT accounts
    }
    assert balances[1510] == d("562") and balances[3004] == d("-100")
    assert 3740 not in balances  # nothing to round


def test_vat_included_prices_and_discounts_book_their_net(books: BooksApi) -> None:
    books.invoice(
        row(125), {**row(50, 12, 3002), "Discount": 10, "DiscountType": "PERCENT"}, VATIncluded=True
    )
    books.booked("1")
    balances = books.balances()
    assert (balances[3001], balances[2611]) == (d("-100"), d("-25"))
    assert (balances[3002], balances[2621]) == (d("-40.18"), d("-4.82"))  # 45.00 including 12 %
    assert balances[1510] == d("170") and sum(balances.values()) == 0


@pytest.mark.parametrize(("paid", "account", "balance"), [(1160, 3960, "-10"), (1140, 7960, "10")])
def test_a_foreign_currency_payment_books_the_exchange_difference(
    books: BooksApi, paid: float, account: int, balance: str
) -> None:
    books.invoice(row(80), Currency="EUR")  # 100.00 EUR at 11.5: 1150.00 SEK
    books.booked("1")
    books.paid_and_booked(InvoiceNumber=1, AmountCurrency=100, Amount=paid)
    balances = books.balances()
    assert (balances[1510], balances[1580], balances[account]) == (d("0"), d(str(paid)), d(balance))
    assert (balances[3001], balances[2611]) == (d("-920"), d("-230"))


def test_foreign_partial_payments_leave_no_ore_on_receivables(sim: FortnoxSimulator, books: BooksApi) -> None:
    sim.configure(currency_rates={"EUR": 11.37})
    books.invoice(row(26.67), Currency="EUR")  # 33.34 EUR: 379.08 SEK
    books.booked("1")
    for part in (11.11, 11.11, 11.12):
        books.paid_and_booked(InvoiceNumber=1, AmountCurrency=part)  # 126.32, 126.32, 126.43 SEK
    balances = books.balances()
    assert balances[1510] == d("0")
    assert balances[1580] == d("379.07")  # each part converted on its own
    assert balances[7960] == d("0.01")  # what that rounding lost
    assert sum(balances.values()) == 0


def test_a_payout_voucher_empties_the_clearing_account(books: BooksApi) -> None:
    sold_and_paid(books)
    fee = 3.75
    rows = [voucher_row(1930, debit=120.0, TransactionInformation="po_1"), voucher_row(6570, debit=fee)]
    rows.append(voucher_row(1580, credit=123.75, TransactionInformation="ch_1"))
    books.voucher(voucher_body(VoucherRows=rows, TransactionDate="2024-05-05"))
    ledger = books.ledger(account="1580,1930")
    assert ledger["accounts"]["1580"]["closing_balance"] == 0.0
    assert ledger["accounts"]["1930"]["closing_balance"] == 120.0
    payout = ledger["accounts"]["1580"]["entries"][-1]
    assert (payout["document"], payout["text"], payout["description"], payout["credit"]) == (
        "voucher A 1",
        "ch_1",
        "Stripe payout po_1",
        123.75,
    )


def test_what_is_not_booked_is_not_in_the_ledger(books: BooksApi) -> None:
    books.invoice()
    assert books.ledger()["accounts"] == {}
    books.booked("1")
    assert books.pay(InvoiceNumber=1, Amount=124).status_code == 201  # registered, not booked
    assert set(books.ledger()["accounts"]) == {"1510", "2611", "3001", "3740"}


def test_an_invoice_that_nets_to_zero_is_booked_without_a_voucher(
    sim: FortnoxSimulator, books: BooksApi
) -> None:
    booked = books.booked(books.invoice(row(100), row(-100))["DocumentNumber"])
    assert (booked["Booked"], booked["VoucherSeries"], booked["VoucherNumber"]) == (True, None, None)
    assert sim.stats()["vouchers"] == 0


def test_ledger_filters_and_python_access(sim: FortnoxSimulator, books: BooksApi) -> None:
    sold_and_paid(books)
    books.voucher(voucher_body(TransactionDate="2024-05-10"))
    window = books.ledger(account=[1580, 1930], fromdate="2024-05-03", todate="2024-05-31")["accounts"]
    clearing = window["1580"]
    assert (
        clearing["opening_balance"],
        clearing["credit"],
        clearing["net"],
        clearing["closing_balance"],
    ) == (
        123.75,
        100.0,
        -100.0,
        23.75,
    )
    assert [e["date"] for e in clearing["entries"]] == ["2024-05-10"]
    assert window["1930"]["opening_balance"] == 0.0
    before = books.ledger(todate="2024-05-01")["accounts"]
    assert set(before) == {"1510", "2611", "3001", "3740"}
    assert sim.ledger(TENANT, accounts={1580})["accounts"]["1580"]["closing_balance"] == 23.75
    assert sim.ledger("nobody") == {"accounts": {}, "debit": 0.0, "credit": 0.0}
    everyone = requests.get(sim.base_url + "/_sim/ledger", timeout=5).json()["tenants"]
    assert list(everyone) == [TENANT]
    for bad in ({"account": "15800"}, {"account": "bank"}, {"fromdate": "May"}, {"todate": "2024-5-1"}):
        assert requests.get(sim.base_url + "/_sim/ledger", params=bad, timeout=5).status_code == 400
    # Tenants keep their own books.
    with requests.Session() as http:
        other = BooksApi(sim, http, "tenant-2")
        other.voucher()
        assert other.ledger("tenant-2")["accounts"]["1580"]["closing_balance"] == -100.0
    assert books.ledger()["accounts"]["1580"]["closing_balance"] == 23.75
    sim.reset(customers=True)
    assert sim.ledger(TENANT)["accounts"] == {} and sim.vouchers() == []
