"""apps.fortnox.se's OAuth side: clients, the token endpoint, access and refresh tokens.

Refresh tokens are single use: the one presented is gone for good and a new one takes its place,
so a client that loses a refresh answer (or two workers racing) meets invalid_grant.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs

from .replies import Response
from .state import SimState
from .validation import media_type

__all__ = ["REFRESH_TOKEN_LIFETIME", "SCOPE", "Grant", "OAuthAuthority"]

REFRESH_TOKEN_LIFETIME: Final[float] = 45 * 24 * 3600.0
SCOPE: Final[str] = "customer"


@dataclass
class Grant:
    """What a token stands for: a client acting for a tenant, until a time on the monotonic clock."""

    client_id: str
    tenant_id: str
    expires_at: float


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


class OAuthAuthority:
    """Methods whose names end in _locked expect the caller to hold the state lock."""

    def __init__(self, state: SimState) -> None:
        self._state = state
        self._clients: dict[str, str] = {}
        self._access_tokens: dict[str, Grant] = {}
        self._refresh_tokens: dict[str, Grant] = {}
        self._used_refresh_tokens: set[str] = set()
        # Tenants whose consent was withdrawn: no new token, and their tokens answer 401.
        self.revoked: set[str] = set()

    def register_client(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must be non-empty")
        with self._state.lock:
            self._clients[client_id] = client_secret

    def issue_refresh_token(self, client_id: str, tenant_id: str) -> str:
        if not tenant_id:
            raise ValueError("tenant_id must be non-empty")
        with self._state.lock:
            if client_id not in self._clients:
                raise ValueError(f"unknown client {client_id!r}: register_client first")
            return self._new_refresh_token(client_id, tenant_id)

    def expire_access_tokens(self) -> None:
        with self._state.lock:
            now = self._state.clock.now()
            for token in self._access_tokens.values():
                token.expires_at = min(token.expires_at, now)

    def bearer_locked(self, authorization: str) -> tuple[Grant | None, str]:
        """The grant behind an Authorization header, or None and why not."""
        scheme, _, token = authorization.partition(" ")
        grant = self._access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if not authorization:
            return None, "Missing Authorization header"
        if grant is None:
            return None, "Invalid access token"
        if grant.expires_at <= self._state.clock.now():
            return None, "Access token has expired"
        if grant.tenant_id in self.revoked:
            return None, "The tenant's consent was revoked"
        return grant, ""

    def token_endpoint(self, headers: Mapping[str, str], body: bytes) -> Response:
        """POST /oauth-v1/token (header names in lower case)."""
        client_id = self._client(headers.get("authorization"))
        if client_id is None:
            with self._state.lock:
                self._state.stats.invalid_client += 1
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if media_type(headers.get("content-type")) != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "Body must be application/x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            return self._client_credentials(client_id, (headers.get("tenantid") or "").strip())
        if grant_type == "refresh_token":
            return self._refresh(client_id, form.get("refresh_token", ""))
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Parameter grant_type is required")
        return _oauth_error(400, "unsupported_grant_type", f"Grant type {grant_type!r} is not supported")

    def _client_credentials(self, client_id: str, tenant_id: str) -> Response:
        """The service-account flow: the tenant comes from the TenantId header."""
        if not tenant_id:
            return _oauth_error(400, "invalid_request", "Header TenantId is required")
        with self._state.lock:
            if tenant_id in self.revoked:
                self._state.stats.invalid_grant += 1
                return _oauth_error(400, "invalid_grant", "The tenant's consent was revoked")
            access = self._new_access_token(client_id, tenant_id)
            self._state.stats.token_grants["client_credentials"] += 1
            lifetime = self._state.knobs.token_lifetime
        return Response(200, _granted(access, None, lifetime))

    def _refresh(self, client_id: str, presented: str) -> Response:
        if not presented:
            return _oauth_error(400, "invalid_request", "Parameter refresh_token is required")
        with self._state.lock:
            grant = self._refresh_tokens.pop(presented, None)
            problem = None
            if grant is None:
                used = presented in self._used_refresh_tokens
                problem = "Refresh token already used" if used else "Invalid refresh token"
            elif grant.client_id != client_id:
                problem = "Refresh token was issued to another client"
                self._refresh_tokens[presented] = grant
            elif grant.expires_at <= self._state.clock.now():
                problem = "Refresh token expired"
            if problem is not None or grant is None:
                self._state.stats.invalid_grant += 1
                return _oauth_error(400, "invalid_grant", problem or "Invalid refresh token")
            self._used_refresh_tokens.add(presented)
            access = self._new_access_token(client_id, grant.tenant_id)
            refresh = self._new_refresh_token(client_id, grant.tenant_id)
            self._state.stats.token_grants["refresh_token"] += 1
            lifetime = self._state.knobs.token_lifetime
        return Response(200, _granted(access, refresh, lifetime))

    def _client(self, header: str | None) -> str | None:
        """The client a Basic Authorization header authenticates, None when it does not."""
        if not header or header[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        with self._state.lock:
            expected = self._clients.get(client_id)
        if not sep or expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
            return None
        return client_id

    def _new_refresh_token(self, client_id: str, tenant_id: str) -> str:
        token = secrets.token_urlsafe(24)
        expires_at = self._state.clock.now() + REFRESH_TOKEN_LIFETIME
        self._refresh_tokens[token] = Grant(client_id, tenant_id, expires_at)
        return token

    def _new_access_token(self, client_id: str, tenant_id: str) -> str:
        now = self._state.clock.now()
        # Drop tokens dead for a day, so long benchmarks do not grow the table without bound.
        stale = [t for t, g in self._access_tokens.items() if g.expires_at < now - 86400]
        for token in stale:
            del self._access_tokens[token]
        token = secrets.token_urlsafe(32)
        self._access_tokens[token] = Grant(client_id, tenant_id, now + self._state.knobs.token_lifetime)
        return token


def _granted(access: str, refresh: str | None, lifetime: float) -> dict[str, object]:
    body: dict[str, object] = {"access_token": access}
    if refresh is not None:
        body["refresh_token"] = refresh
    body.update(scope=SCOPE, expires_in=math.ceil(lifetime), token_type="bearer")
    return body
