"""Fortnox's clock: dates and `lastmodified` filters are Swedish local time."""

from __future__ import annotations

from datetime import timedelta, timezone, tzinfo


def _stockholm() -> tzinfo:
    # A payment at 00:30 in Stockholm belongs to that day, not to the previous UTC day. Without a
    # tz database (slim images), standard time (CET) is an hour behind in summer: a date may come out
    # a day early just after midnight, and a lastmodified filter reaches an hour further back (safe).
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Stockholm")
    except Exception:
        return timezone(timedelta(hours=1), "CET")


FORTNOX_ZONE: tzinfo = _stockholm()
