"""List requests, shared by the resources: paging, the one search filter, Fortnox's ordering."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .replies import _bad

__all__ = [
    "Paging",
    "like_pattern",
    "matching",
    "number_key",
    "page",
    "paging",
    "param",
    "positive",
    "search",
    "sort_order",
]


def number_key(number: str) -> tuple[int, int, str]:
    # Numeric document numbers sort by value (2 before 10); alphanumeric ones after, as text.
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def like_pattern(value: str, wildcards: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for char in value:
        if wildcards and char == "%":
            parts.append(".*")
        elif wildcards and char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def param(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def positive(query: Mapping[str, list[str]], name: str, default: int, maximum: int | None) -> int:
    raw = param(query, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad("invalid_parameter", f"{name} must be a whole number") from None
    if value < 1 or (maximum is not None and value > maximum):
        raise _bad("invalid_parameter", f"{name} must be {f'1..{maximum}' if maximum else 'at least 1'}")
    return value


def search(query: Mapping[str, list[str]], filters: Mapping[str, str]) -> tuple[str, str] | None:
    """The one search filter of a list request: (field, value), None when there is none."""
    names = [name for name in filters if name in query]
    if len(names) > 1:
        raise _bad("multiple_filters", f"Only one search filter at a time, got {', '.join(names)}")
    return (filters[names[0]], param(query, names[0]) or "") if names else None


def matching(
    items: list[dict[str, Any]], wanted: tuple[str, str] | None, wildcards: bool
) -> list[dict[str, Any]]:
    """Fortnox's search is a substring (ILIKE) match on one field."""
    if wanted is None:
        return items
    target, value = wanted
    pattern = like_pattern(value, wildcards)
    return [item for item in items if item.get(target) and pattern.search(str(item[target]))]


def page(items: Sequence[Any], limit: int, number: int) -> tuple[Sequence[Any], dict[str, int]]:
    """One page of a list answer and its MetaInformation."""
    total = len(items)
    meta = {
        "@TotalResources": total,
        "@TotalPages": max(1, math.ceil(total / limit)),
        "@CurrentPage": number,
    }
    return items[(number - 1) * limit : number * limit], meta


@dataclass(frozen=True)
class Paging:
    """What every searchable list request asks: a page of `limit` items, and the one search filter."""

    limit: int
    page: int
    search: tuple[str, str] | None

    def cut(self, items: Sequence[Any]) -> tuple[Sequence[Any], dict[str, int]]:
        return page(items, self.limit, self.page)


def paging(query: Mapping[str, list[str]], filters: Mapping[str, str]) -> Paging:
    """`limit` (1..500, 100), `page` (from 1) and the search filter, checked in that order."""
    return Paging(
        positive(query, "limit", 100, 500), positive(query, "page", 1, None), search(query, filters)
    )


def sort_order(query: Mapping[str, list[str]], default: str, fields: Collection[str]) -> tuple[str, bool]:
    """`sortby` (one of `fields`) and whether `sortorder` is descending."""
    sortby = param(query, "sortby") or default
    sortorder = param(query, "sortorder") or "ascending"
    if sortby not in fields or sortorder not in ("ascending", "descending"):
        raise _bad("invalid_parameter", "sortby/sortorder has an unknown value")
    return sortby, sortorder == "descending"
