"""The simulator's vouchers over real HTTP: create and its rules, numbering per series and year,
reads and lists, and bookkeeping's own vouchers."""

from __future__ import annotations

from typing import Any

import pytest

from fortnox_sim import FortnoxSimulator
from tests.integration.simulator_books import Y2024, BooksApi, error, voucher_body, voucher_row

# ----------------------------------------------------------------------------- create and read


def test_a_voucher_is_created_numbered_and_read_back(sim: FortnoxSimulator, books: BooksApi) -> None:
    created = books.voucher(voucher_body(Comments="Payout of 2024-05-10"))
    assert (created["VoucherSeries"], created["VoucherNumber"], created["Year"]) == ("A", 1, Y2024)
    assert created["@url"].endswith(f"/3/vouchers/A/1?financialyear={Y2024}")
    assert (created["ReferenceType"], created["ReferenceNumber"], created["ApprovalState"]) == (
        "MANUAL",
        "",
        0,
    )
    assert (created["Description"], created["Comments"], created["TransactionDate"]) == (
        "Stripe payout po_1",
        "Payout of 2024-05-10",
        "2024-05-10",
    )
    first = created["VoucherRows"][0]
    assert (first["Account"], first["Debit"], first["Credit"], first["TransactionInformation"]) == (
        1930,
        95.0,
        0.0,
        "po_1",
    )
    # Fortnox shows the account's name when the row gives no Description.
    assert first["Description"] == "Företagskonto/checkkonto/affärskonto" and first["Removed"] is False

    read = books.call("GET", "/vouchers/A/1", params={"financialyear": Y2024})
    assert read.status_code == 200 and read.json()["Voucher"] == created
    # Numbers run per series and financial year: the next 2024 voucher is 2, the first 2025 one is 1.
    assert books.voucher()["VoucherNumber"] == 2
    later = books.voucher(voucher_body(TransactionDate="2025-01-02"))
    assert (later["VoucherNumber"], later["Year"]) == (1, Y2024 + 1)
    # The year may be named; the date must then lie in it.
    named = books.voucher(voucher_body(TransactionDate="2025-01-03"), financialyear=Y2024 + 1)
    assert (named["VoucherNumber"], named["Year"]) == (2, Y2024 + 1)
    assert sim.stats()["vouchers"] == 4
    assert sim.stats()["requests"]["POST /3/vouchers"] == 4


def test_reads_default_to_todays_financial_year(books: BooksApi) -> None:
    books.voucher()
    # Without ?financialyear a read is about today's year, where there is no A 1.
    error(books.call("GET", "/vouchers/A/1"), 404, "voucher_not_found")
    assert books.call("GET", "/vouchers", params={"financialyeardate": "2024-12-31"}).json()["Vouchers"]
    assert books.call("GET", "/vouchers").json()["Vouchers"] == []
    error(books.call("GET", "/vouchers/A/x", params={"financialyear": Y2024}), 404, "voucher_not_found")
    error(books.call("GET", "/vouchers/A/1", params={"financialyear": 999}), 400, "financial_year_not_found")
    error(
        books.call("GET", "/vouchers", params={"financialyeardate": "1999-01-01"}),
        400,
        "financial_year_not_found",
    )


def test_a_row_may_carry_zero_on_its_other_side(books: BooksApi) -> None:
    rows = [{"Account": 1930, "Debit": 100, "Credit": 0}, {"Account": 1580, "Debit": 0.0, "Credit": 100.0}]
    created = books.voucher(voucher_body(VoucherRows=rows))
    assert [(r["Debit"], r["Credit"]) for r in created["VoucherRows"]] == [(100.0, 0.0), (0.0, 100.0)]


def _rows(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"VoucherRows": list(rows)}


BALANCED = [voucher_row(1930, debit=1), voucher_row(1580, credit=1)]


@pytest.mark.parametrize(
    ("fields", "params", "code"),
    [
        ({"Description": None}, {}, "required_field"),
        ({"Description": ""}, {}, "required_field"),
        ({"Description": "x" * 201}, {}, "too_long"),
        ({"Description": "tab\there"}, {}, "invalid_characters"),
        ({"Comments": "x" * 1001}, {}, "too_long"),
        ({"TransactionDate": None}, {}, "required_field"),
        ({"TransactionDate": "2024-02-30"}, {}, "invalid_date"),
        ({"VoucherSeries": None}, {}, "required_field"),
        ({"VoucherSeries": "Q"}, {}, "voucher_series_not_found"),
        ({"VoucherSeries": "B"}, {}, "voucher_series_not_manual"),
        ({"Colour": "red"}, {}, "unknown_field"),
        (_rows(voucher_row(1930, debit=1)), {}, "required_field"),
        ({"VoucherRows": None}, {}, "required_field"),
        (_rows({"Debit": 1}, voucher_row(1580, credit=1)), {}, "required_field"),
        (_rows(voucher_row(1599, debit=1), voucher_row(1580, credit=1)), {}, "account_not_found"),
        (_rows(voucher_row(999, debit=1), voucher_row(1580, credit=1)), {}, "wrong_type"),
        (
            _rows({"Account": 1930, "Debit": 1, "Credit": 1}, voucher_row(1580, credit=0)),
            {},
            "invalid_voucher_row",
        ),
        (_rows({"Account": 1930}, voucher_row(1580, credit=1)), {}, "invalid_voucher_row"),
        (_rows({"Account": 1930, "Debit": -1}, voucher_row(1580, debit=1)), {}, "invalid_voucher_row"),
        (_rows(voucher_row(1930, debit=1.005), voucher_row(1580, credit=1.005)), {}, "invalid_voucher_row"),
        (_rows({"Account": 1930, "Debit": "1"}, voucher_row(1580, credit=1)), {}, "wrong_type"),
        (
            _rows(voucher_row(1930, debit=1, Removed=True), voucher_row(1580, credit=1)),
            {},
            "invalid_voucher_row",
        ),
        (_rows(voucher_row(1930, debit=1, TransactionInformation="x" * 101), BALANCED[1]), {}, "too_long"),
        (_rows(voucher_row(1930, debit=1, Colour=1), BALANCED[1]), {}, "unknown_field"),
        (_rows(voucher_row(1930, debit=100), voucher_row(1580, credit=99.99)), {}, "voucher_unbalanced"),
        ({"TransactionDate": "1999-12-31"}, {}, "financial_year_not_found"),
        ({}, {"financialyear": Y2024 + 1}, "financial_year_not_found"),  # 2024-05-10 is not in 2025
        ({}, {"financialyear": 999}, "financial_year_not_found"),
    ],
)
def test_create_validation(
    sim: FortnoxSimulator, books: BooksApi, fields: dict[str, Any], params: dict[str, Any], code: str
) -> None:
    body = voucher_body(**fields)
    body["Voucher"] = {k: v for k, v in body["Voucher"].items() if v is not None or k in ("VoucherRows",)}
    error(books.post_voucher(body, **params), 400, code)
    assert sim.stats()["vouchers"] == 0


def test_the_message_says_what_does_not_balance(books: BooksApi) -> None:
    body = voucher_body(VoucherRows=[voucher_row(1930, debit=100), voucher_row(1580, credit=99.99)])
    message = error(books.post_voucher(body), 400, "voucher_unbalanced")
    assert "100.00" in message and "99.99" in message and "0.01" in message


def test_locked_period_and_body_checks(sim: FortnoxSimulator, books: BooksApi) -> None:
    sim.configure(locked_period_end="2024-05-10")
    error(books.post_voucher(), 400, "period_locked")
    assert books.voucher(voucher_body(TransactionDate="2024-05-11"))["VoucherNumber"] == 1
    error(
        books.call("POST", "/vouchers", data=b"{}", headers={"Content-Type": "text/plain"}),
        400,
        "invalid_content_type",
    )
    error(books.call("POST", "/vouchers", json={"Invoice": {}}), 400, "invalid_body")
    # Fortnox's own fields in a body are ignored: a voucher read back can be posted again.
    again = books.call("GET", "/vouchers/A/1", params={"financialyear": Y2024}).json()
    reposted = books.voucher(again)
    assert (reposted["VoucherNumber"], reposted["ReferenceType"]) == (2, "MANUAL")


def test_vouchers_cannot_be_changed_or_deleted(books: BooksApi) -> None:
    books.voucher()
    for method in ("PUT", "DELETE", "POST"):
        error(books.call(method, "/vouchers/A/1", json=voucher_body()), 405, "method_not_allowed")
    error(books.call("PUT", "/vouchers", json=voucher_body()), 405, "method_not_allowed")
    error(books.call("GET", "/vouchers/A"), 404, "unknown_resource")


# ----------------------------------------------------------------------------- lists


def test_lists_by_year_series_and_dates_with_paging(sim: FortnoxSimulator, books: BooksApi) -> None:
    sim.configure(voucher_series={**sim.config()["voucher_series"], "S": True})
    for day, series in [("2024-05-10", "S"), ("2024-05-11", "A"), ("2024-05-12", "S"), ("2025-01-05", "S")]:
        books.voucher(voucher_body(TransactionDate=day, VoucherSeries=series))
    books.invoice()
    books.booked("1")  # B 1 on 2024-05-01

    listed = books.call("GET", "/vouchers", params={"financialyear": Y2024}).json()
    assert [(v["VoucherSeries"], v["VoucherNumber"]) for v in listed["Vouchers"]] == [
        ("A", 1),
        ("B", 1),
        ("S", 1),
        ("S", 2),
    ]
    item = listed["Vouchers"][1]
    assert (item["ReferenceType"], item["ReferenceNumber"], item["Year"]) == ("INVOICE", "1", Y2024)
    assert "VoucherRows" not in item and item["@url"].endswith(f"/vouchers/B/1?financialyear={Y2024}")
    assert listed["MetaInformation"] == {"@TotalResources": 4, "@TotalPages": 1, "@CurrentPage": 1}

    dated = books.call(
        "GET", "/vouchers", params={"financialyear": Y2024, "fromdate": "2024-05-11", "todate": "2024-05-12"}
    )
    assert [v["TransactionDate"] for v in dated.json()["Vouchers"]] == ["2024-05-11", "2024-05-12"]
    paged = books.call("GET", "/vouchers", params={"financialyear": Y2024, "limit": 3, "page": 2}).json()
    assert [v["VoucherNumber"] for v in paged["Vouchers"]] == [2]
    assert paged["MetaInformation"] == {"@TotalResources": 4, "@TotalPages": 2, "@CurrentPage": 2}
    sublist = books.call("GET", "/vouchers/sublist/S", params={"financialyear": Y2024}).json()["Vouchers"]
    assert [v["TransactionDate"] for v in sublist] == ["2024-05-10", "2024-05-12"]
    assert (
        len(books.call("GET", "/vouchers/sublist", params={"financialyear": Y2024 + 1}).json()["Vouchers"])
        == 1
    )
    error(books.call("GET", "/vouchers/sublist/Q"), 404, "voucher_series_not_found")
    error(books.call("GET", "/vouchers", params={"fromdate": "10 May"}), 400, "invalid_parameter")
    error(books.call("GET", "/vouchers", params={"limit": 501}), 400, "invalid_parameter")
    assert sim.stats()["requests"]["GET /3/vouchers/sublist/{series}"] == 2


def test_bookkeeping_writes_its_vouchers_in_series_b_and_c(books: BooksApi) -> None:
    invoice = books.booked(books.invoice()["DocumentNumber"])
    payment = books.paid_and_booked(InvoiceNumber=1, Amount=124)
    assert (invoice["VoucherSeries"], invoice["VoucherNumber"], invoice["VoucherYear"]) == ("B", 1, Y2024)
    assert (payment["VoucherSeries"], payment["VoucherNumber"], payment["VoucherYear"]) == ("C", 1, Y2024)
    b1 = books.call("GET", "/vouchers/B/1", params={"financialyear": Y2024}).json()["Voucher"]
    assert (b1["Description"], b1["TransactionDate"], b1["ReferenceType"]) == (
        "Kundfaktura Kund AB (1)",
        "2024-05-01",
        "INVOICE",
    )
    c1 = books.call("GET", "/vouchers/C/1", params={"financialyear": Y2024}).json()["Voucher"]
    assert (c1["Description"], c1["ReferenceType"], c1["ReferenceNumber"]) == (
        "Kundbet Kund AB (1)",
        "INVOICEPAYMENT",
        "1",
    )
    assert [(r["Account"], r["Debit"], r["Credit"]) for r in c1["VoucherRows"]] == [
        (1580, 124.0, 0.0),
        (1510, 0.0, 124.0),
    ]
