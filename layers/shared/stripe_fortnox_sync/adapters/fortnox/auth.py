"""Fortnox OAuth: service-account (client credentials) and single-use refresh-token flows.

Tokens are shared by every concurrent invocation through a `TokenStore`. A refresh token works
once, so exactly one invocation refreshes at a time (a lock in the store), and the new refresh
token is stored before the new access token is used: a crash right after a refresh never loses
the chain.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import requests

from stripe_fortnox_sync.adapters.fortnox.http import error_from_response
from stripe_fortnox_sync.core.errors import ConfigError, FortnoxAuthError, FortnoxError
from stripe_fortnox_sync.core.models import TokenState
from stripe_fortnox_sync.core.ports import TokenStore

# Refresh this long before Fortnox's expiry, so a token never dies in the middle of a batch.
EXPIRY_MARGIN_SECONDS = 120.0
LOCK_TTL_SECONDS = 30.0
LOCK_WAIT_SECONDS = 20.0


@dataclass(frozen=True)
class FortnoxCredentials:
    client_id: str
    client_secret: str
    tenant_id: str | None = None
    refresh_token: str | None = None

    @classmethod
    def from_secret(cls, value: Mapping[str, Any]) -> FortnoxCredentials:
        def text(key: str) -> str | None:
            raw = value.get(key)
            return str(raw).strip() if raw not in (None, "") else None

        client_id, client_secret = text("client_id"), text("client_secret")
        tenant_id, refresh_token = text("tenant_id"), text("refresh_token")
        if not client_id or not client_secret:
            raise ConfigError("Fortnox credentials secret needs client_id and client_secret")
        if not tenant_id and not refresh_token:
            raise ConfigError("Fortnox credentials secret needs tenant_id (service account) or refresh_token")
        return cls(client_id, client_secret, tenant_id, refresh_token)

    @property
    def flow(self) -> str:
        return "client_credentials" if self.tenant_id else "refresh_token"

    @property
    def store_key(self) -> str:
        return f"token#{self.client_id}#{self.tenant_id or 'authorization-code'}"


class OAuthTokenProvider:
    def __init__(
        self,
        credentials: FortnoxCredentials,
        auth_url: str,
        store: TokenStore,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_refresh: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._creds = credentials
        self._token_url = auth_url.rstrip("/") + "/token"
        self._store = store
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._on_refresh = on_refresh
        self._cached: TokenState | None = None
        self._rejected: set[str] = set()
        self._owner = uuid.uuid4().hex

    def access_token(self) -> str:
        if self._usable(self._cached):
            assert self._cached is not None
            return self._cached.access_token
        state = self._store.load_token(self._creds.store_key)
        if not self._usable(state):
            state = self._renew()
        assert state is not None
        self._cached = state
        return state.access_token

    def invalidate(self, token: str) -> None:
        self._rejected.add(token)
        self._cached = None

    def _usable(self, state: TokenState | None) -> bool:
        return (
            state is not None
            and state.access_token not in self._rejected
            and state.expires_at - EXPIRY_MARGIN_SECONDS > self._clock()
            and not self._reseeded(state)
        )

    def _reseeded(self, state: TokenState) -> bool:
        seed = self._creds.refresh_token
        return self._creds.flow == "refresh_token" and seed is not None and seed != state.seed_refresh_token

    def _renew(self) -> TokenState:
        key = self._creds.store_key
        deadline = self._clock() + LOCK_WAIT_SECONDS
        while not self._store.try_lock(key, self._owner, LOCK_TTL_SECONDS):
            # Someone else is refreshing: wait for their token rather than racing them.
            self._sleep(0.2)
            state = self._store.load_token(key)
            if self._usable(state):
                assert state is not None
                return state
            if self._clock() > deadline:
                raise FortnoxError("another worker has held the Fortnox token lock too long", path="/token")
        try:
            # The previous holder may have refreshed between our check and our lock.
            current = self._store.load_token(key)
            if self._usable(current):
                assert current is not None
                return current
            return self._grant(current)
        finally:
            self._store.unlock(key, self._owner)

    def _grant(self, current: TokenState | None) -> TokenState:
        creds = self._creds
        headers = {"Accept": "application/json"}
        if creds.flow == "client_credentials":
            form = {"grant_type": "client_credentials"}
            headers["TenantId"] = str(creds.tenant_id)
            seed = None
        else:
            reseed = current is None or self._reseeded(current) or not current.refresh_token
            seed = creds.refresh_token if reseed else current.seed_refresh_token if current else None
            refresh = creds.refresh_token if reseed else current.refresh_token if current else None
            form = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
        try:
            response = self._session.post(
                self._token_url,
                data=form,
                auth=(creds.client_id, creds.client_secret),
                headers=headers,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise FortnoxAuthError(
                f"token endpoint unreachable: {type(exc).__name__}", path="/token"
            ) from exc
        if response.status_code != 200:
            error = error_from_response(response, "POST", "/token")
            if self._on_refresh:
                self._on_refresh(creds.flow, False)
            raise FortnoxAuthError(
                f"token request ({creds.flow}) refused: {error.message}",
                status=response.status_code,
                code=error.code,
                method="POST",
                path="/token",
            )
        body = response.json()
        state = TokenState(
            access_token=str(body["access_token"]),
            expires_at=self._clock() + float(body.get("expires_in") or 3600),
            refresh_token=body.get("refresh_token") or None,
            seed_refresh_token=seed,
            version=(current.version if current else 0) + 1,
        )
        if creds.flow == "refresh_token" and not state.refresh_token:
            state = replace(state, refresh_token=current.refresh_token if current else None)
        if not self._store.save_token(creds.store_key, state):
            # We hold the lock, so this means the lock expired mid-refresh: the chain may fork.
            raise FortnoxAuthError("token state changed while we held the refresh lock", path="/token")
        if self._on_refresh:
            self._on_refresh(creds.flow, True)
        return state
