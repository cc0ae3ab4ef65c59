"""Checks for the bookkeeping knobs (see knobs.Knobs): financial years, the locked period, series."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final

__all__ = ["YearSpan", "financial_years", "locked_period_end", "voucher_series"]

YearSpan = tuple[str, str]  # a financial year's FromDate and ToDate, YYYY-MM-DD
_SERIES_CODE: Final = re.compile(r"[A-Za-z0-9]{1,10}")  # fortnox_VoucherSeries.Code: 1..10


def financial_years(value: Iterable[Any]) -> tuple[YearSpan, ...]:
    """Financial years sorted by start: a calendar year (2027), a pair of dates or a FinancialYear."""
    if isinstance(value, str | bytes | Mapping):
        raise ValueError("financial_years must be a list of years")
    spans = sorted(_span(item) for item in value)
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start <= end:
            raise ValueError(f"financial years overlap: one ends {end}, the next starts {start}")
    return tuple(spans)


def _span(item: Any) -> YearSpan:
    if isinstance(item, int) and not isinstance(item, bool):
        if not 1900 <= item <= 9999:
            raise ValueError(f"financial year {item} is not a four-digit year")
        return (f"{item}-01-01", f"{item}-12-31")
    if isinstance(item, Mapping):
        pair = [item.get("FromDate"), item.get("ToDate")]
    elif isinstance(item, list | tuple):
        pair = list(item)
    else:
        raise ValueError(f"financial year {item!r} is not a year, a [from, to] pair or a FinancialYear")
    if len(pair) != 2:
        raise ValueError(f"financial year {item!r} needs a FromDate and a ToDate")
    start, end = (_iso_date(v, "financial_years") for v in pair)
    if start > end:
        raise ValueError(f"financial year {start}..{end} ends before it starts")
    # Swedish law allows at most 18 months (a first or changed year); longer is a typo.
    if (date.fromisoformat(end) - date.fromisoformat(start)).days > 549:
        raise ValueError(f"financial year {start}..{end} is longer than 18 months")
    return (start, end)


def locked_period_end(value: Any) -> str:
    """The last locked day, or "" for no locked period."""
    if value == "":
        return ""
    return _iso_date(value, "locked_period_end")


def voucher_series(value: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Series by code: {"Description", "Manual"}; a bare bool is the series' Manual flag."""
    if not isinstance(value, Mapping):
        raise ValueError("voucher_series must map series codes to Manual (true/false) or a series")
    result = {}
    for code, series in value.items():
        if not (isinstance(code, str) and _SERIES_CODE.fullmatch(code)):
            raise ValueError(f"voucher_series: {code!r} is not a series code (1-10 letters or digits)")
        if isinstance(series, bool):
            series = {"Manual": series}
        if not isinstance(series, Mapping) or not set(series) <= {"Description", "Manual"}:
            raise ValueError(f"voucher_series: {code} must be true/false or {{Description, Manual}}")
        manual, description = series.get("Manual", True), series.get("Description", "")
        if not isinstance(manual, bool) or not isinstance(description, str):
            raise ValueError(f"voucher_series: {code} needs a boolean Manual and a text Description")
        result[code] = {"Description": description, "Manual": manual}
    return result


def _iso_date(value: Any, name: str) -> str:
    try:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValueError(f"{name}: {value!r} is not a date as YYYY-MM-DD")
