"""What any Stripe event we accept must satisfy before code reads it: bounded nesting, finite numbers
in the range Stripe uses, and text that can be stored and shown (no lone surrogates).

Checked where an event enters (the webhook answers 400) and again where the sync parses a queued
message (parked as `invalid_event`), so nothing deeper has to guard against, say, a NaN amount or
metadata nested 2,000 deep.
"""

from __future__ import annotations

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


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text holds a lone surrogate (not valid Unicode)"
    return None


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if -MAX_NUMBER <= value <= MAX_NUMBER else f"number {value} is out of range"
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"number {value} is not finite"
        return None if abs(value) <= MAX_NUMBER else f"number {value:g} is out of range"
    return f"unexpected value of type {type(value).__name__}"


def value_problem(value: Any) -> str | None:
    """Why a parsed JSON value is not something we accept, or None. Iterative: no recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = _text_problem(key)
                    if problem:
                        return f"a key's {problem}"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
            continue
        problem = _scalar_problem(item)
        if problem:
            return problem
    return None


def event_problem(event: Any) -> str | None:
    """Why a parsed body is not a Stripe event we can queue and apply, or None."""
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
    problem = value_problem(event)
    return f"the event's {problem}" if problem else None
