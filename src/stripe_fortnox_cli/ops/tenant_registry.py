"""What the tenant commands share: the registry, the tenants' secrets, the integration's client id,
a tenant's webhook URL and the `--set` pairs. The commands themselves are in tenants.py (add,
list, status, suspend, resume), tenants_consent.py, tenants_manage.py and tenants_verify.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, Tenant


def open_registry(stack: Stack) -> Any:
    from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry

    return DynamoTenantRegistry(stack.output("StateTableName"))


def secret_base(stack: Stack) -> str:
    """The prefix the stack's functions may read tenants' secrets under (template.yaml)."""
    if stack.local:
        from stripe_fortnox_cli.local.config import STACK

        return STACK
    return stack.name


def create_secret(name: str, value: str) -> str:
    import boto3

    client: Any = boto3.client("secretsmanager")
    try:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])
    except client.exceptions.ResourceExistsException:
        raise OperationError(f"the secret {name} exists already: remove it or choose another id") from None


def client_id(stack: Stack) -> str:
    import boto3

    arn = stack.output("FortnoxCredentialsSecretArn")
    value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    try:
        return str(json.loads(value).get("client_id") or "")
    except ValueError:
        return ""


def webhook_url(stack: Stack, tenant: Tenant) -> str:
    base = stack.outputs.get("WebhookUrl", "https://<api>/webhook").rstrip("/")
    return f"{base}/t/{tenant.webhook_slug}"


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise OperationError(f"--set {pair!r}: expected NAME=VALUE")
        overrides[name.strip()] = value.strip()
    return overrides


def existing(stack: Stack, tenant_id: str) -> tuple[Any, Tenant]:
    if tenant_id == DEFAULT_TENANT:
        raise OperationError("tenant default is the stack's own: it has no registry row to change")
    registry = open_registry(stack)
    tenant = registry.get(tenant_id)
    if tenant is None:
        raise OperationError(f"no tenant {tenant_id}: see `stripe-fortnox tenants list`")
    return registry, tenant
