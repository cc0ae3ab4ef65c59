"""What a local stack is started with: `LocalConfig`, from code or from the environment of `dev`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import SETTINGS, Settings

REGION = "eu-north-1"
ACCOUNT = "123456789012"
STACK = "stripe-fortnox-local"

# The Fortnox credentials `dev` reads: (key in the credentials secret, environment variable).
FORTNOX_CREDENTIAL_VARIABLES = (
    ("client_id", "FORTNOX_CLIENT_ID"),
    ("client_secret", "FORTNOX_CLIENT_SECRET"),
    ("tenant_id", "FORTNOX_TENANT_ID"),
    ("refresh_token", "FORTNOX_REFRESH_TOKEN"),
)
# Settings without a stack parameter that `dev` still passes from its environment to the functions.
TUNING_VARIABLES = ("FORTNOX_TIMEOUT_SECONDS", "FORTNOX_MAX_REQUESTS", "FORTNOX_MAX_ATTEMPTS")
# The stack parameters the local stack sets itself (`environment.stack_parameters`), from
# `LocalConfig`'s fields: `dev` does not pass their settings' variables from its environment.
LOCAL_PARAMETERS = ("Stage", "StripeMode", "FortnoxApiUrl", "FortnoxAuthUrl")


class LocalStackError(Exception):
    """The local stack cannot start; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def passthrough_variables() -> tuple[str, ...]:
    """What `dev` passes from its environment to the functions: every stack parameter's setting
    (as an operator would set the parameter) except the local ones, and the Fortnox client's tuning."""
    parameters = tuple(s.env for s in SETTINGS if s.parameter and s.parameter not in LOCAL_PARAMETERS)
    return (*parameters, *TUNING_VARIABLES)


@dataclass
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = 3000
    webhook_secrets: list[str] = field(default_factory=list)
    # The Connect endpoint's (`/webhook/connect`, docs/tenants.md); empty: one made up.
    connect_webhook_secrets: list[str] = field(default_factory=list)
    livemode: bool = False
    # Seconds a failed record waits before it is delivered again (360 s after the receive in AWS).
    visibility_timeout: int = 5
    fortnox_api_url: str | None = None
    fortnox_auth_url: str | None = None
    fortnox_credentials: dict[str, str] = field(default_factory=dict)
    # A Stripe key lets the sync read current customers; the base URL points at localstripe.
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    # Where the logs and outputs go (`state_dir.StateDirectory`); None: a temporary directory of
    # its own, removed when the stack stops.
    state_dir: Path | None = None
    # Function environment variables over the stack's defaults (a stack parameter's by its variable).
    extra_env: dict[str, str] = field(default_factory=dict)
    simulator_options: dict[str, Any] = field(default_factory=dict)
    # Off in integration tests, which step the queue themselves with `poll_once`.
    start_worker: bool = True
    # Concurrent sync "containers", like the event source's MaximumConcurrency.
    workers: int = 1
    # The bulk queue's (operator bulk work) own pollers, like BulkMaximumConcurrency.
    bulk_workers: int = 1
    # Seconds the webhook's HTTP server waits for a request's body before it answers 408.
    request_timeout: float = 10.0

    @property
    def max_receives(self) -> int:
        """The event queue's maxReceiveCount: MaxReceiveCount's default, or what `extra_env` gives the
        functions, so the queue and the sync agree on which receive is the last."""
        raw = self.extra_env.get("MAX_RECEIVE_COUNT", "")
        return Settings.from_env({"MAX_RECEIVE_COUNT": raw}).max_receives

    @classmethod
    def from_env(
        cls, host: str = "127.0.0.1", port: int = 3000, state_dir: Path | None = None
    ) -> LocalConfig:
        env = os.environ
        return cls(
            host=host,
            port=port,
            state_dir=state_dir,
            webhook_secrets=_webhook_secrets(env),
            connect_webhook_secrets=_webhook_secrets(env, "STRIPE_CONNECT_WEBHOOK_SECRET"),
            livemode=_livemode(env),
            fortnox_api_url=env.get("FORTNOX_API_URL") or None,
            fortnox_auth_url=env.get("FORTNOX_AUTH_URL") or None,
            fortnox_credentials={
                key: env[name] for key, name in FORTNOX_CREDENTIAL_VARIABLES if env.get(name)
            },
            stripe_api_key=env.get("STRIPE_API_KEY") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            extra_env={name: env[name] for name in passthrough_variables() if env.get(name)},
        )


def _livemode(env: Mapping[str, str]) -> bool:
    try:
        livemode: bool = Settings.from_env(
            {"STRIPE_LIVEMODE": env.get("STRIPE_LIVEMODE", "")}
        ).stripe_livemode
    except ConfigError as exc:
        raise LocalStackError(str(exc)) from None
    return livemode


def _webhook_secrets(env: Mapping[str, str], name: str = "STRIPE_WEBHOOK_SECRET") -> list[str]:
    raw = env.get(name, "")
    secrets = [s.strip() for s in raw.split(",") if s.strip()]
    if any(not s.startswith("whsec_") for s in secrets):
        raise LocalStackError(f"{name} must be whsec_... values, comma-separated")
    return secrets
