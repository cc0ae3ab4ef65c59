"""What a /3 resource module provides (a route table) and what its handlers get (a Call).

A resource answers /3/{name}, /3/{name}/{n} and /3/{name}/{n}/{action}. Its routes map
(key, method) to a handler, the key being "" for the collection, "{n}" for one item, or the
action's name. Routing, the 404s and the 405s are the same for every resource, here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from urllib.parse import unquote

from .knobs import Knobs
from .listing import param
from .replies import Response, _bad
from .state import FORTNOX_TIMEZONE, Tenant

__all__ = ["Call", "Handler", "Resource"]

_Part = TypeVar("_Part")


@dataclass(frozen=True)
class Call:
    """One /3 request as a resource handler sees it; made and answered under the state lock."""

    query: Mapping[str, list[str]]
    content_type: str | None
    body: bytes
    base_url: str  # ".../3", as the client addressed the simulator
    knobs: Knobs
    now: float  # the simulator's wall clock, epoch seconds
    tenant_id: str
    tenants: dict[str, Tenant]

    @property
    def today(self) -> date:
        return datetime.fromtimestamp(self.now, FORTNOX_TIMEZONE).date()

    def param(self, name: str) -> str | None:
        return param(self.query, name)

    def part(self, kind: type[_Part]) -> _Part:
        """The tenant's part of this kind; a tenant's first write or list brings it into being."""
        tenant = self.tenants.get(self.tenant_id)
        if tenant is None:
            tenant = self.tenants[self.tenant_id] = Tenant()
        return tenant.part(kind)

    def existing_part(self, kind: type[_Part]) -> _Part | None:
        """The tenant's part, without creating the tenant: a lookup of one item leaves no trace."""
        tenant = self.tenants.get(self.tenant_id)
        return tenant.part(kind) if tenant is not None else None


# A handler gets the item's number (unquoted; "" for the collection).
Handler = Callable[[Call, str], Response]


@dataclass(frozen=True)
class Resource:
    name: str  # the path segment after /3/
    routes: Mapping[tuple[str, str], Handler]
    # Customers answer /3/customers/ as a lookup of customer "" (404 not_found), the others as an
    # unknown path; kept as it was so the HTTP API does not change.
    blank_number_is_unknown: bool = True

    def template(self, segments: Sequence[str]) -> str:
        """The stats route of a path under this resource ("/3/invoices/{n}/bookkeep")."""
        base = f"/3/{self.name}"
        if len(segments) == 3:
            return base
        if len(segments) == 4:
            return base + "/{n}"
        if len(segments) == 5 and segments[4] in self._actions():
            return f"{base}/{{n}}/{segments[4]}"
        return "/3/{unknown}"

    def answer(self, call: Call, method: str, path: str) -> Response:
        segments = path.split("/")
        key = self._route_key(segments)
        if key is None:
            raise _bad("unknown_resource", f"The simulator does not implement {path}", 404)
        handler = self.routes.get((key, method))
        if handler is None:
            raise _bad("method_not_allowed", f"{method} is not allowed on {self.template(segments)}", 405)
        # Split before unquoting: a number may contain an encoded "/".
        return handler(call, unquote(segments[3]) if len(segments) > 3 else "")

    def _route_key(self, segments: Sequence[str]) -> str | None:
        """The key of the routes a path falls under; None for a path the resource does not have."""
        key: str | None = None
        if len(segments) == 3:
            key = ""
        elif len(segments) == 4 and (unquote(segments[3]) or not self.blank_number_is_unknown):
            key = "{n}"
        elif len(segments) == 5 and segments[4] in self._actions():
            key = segments[4]
        return key if key in self._keys() else None

    def _actions(self) -> set[str]:
        return self._keys() - {"", "{n}"}

    def _keys(self) -> set[str]:
        return {key for key, _ in self.routes}
