"""Secrets Manager reads, cached per container through Powertools' parameters utility."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.parsers import parse_json_object


def secret_text(name: str, max_age: int) -> str:
    if not name:
        raise ConfigError("secret name is not configured")
    value = parameters.get_secret(name, max_age=max_age)
    return value if isinstance(value, str) else value.decode()


def secret_json(name: str, max_age: int) -> dict[str, Any]:
    return parse_json_object(f"secret {name}", secret_text(name, max_age), secret=True)


def webhook_secrets(name: str, max_age: int) -> list[str]:
    """The endpoint signing secrets; several, comma-separated, while one is being rolled."""
    secrets = [s.strip() for s in secret_text(name, max_age).split(",") if s.strip()]
    if not secrets or not all(s.startswith("whsec_") for s in secrets):
        raise ConfigError("Stripe webhook secret is not configured (expected whsec_... values)")
    return secrets


def forget_secrets() -> None:
    """Drop the cached secret values, so the next read fetches what an operator just stored."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]
