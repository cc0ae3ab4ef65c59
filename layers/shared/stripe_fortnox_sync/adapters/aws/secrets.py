"""Secrets Manager reads, cached per container through Powertools' parameters utility."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

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


def forget_secrets(*names: str) -> None:
    """Drop the cached values of `names` (all of them when none is named), so the next read
    fetches what an operator just stored. One tenant's credential rebuild names its own secrets:
    the other tenants' cached values stay, and their events pay no extra Secrets Manager reads."""
    if not names:
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        return
    provider = DEFAULT_PROVIDERS.get("secrets")
    if provider is None:
        return  # nothing read yet, nothing cached
    # The provider's cache is keyed (name, transform, is_nested): drop every form of each name.
    for key in [key for key in provider.store if key and key[0] in names]:
        provider.store.pop(key, None)
