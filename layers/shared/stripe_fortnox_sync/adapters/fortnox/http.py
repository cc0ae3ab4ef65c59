"""HTTP client for the Fortnox API v3: envelopes, errors, retries, rate limit, token refresh."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from stripe_fortnox_sync.core.errors import FortnoxError
from stripe_fortnox_sync.core.ports import (
    Body,
    CallObserver,
    FortnoxRequester,
    Params,
    RateLimiter,
    TokenProvider,
)


class _Upload(dict[str, Any]):
    """A file to send as multipart form data, carried where a JSON body would go."""

    def __init__(self, filename: str, content: bytes) -> None:
        super().__init__(filename=filename)
        self.filename = filename
        self.content = content


def _lower_keys(value: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def error_from_response(response: requests.Response, method: str = "", path: str = "") -> FortnoxError:
    """Parse Fortnox's error envelope, whose key case varies, or an OAuth error body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    top = _lower_keys(body)
    info = _lower_keys(top.get("errorinformation"))
    message = info.get("message") or top.get("error_description") or top.get("message")
    if not message and isinstance(top.get("error"), str):
        message = top["error"]
    if not message:
        message = (response.text or response.reason or "no error body")[:300]
    code_raw = info.get("code")
    try:
        code = int(code_raw) if code_raw is not None else None
    except (TypeError, ValueError):
        code = None
    return FortnoxError(str(message), status=response.status_code, code=code, method=method, path=path)


# Collections whose next path segment is a document number: metrics name the route, not the id.
_NUMBERED = frozenset({"customers", "invoices", "invoicepayments", "voucherseries", "inbox", "vouchers"})


def _template(path: str) -> str:
    parts = path.strip("/").split("/")

    def numbered(i: int) -> bool:
        # /vouchers/{series}/{number}: both segments name one voucher.
        return i > 0 and (parts[i - 1] in _NUMBERED or (i > 1 and parts[i - 2] == "vouchers"))

    return "/" + "/".join("{n}" if numbered(i) else p for i, p in enumerate(parts))


class FortnoxClient:
    """Talks to Fortnox; every request waits for the shared rate limiter first."""

    def __init__(
        self,
        api_url: str,
        tokens: TokenProvider,
        limiter: RateLimiter,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        max_attempts: int = 4,
        max_backoff: float = 4.0,
        # The whole retry budget of one request: a batch of 10 must fit the function's timeout.
        retry_budget_seconds: float = 12.0,
        sleep: Callable[[float], None] = time.sleep,
        observer: CallObserver | None = None,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._tokens = tokens
        self._limiter = limiter
        self._timeout = timeout
        self._session = session or requests.Session()
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._retry_budget = retry_budget_seconds
        self._sleep = sleep
        self._observer = observer
        self.calls = 0

    def reserve(self, count: int) -> None:
        self._limiter.reserve(count)

    def request(self, method: str, path: str, *, params: Params = None, body: Body = None) -> dict[str, Any]:
        # A POST that timed out or got a 5xx may have been applied; only a 429 (refused before
        # processing) or a failed connect is safe to repeat in place. The rest goes back to the
        # queue, where the sync's crash recovery looks for what the first attempt created.
        def retry_in_place(exc: BaseException) -> bool:
            return isinstance(exc, FortnoxError) and exc.transient and not exc.ambiguous

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts) | stop_after_delay(self._retry_budget),
            wait=wait_exponential_jitter(multiplier=0.5, max=self._max_backoff),
            retry=retry_if_exception(retry_in_place),
            sleep=self._sleep,
            reraise=True,
        )
        result: dict[str, Any] = retrying(self._send_with_refresh, method, path, params, body)
        return result

    def upload(self, path: str, filename: str, content: bytes, *, params: Params = None) -> dict[str, Any]:
        """POST a file as multipart form data (field `file`): Fortnox's inbox takes documents so."""
        return self.request("POST", path, params=params, body=_Upload(filename, content))

    def _send_with_refresh(self, method: str, path: str, params: Params, body: Body) -> dict[str, Any]:
        token = self._tokens.access_token()
        try:
            return self._send(method, path, params, body, token)
        except FortnoxError as exc:
            if exc.status != 401:
                raise
            # The token was revoked or expired early: refresh once, then give up loudly.
            self._tokens.invalidate(token)
            return self._send(method, path, params, body, self._tokens.access_token())

    def _send(self, method: str, path: str, params: Params, body: Body, token: str) -> dict[str, Any]:
        self._limiter.acquire()
        self.calls += 1
        started = time.perf_counter()
        template = _template(path)
        content: dict[str, Any] = {"json": body}
        if isinstance(body, _Upload):
            content = {"files": {"file": (body.filename, body.content, "text/csv")}}
        try:
            response = self._session.request(
                method,
                self._api_url + path,
                params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self._timeout,
                **content,
            )
        except requests.ConnectionError as exc:
            self._observe(method, template, 0, started)
            # A refused connection never reached Fortnox; a broken one might have.
            sent = not isinstance(exc, requests.ConnectTimeout) and "refused" not in str(exc).lower()
            raise FortnoxError(
                f"connection failed: {type(exc).__name__}",
                method=method,
                path=template,
                ambiguous=sent and method != "GET",
            ) from exc
        except requests.Timeout as exc:
            self._observe(method, template, 0, started)
            raise FortnoxError(
                f"no answer within {self._timeout:g} s",
                method=method,
                path=template,
                ambiguous=method != "GET",
            ) from exc
        self._observe(method, template, response.status_code, started)
        if response.status_code >= 400:
            error = error_from_response(response, method, template)
            error.ambiguous = method == "POST" and response.status_code >= 500
            raise error
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = response.json()
        except ValueError as exc:
            raise FortnoxError("answer is not JSON", status=response.status_code, method=method) from exc
        return data if isinstance(data, dict) else {}

    def _observe(self, method: str, template: str, status: int, started: float) -> None:
        if self._observer is not None:
            self._observer(method, template, status, time.perf_counter() - started)


class FortnoxResourceApi:
    """What the customer and invoice adapters share: the client, and reserving its requests."""

    def __init__(self, client: FortnoxRequester) -> None:
        self._client = client

    def reserve(self, count: int) -> None:
        self._client.reserve(count)


# Fortnox's largest page: a full listing costs one request per 500 items.
PAGE_SIZE = 500


def pages(
    client: FortnoxRequester, path: str, key: str, params: Mapping[str, str | int]
) -> list[dict[str, Any]]:
    """Every page of a Fortnox list: `key` is the list's envelope ("Customers", "Invoices", ...)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = client.request("GET", path, params={**params, "limit": PAGE_SIZE, "page": page})
        items.extend(dict(item) for item in data.get(key) or [] if isinstance(item, Mapping))
        meta = data.get("MetaInformation") or {}
        if page >= int(meta.get("@TotalPages") or 1):
            return items
        page += 1


def unwrap(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The object inside one of Fortnox's envelopes ({"Invoice": {...}}), or {}."""
    value = data.get(key)
    return dict(value) if isinstance(value, Mapping) else {}
