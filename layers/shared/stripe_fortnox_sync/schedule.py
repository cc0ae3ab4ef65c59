"""Summary booking's schedule (template.yaml: BookDaysSchedule): the days that are over, booked for
the stack's own company and for every active tenant, each in its own Fortnox company and with its
own records.

One company's failure (its consent revoked, its Fortnox down, a locked period) is logged with its
tenant and the others go on; the run then fails, so the Errors alarm says a day is still open, and
the next run tries again (a day booked in full books nothing twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
from stripe_fortnox_sync.bootstrap import build_fortnox_client, build_summary_sync
from stripe_fortnox_sync.core.errors import ConfigError, ConflictError, FortnoxError, PermanentEventError
from stripe_fortnox_sync.core.observability import logger
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, Tenant, TenantStatus, key_prefix, tenant_settings

# The days the schedule looks at: yesterday and the week before it (a day whose booking failed is
# tried again; an entry that came late is booked by its own event).
RECENT_DAYS = 8

# What stops one company's day and not the others': its data, its Fortnox, its credentials.
_COMPANY_ERRORS = (PermanentEventError, ConflictError, FortnoxError, ConfigError)


def _companies(settings: Settings) -> Iterator[tuple[Settings, Tenant | None]]:
    yield settings, None
    if not settings.state_table:
        return
    for tenant in DynamoTenantRegistry(settings.state_table).all():
        # Suspended or broken tenants' events are parked, not recorded: nothing of theirs to book.
        if tenant.status is TenantStatus.ACTIVE and tenant.fortnox_tenant_id:
            yield tenant_settings(settings, tenant), tenant


def _book_company(settings: Settings, tenant: Tenant | None, days: list[date]) -> tuple[list[str], list[str]]:
    """The company's booked days ("day: voucher") and the days it could not book."""
    tenant_id = tenant.id if tenant else DEFAULT_TENANT
    label = "" if tenant is None else f"{tenant.id}: "
    context = {"tenant_id": tenant_id}
    try:
        client = build_fortnox_client(settings, tenant=tenant)
        summary = build_summary_sync(settings, client, key_prefix(tenant.id if tenant else None))
    except _COMPANY_ERRORS as exc:
        logger.error("summary days not booked", extra={**context, "why": str(exc)})
        return [], [f"{label}{d.isoformat()}" for d in days]
    done, failed = [], []
    for day in days:
        try:
            booking = summary.book_day(day)
        except _COMPANY_ERRORS as exc:
            logger.error("summary day not booked", extra={**context, "day": day.isoformat(), "why": str(exc)})
            failed.append(f"{label}{day.isoformat()}")
            continue
        if booking.posted:
            extra = {**context, "day": day.isoformat(), "voucher": booking.posted}
            logger.info("summary day booked", extra=extra)
            done.append(f"{label}{day.isoformat()}: {booking.posted}")
    return done, failed


def book_recent_days(settings: Settings) -> list[str]:
    """Every recent Stockholm day's voucher, or its correction, for each company: "day: voucher" for
    the stack's own, "tenant: day: voucher" for a tenant's."""
    from stripe_fortnox_sync.sync.summary_sync import stockholm_today

    today = stockholm_today()
    days = [today - timedelta(days=back) for back in range(RECENT_DAYS, 0, -1)]
    done, failed = [], []
    for own, tenant in _companies(settings):
        booked, missed = _book_company(own, tenant, days)
        done += booked
        failed += missed
    if failed:
        raise RuntimeError(f"summary booking failed for {', '.join(failed)}: see the log")
    return done
