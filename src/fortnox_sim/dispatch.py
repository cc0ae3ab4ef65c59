"""Request dispatch: /_sim to the admin endpoints, /oauth-v1/token to the OAuth authority, /3 through
authentication, limits and faults to the resource table. Counts every request but /_sim."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from . import api
from .limits import Faults
from .oauth import OAuthAuthority
from .replies import ApiError, Response, error_response
from .resource import Call
from .state import SimState

__all__ = ["Dispatcher"]

_Admin = Callable[[str, str, Mapping[str, list[str]], bytes], Response]
_Admit = Callable[[tuple[str, str]], bool]


class _Admitted(NamedTuple):
    tenant_id: str
    hang: float | None  # seconds the request hangs (an injected timeout), None for no hang
    applies_write: bool  # whether a hanging request still writes before its answer is lost


class Dispatcher:
    def __init__(
        self,
        state: SimState,
        authority: OAuthAuthority,
        faults: Faults,
        *,
        admin: _Admin,
        admit: _Admit,
        fallback_url: Callable[[], str],
    ) -> None:
        self._state = state
        self._authority = authority
        self._faults = faults
        self._admin = admin
        self._admit = admit
        self._fallback_url = fallback_url  # ".../3" for a request without a Host header
        # Set on stop: wakes requests sleeping in an injected latency or hang, so they finish now.
        self.stopping = threading.Event()

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Response, str | None]:
        """Answer one request (header names in lower case): the response and its stats route.

        The route is None for /_sim requests, which stay out of the statistics.
        """
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == "/_sim" or path.startswith("/_sim/"):
            try:
                return self._admin(method, path, query, body), None
            except ValueError as exc:
                return Response(400, {"error": str(exc)}), None

        is_api = path == "/3" or path.startswith("/3/")
        if is_api:
            route = f"{method} {api.route_template(path)}"
        elif path == "/oauth-v1/token":
            route = f"{method} /oauth-v1/token"
        else:
            route = f"{method} /{{unknown}}"
        with self._state.lock:
            latency = self._state.knobs.latency_ms
        if latency > 0:
            self.stopping.wait(latency / 1000.0)

        if is_api:
            response = self._api(method, path, query, headers, body)
        elif path == "/oauth-v1/token":
            response = (
                self._authority.token_endpoint(headers, body)
                if method == "POST"
                else error_response(405, "method_not_allowed", "Use POST for the token endpoint")
            )
        else:
            response = error_response(404, "unknown_resource", f"No such resource: {path}")
        with self._state.lock:
            self._state.stats.requests[route] += 1
            self._state.stats.status_codes[str(response.status)] += 1
        return response, route

    def record_duration(self, route: str, millis: float) -> None:
        with self._state.lock:
            self._state.stats.record_duration(route, millis)

    def _api(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        admission = self._admission(headers.get("authorization") or "")
        if isinstance(admission, Response):
            return admission
        if admission.hang is not None and not admission.applies_write:
            self.stopping.wait(admission.hang)
            return error_response(504, "gateway_timeout", "Gateway timeout (injected); nothing was written")
        host = headers.get("host")
        base_url = f"http://{host}/3" if host else self._fallback_url()
        with self._state.lock:
            call = Call(
                query=query,
                content_type=headers.get("content-type"),
                body=body,
                base_url=base_url,
                knobs=self._state.knobs,
                now=self._state.clock.wall(),
                tenant_id=admission.tenant_id,
                tenants=self._state.tenants,
            )
            try:
                response = api.answer(call, method, path)
            except ApiError as exc:
                response = exc.response()
        if admission.hang is not None:
            # The write (if any) is done; only the answer is late, as when a real timeout loses it.
            self.stopping.wait(admission.hang)
        return response

    def _admission(self, authorization: str) -> Response | _Admitted:
        """A refusal (401, 429, injected 500), or what the admitted request needs to go on."""
        with self._state.lock:
            self._state.stats.api_requests += 1
            grant, problem = self._authority.bearer_locked(authorization)
            if grant is None:
                self._state.stats.unauthorized += 1
                return error_response(401, "unauthorized", problem)
            self._state.stats.requests_by_tenant[grant.tenant_id] += 1
            refusal = self._faults.refusal((grant.client_id, grant.tenant_id), self._admit)
            if refusal is not None:
                if refusal.status == 429:
                    self._state.stats.rate_limited_by_tenant[grant.tenant_id] += 1
                return refusal
            return _Admitted(grant.tenant_id, self._faults.hang(), self._state.knobs.timeout_applies_write)
