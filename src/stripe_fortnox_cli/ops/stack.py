"""The stack an operator command works on: where its queues, tables and secrets are, and its settings.

A deployed stack is read from CloudFormation (its outputs and parameters, AWS credentials from
the usual chain), from a saved outputs file, or it is the local stack of `stripe-fortnox dev`
(through the `outputs.json` it writes).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.store import describe_stack
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import SETTINGS, Settings
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, Tenant, key_prefix
from stripe_fortnox_sync.sync.routes import enabled_types

DEFAULT_STACK = "stripe-fortnox-sync"


@dataclass
class Stack:
    """Where a stack's queues, tables and secrets are, and how it is configured."""

    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    settings: Settings
    local: bool = False
    state_dir: Path | None = None
    # The tenant an operator command works on (`--tenant`, `ops/tenant_scope.py`); None: `default`.
    tenant: Tenant | None = None

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise OperationError(
                f"the stack {self.name} has no {key} output (is it deployed from this version?)"
            )
        return value

    @property
    def mode(self) -> str:
        return "live" if self.settings.stripe_livemode else "test"

    @property
    def tenant_id(self) -> str:
        return self.tenant.id if self.tenant is not None else DEFAULT_TENANT

    @property
    def key_prefix(self) -> str:
        """The prefix of the tenant's data keys ("" for tenant `default`)."""
        return key_prefix(self.tenant_id)

    @property
    def identity(self) -> str:
        # The event queue URL names account, region and stack: a cursor is only valid for it
        # (and for its tenant: another tenant's customers are another Stripe account's).
        where = self.outputs.get("EventQueueUrl", self.name)
        return where if self.tenant is None else f"{where}#{self.tenant.id}"

    def require_event_types(self, *types: str) -> None:
        """Refuse to queue events the stack's sync would ignore."""
        missing = [t for t in types if t not in enabled_types(self.settings)]
        if missing:
            raise OperationError(
                f"the stack does not handle {', '.join(missing)} (EnabledEventTypes): "
                "the sync would ignore the events"
            )


def settings_for(outputs: Mapping[str, str], parameters: Mapping[str, str]) -> Settings:
    """The stack's settings: the environment (as `dev` reads it) as the base, then the stack's
    parameters, then its outputs, each parsed as the functions parse their environment."""
    try:
        base = Settings.from_env()
        changes: dict[str, Any] = {}
        for declared in SETTINGS:
            raw = parameters.get(declared.parameter) if declared.parameter else None
            if raw and raw.strip():
                # The template turns some parameters into another environment value (StripeMode).
                changes[declared.name] = declared.parse(declared.parameter, declared.env_value(raw))
            raw = outputs.get(declared.output) if declared.output else None
            if raw and raw.strip():
                changes[declared.name] = declared.parse(declared.output, raw)
    except ConfigError as exc:
        raise OperationError(str(exc)) from None
    return replace(base, **changes)


def _stack(name: str, outputs: dict[str, str], parameters: dict[str, str], **where: Any) -> Stack:
    return Stack(name, outputs, parameters, settings_for(outputs, parameters), **where)


def open_local(state_dir: Path) -> Stack:
    """The stack `stripe-fortnox dev` runs, from the outputs file it writes."""
    path = state_dir / "outputs.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OperationError(
            f"no local stack in {state_dir}/ ({path.name} missing): start `stripe-fortnox dev`"
        ) from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"cannot read {path}: {exc}") from None
    region = str(outputs.get("Region") or "eu-north-1")
    endpoint = outputs.get("AwsEndpointUrl")
    if not endpoint:
        raise OperationError(f"{path} has no AwsEndpointUrl")
    # botocore's own settings, as the local stack sets them for its functions: every client,
    # Powertools' included, talks to the emulator. Real credentials must never be sent there.
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": str(endpoint),
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
        }
    )
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    # The file holds the outputs and, as describe-stacks would give them, the parameters.
    outputs = {str(k): str(v) for k, v in outputs.items()}
    return _stack(f"local stack in {state_dir}", outputs, outputs, local=True, state_dir=state_dir)


def open_deployed(name: str, region: str | None) -> Stack:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    try:
        description = describe_stack(name, region)
    except NoRegionError:
        raise OperationError("no AWS region: pass --region or set AWS_REGION") from None
    except NoCredentialsError:
        raise OperationError("no AWS credentials found (profile, environment or SSO)") from None
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise OperationError(f"cannot describe stack {name}: {message}") from None
    except BotoCoreError as exc:
        raise OperationError(f"cannot describe stack {name}: {exc}") from None
    return _stack(description.name, description.outputs, description.parameters)


def _outputs_and_parameters(data: Any, path: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """The stack name, outputs and parameters in any of the shapes `open_outputs_file` reads."""
    if isinstance(data, dict) and isinstance(data.get("Stacks"), list) and data["Stacks"]:
        data = data["Stacks"][0]
    if isinstance(data, dict) and ("Outputs" in data or "Parameters" in data):
        outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in data.get("Outputs", [])}
        parameters = {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in data.get("Parameters", [])}
        return str(data.get("StackName") or path.stem), outputs, parameters
    if isinstance(data, list):
        return path.stem, {o["OutputKey"]: str(o["OutputValue"]) for o in data}, {}
    if isinstance(data, dict):
        flat = {str(k): str(v) for k, v in data.items()}
        return path.stem, flat, flat
    raise OperationError(f"{path} holds no stack outputs")


def open_outputs_file(path: Path, region: str | None) -> Stack:
    """Outputs saved from `aws cloudformation describe-stacks`, or a flat {"Key": "value"} file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OperationError(f"cannot read outputs file {path}: {exc}") from None
    name, outputs, parameters = _outputs_and_parameters(data, path)
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    return _stack(name, outputs, parameters)


def open_stack(args: argparse.Namespace) -> Stack:
    if args.local is not None:
        return open_local(Path(args.local))
    if args.outputs:
        return open_outputs_file(Path(args.outputs), args.region)
    return open_deployed(args.stack or os.environ.get("STRIPE_FORTNOX_STACK") or DEFAULT_STACK, args.region)
