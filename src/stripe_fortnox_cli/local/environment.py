"""The functions' environment and the stack's outputs, derived from the settings' declarations.

template.yaml sets each function variable from a stack parameter (`Setting.parameter`) or from
the Ref of a stack resource (`Setting.resource`, also a stack output). The local stack does the
same from `SETTINGS`: the parameters at their template defaults, except the few it sets itself,
and the resources it created in moto. What only the local stack sets is written out below.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from stripe_fortnox_sync.core.settings import SETTINGS, Setting
from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES

from .config import REGION, LocalConfig, LocalStackError

SERVICE_NAME = "stripe-fortnox-sync"
# template.yaml's Globals (its POWERTOOLS_* values), with metrics and tracing off: no CloudWatch here.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": "StripeFortnoxSync",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
LOCAL_STAGE = "local"


def declared_default(setting: Setting) -> str:
    """A setting's default as the environment variable holds it. ENABLED_EVENT_TYPES's `()` means
    "the route table's defaults", which the stack parameter spells out."""
    if setting.env == "ENABLED_EVENT_TYPES" and not setting.default:
        return ",".join(DEFAULT_TYPES)
    return setting.render(setting.default)


def stack_parameters(config: LocalConfig, fortnox_api_url: str, fortnox_auth_url: str) -> dict[str, str]:
    """The stack parameters, as a deployed stack's describe-stacks would give them.

    Each at its template default (the setting's declared default), except the ones the local
    stack sets itself (`LOCAL_PARAMETERS`), and those `config.extra_env` sets through their
    variable. A parameter the template translates (`Setting.env_value`, e.g. StripeMode) has no
    default of that kind: the local stack must set it here.
    """
    values = {s.parameter: declared_default(s) for s in SETTINGS if s.parameter and not s.from_parameter}
    values.update(
        Stage=LOCAL_STAGE,
        StripeMode="live" if config.livemode else "test",
        FortnoxApiUrl=fortnox_api_url,
        FortnoxAuthUrl=fortnox_auth_url,
    )
    for declared in SETTINGS:
        if declared.parameter and not declared.from_parameter and declared.env in config.extra_env:
            values[declared.parameter] = config.extra_env[declared.env]
    unset = [s.parameter for s in SETTINGS if s.parameter and s.parameter not in values]
    if unset:
        raise LocalStackError(f"the local stack sets no value for the stack parameters {', '.join(unset)}")
    return values


def function_environment(
    config: LocalConfig, parameters: Mapping[str, str], outputs: Mapping[str, str]
) -> dict[str, str]:
    """Every variable template.yaml gives a function, as it would: from `parameters` and the
    resources' `outputs`; then the local ones, then `config.extra_env` over all of them."""
    environment = dict(POWERTOOLS_ENVIRONMENT)
    for declared in SETTINGS:
        if declared.parameter:
            environment[declared.env] = declared.env_value(parameters[declared.parameter])
        elif declared.resource:
            if declared.output not in outputs:
                raise LocalStackError(f"the local stack made no {declared.resource} ({declared.output})")
            environment[declared.env] = outputs[declared.output]
    # Not in the template: Lambda talks to api.stripe.com; locally it may be localstripe.
    environment["STRIPE_API_BASE"] = config.stripe_api_base or ""
    return {**environment, **config.extra_env}


def outputs_file(
    outputs: Mapping[str, str], parameters: Mapping[str, str], webhook_url: str
) -> dict[str, str]:
    """Where the running stack is and how it is set, for `stripe-fortnox status --local` and friends:
    its outputs and, as a deployed stack's describe-stacks would give them, its parameters."""
    return {**outputs, "WebhookUrl": webhook_url, "Region": REGION, **parameters}


class ProcessEnvironment:
    """Changes to `os.environ` that `restore` undoes: the functions run in this process."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def unset(self, names: Iterable[str]) -> None:
        for name in names:
            self._saved.setdefault(name, os.environ.pop(name, None))

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()
