"""Request checking shared by the resources: field specs from the OpenAPI schema, bodies, dates.

Field specs are the official OpenAPI schemas compacted to what the simulator enforces (type,
lengths, enum, range). `FieldChecker` checks a body against them; a resource whose fields follow
other rules (customers: "" clears a field, numbers are floats) adjusts one kind in a subclass.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Literal

from .replies import _bad

__all__ = [
    "DATE_RE",
    "Field",
    "FieldChecker",
    "json_body",
    "media_type",
    "parse_date",
    "to_decimal",
]

Kind = Literal["str", "bool", "number", "int", "date", "quantity", "object", "array"]


@dataclass(frozen=True)
class Field:
    kind: Kind = "str"
    min_len: int = 0
    max_len: int | None = None
    exact_len: int | None = None  # only checked on a non-empty value
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    sub: Mapping[str, Field] | None = None  # object fields, or an array's item fields
    read_only: frozenset[str] = frozenset()  # an array item's fields that are ignored, not refused


_MAX_AMOUNT: Final = Decimal("1e13")  # beyond this a JSON double cannot carry the öre exactly
DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def to_decimal(value: Any) -> Decimal:
    """A JSON number (int, float, Decimal) or numeric string as an exact Decimal.

    Floats go through repr, so 19.99 is 19.99 and not 19.989999999999998436805981327779591083526611328125.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{type(value).__name__} is not a number")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def _first_invalid_char(value: str) -> str | None:
    for char in value:
        # Cc: control characters; Cs: lone surrogates (JSON "\ud83d" without its pair). Fortnox
        # answers 2000359 for both and for emoji.
        if ord(char) > 0xFFFF or unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def json_body(
    content_type: str | None, body: bytes, wrapper: str, parse_float: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """The object inside Fortnox's wrapper ({"Customer": {...}}), or the 400 Fortnox answers."""
    if media_type(content_type) != "application/json":
        raise _bad("invalid_content_type", "Invalid Content-Type, use application/json")
    try:
        data = json.loads(body.decode("utf-8"), parse_float=parse_float)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("invalid_body", "The request body is not valid JSON") from None
    if not isinstance(data, dict) or set(data) != {wrapper} or not isinstance(data[wrapper], dict):
        raise _bad("invalid_body", f'The body must be {{"{wrapper}": {{...}}}}')
    inner: dict[str, Any] = data[wrapper]
    return inner


def parse_date(name: str, value: str) -> date:
    if not DATE_RE.fullmatch(value):
        raise _bad("invalid_date", f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad("invalid_date", f"{name} is not a valid date: {value!r}") from None


# ----------------------------------------------------------------------------- fields


class FieldChecker:
    """Checks request fields against their specs; numbers come back as Decimal, dates as str.

    null is taken as "not sent", as for a field left out of a partial update.
    """

    # Decimal keeps 19.99 exact: Fortnox reads amounts as decimals, not doubles.
    parse_float: ClassVar[type[Decimal] | None] = Decimal

    def body(
        self,
        content_type: str | None,
        body: bytes,
        wrapper: str,
        specs: Mapping[str, Field],
        read_only: frozenset[str],
    ) -> dict[str, Any]:
        """A request body's wrapped object ({"Invoice": {...}}), checked field by field."""
        return self.fields("", json_body(content_type, body, wrapper, self.parse_float), specs, read_only)

    def fields(
        self, name: str, value: Mapping[str, Any], specs: Mapping[str, Field], read_only: frozenset[str]
    ) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if key in read_only:
                continue
            spec = specs.get(key)
            path = f"{name}.{key}" if name else key
            if spec is None:
                raise _bad("unknown_field", f"Unknown field: {path}")
            if item is not None:
                clean[key] = self.value(path, item, spec)
        return clean

    def value(self, name: str, value: Any, spec: Field) -> Any:
        checks: Mapping[Kind, Callable[[str, Any, Field], Any]] = {
            "bool": self.boolean,
            "number": self.number,
            "quantity": self.number,
            "int": self.integer,
            "object": self.nested,
            "array": self.array,
            "str": self.string,
            "date": self.string,
        }
        return checks[spec.kind](name, value, spec)

    def boolean(self, name: str, value: Any, spec: Field) -> bool:
        if not isinstance(value, bool):
            raise _bad("wrong_type", f"{name} must be true or false")
        return value

    def number(self, name: str, value: Any, spec: Field) -> Any:
        if spec.kind == "number" and isinstance(value, str):
            raise _bad("wrong_type", f"{name} must be a number")
        try:
            number = to_decimal(value)
        except ValueError:
            raise _bad("wrong_type", f"{name} must be a number") from None
        if abs(number) >= _MAX_AMOUNT:
            raise _bad("wrong_type", f"{name} is too large")
        return number

    def integer(self, name: str, value: Any, spec: Field) -> int:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise _bad("wrong_type", f"{name} must be a whole number")
        try:
            number = to_decimal(value)
        except ValueError:
            raise _bad("wrong_type", f"{name} must be a whole number") from None
        if number != number.to_integral_value():
            raise _bad("wrong_type", f"{name} must be a whole number")
        whole = int(number)
        if (spec.minimum is not None and whole < spec.minimum) or (
            spec.maximum is not None and whole > spec.maximum
        ):
            raise _bad("wrong_type", f"{name} must be between {spec.minimum} and {spec.maximum}")
        return whole

    def nested(self, name: str, value: Any, spec: Field) -> dict[str, Any]:
        if not isinstance(value, dict) or spec.sub is None:
            raise _bad("wrong_type", f"{name} must be an object")
        return self.fields(name, value, spec.sub, frozenset())

    def array(self, name: str, value: Any, spec: Field) -> list[dict[str, Any]]:
        if not isinstance(value, list) or spec.sub is None:
            raise _bad("wrong_type", f"{name} must be a list")
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise _bad("wrong_type", f"{name}[{index}] must be an object")
            items.append(self.fields(f"{name}[{index}]", item, spec.sub, spec.read_only))
        return items

    def string(self, name: str, value: Any, spec: Field) -> str:
        text = self.text(name, value)
        self.check_max_len(name, text, spec)
        if spec.exact_len is not None and text and len(text) != spec.exact_len:
            raise _bad("too_long", f"{name} must be exactly {spec.exact_len} characters")
        self.check_enum(name, text, spec)
        if spec.kind == "date" and text:
            parse_date(name, text)
        return text

    @staticmethod
    def text(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _bad("wrong_type", f"{name} must be a string")
        bad = _first_invalid_char(value)
        if bad is not None:
            raise _bad("invalid_characters", f"Invalid characters in {name} (U+{ord(bad):04X})")
        return value

    @staticmethod
    def check_max_len(name: str, text: str, spec: Field) -> None:
        if spec.max_len is not None and len(text) > spec.max_len:
            raise _bad("too_long", f"{name} must be at most {spec.max_len} characters")

    @staticmethod
    def check_enum(name: str, text: str, spec: Field) -> None:
        if spec.enum and text not in spec.enum:
            raise _bad("invalid_enum", f"{name} must be one of {', '.join(spec.enum)}")
