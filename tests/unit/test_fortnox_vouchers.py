"""adapters/fortnox/vouchers.py: the requests behind the FortnoxVouchers port, and the client's
multipart upload (Fortnox's inbox)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
from stripe_fortnox_sync.adapters.fortnox.vouchers import FortnoxVoucherApi
from stripe_fortnox_sync.core.errors import FortnoxError
from tests.fakes import CountingLimiter, FakeTokens, RecordingRequester, Request, scripted_session

YEARS = {"FinancialYears": [{"Id": 3, "FromDate": "2024-01-01", "ToDate": "2024-12-31"}]}


def api(answers: dict[tuple[str, str], Any]) -> tuple[FortnoxVoucherApi, RecordingRequester]:
    def answer(sent: Request) -> dict[str, Any]:
        found = answers[(sent.method, sent.path)]
        if isinstance(found, Exception):
            raise found
        result: dict[str, Any] = found
        return result

    requester = RecordingRequester(answer)
    return FortnoxVoucherApi(requester, requester), requester


def test_the_financial_year_of_a_day_or_none() -> None:
    vouchers, requester = api({("GET", "/financialyears"): YEARS})
    assert vouchers.financial_year(date(2024, 5, 23)) == YEARS["FinancialYears"][0]
    assert requester.requests[0].params == {"date": "2024-05-23"}
    assert vouchers.financial_year(date(2025, 1, 2)) is None  # a year Fortnox listed but not this one
    vouchers, _ = api({("GET", "/financialyears"): {"FinancialYears": []}})
    assert vouchers.financial_year(date(2024, 5, 23)) is None
    vouchers, _ = api({("GET", "/financialyears"): FortnoxError("Hittades inte", status=404)})
    assert vouchers.financial_year(date(2024, 5, 23)) is None


def test_the_locked_period_and_the_series() -> None:
    vouchers, _ = api(
        {
            ("GET", "/settings/lockedperiod"): {"LockedPeriod": {"EndDate": "2024-03-31"}},
            ("GET", "/voucherseries/A"): {"VoucherSeries": {"Code": "A", "Manual": True}},
            ("GET", "/voucherseries/Z"): FortnoxError("Hittades inte", status=404),
        }
    )
    assert vouchers.locked_until() == date(2024, 3, 31)
    assert vouchers.voucher_series("A") == {"Code": "A", "Manual": True}
    assert vouchers.voucher_series("Z") is None
    vouchers, _ = api({("GET", "/settings/lockedperiod"): {"LockedPeriod": {"EndDate": ""}}})
    assert vouchers.locked_until() is None


def test_create_find_and_read_a_voucher() -> None:
    created = {"VoucherSeries": "A", "VoucherNumber": 7, "Year": 3, "Description": "Stripe utbetalning po_1"}
    listed = {
        "Vouchers": [created, {**created, "VoucherNumber": 8, "Description": "Stripe utbetalning po_12"}],
        "MetaInformation": {"@TotalPages": 1},
    }
    vouchers, requester = api(
        {
            ("POST", "/vouchers"): {"Voucher": created},
            ("GET", "/vouchers/sublist/A"): listed,
            ("GET", "/vouchers/A/7"): {"Voucher": {**created, "VoucherRows": []}},
        }
    )
    assert vouchers.create_voucher({"Description": "x"}, 3) == created
    assert requester.requests[0].params == {"financialyear": 3}
    assert requester.requests[0].body == {"Voucher": {"Description": "x"}}
    # The list filter is no exact match: only the exact Description counts.
    found = vouchers.find_vouchers("Stripe utbetalning po_1", "A", date(2024, 5, 23), date(2024, 5, 23), 3)
    assert [v["VoucherNumber"] for v in found] == [7]
    assert requester.requests[1].params == {
        "financialyear": 3,
        "fromdate": "2024-05-23",
        "todate": "2024-05-23",
        "limit": 500,
        "page": 1,
    }
    assert vouchers.get_voucher("A", 7, 3)["VoucherRows"] == []


def test_attach_puts_the_file_in_the_inbox_and_connects_it() -> None:
    vouchers, requester = api(
        {
            ("POST", "/inbox"): {"File": {"Id": "f-1", "Name": "report.csv"}},
            ("POST", "/voucherfileconnections"): {"VoucherFileConnection": {}},
        }
    )
    assert vouchers.attach("report.csv", b"a,b\n", "A", 7, 3) == "f-1"
    assert requester.requests[0].body == {"file": "report.csv", "bytes": 4}
    connection = {"FileId": "f-1", "VoucherSeries": "A", "VoucherNumber": "7", "VoucherYear": 3}
    assert requester.requests[1].body == {"VoucherFileConnection": connection}


def test_an_inbox_answer_without_a_file_id_is_an_error() -> None:
    vouchers, _ = api({("POST", "/inbox"): {"File": {}}})
    with pytest.raises(FortnoxError, match="file id"):
        vouchers.attach("report.csv", b"", "A", 7, 3)


def test_the_client_uploads_multipart_form_data() -> None:
    session, adapter = scripted_session([(201, {"File": {"Id": "f-9"}})])
    client = FortnoxClient("https://fortnox.test/3", FakeTokens(), CountingLimiter(), session=session)
    assert client.upload("/inbox", "po_1.csv", b"payout,amount\n") == {"File": {"Id": "f-9"}}
    sent = adapter.requests[0]
    assert sent.url == "https://fortnox.test/3/inbox"
    assert str(sent.headers["Content-Type"]).startswith("multipart/form-data")
    body = sent.body if isinstance(sent.body, bytes) else str(sent.body).encode()
    assert b'name="file"; filename="po_1.csv"' in body and b"payout,amount" in body
