"""/3/voucherseries: the company's voucher series (knob `voucher_series`) and their next numbers.

  GET /3/voucherseries                              every series (fortnox_VoucherSeriesListItem)
  GET /3/voucherseries/{Code}[?financialyear=Id]    one, with NextVoucherNumber in that year
                                                    (today's year when none is named)

A voucher posted through the API must name a series marked `Manual` (integrators report Fortnox's
"Verifikationsserien är inte manuell" otherwise). Creating or changing a series (POST, PUT) is not
simulated, nor approval (`Approver`): the knob sets the series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .journal import Journal
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .years import covering, requested_year

__all__ = ["VOUCHER_SERIES", "check_manual"]


def _series(call: Call, code: str, status: int) -> Mapping[str, Any]:
    found = call.knobs.voucher_series.get(code)
    if found is None:
        raise _bad("voucher_series_not_found", f"Voucher series {code!r} does not exist", status)
    return found


def check_manual(call: Call, code: str) -> None:
    """Refuses a voucher in a series that does not exist or does not take manual vouchers."""
    if not _series(call, code, 400)["Manual"]:
        raise _bad("voucher_series_not_manual", f"Voucher series {code} is not manual: it takes no vouchers")


def _year_id(call: Call) -> int | None:
    # A series list still answers when today is in no financial year (the year is then unknown).
    year = requested_year(call) or covering(call, call.today)
    return year.id if year is not None else None


def _render(call: Call, code: str, series: Mapping[str, Any], year_id: int | None) -> dict[str, Any]:
    return {
        "@url": f"{call.base_url}/voucherseries/{quote(code, safe='')}",
        "Code": code,
        "Description": series["Description"],
        "Manual": series["Manual"],
        "Year": year_id,
    }


def _list(call: Call) -> Response:
    year_id = _year_id(call)
    collection = [_render(call, code, s, year_id) for code, s in sorted(call.knobs.voucher_series.items())]
    meta = {"@TotalResources": len(collection), "@TotalPages": 1, "@CurrentPage": 1}
    return Response(200, {"VoucherSeriesCollection": collection, "MetaInformation": meta})


def _read(call: Call) -> Response:
    code = call.number
    series = _series(call, code, 404)
    year_id = _year_id(call)
    rendered = _render(call, code, series, year_id)
    journal = call.part(Journal)
    rendered["NextVoucherNumber"] = journal.next_number(year_id, code) if year_id is not None else None
    return Response(200, {"VoucherSeries": rendered})


VOUCHER_SERIES = Resource("voucherseries", routes(list=_list, read=_read))
