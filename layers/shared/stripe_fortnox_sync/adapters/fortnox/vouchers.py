"""Fortnox vouchers over a `FortnoxRequester`: the `FortnoxVouchers` port.

Bodies come from `mapping.voucher`; this class wraps and unwraps Fortnox's envelopes ({"Voucher":
...}), pages through lists and reads the settings a voucher depends on. A voucher is identified by
series, number and financial year; the API can neither change nor delete one, and it has no
external reference, so the sync finds its own by their exact Description (`find_vouchers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from stripe_fortnox_sync.adapters.fortnox.http import pages, unwrap
from stripe_fortnox_sync.core.errors import FortnoxError
from stripe_fortnox_sync.core.ports import FortnoxRequester, FortnoxUploader


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class FortnoxVoucherApi:
    def __init__(self, client: FortnoxRequester, uploader: FortnoxUploader) -> None:
        self._client = client
        self._uploader = uploader

    def financial_year(self, day: date) -> dict[str, Any] | None:
        """GET /financialyears?date=: the year holding `day`, or None (users forget the new year)."""
        try:
            data = self._client.request("GET", "/financialyears", params={"date": day.isoformat()})
        except FortnoxError as exc:
            if exc.status == 404:
                return None
            raise
        years = [y for y in data.get("FinancialYears") or [] if isinstance(y, Mapping)]
        for year in years:
            first, last = _day(year.get("FromDate")), _day(year.get("ToDate"))
            if first and last and first <= day <= last:
                return dict(year)
        return None

    def locked_until(self) -> date | None:
        """GET /settings/lockedperiod: EndDate, or None when nothing is locked."""
        data = unwrap(self._client.request("GET", "/settings/lockedperiod"), "LockedPeriod")
        return _day(data.get("EndDate"))

    def voucher_series(self, code: str) -> dict[str, Any] | None:
        try:
            return unwrap(self._client.request("GET", f"/voucherseries/{_segment(code)}"), "VoucherSeries")
        except FortnoxError as exc:
            if exc.status == 404:
                return None
            raise

    def create_voucher(self, body: Mapping[str, Any], financial_year: int) -> dict[str, Any]:
        """POST /vouchers?financialyear=: the voucher as Fortnox numbered it."""
        data = self._client.request(
            "POST", "/vouchers", params={"financialyear": financial_year}, body={"Voucher": dict(body)}
        )
        return unwrap(data, "Voucher")

    def find_vouchers(
        self, description: str, series: str, first: date, last: date, financial_year: int
    ) -> list[dict[str, Any]]:
        """GET /vouchers/sublist/{series}: its vouchers dated `first`..`last` in the year whose
        Description is exactly `description` (the list has no filter on it)."""
        params: dict[str, str | int] = {
            "financialyear": financial_year,
            "fromdate": first.isoformat(),
            "todate": last.isoformat(),
        }
        found = pages(self._client, f"/vouchers/sublist/{_segment(series)}", "Vouchers", params)
        return [v for v in found if v.get("Description") == description]

    def get_voucher(self, series: str, number: int, financial_year: int) -> dict[str, Any]:
        path = f"/vouchers/{_segment(series)}/{_segment(number)}"
        return unwrap(self._client.request("GET", path, params={"financialyear": financial_year}), "Voucher")

    def attach(self, filename: str, content: bytes, series: str, number: int, financial_year: int) -> str:
        """POST /inbox (the file), then POST /voucherfileconnections: the voucher shows the file."""
        file = unwrap(self._uploader.upload("/inbox", filename, content), "File")
        file_id = str(file.get("Id") or "")
        if not file_id:
            raise FortnoxError("the inbox answered without a file id", method="POST", path="/inbox")
        connection = {
            "FileId": file_id,
            "VoucherSeries": series,
            "VoucherNumber": str(number),
            "VoucherYear": financial_year,
        }
        self._client.request("POST", "/voucherfileconnections", body={"VoucherFileConnection": connection})
        return file_id
