from __future__ import annotations

import threading
from typing import Any

import pytest

from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials, OAuthTokenProvider
from stripe_fortnox_sync.core.errors import ConfigError, FortnoxAuthError
from stripe_fortnox_sync.core.models import TokenState
from tests.fakes import FakeClock, InMemoryStateStore, ScriptedAdapter, scripted_session

AUTH_URL = "https://auth.test/oauth-v1"
SERVICE = FortnoxCredentials("cid", "csecret", tenant_id="4711")
REFRESH = FortnoxCredentials("cid", "csecret", refresh_token="r0")


def grant(n: int, refresh: bool = True) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "access_token": f"a{n}",
        "expires_in": 3600,
        "token_type": "bearer",
        "scope": "customer",
    }
    if refresh:
        body["refresh_token"] = f"r{n}"
    return (200, body)


def provider(
    creds: FortnoxCredentials,
    script: list[tuple[int, Any] | Exception],
    store: InMemoryStateStore | None = None,
    clock: FakeClock | None = None,
) -> tuple[OAuthTokenProvider, ScriptedAdapter, InMemoryStateStore, FakeClock]:
    session, adapter = scripted_session(script)
    store = store or InMemoryStateStore()
    clock = clock or FakeClock()
    p = OAuthTokenProvider(creds, AUTH_URL, store, session=session, clock=clock, sleep=lambda s: None)
    return p, adapter, store, clock


def test_client_credentials_sends_tenant_and_basic_auth_and_caches() -> None:
    p, adapter, _, _ = provider(SERVICE, [grant(1, refresh=False)])
    assert p.access_token() == "a1"
    assert p.access_token() == "a1"
    sent = adapter.requests[0]
    assert len(adapter.requests) == 1
    assert sent.headers["TenantId"] == "4711" and sent.headers["Authorization"].startswith("Basic ")
    assert "grant_type=client_credentials" in adapter.body(0)


def test_refresh_chain_rotates_and_stores_the_new_token_first() -> None:
    p, adapter, store, clock = provider(REFRESH, [grant(1), grant(2)])
    assert p.access_token() == "a1"
    assert "refresh_token=r0" in adapter.body(0)
    assert store.tokens[REFRESH.store_key].refresh_token == "r1"
    clock.now += 3600  # expired: the next refresh must use r1, never r0 again
    assert p.access_token() == "a2"
    assert "refresh_token=r1" in adapter.body(1)
    assert store.tokens[REFRESH.store_key].refresh_token == "r2"


def test_token_shared_through_the_store_between_workers() -> None:
    store = InMemoryStateStore()
    first, _, _, clock = provider(REFRESH, [grant(1)], store)
    assert first.access_token() == "a1"
    second, adapter, _, _ = provider(REFRESH, [], store, clock)
    assert second.access_token() == "a1" and adapter.requests == []


def test_invalidate_forces_a_refresh_even_before_expiry() -> None:
    p, adapter, _, _ = provider(REFRESH, [grant(1), grant(2)])
    p.access_token()
    p.invalidate("a1")
    assert p.access_token() == "a2" and len(adapter.requests) == 2


def test_new_refresh_token_in_the_secret_restarts_the_chain() -> None:
    store = InMemoryStateStore()
    p, _, _, clock = provider(REFRESH, [grant(1)], store)
    p.access_token()
    reauthorised = FortnoxCredentials("cid", "csecret", refresh_token="fresh")
    q, adapter, _, _ = provider(reauthorised, [grant(9)], store, clock)
    assert q.access_token() == "a9"
    assert "refresh_token=fresh" in adapter.body(0)
    assert store.tokens[REFRESH.store_key].seed_refresh_token == "fresh"


def test_used_refresh_token_is_an_auth_error_that_needs_a_human() -> None:
    p, _, _, _ = provider(REFRESH, [(400, {"error": "invalid_grant", "error_description": "token used"})])
    with pytest.raises(FortnoxAuthError) as caught:
        p.access_token()
    assert not caught.value.transient and caught.value.reason == "auth" and "token used" in str(caught.value)


def test_waits_for_a_concurrent_refresher_instead_of_racing_it() -> None:
    store = InMemoryStateStore()
    store.locks[REFRESH.store_key] = "someone-else"
    p, adapter, _, clock = provider(REFRESH, [], store)
    state = TokenState("theirs", clock.now + 3600, "r5", "r0", version=1)

    def other_worker_finishes(_: float) -> None:
        store.tokens[REFRESH.store_key] = state

    p._sleep = other_worker_finishes
    assert p.access_token() == "theirs" and adapter.requests == []


def test_only_one_refresh_under_concurrency() -> None:
    store = InMemoryStateStore()
    script = [grant(i) for i in range(1, 3)]
    session, adapter = scripted_session(script)
    clock = FakeClock()
    gate = threading.Barrier(8)
    tokens: list[str] = []

    def worker() -> None:
        p = OAuthTokenProvider(REFRESH, AUTH_URL, store, session=session, clock=clock, sleep=lambda s: None)
        gate.wait()
        tokens.append(p.access_token())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(adapter.requests) == 1 and set(tokens) == {"a1"}


@pytest.mark.parametrize(
    "secret",
    [
        {},
        {"client_id": "a"},
        {"client_id": "a", "client_secret": "b"},
        {"client_id": "", "client_secret": "b", "tenant_id": "1"},
    ],
)
def test_incomplete_credentials_are_a_config_error(secret: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FortnoxCredentials.from_secret(secret)
