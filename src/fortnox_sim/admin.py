"""The simulator-only endpoints under /_sim (never rate limited, never faulted, never counted)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, Unpack

from .general_ledger import LedgerWindow
from .knobs import KnobChanges
from .listing import param
from .replies import Response

__all__ = ["handle_admin"]

_Query = Mapping[str, list[str]]


class Simulator(Protocol):
    """What the /_sim endpoints ask of the simulator (`server.FortnoxSimulator`)."""

    def tenant_ids(self) -> list[str]: ...

    def stats(self, include_durations: bool = False) -> dict[str, Any]: ...

    def customers(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def invoices(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def payments(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def vouchers(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def files(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def ledger(self, tenant_id: str, **window: Unpack[LedgerWindow]) -> dict[str, Any]: ...

    def reset(self, *, customers: bool = False, knobs: bool = False) -> None: ...

    def config(self) -> dict[str, Any]: ...

    def configure(self, **changes: Unpack[KnobChanges]) -> dict[str, Any]: ...

    def force_429(self, count: int) -> None: ...

    def expire_access_tokens(self) -> None: ...

    def advance_clock(self, seconds: float) -> None: ...

    def register_client(self, client_id: str, client_secret: str) -> None: ...

    def issue_refresh_token(self, client_id: str, tenant_id: str) -> str: ...


_Endpoint = Callable[[Simulator, _Query, dict[str, Any]], Response]


def handle_admin(sim: Simulator, method: str, path: str, query: _Query, body: bytes) -> Response:
    """Raises ValueError for a bad request, which the dispatcher answers with 400."""
    data: Any = json.loads(body) if body.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    endpoint = _ENDPOINTS.get((method, path))
    if endpoint is None:
        return Response(404, {"error": f"no simulator endpoint {method} {path}"})
    return endpoint(sim, query, data)


def _tenant_ids(sim: Simulator, query: _Query) -> list[str]:
    wanted = param(query, "tenant")
    return [wanted] if wanted is not None else sim.tenant_ids()


def _stats(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    return Response(200, sim.stats(include_durations=param(query, "durations") == "1"))


def _customers(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    return Response(200, {"tenants": {name: sim.customers(name) for name in _tenant_ids(sim, query)}})


def _invoices(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    tenants = {n: {"invoices": sim.invoices(n), "payments": sim.payments(n)} for n in _tenant_ids(sim, query)}
    return Response(200, {"tenants": tenants})


def _vouchers(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    tenants = {n: {"vouchers": sim.vouchers(n), "files": sim.files(n)} for n in _tenant_ids(sim, query)}
    return Response(200, {"tenants": tenants})


def _ledger(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    """Balances and entries per account: ?account=1580 (repeated, or 1580,1930), fromdate, todate."""
    accounts = [a for raw in query.get("account", []) for a in raw.split(",") if a.strip()]
    if not all(re.fullmatch(r"\s*\d{4}\s*", a) for a in accounts):
        raise ValueError("account must be a four-digit account number")
    dates = {name: param(query, name) for name in ("fromdate", "todate")}
    for name, value in dates.items():
        if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"{name} must be YYYY-MM-DD")
    wanted = {int(a) for a in accounts}
    tenants = {
        n: sim.ledger(n, accounts=wanted, from_date=dates["fromdate"], to_date=dates["todate"])
        for n in _tenant_ids(sim, query)
    }
    return Response(200, {"tenants": tenants})


def _reset(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    sim.reset(customers=bool(data.get("customers")), knobs=bool(data.get("knobs")))
    return Response(200, {"ok": True})


def _config(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    return Response(200, sim.config())


def _configure(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    """Knobs, and the one-off actions that share the endpoint."""
    actions = {
        key: data.pop(key) for key in ("force_429", "expire_access_tokens", "advance_clock") if key in data
    }
    try:
        config = sim.configure(**data)
    except TypeError as exc:
        raise ValueError(f"unknown knob: {exc}") from None
    if "force_429" in actions:
        sim.force_429(int(actions["force_429"]))
    if actions.get("expire_access_tokens"):
        sim.expire_access_tokens()
    if "advance_clock" in actions:
        sim.advance_clock(float(actions["advance_clock"]))
    return Response(200, sim.config() if actions else config)


def _register_client(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    sim.register_client(str(data.get("client_id") or ""), str(data.get("client_secret") or ""))
    return Response(200, {"ok": True})


def _refresh_token(sim: Simulator, query: _Query, data: dict[str, Any]) -> Response:
    token = sim.issue_refresh_token(str(data.get("client_id") or ""), str(data.get("tenant_id") or ""))
    return Response(200, {"refresh_token": token})


_ENDPOINTS: Final[Mapping[tuple[str, str], _Endpoint]] = {
    ("GET", "/_sim/stats"): _stats,
    ("GET", "/_sim/invoices"): _invoices,
    ("GET", "/_sim/customers"): _customers,
    ("GET", "/_sim/vouchers"): _vouchers,
    ("GET", "/_sim/ledger"): _ledger,
    ("POST", "/_sim/reset"): _reset,
    ("GET", "/_sim/config"): _config,
    ("POST", "/_sim/config"): _configure,
    ("POST", "/_sim/clients"): _register_client,
    ("POST", "/_sim/refresh-token"): _refresh_token,
}
