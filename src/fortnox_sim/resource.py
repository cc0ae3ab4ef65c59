"""What a /3 resource module provides (a route table) and what its handlers get (a Call).

A resource answers /3/{name} and the paths below it. Its routes map (pattern, method) to a
handler; a pattern is the path after /3/{name}: "" for the collection, "{n}" for one item,
"{n}/bookkeep" for an action on it, or any segments, "{...}" standing for one (say
"{series}/{n}"). Most resources name their routes by verb with `routes()` (list, create, read,
update, delete, and PUT actions). Routing, the 404s and the 405s are the same for every resource,
here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final, TypeVar
from urllib.parse import unquote

from .knobs import Knobs
from .listing import param
from .replies import Response, _bad
from .state import FORTNOX_TIMEZONE, Tenant

__all__ = ["Call", "Handler", "Resource", "routes"]

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
    params: tuple[str, ...] = ()  # the route's placeholders, unquoted, in path order

    @property
    def number(self) -> str:
        """The item's number: the route's first placeholder ("" for the collection)."""
        return self.params[0] if self.params else ""

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


Handler = Callable[[Call], Response]


# The standard verbs of a /3 resource: the collection's GET and POST, an item's GET, PUT and DELETE.
_VERBS: Final[Mapping[str, tuple[str, str]]] = {
    "list": ("", "GET"),
    "create": ("", "POST"),
    "read": ("{n}", "GET"),
    "update": ("{n}", "PUT"),
    "delete": ("{n}", "DELETE"),
}


def routes(
    *, actions: Mapping[str, Handler] | None = None, **verbs: Handler
) -> dict[tuple[str, str], Handler]:
    """A route table by verb (list=, create=, read=, update=, delete=) and the item's actions, each
    answering PUT {n}/{action} (bookkeep, cancel, credit)."""
    table = {_VERBS[verb]: handler for verb, handler in verbs.items()}
    table.update({(f"{{n}}/{action}", "PUT"): handler for action, handler in (actions or {}).items()})
    return table


@dataclass(frozen=True)
class Resource:
    name: str  # the path segment after /3/
    routes: Mapping[tuple[str, str], Handler]
    # Customers answer /3/customers/ as a lookup of customer "" (404 not_found), the others as an
    # unknown path; kept as it was so the HTTP API does not change.
    blank_number_is_unknown: bool = True

    def template(self, segments: Sequence[str]) -> str:
        """The stats route of a path under this resource ("/3/invoices/{n}/bookkeep")."""
        pattern = self._pattern(segments[3:])
        if pattern is None:
            return "/3/{unknown}"
        return f"/3/{self.name}/{pattern}" if pattern else f"/3/{self.name}"

    def answer(self, call: Call, method: str, path: str) -> Response:
        segments = path.split("/")
        rest = segments[3:]
        pattern = self._pattern(rest)
        if pattern is None or (self.blank_number_is_unknown and rest == [""]):
            raise _bad("unknown_resource", f"The simulator does not implement {path}", 404)
        handler = self.routes.get((pattern, method))
        if handler is None:
            raise _bad("method_not_allowed", f"{method} is not allowed on {self.template(segments)}", 405)
        # Split before unquoting: a number may contain an encoded "/".
        parts = zip(_parts(pattern), rest, strict=True)
        params = tuple(unquote(value) for part, value in parts if _is_placeholder(part))
        return handler(replace(call, params=params))

    def _pattern(self, rest: Sequence[str]) -> str | None:
        """The most specific pattern the path's segments after /3/{name} fit; None when none does."""
        patterns = dict.fromkeys(pattern for pattern, _ in self.routes)
        fitting = [pattern for pattern in patterns if _fits(_parts(pattern), rest)]
        # A literal segment beats a placeholder: "sublist/{series}" before "{series}/{n}".
        return min(fitting, key=lambda p: sum(map(_is_placeholder, _parts(p))), default=None)


def _parts(pattern: str) -> list[str]:
    return pattern.split("/") if pattern else []


def _is_placeholder(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def _fits(parts: Sequence[str], rest: Sequence[str]) -> bool:
    if len(parts) != len(rest):
        return False
    return all(_is_placeholder(part) or part == value for part, value in zip(parts, rest, strict=True))
