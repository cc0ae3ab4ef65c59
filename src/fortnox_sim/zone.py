"""Fortnox's time zone: what "today" is for dates the simulator fills in or defaults to."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Final

__all__ = ["FORTNOX_TIMEZONE", "fortnox_date"]


def _fortnox_zone() -> tzinfo:
    # Fortnox reads and shows lastmodified in Swedish local time, whatever the client's zone.
    # Read in the host's zone instead, a client's UTC-based search looked hours into the
    # future on a machine west of UTC and found nothing (crash recovery then duplicated).
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Stockholm")
    except Exception:  # no tz database (slim containers): standard time, off by 1 h in summer
        return timezone(timedelta(hours=1), "CET")


FORTNOX_TIMEZONE: Final[tzinfo] = _fortnox_zone()


def fortnox_date(epoch_seconds: float) -> date:
    """The date in Sweden at this instant."""
    return datetime.fromtimestamp(epoch_seconds, FORTNOX_TIMEZONE).date()
