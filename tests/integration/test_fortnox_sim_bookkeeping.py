"""The simulator's bookkeeping setup over real HTTP: financial years, the locked period, voucher
series, inactive accounts, what bookings they refuse, and the one-connected-credit knob."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from fortnox_sim import ERROR_CODES, FortnoxSimulator
from tests.integration.simulator_books import BooksApi, error, voucher_body

THIS_YEAR = date.today().year  # the simulator's clock is real time plus what tests advance


# ----------------------------------------------------------------------------- financial years


def test_financial_years_by_default_list_by_date_and_by_id(books: BooksApi) -> None:
    listed = books.call("GET", "/financialyears").json()
    years = listed["FinancialYears"]
    assert [(y["Id"], y["FromDate"], y["ToDate"]) for y in years[:2]] == [
        (1, "2000-01-01", "2000-12-31"),
        (2, "2001-01-01", "2001-12-31"),
    ]
    assert years[-1]["FromDate"] == f"{THIS_YEAR}-01-01"  # the current year, and no later one
    assert listed["MetaInformation"]["@TotalResources"] == len(years) == THIS_YEAR - 1999
    assert years[0]["@url"].endswith("/3/financialyears/1") and years[0]["AccountingMethod"] == "ACCRUAL"

    (year,) = books.call("GET", "/financialyears", params={"date": "2024-05-01"}).json()["FinancialYears"]
    assert (year["Id"], year["ToDate"]) == (25, "2024-12-31")
    assert books.call("GET", "/financialyears", params={"Date": "2024-12-31"}).json()["FinancialYears"] == [
        year
    ]
    # A date no year covers answers an empty list, as Fortnox's guide says to check.
    nothing = books.call("GET", "/financialyears", params={"date": f"{THIS_YEAR + 1}-01-01"})
    assert nothing.status_code == 200 and nothing.json()["FinancialYears"] == []
    assert books.call("GET", "/financialyears/25").json()["FinancialYear"] == year
    error(books.call("GET", "/financialyears/999"), 404, "financial_year_not_found")
    error(books.call("GET", "/financialyears", params={"date": "2024-13-01"}), 400, "invalid_date")
    error(books.call("POST", "/financialyears", json={}), 405, "method_not_allowed")


def test_the_years_knob_adds_and_removes_years_and_ids_stay(sim: FortnoxSimulator, books: BooksApi) -> None:
    assert books.year_id("2026-05-01") == 27
    sim.configure(financial_years=[2025, 2026])
    with requests.Session() as http:
        fresh = BooksApi(sim, http, "tenant-2")  # a company sees its years 1, 2, ... as they come
        assert [
            (y["Id"], y["FromDate"]) for y in fresh.call("GET", "/financialyears").json()["FinancialYears"]
        ] == [
            (1, "2025-01-01"),
            (2, "2026-01-01"),
        ]
        # Years added later (an earlier one, a short one) take the next Ids in date order; 2025 removed,
        # 2026 keeps its Id.
        sim.configure(
            financial_years=[
                2026,
                ["2027-01-01", "2027-06-30"],
                {"FromDate": "2024-01-01", "ToDate": "2024-12-31"},
            ]
        )
        years = fresh.call("GET", "/financialyears").json()["FinancialYears"]
        assert [(y["Id"], y["FromDate"], y["ToDate"]) for y in years] == [
            (3, "2024-01-01", "2024-12-31"),
            (2, "2026-01-01", "2026-12-31"),
            (4, "2027-01-01", "2027-06-30"),
        ]
    # The first tenant had seen the default years: 2026 keeps the Id it had there.
    assert books.year_id("2026-05-01") == 27
    config = requests.get(sim.base_url + "/_sim/config", timeout=5).json()
    assert config["financial_years"][0] == ["2024-01-01", "2024-12-31"]
    # What the config shows can be sent back, with a year added.
    sim.configure(financial_years=[*sim.config()["financial_years"], 2028])
    assert sim.config()["financial_years"][-1] == ("2028-01-01", "2028-12-31")


@pytest.mark.parametrize(
    "years",
    [
        [2024, 2024],
        [["2024-01-01", "2024-12-31"], ["2024-07-01", "2025-06-30"]],
        [["2024-02-30", "2024-12-31"]],
        [["2024-12-31", "2024-01-01"]],
        [["2024-01-01", "2025-12-31"]],  # 24 months
        [["2024-01-01"]],
        ["2024"],
        [99],
        "2024",
    ],
)
def test_the_years_knob_refuses_what_cannot_be_a_set_of_years(sim: FortnoxSimulator, years: object) -> None:
    with pytest.raises(ValueError):
        sim.configure(financial_years=years)  # type: ignore[arg-type]
    bad = requests.post(sim.base_url + "/_sim/config", json={"financial_years": years}, timeout=5)
    assert bad.status_code == 400


# ----------------------------------------------------------------------------- locked period


def test_locked_period_is_read_and_set(sim: FortnoxSimulator, books: BooksApi) -> None:
    assert books.call("GET", "/settings/lockedperiod").json() == {"LockedPeriod": {"EndDate": None}}
    sim.configure(locked_period_end="2024-04-30")
    assert books.call("GET", "/settings/lockedperiod").json() == {"LockedPeriod": {"EndDate": "2024-04-30"}}
    sim.configure(locked_period_end=None)  # None keeps a knob as it is
    assert sim.config()["locked_period_end"] == "2024-04-30"
    requests.post(sim.base_url + "/_sim/config", json={"locked_period_end": ""}, timeout=5)
    assert books.call("GET", "/settings/lockedperiod").json()["LockedPeriod"]["EndDate"] is None
    for bad in ("2024-04-31", "30/4/2024", 20240430):
        with pytest.raises(ValueError):
            sim.configure(locked_period_end=bad)  # type: ignore[arg-type]
    error(books.call("GET", "/settings/other"), 404, "unknown_resource")


def test_bookings_need_an_open_financial_year(sim: FortnoxSimulator, books: BooksApi) -> None:
    books.invoice()
    sim.configure(financial_years=[2023, 2025])
    message = error(books.action("1", "bookkeep"), 400, "financial_year_not_found")
    assert "2024-05-01" in message
    # Only booking needs the year: an invoice is still created.
    assert books.invoice()["DocumentNumber"] == "2"
    sim.configure(financial_years=[2023, 2024, 2025], locked_period_end="2024-05-01")
    assert "locked" in error(books.action("1", "bookkeep"), 400, "period_locked")
    sim.configure(locked_period_end="2024-04-30")
    assert books.booked("1")["Booked"] is True

    # A payment dated in the locked period, or outside the years, is refused when registered...
    sim.configure(locked_period_end="2024-05-31")
    error(books.pay(InvoiceNumber=1, Amount=124, PaymentDate="2024-05-31"), 400, "period_locked")
    sim.configure(locked_period_end="")
    error(books.pay(InvoiceNumber=1, Amount=124, PaymentDate="2026-01-02"), 400, "financial_year_not_found")
    registered = books.pay(InvoiceNumber=1, Amount=124, PaymentDate="2024-05-31")
    assert registered.status_code == 201, registered.text
    # ... and when booked, if the period was locked in between.
    sim.configure(locked_period_end="2024-06-30")
    error(books.call("PUT", "/invoicepayments/1/bookkeep"), 400, "period_locked")
    assert books.call("GET", "/invoicepayments/1").json()["InvoicePayment"]["Booked"] is False
    # The closed-years knob still applies, after the year and the lock.
    sim.configure(locked_period_end="", closed_years=[2024])
    error(books.call("PUT", "/invoicepayments/1/bookkeep"), 400, "financial_year_closed")
    assert sim.stats()["vouchers"] == 1  # the invoice's only


# ----------------------------------------------------------------------------- voucher series


def test_voucher_series_and_their_next_numbers(sim: FortnoxSimulator, books: BooksApi) -> None:
    collection = books.call("GET", "/voucherseries").json()["VoucherSeriesCollection"]
    assert [(s["Code"], s["Manual"]) for s in collection] == [("A", True), ("B", False), ("C", False)]
    assert collection[0]["Year"] == books.year_id(f"{THIS_YEAR}-06-01")
    one = books.call("GET", "/voucherseries/A", params={"financialyear": 25}).json()["VoucherSeries"]
    assert (one["Code"], one["Description"], one["Manual"], one["Year"], one["NextVoucherNumber"]) == (
        "A",
        "Redovisning",
        True,
        25,
        1,
    )
    books.voucher()
    assert (
        books.call("GET", "/voucherseries/A", params={"financialyear": 25}).json()["VoucherSeries"][
            "NextVoucherNumber"
        ]
        == 2
    )
    assert (
        books.call("GET", "/voucherseries/A").json()["VoucherSeries"]["NextVoucherNumber"] == 1
    )  # this year
    error(books.call("GET", "/voucherseries/S"), 404, "voucher_series_not_found")
    error(books.call("PUT", "/voucherseries/A", json={}), 405, "method_not_allowed")

    # A series of the integration's own; A no longer manual.
    sim.configure(
        voucher_series={**sim.config()["voucher_series"], "S": {"Description": "Stripe", "Manual": True}}
    )
    sim.configure(voucher_series={**sim.config()["voucher_series"], "A": False})
    assert books.call("GET", "/voucherseries/S").json()["VoucherSeries"]["Description"] == "Stripe"
    assert books.call("GET", "/voucherseries/A").json()["VoucherSeries"]["Manual"] is False
    error(books.post_voucher(), 400, "voucher_series_not_manual")
    for bad in (
        {"": True},
        {"TOO-LONG-CODE": True},
        {"S": "yes"},
        {"S": {"Manual": True, "Colour": 1}},
        ["A"],
    ):
        with pytest.raises(ValueError):
            sim.configure(voucher_series=bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- accounts


def test_inactive_and_removed_accounts_are_refused(sim: FortnoxSimulator, books: BooksApi) -> None:
    sim.configure(inactive_accounts=[6570])
    message = error(books.post_voucher(), 400, "account_inactive")
    assert "6570" in message
    sim.configure(inactive_accounts=[3001])
    error(
        books.call(
            "POST", "/invoices", json={"Invoice": {"CustomerNumber": "1", "InvoiceRows": [{"Price": 1}]}}
        ),
        400,
        "account_inactive",
    )
    sim.configure(inactive_accounts=[], accounts=[a for a in sim.config()["accounts"] if a != 1515])
    bad = voucher_body(VoucherRows=[{"Account": 1515, "Debit": 1}, {"Account": 1580, "Credit": 1}])
    error(books.post_voucher(bad), 400, "account_not_found")
    # Fortnox's documented code for an account it cannot find.
    assert ERROR_CODES["account_not_found"] == 2001304
    books.invoice()
    sim.configure(accounts=[a for a in sim.config()["accounts"] if a != 2611])
    error(books.action("1", "bookkeep"), 400, "account_not_found")  # the VAT account booking needs
    with pytest.raises(ValueError):
        sim.configure(inactive_accounts=[12])


def test_the_payout_accounts_are_in_the_default_chart(sim: FortnoxSimulator) -> None:
    wanted = {1510, 1515, 1580, 1930, 2611, 2614, 2621, 2631, 2640, 2645, 3740, 3960, 6570, 7960}
    assert wanted <= set(sim.config()["accounts"])


# ----------------------------------------------------------------------------- credits


def test_one_connected_credit_knob(sim: FortnoxSimulator, books: BooksApi) -> None:
    partial = {"VATIncluded": True, "CreditInvoiceReference": "1"}
    refund = [{"Description": "Refund", "DeliveredQuantity": "-1", "Price": 25, "VAT": 25}]
    books.invoice()  # 124.00
    books.booked("1")
    books.invoice(*refund, **partial)
    sim.configure(one_connected_credit=True)
    second = books.call(
        "POST", "/invoices", json={"Invoice": {"CustomerNumber": "1", "InvoiceRows": refund, **partial}}
    )
    assert "(2)" in error(second, 400, "already_credited")
    error(books.action("1", "credit"), 400, "already_credited")
    # A standalone credit invoice (no reference) is what a sync falls back to: it is accepted.
    standalone = books.invoice(*refund, VATIncluded=True, Remarks="Credits invoice 1")
    assert standalone["Credit"] == "true" and standalone["CreditInvoiceReference"] == "0"
    # An invoice credited in full by PUT /credit takes no partial credit after it either.
    books.invoice()
    books.booked("4")
    assert books.action("4", "credit").status_code == 200
    again = {**partial, "CreditInvoiceReference": "4"}
    late = books.call(
        "POST", "/invoices", json={"Invoice": {"CustomerNumber": "1", "InvoiceRows": refund, **again}}
    )
    error(late, 400, "already_credited")
    # Off (the default), several partial credits are accepted.
    sim.configure(one_connected_credit=False)
    books.invoice(*refund, **partial)
    assert len([i for i in sim.invoices() if i["CreditInvoiceReference"] == "1"]) == 2
