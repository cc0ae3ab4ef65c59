"""Fakes of the Fortnox customer API, its HTTP transport and requester, tokens and rate limiter."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import requests
from requests.adapters import BaseAdapter

from stripe_fortnox_sync.core import ports
from stripe_fortnox_sync.core.errors import FortnoxError
from stripe_fortnox_sync.core.models import FortnoxFields

Obj = dict[str, Any]


class FakeFortnox:
    """The `FortnoxCustomers` port with Fortnox's substring search and short list items."""

    LIST_FIELDS = ("CustomerNumber", "Name", "Email", "OrganisationNumber", "ZipCode", "City")

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.updates: list[tuple[str, FortnoxFields]] = []
        self.calls: Counter[str] = Counter()
        self._next = 1
        self.fail_with: FortnoxError | None = None
        self.reserved: list[int] = []  # slots reserved ahead: no request of their own

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def reserve(self, count: int) -> None:
        self.reserved.append(count)

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.fail_with is not None:
            raise self.fail_with

    def list_customers(self, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        self._call("list")
        ((field, value),) = [(k, v) for k, v in params.items() if k not in ("limit", "page")]
        key = {"email": "Email", "organisationnumber": "OrganisationNumber", "name": "Name"}.get(field)
        hits = []
        for customer in self.customers.values():
            if key is None or str(value).lower() in str(customer.get(key, "")).lower():
                hits.append({k: customer.get(k, "") for k in self.LIST_FIELDS})
        return hits

    def get_customer(self, number: str) -> dict[str, Any]:
        self._call("get")
        if number not in self.customers:
            raise FortnoxError("not found", status=404)
        return dict(self.customers[number])

    def create_customer(self, fields: FortnoxFields) -> dict[str, Any]:
        self._call("create")
        number = str(self._next)
        self._next += 1
        self.customers[number] = {"Active": True, **fields, "CustomerNumber": number}
        return dict(self.customers[number])

    def update_customer(self, number: str, fields: FortnoxFields) -> dict[str, Any]:
        self._call("update")
        self.updates.append((number, dict(fields)))
        if number not in self.customers:
            raise FortnoxError("not found", status=404)
        self.customers[number].update(fields)
        return dict(self.customers[number])


class ScriptedAdapter(BaseAdapter):
    """A requests transport answering from a script: (status, json body) or an exception."""

    def __init__(self, script: Sequence[tuple[int, Any] | Exception]) -> None:
        super().__init__()
        self.script = list(script)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, body = step
        response = requests.Response()
        response.status_code = status
        response._content = b"" if body is None else json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def body(self, index: int) -> str:
        """The body of the `index`th request sent, as text."""
        sent = self.requests[index].body
        return sent.decode() if isinstance(sent, bytes) else sent or ""

    def close(self) -> None:
        pass


def scripted_session(
    script: Sequence[tuple[int, Any] | Exception],
) -> tuple[requests.Session, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(script)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


class Request(NamedTuple):
    """One Fortnox API call as a `FortnoxRequester` receives it."""

    method: str
    path: str
    params: Mapping[str, str | int] | None
    body: Mapping[str, Any] | None


class RecordingRequester:
    """The `FortnoxRequester` port: records every request in `requests`, then answers it with
    `answer` (or, made with `over`, passes it on to another requester). With `fail_once=(method,
    path pattern)` the first matching request fails as Fortnox's 503 would, after being recorded."""

    def __init__(self, answer: Callable[[Request], Obj], *, fail_once: tuple[str, str] | None = None) -> None:
        self._answer = answer
        self._fail_once = fail_once
        self._inner: ports.FortnoxRequester | None = None
        self._inner_upload: Callable[..., Obj] | None = None
        self.requests: list[Request] = []
        self.reserved: list[int] = []

    @classmethod
    def over(
        cls, requester: ports.FortnoxRequester, *, fail_once: tuple[str, str] | None = None
    ) -> RecordingRequester:
        def passed_on(sent: Request) -> Obj:
            return requester.request(sent.method, sent.path, params=sent.params, body=sent.body)

        recording = cls(passed_on, fail_once=fail_once)
        recording._inner = requester
        recording._inner_upload = getattr(requester, "upload", None)
        return recording

    def upload(
        self, path: str, filename: str, content: bytes, *, params: Mapping[str, str | int] | None = None
    ) -> Obj:
        """The `FortnoxUploader` port: recorded as a POST whose body names the file."""
        sent = Request("POST", path, params, {"file": filename, "bytes": len(content)})
        self.requests.append(sent)
        if self._inner_upload is not None:
            answer: Obj = self._inner_upload(path, filename, content, params=params)
            return answer
        return self._answer(sent)

    def reserve(self, count: int) -> None:
        self.reserved.append(count)
        if self._inner is not None:
            self._inner.reserve(count)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far."""
        return [(r.method, r.path) for r in self.requests]

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]

    def clear(self) -> None:
        self.requests.clear()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Obj:
        sent = Request(method, path, params, body)
        self.requests.append(sent)
        if self._fail_once and method == self._fail_once[0] and re.fullmatch(self._fail_once[1], path):
            self._fail_once = None
            raise FortnoxError("Fortnox is down", status=503, method=method, path=path)
        return self._answer(sent)


class FakeTokens:
    """The `TokenProvider` port: token-0, and a new one (token-1, ...) after each invalidation."""

    def __init__(self) -> None:
        self.issued = 0
        self.invalidated: list[str] = []

    def access_token(self) -> str:
        return f"token-{self.issued}"

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.issued += 1


class CountingLimiter:
    """The `RateLimiter` port without a limit: never waits, counts the requests it let through."""

    def __init__(self) -> None:
        self.acquired = 0
        self.reserved: list[int] = []

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0

    def reserve(self, count: int) -> None:
        self.reserved.append(count)
