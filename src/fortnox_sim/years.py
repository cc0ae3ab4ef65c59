"""/3/financialyears and /3/settings/lockedperiod, and the rule every booking meets: its date lies in
a financial year, after the locked period, outside the closed years.

  GET /3/financialyears[?date=YYYY-MM-DD]   every year, or the one covering the date (or none)
  GET /3/financialyears/{Id}
  GET /3/settings/lockedperiod              {"LockedPeriod": {"EndDate": "YYYY-MM-DD" or null}}

The years and the locked period are knobs (`financial_years`, `locked_period_end`), the same for
every tenant. Fortnox's year Ids are per company and sequential (1, 2, ...; a voucher's `Year` is
one): each tenant numbers the years in the order it first sees them, so an Id never changes when a
year is added or removed. Creating a year (POST) is not simulated: Fortnox advises its interface.
Fortnox documents no error code for a date outside every year or in the locked period; the codes
here are the simulator's own (replies.ERROR_CODES).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from .book_knobs import YearSpan
from .ledger import check_year
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .validation import parse_date

__all__ = [
    "FINANCIAL_YEARS",
    "SETTINGS",
    "FinancialYear",
    "bookable",
    "covering",
    "current_or_requested",
    "requested_year",
]

_CHART: Final = "BAS 2024"  # what AccountChartType shows; the simulator has one chart


@dataclass(frozen=True)
class FinancialYear:
    id: int
    from_date: str
    to_date: str

    def covers(self, day: date) -> bool:
        return self.from_date <= day.isoformat() <= self.to_date

    def render(self, base_url: str) -> dict[str, Any]:
        return {
            "@url": f"{base_url}/financialyears/{self.id}",
            "AccountChartType": _CHART,
            "AccountingMethod": "ACCRUAL",
            "FromDate": self.from_date,
            "Id": self.id,
            "ToDate": self.to_date,
        }


@dataclass
class YearIds:
    """A tenant's Ids for the years it has seen; an Id stays with its year."""

    ids: dict[YearSpan, int] = field(default_factory=dict)


def years(call: Call) -> list[FinancialYear]:
    """The tenant's financial years, by start date."""
    known = call.part(YearIds).ids
    for span in call.knobs.financial_years:
        known.setdefault(span, len(known) + 1)
    return [FinancialYear(known[span], *span) for span in call.knobs.financial_years]


def covering(call: Call, day: date) -> FinancialYear | None:
    return next((year for year in years(call) if year.covers(day)), None)


def _find(call: Call, raw: str) -> FinancialYear | None:
    return next((year for year in years(call) if str(year.id) == raw.strip()), None)


def _by_id(call: Call, raw: str) -> FinancialYear:
    found = _find(call, raw)
    if found is None:
        raise _bad("financial_year_not_found", f"Financial year {raw} does not exist")
    return found


def requested_year(call: Call) -> FinancialYear | None:
    """The year a request names by ?financialyear=Id or ?financialyeardate=; None when it names none."""
    raw = call.param("financialyear")
    if raw is not None:
        return _by_id(call, raw)
    raw_date = call.param("financialyeardate")
    if raw_date is None:
        return None
    year = covering(call, parse_date("financialyeardate", raw_date))
    if year is None:
        raise _bad("financial_year_not_found", f"No financial year covers {raw_date}")
    return year


def current_or_requested(call: Call) -> FinancialYear:
    """The year a voucher read is about: the one asked for, else today's (Fortnox's preselected year)."""
    year = requested_year(call) or covering(call, call.today)
    if year is None:
        raise _bad("financial_year_not_found", f"No financial year covers today ({call.today}): name one")
    return year


def bookable(call: Call, day: date, what: str, year: FinancialYear | None = None) -> FinancialYear:
    """The financial year a booking dated `day` goes in (`year` when the request named one).

    Refuses a date outside every year (or outside the year named), on or before the locked period's
    end, or in a closed year.
    """
    found = year or covering(call, day)
    if found is None:
        raise _bad(
            "financial_year_not_found",
            f"{what} {day}: no financial year covers this date (create the financial year in Fortnox)",
        )
    if not found.covers(day):
        raise _bad(
            "financial_year_not_found",
            f"{what} {day} is not in financial year {found.id} ({found.from_date} - {found.to_date})",
        )
    end = call.knobs.locked_period_end
    if end and day.isoformat() <= end:
        raise _bad(
            "period_locked", f"{what} {day} is in the locked period (locked up to and including {end})"
        )
    check_year(day, what, call.knobs)
    return found


def _list(call: Call) -> Response:
    # The spec names the parameter Date; Fortnox's guides write date.
    raw = call.param("date") or call.param("Date")
    if raw is None:
        found = years(call)
    else:
        year = covering(call, parse_date("date", raw))
        found = [year] if year is not None else []
    meta = {"@TotalResources": len(found), "@TotalPages": 1, "@CurrentPage": 1}
    return Response(
        200, {"FinancialYears": [y.render(call.base_url) for y in found], "MetaInformation": meta}
    )


def _read(call: Call) -> Response:
    year = _find(call, call.number)
    if year is None:
        raise _bad("financial_year_not_found", f"Financial year {call.number} does not exist", 404)
    return Response(200, {"FinancialYear": year.render(call.base_url)})


def _locked_period(call: Call) -> Response:
    # "If no date is returned, no period is locked" (the spec): null then.
    return Response(200, {"LockedPeriod": {"EndDate": call.knobs.locked_period_end or None}})


FINANCIAL_YEARS = Resource("financialyears", routes(list=_list, read=_read))
SETTINGS = Resource("settings", {("lockedperiod", "GET"): _locked_period})
