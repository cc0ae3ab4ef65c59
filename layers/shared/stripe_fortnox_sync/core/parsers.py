"""How a setting's raw environment value becomes its value: one parser per kind, each raising a
ConfigError that names the variable. `core/settings.py` declares which setting uses which."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from stripe_fortnox_sync.core.errors import ConfigError

CHECKOUT_MODES: tuple[str, ...] = ("payment", "subscription", "setup")
SWEDISH_VAT_RATES = (0, 6, 12, 25)

# (environment variable, raw value) -> the setting's value; raises ConfigError naming the variable.
Parser = Callable[[str, str], Any]


# Parsers --------------------------------------------------------------------------------------


def text(_: str, raw: str) -> str:
    return raw


def url(_: str, raw: str) -> str:
    return raw.strip().rstrip("/")


def upper(_: str, raw: str) -> str:
    return raw.strip().upper()


def boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def whole(minimum: int = 0) -> Parser:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value

    return parse


def seconds(minimum: int = 0) -> Parser:
    as_int = whole(minimum)
    return lambda name, raw: float(as_int(name, raw))


def vat_rate(name: str, raw: str) -> int:
    value: int = whole()(name, raw)
    if value not in SWEDISH_VAT_RATES:
        raise ConfigError(f"{name} must be a Swedish VAT rate (0, 6, 12 or 25), got {value}")
    return value


def names(allowed: tuple[str, ...] | None = None, what: str = "values") -> Parser:
    """A comma-separated list; with `allowed`, every item must be one of them."""

    def parse(name: str, raw: str) -> tuple[str, ...]:
        items = tuple(part.strip() for part in raw.split(",") if part.strip())
        unknown = sorted(set(items) - set(allowed)) if allowed is not None else []
        if unknown:
            raise ConfigError(f"{name} has unknown {what}: {', '.join(unknown)}")
        return items

    return parse


def parse_json_object(what: str, raw: str, *, secret: bool = False) -> dict[str, Any]:
    """`raw` as a JSON object, or a ConfigError naming `what` (a variable; a secret, whose value the
    message never quotes)."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        got = "" if secret else f", got {raw[:60]!r}"
        raise ConfigError(f"{what} must be a JSON object{got}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object")
    return value


def json_object(name: str, raw: str) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(parse_json_object(name, raw).items()))


def optional_date(name: str, raw: str) -> date | None:
    """An ISO date (YYYY-MM-DD), or None for an empty value."""
    value = raw.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def voucher_series(name: str, raw: str) -> str:
    """A Fortnox voucher series code: 1 to 10 letters or digits (fortnox_VoucherSeries.Code)."""
    value = raw.strip().upper()
    if not (1 <= len(value) <= 10 and value.isascii() and value.isalnum()):
        raise ConfigError(f"{name} must be a voucher series code (1-10 letters or digits), got {raw!r}")
    return value


_Choice = TypeVar("_Choice", bound=StrEnum)


def choice(options: type[_Choice]) -> Callable[[str, str], _Choice]:
    """A parser for one of an enum's values, case and surrounding blanks ignored."""

    def parse(name: str, raw: str) -> _Choice:
        try:
            return options(raw.strip().lower())
        except ValueError:
            allowed = ", ".join(option.value for option in options)
            raise ConfigError(f"{name} must be one of {allowed}, got {raw.strip()!r}") from None

    return parse
