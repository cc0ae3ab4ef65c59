"""What any Stripe event we accept must satisfy before code reads it: bounded nesting, finite numbers
in the range Stripe uses, and text that can be stored and shown (no lone surrogates).

Checked where an event enters (the webhook answers 400) and again where the sync parses a queued
message (parked as `invalid_event`), so nothing deeper has to guard against, say, a NaN amount or
metadata nested 2,000 deep. The checks ride on the JSON parse itself (its number hooks, one regular
expression over the text, a walk over the containers only), because the webhook runs them on every
request: `value_problem` says the same about a parsed value, and tests hold the two to each other.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Stripe objects nest a dozen levels with expansions; metadata values are strings.
MAX_DEPTH = 32
# The largest integer a JSON number holds exactly (2^53 - 1). Stripe's amounts have at most twelve
# digits and its timestamps ten; anything larger is not Stripe's.
MAX_NUMBER = 2**53 - 1
EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,100}")
# A type is only looked up in the route table: any other is ignored (200), so its shape is free.
MAX_TYPE_LENGTH = 200
# Every escape in JSON text, in order: `\\` is consumed as one, so what follows it is not an escape.
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_HIGH, _LOW = range(0xD800, 0xDC00), range(0xDC00, 0xE000)
# A surrogate code point in decoded text: only lone ones exist (pairs decode to one code point).
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_PROBLEM = "text holds a lone surrogate (not valid Unicode)"


class PayloadError(ValueError):
    """The text is not a Stripe event we accept; the message says why. `not_json`: not even JSON."""

    def __init__(self, message: str, *, not_json: bool = False) -> None:
        super().__init__(message)
        self.not_json = not_json


def _in_range(number: float) -> bool:
    return math.isfinite(number) and abs(number) <= MAX_NUMBER


def _no_constants(name: str) -> Any:
    raise PayloadError(f"the event's number {name} is not finite")


def _walk_problem(value: Any) -> str | None:
    """Too deep a nesting or a number out of range, level by level (no recursion limit): the one
    pass over the parsed event the webhook makes."""
    level, depth = [value], 1
    while level:
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        below = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif (kind is int or kind is float) and not _in_range(child):
                    return f"number {child:g} is out of range"
        level, depth = below, depth + 1
    return None


def _has_lone_surrogate(text: str) -> bool:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return "\\u" in text and _lone_escape(text)


def _lone_escape(text: str) -> bool:
    """A \\uXXXX escape of a high surrogate not followed at once by a low one, or a low one alone."""
    high_ends_at = -1
    for escape in _ESCAPE.finditer(text):
        code = int(escape.group(1), 16) if escape.group(1) else -1
        if high_ends_at >= 0:
            if escape.start() != high_ends_at or code not in _LOW:
                return True
            high_ends_at = -1
        elif code in _HIGH:
            high_ends_at = escape.end()
        elif code in _LOW:
            return True
    return high_ends_at >= 0


def parse_event(text: str) -> dict[str, Any]:
    """The event in `text`, or a PayloadError saying what no Stripe event looks like."""
    if _has_lone_surrogate(text):
        raise PayloadError(f"the event's {SURROGATE_PROBLEM}")
    try:
        # NaN and Infinity are the only numbers json takes that are not finite; the walk below
        # catches the rest (1e400 parses as infinity, 2**63 as an int).
        event = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise PayloadError(f"the event is nested deeper than {MAX_DEPTH} levels") from None
    except PayloadError:
        raise
    except ValueError:
        raise PayloadError("the body is not JSON", not_json=True) from None
    problem = envelope_problem(event)
    if problem is None:
        walked = _walk_problem(event)
        problem = f"the event's {walked}" if walked else None
    if problem:
        raise PayloadError(problem)
    return event  # type: ignore[no-any-return]


def envelope_problem(event: Any) -> str | None:
    """Why a parsed value is not a Stripe event envelope, or None."""
    if not isinstance(event, dict):
        return "the body is not a JSON object"
    if event.get("object") != "event":
        return 'the body is not a Stripe event (object != "event")'
    if not isinstance(event.get("id"), str) or not EVENT_ID.fullmatch(event["id"]):
        return "the event has no evt_ id"
    if not isinstance(event.get("type"), str) or not 0 < len(event["type"]) <= MAX_TYPE_LENGTH:
        return "the event has no type"
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < 10**11:
        return "the event has no created timestamp"
    if not isinstance(event.get("livemode"), bool):
        return "the event has no livemode flag"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "the event has no data.object"
    if "previous_attributes" in data and not isinstance(data["previous_attributes"], dict | None):
        return "the event's data.previous_attributes is not an object"
    return None


def value_problem(value: Any) -> str | None:
    """What `parse_event` would refuse in an already parsed value, or None (the reference the fast
    path is tested against, and the check for values built in code)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            pairs = item.items() if isinstance(item, dict) else ((None, child) for child in item)
            for key, child in pairs:
                if isinstance(key, str) and _SURROGATE.search(key):
                    return SURROGATE_PROBLEM
                stack.append((child, depth + 1))
        elif isinstance(item, str) and _SURROGATE.search(item):
            return SURROGATE_PROBLEM
        elif isinstance(item, int | float) and not isinstance(item, bool) and not _in_range(item):
            return f"number {item} is out of range"
    return None
