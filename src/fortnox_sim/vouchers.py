"""/3/vouchers: manual vouchers, and every voucher bookkeeping wrote (invoices B, payments C).

  GET  /3/vouchers[?financialyear=Id|financialyeardate=D][&fromdate=&todate=][&limit=&page=]
  GET  /3/vouchers/sublist[/{VoucherSeries}]        the same, one series
  POST /3/vouchers[?financialyear=Id]               create: {"Voucher": {...}} -> 201
  GET  /3/vouchers/{VoucherSeries}/{VoucherNumber}[?financialyear=Id]

A voucher is identified by series, number and financial year (`Year` is the year's Id, not the
calendar year). Without ?financialyear (or ?financialyeardate) a read is about today's financial
year, Fortnox's "preselected" one; a new voucher goes in the year covering its TransactionDate.
What a voucher must satisfy: voucher_fields.py (rows) and years.py (the date); its series must exist
and be Manual (series.py). Vouchers cannot be changed or deleted: no PUT, no DELETE, as in Fortnox.
Lists are sorted by series and number; fromdate/todate filter on TransactionDate.
"""

from __future__ import annotations

from typing import Any

from .journal import Journal, book, render_list_item, render_voucher
from .listing import page, positive
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .series import check_manual
from .validation import DATE_RE, FieldChecker, parse_date
from .voucher_fields import VOUCHER_FIELDS, VOUCHER_READ_ONLY, checked_rows, required
from .years import bookable, current_or_requested, requested_year

__all__ = ["VOUCHERS"]


def _create(call: Call) -> Response:
    checker = FieldChecker()
    fields = checker.body(call.content_type, call.body, "Voucher", VOUCHER_FIELDS, VOUCHER_READ_ONLY)
    required(fields, "Description")
    day = parse_date("TransactionDate", required(fields, "TransactionDate"))
    series = required(fields, "VoucherSeries")
    rows = checked_rows(call.knobs, fields.get("VoucherRows"))
    check_manual(call, series)
    year = bookable(call, day, "TransactionDate", requested_year(call))
    voucher = book(
        call, series=series, year=year, day=day, rows=rows, reference=("MANUAL", ""), fields=fields
    )
    return Response(201, {"Voucher": render_voucher(voucher, call.base_url)})


def _read(call: Call) -> Response:
    series, raw_number = call.params
    year = current_or_requested(call)
    voucher = None
    if raw_number.isdigit():
        voucher = call.part(Journal).find(year.id, series, int(raw_number))
    if voucher is None:
        raise _bad(
            "voucher_not_found", f"Voucher {series}{raw_number} not found in financial year {year.id}", 404
        )
    return Response(200, {"Voucher": render_voucher(voucher, call.base_url)})


def _list(call: Call, series: str | None = None) -> Response:
    limit = positive(call.query, "limit", 100, 500)
    page_number = positive(call.query, "page", 1, None)
    dates = {name: call.param(name) for name in ("fromdate", "todate")}
    for name, raw in dates.items():
        if raw is not None and not DATE_RE.fullmatch(raw):
            raise _bad("invalid_parameter", f"{name} must be YYYY-MM-DD")
    if series is not None and series not in call.knobs.voucher_series:
        raise _bad("voucher_series_not_found", f"Voucher series {series!r} does not exist", 404)
    year = current_or_requested(call)
    found: list[dict[str, Any]] = []
    for voucher in call.part(Journal).ordered():  # by year, series and number
        day = voucher["TransactionDate"]
        if voucher["Year"] != year.id or (series is not None and voucher["VoucherSeries"] != series):
            continue
        if (dates["fromdate"] or day) <= day <= (dates["todate"] or day):
            found.append(voucher)
    chunk, meta = page(found, limit, page_number)
    items = [render_list_item(voucher, call.base_url) for voucher in chunk]
    return Response(200, {"Vouchers": items, "MetaInformation": meta})


def _sublist(call: Call) -> Response:
    return _list(call, call.number)


# A voucher is numbered within its series: no "{n}" item route, so these are spelt out.
VOUCHERS = Resource(
    "vouchers",
    routes(list=_list, create=_create)
    | {("sublist", "GET"): _list, ("sublist/{series}", "GET"): _sublist, ("{series}/{n}", "GET"): _read},
)
