"""/3/customers: list with one search filter, create, read, partial update, delete.

Fortnox's observable behaviour a sync client depends on: substring (ILIKE) search with one filter
at a time, a customer number series that never reuses a number (not even a deleted customer's),
partial PUTs that merge nested objects, and lastmodified read in Swedish local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .customer_fields import LASTMODIFIED_FORMATS, SEARCH_FILTERS, apply, list_item, new_customer, validated
from .listing import Paging, matching, number_key, paging, param, sort_order
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .state import FORTNOX_TIMEZONE

__all__ = ["CUSTOMERS", "CustomerRegister", "render_customer"]


@dataclass
class CustomerRegister:
    """One tenant's customers and its customer number series."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    modified_at: dict[str, float] = field(default_factory=dict)  # wall-clock epoch seconds
    used_numbers: set[str] = field(default_factory=set)
    next_number: int = 1

    def ordered(self) -> list[dict[str, Any]]:
        return [self.customers[n] for n in sorted(self.customers, key=number_key)]

    def claim(self, number: str) -> str:
        """The given number, or the series' next free one when none is given; never used again."""
        if number:
            if number in self.used_numbers:
                raise _bad(
                    "customer_number_used",
                    f"Customer number {number} is already in use (also after its customer is deleted)",
                )
        else:
            while str(self.next_number) in self.used_numbers:
                self.next_number += 1
            number = str(self.next_number)
            self.next_number += 1
        self.used_numbers.add(number)
        return number


def render_customer(customer: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = {"@url": _url(customer, base_url)}
    for name, value in customer.items():
        result[name] = dict(value) if isinstance(value, dict) else value
    return result


def _url(customer: Mapping[str, Any], base_url: str) -> str:
    return f"{base_url}/customers/{customer['CustomerNumber']}"


@dataclass(frozen=True)
class _ListQuery:
    paging: Paging
    active: bool | None
    since: float | None  # epoch seconds
    by_name: bool
    descending: bool


def _list_query(query: Mapping[str, list[str]]) -> _ListQuery:
    paged = paging(query, SEARCH_FILTERS)
    active_filter = param(query, "filter")
    if active_filter is not None and active_filter not in ("active", "inactive"):
        raise _bad("invalid_parameter", "filter must be active or inactive")
    since = _since(param(query, "lastmodified"))
    sortby, descending = sort_order(query, "customernumber", ("customernumber", "name"))
    active = None if active_filter is None else active_filter == "active"
    return _ListQuery(paged, active, since, sortby == "name", descending)


def _since(raw: str | None) -> float | None:
    if raw is None:
        return None
    for fmt in LASTMODIFIED_FORMATS:
        try:
            parsed = datetime.strptime(raw.strip(), fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=FORTNOX_TIMEZONE).timestamp()
    raise _bad("invalid_parameter", "lastmodified must be YYYY-MM-DD HH:MM")


def _list(call: Call) -> Response:
    query = _list_query(call.query)
    register = call.part(CustomerRegister)
    matches = matching(register.ordered(), query.paging.search, call.knobs.search_wildcards)
    if query.active is not None:
        matches = [c for c in matches if c["Active"] is query.active]
    if query.since is not None:
        matches = [c for c in matches if register.modified_at[c["CustomerNumber"]] >= query.since]
    if query.by_name:
        matches.sort(key=lambda c: (str(c.get("Name") or "").casefold(), number_key(c["CustomerNumber"])))
    if query.descending:
        matches.reverse()
    chunk, meta = query.paging.cut(matches)
    items = [list_item(c, _url(c, call.base_url)) for c in chunk]
    return Response(200, {"Customers": items, "MetaInformation": meta})


def _find(call: Call, number: str) -> dict[str, Any]:
    register = call.existing_part(CustomerRegister)
    customer = register.customers.get(number) if register is not None else None
    if customer is None:
        raise _bad("not_found", f"Customer {number} not found", 404)
    return customer


def _read(call: Call) -> Response:
    return Response(200, {"Customer": render_customer(_find(call, call.number), call.base_url)})


def _create(call: Call) -> Response:
    clean = validated(call.content_type, call.body, call.knobs, creating=True)
    register = call.part(CustomerRegister)
    number = register.claim(clean.pop("CustomerNumber", "") or "")
    register.customers[number] = new_customer(number, clean)
    register.modified_at[number] = call.now
    return Response(201, {"Customer": render_customer(register.customers[number], call.base_url)})


def _update(call: Call) -> Response:
    number = call.number
    clean = validated(call.content_type, call.body, call.knobs, creating=False)
    given = clean.pop("CustomerNumber", None)
    if given not in (None, "", number):
        raise _bad("customer_number_immutable", "CustomerNumber cannot be changed")
    customer = _find(call, number)
    apply(customer, clean)
    call.part(CustomerRegister).modified_at[number] = call.now
    return Response(200, {"Customer": render_customer(customer, call.base_url)})


def _delete(call: Call) -> Response:
    number = call.number
    _find(call, number)
    register = call.part(CustomerRegister)
    del register.customers[number]
    register.modified_at.pop(number, None)
    return Response(204)


CUSTOMERS = Resource(
    "customers",
    routes(list=_list, create=_create, read=_read, update=_update, delete=_delete),
    blank_number_is_unknown=False,
)
