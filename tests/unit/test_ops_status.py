"""How `status` judges the Fortnox token chain."""

from __future__ import annotations

from stripe_fortnox_cli.ops.status import token_health
from stripe_fortnox_cli.ops.store import TokenRecord


def test_token_health_warns_before_a_refresh_token_lapses() -> None:
    now = 1_800_000_000.0
    day = 86400.0
    fresh = TokenRecord("token#c#authorization-code", now + 600, now - day, True, 3)
    old = TokenRecord("token#c#authorization-code", now - 600, now - 40 * day, True, 9)
    dead = TokenRecord("token#c#authorization-code", now - 600, now - 46 * day, True, 9)
    service = TokenRecord("token#c#tenant", now - 60, now - 50 * day, False, 2)
    assert token_health(fresh, now).problem is None
    assert "expires in 5 days" in (token_health(old, now).problem or "")
    assert "has expired" in (token_health(dead, now).problem or "")
    assert token_health(service, now).problem is None  # a service account needs no chain


def test_token_health_says_when_a_chain_has_no_refresh_token_or_is_refreshing() -> None:
    now = 1_800_000_000.0
    missing = TokenRecord("token#c#authorization-code", now + 600, None, False, 1)
    refreshing = TokenRecord("token#c#tenant", now + 600, now - 60, False, 1, lock_until=now + 5)
    assert "no refresh token stored" in (token_health(missing, now).problem or "")
    health = token_health(refreshing, now)
    assert health.refreshing and health.text.endswith("a refresh is in progress")
    assert health.flow.startswith("service account")
