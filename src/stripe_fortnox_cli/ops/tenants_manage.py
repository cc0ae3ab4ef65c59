"""`stripe-fortnox tenants set-stripe|config|export|remove|migrate` (docs/tenants.md): a tenant's
Stripe secrets, its settings, its data out and away, and the check that tenant `default` needs no
migration.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any, TextIO

from stripe_fortnox_cli.exits import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.confirm import terminal_ask
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.tenant_registry import (
    client_id,
    existing,
    open_registry,
    parse_overrides,
    secret_base,
)
from stripe_fortnox_cli.ops.tenants_data import (
    ACTIVITY,
    MAPPING,
    STATE,
    TENANT_TABLES,
    delete_keys,
    key_owners,
    mapping_rows,
    tenant_keys,
)
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.tenants import DEFAULT_TENANT, OVERRIDABLE, Tenant, check_overrides


def _secrets() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def _store_secret(name: str, value: str) -> str:
    """Put a new value into an existing secret, or create it; its ARN."""
    client = _secrets()
    try:
        return str(client.put_secret_value(SecretId=name, SecretString=value)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])


def key_mode(key: str) -> str:
    """`live` or `test` from a Stripe secret or restricted key; a ConfigError for anything else."""
    for kind in ("sk", "rk"):
        for mode in ("live", "test"):
            if key.startswith(f"{kind}_{mode}_"):
                return mode
    raise ConfigError(
        "--stripe-key takes a secret or restricted key (sk_live_, rk_live_, sk_test_, rk_test_)"
    )


def set_stripe(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    registry, tenant = existing(stack, args.tenant_id)
    secrets = [s.strip() for s in args.webhook_secret if s.strip()]
    if not secrets and not args.stripe_key:
        raise OperationError("nothing to set: --webhook-secret and/or --stripe-key")
    if any(not s.startswith("whsec_") for s in secrets):
        raise OperationError("--webhook-secret takes whsec_... values")
    if secrets and tenant.stripe_account:
        raise OperationError(
            f"tenant {tenant.id} is a Connect account: its events are signed with the platform's "
            "Connect endpoint secret (StripeConnectWebhookSecret), not one of its own"
        )
    base = f"{secret_base(stack)}/tenants/{tenant.id}"
    changed = tenant
    if secrets:
        name = tenant.webhook_secret_name or f"{base}/stripe-webhook"
        changed = replace(changed, webhook_secret_name=_store_secret(name, ",".join(secrets)))
        out.write(f"Tenant {tenant.id}: {len(secrets)} signing secret(s) stored.\n")
    if args.stripe_key:
        try:
            mode = key_mode(args.stripe_key)
        except ConfigError as exc:
            raise OperationError(str(exc)) from None
        wanted = "live" if tenant.livemode else "test"
        if mode != wanted:
            raise OperationError(
                f"tenant {tenant.id} is {wanted}-mode: a {mode}-mode key would read nothing of it"
            )
        name = tenant.stripe_api_key_secret_name or f"{base}/stripe-api-key"
        changed = replace(changed, stripe_api_key_secret_name=_store_secret(name, args.stripe_key))
        whose = (
            f"the platform's, read with Stripe-Account {tenant.stripe_account}"
            if tenant.stripe_account
            else "its own"
        )
        out.write(f"Tenant {tenant.id}: Stripe key stored ({mode}-mode, {whose}).\n")
    if changed != tenant:
        registry.save(changed)
    out.write(f"Check it: stripe-fortnox tenants verify {tenant.id}\n")
    return EXIT_OK


def config(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """Show a tenant's overrides; with --set, change them (an empty value removes one)."""
    registry, tenant = existing(stack, args.tenant_id)
    if args.set:
        wanted = {**tenant.overrides, **parse_overrides(args.set)}
        try:
            check_overrides(wanted)  # the parsers of the stack's own settings
        except ConfigError as exc:
            raise OperationError(str(exc)) from None
        tenant = registry.save(replace(tenant, overrides={k: v for k, v in wanted.items() if v}))
        out.write(f"Tenant {tenant.id}: settings saved (its next event uses them).\n")
    if args.json:
        out.write(json.dumps({"tenant": tenant.id, "overrides": dict(tenant.overrides)}, indent=2) + "\n")
        return EXIT_OK
    for name in sorted(OVERRIDABLE):
        value = tenant.overrides.get(name)
        out.write(
            f"{name:<34} {value if value is not None else '(the stack: ' + _stack_value(stack, name) + ')'}\n"
        )
    return EXIT_OK


def _stack_value(stack: Stack, name: str) -> str:
    value = getattr(stack.settings, name, "")
    if isinstance(value, (frozenset, set, tuple, list)):
        return ",".join(sorted(str(v) for v in value))
    return str(getattr(value, "value", value))


def export(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """A tenant's mapping as JSON lines, ids without the tenant's key prefix."""
    if args.tenant_id != DEFAULT_TENANT:
        existing(stack, args.tenant_id)
    count = 0
    for row in mapping_rows(stack.output(MAPPING.output), args.tenant_id):
        out.write(json.dumps(row, sort_keys=True) + "\n")
        count += 1
    return EXIT_OK if count or not args.require else EXIT_FAILED


def _confirmed(tenant: Tenant, counts: dict[str, int], yes: bool, out: TextIO) -> bool:
    total = sum(counts.values())
    out.write(
        f"Purge tenant {tenant.id} ({tenant.name}): {total} item(s) "
        + ", ".join(f"{n} in {t}" for t, n in counts.items())
        + ", its registry items and its secrets.\n"
    )
    if yes:
        return True
    ask = terminal_ask()
    if ask is None:
        out.write("Not confirmed: pass --yes (no terminal to ask at).\n")
        return False
    return ask(f"Type the tenant's id ({tenant.id}) to purge it: ").strip() == tenant.id


def remove(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """Without --purge: the tenant is `disconnected` (its URL answers 410) and its data stays.
    With --purge: its items, registry items and secrets are deleted."""
    registry, tenant = existing(stack, args.tenant_id)
    if not args.purge:
        from stripe_fortnox_sync.core.tenants import TenantStatus

        registry.set_status(tenant.id, TenantStatus.DISCONNECTED)
        out.write(
            f"Tenant {tenant.id}: disconnected (its URL answers 410; its data stays; --purge deletes it).\n"
        )
        return EXIT_OK
    found = {spec.output: tenant_keys(stack.output(spec.output), spec, tenant.id) for spec in TENANT_TABLES}
    found[STATE.output] += _fortnox_identity_keys(stack, tenant)
    if not _confirmed(tenant, {t: len(k) for t, k in found.items()}, args.yes, out):
        return EXIT_CONFIG
    # The registry first: the webhook answers 404 at once, so nothing new is queued meanwhile.
    delete_keys(stack.output(STATE.output), _registry_keys(tenant))
    for output, keys in found.items():
        delete_keys(stack.output(output), keys)
    client = _secrets()
    for name in (tenant.webhook_secret_name, tenant.stripe_api_key_secret_name):
        try:
            if name:
                client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except client.exceptions.ResourceNotFoundException:
            pass  # deleted by hand already: nothing left to purge
    out.write(f"Tenant {tenant.id} purged: {sum(len(k) for k in found.values())} item(s) deleted.\n")
    return EXIT_OK


def _registry_keys(tenant: Tenant) -> list[dict[str, Any]]:
    """Its record and the slug and account pointers to it (adapters/aws/tenants.py)."""
    from stripe_fortnox_sync.adapters.aws.tenants import ACCOUNT_PREFIX, SLUG_PREFIX, TENANT_PREFIX

    keys = [TENANT_PREFIX + tenant.id]
    keys += [SLUG_PREFIX + tenant.webhook_slug] if tenant.webhook_slug else []
    keys += [ACCOUNT_PREFIX + tenant.stripe_account] if tenant.stripe_account else []
    return [{"pk": {"S": key}} for key in keys]


def _fortnox_identity_keys(stack: Stack, tenant: Tenant) -> list[dict[str, Any]]:
    """Its token, lock and rate window: keyed by the integration's client id and its TenantId."""
    if not tenant.fortnox_tenant_id:
        return []
    identity = f"{client_id(stack)}#{tenant.fortnox_tenant_id}"
    keys = [f"token#{identity}", f"lock#token#{identity}", f"rate#{identity}"]
    return [{"pk": {"S": key}} for key in keys]


def migrate(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """Nothing of tenant `default` moves (its keys never changed); this checks that every
    prefixed item belongs to a registered tenant, and counts tenant `default`'s."""
    known = {DEFAULT_TENANT, *(t.id for t in open_registry(stack).all())}
    orphans = 0
    # Not the idempotency table: Powertools' own ids (`stripe-event#…`) have a `#` of their own.
    for spec in (MAPPING, ACTIVITY, STATE):
        counts = key_owners(stack.output(spec.output), spec.keys[0])
        for owner, count in sorted(counts.items()):
            mark = "" if owner in known else "  <- no such tenant"
            orphans += 0 if owner in known else count
            out.write(f"{spec.output:<22} {owner:<20} {count:>8}{mark}\n")
    out.write("Nothing to migrate: tenant default keeps the keys it always had (docs/tenants.md).\n")
    return EXIT_FAILED if orphans else EXIT_OK
