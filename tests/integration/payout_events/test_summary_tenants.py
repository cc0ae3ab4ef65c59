"""Summary booking's schedule on a stack with tenants (issue 17): each active company's day is booked
in its own Fortnox company from its own records, and one company's trouble leaves the others booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_cli.cli import main
from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.sync.summary_sync import stockholm_today
from tests.builders import event
from tests.integration.payout_events.books import TENANT, Books, balanced, books
from tests.integration.payout_events.test_summary_day import stock
from tests.integration.stack import drain, send, simulator
from tests.integration.test_tenants_pipeline import COMPANIES, SECRETS, add_tenants, post
from tests.summary_builders import generate_day


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Books]:
    with books(tmp_path, BOOKING_MODE="summary") as running:
        yield running


def _schedule() -> Any:
    from stripe_fortnox_cli.local.functions import SYNC_HANDLER, LambdaContext, load_handler

    handler = load_handler("sync_handler_schedule_tenants", SYNC_HANDLER)
    return lambda: handler.lambda_handler({"book_days": True}, LambdaContext("sync", 900, 512))


def _sell_yesterday(world: Books, paths: dict[str, str]) -> date:
    """Two SEK sales yesterday for the stack's own company and for each tenant in `paths`."""
    yesterday = stockholm_today() - timedelta(days=1)
    noon = int(datetime.combine(yesterday, time(12), FORTNOX_ZONE).timestamp())
    spec = generate_day(12, refunds=0, seed=7)
    stock(world, spec)
    sales = [s for s in spec.sales if s.invoice["currency"] == "sek"][:2]
    for n, sale in enumerate(sales):
        sale.invoice["status_transitions"]["paid_at"] = noon + n
        send(world.stack, event(f"evt_y{n}", "invoice.paid", noon + n, sale.invoice))
        for tenant, path in paths.items():
            evt = event(f"evt_{tenant}{n}", "invoice.paid", noon + n, sale.invoice)
            assert post(world.stack, path, evt, SECRETS[tenant])[0] == 200
    drain(world.stack)
    return yesterday


def _day_vouchers(world: Books, company: str, day: date) -> list[dict[str, Any]]:
    found = simulator(world.stack).vouchers(company)
    return [v for v in found if v["Description"] == f"Stripe försäljning {day.isoformat()}"]


def test_each_tenants_day_is_booked_in_its_own_company_and_one_failure_stays_its_own(
    world: Books, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants = add_tenants(world.stack)
    paths = {t: f"/webhook/t/{tenants[t].webhook_slug}" for t in SECRETS}
    day = _sell_yesterday(world, paths)
    # beta withdrew its consent: its day cannot be booked; the stack's own and acme's are.
    simulator(world.stack).revoke_tenant(COMPANIES["beta"])

    book = _schedule()
    with pytest.raises(RuntimeError, match=f"beta: {day.isoformat()}"):
        book()
    for company in (TENANT, COMPANIES["acme"]):
        (voucher,) = _day_vouchers(world, company, day)
        assert balanced(voucher)
    assert _day_vouchers(world, COMPANIES["beta"], day) == []
    # Consent given again: the next run books beta's day, and only beta's.
    simulator(world.stack).revoke_tenant(COMPANIES["beta"], revoked=False)
    answer = book()
    assert [line.split(": ")[:2] for line in answer["booked"]] == [["beta", day.isoformat()]]
    for company in (TENANT, *COMPANIES.values()):
        assert len(_day_vouchers(world, company, day)) == (0 if company == COMPANIES["gamma"] else 1)
    # By hand, one tenant's day: booked already, in its own records.
    capsys.readouterr()
    local = ["--local", str(world.stack.state_dir)]
    assert main(["book-day", *local, "--tenant", "acme", day.isoformat()]) == 0
    assert "booked already" in capsys.readouterr().out
    assert main(["book-day", *local, "--tenant", "nobody", day.isoformat()]) == 2
