"""`stripe-fortnox tenants add|list|status|suspend|resume`, and the dispatch of the other actions
(consent: tenants_consent.py): the stack's tenants (docs/tenants.md). Tenant `default` (the
stack's own secrets and parameters) is implicit: it is listed, and never stored."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, TextIO
from urllib.parse import urlencode

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.tenant_registry import (
    client_id,
    create_secret,
    existing,
    open_registry,
    parse_overrides,
    secret_base,
    webhook_url,
)
from stripe_fortnox_sync.core.errors import ConfigError, ConflictError
from stripe_fortnox_sync.core.tenants import (
    DEFAULT_TENANT,
    Tenant,
    TenantStatus,
    check_overrides,
    check_tenant_id,
    new_slug,
)

# What the sync asks Fortnox for (docs/deploy.md): customers, invoices, payouts' vouchers and files.
FORTNOX_SCOPES = (
    *("customer", "invoice", "payment", "bookkeeping"),
    *("archive", "connectfile", "companyinformation"),
)
# Statuses an operator must act on: `tenants status` exits 1 while one is in them.
NEEDS_ATTENTION = frozenset({TenantStatus.AUTH_BROKEN, TenantStatus.ONBOARDING})

# Running ----------------------------------------------------------------------------------------


def consent_link(auth_url: str, client_id: str, tenant_id: str, redirect_uri: str) -> str:
    """Fortnox's consent page for a service account: an administrator of the company opens it."""
    query = {
        "client_id": client_id or "<client id>",
        "redirect_uri": redirect_uri or "<the integration's redirect URI>",
        "scope": " ".join(FORTNOX_SCOPES),
        "state": tenant_id,
        "access_type": "offline",
        "response_type": "code",
        "account_type": "service",
    }
    return f"{auth_url.rstrip('/')}/auth?{urlencode(query)}"


def add(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    try:
        tenant_id = check_tenant_id(args.tenant_id)
        overrides = parse_overrides(args.set)
        check_overrides(overrides)
    except ConfigError as exc:
        raise OperationError(str(exc)) from None
    registry = open_registry(stack)
    if registry.get(tenant_id) is not None:
        raise OperationError(f"tenant {tenant_id} exists already")
    secrets = [s.strip() for s in args.webhook_secret if s.strip()]
    if any(not s.startswith("whsec_") for s in secrets):
        raise OperationError("--webhook-secret takes whsec_... values")
    base = f"{secret_base(stack)}/tenants/{tenant_id}"
    tenant = Tenant(
        id=tenant_id,
        name=args.name,
        status=TenantStatus.ACTIVE if args.fortnox_tenant_id else TenantStatus.ONBOARDING,
        webhook_slug=new_slug(),
        fortnox_tenant_id=args.fortnox_tenant_id,
        organisation_number=args.org_number,
        stripe_account=args.stripe_account,
        livemode=args.live,
        webhook_secret_name=create_secret(f"{base}/stripe-webhook", ",".join(secrets) or "not-configured"),
        stripe_api_key_secret_name=create_secret(f"{base}/stripe-api-key", args.stripe_key)
        if args.stripe_key
        else "",
        overrides=overrides,
        created_at=round(time.time(), 3),
    )
    try:
        tenant = registry.add(tenant)
    except ConflictError as exc:
        raise OperationError(str(exc)) from None
    out.write(f"Tenant {tenant.id} ({tenant.name}) added: {tenant.status.value}.\n")
    if tenant.stripe_account:
        out.write(f"Stripe:  its events come to the Connect endpoint, routed by {tenant.stripe_account}\n")
    out.write(f"Webhook: {webhook_url(stack, tenant)}\n")
    if not secrets:
        out.write(f"         put its signing secret in {tenant.webhook_secret_name}\n")
    link = consent_link(stack.settings.fortnox_auth_url, client_id(stack), tenant.id, args.redirect_uri)
    out.write(f"Fortnox consent (an administrator of the company opens it):\n  {link}\n")
    if tenant.status is TenantStatus.ONBOARDING:
        out.write(f"Then: stripe-fortnox tenants consent {tenant.id} --fortnox-tenant-id <TenantId>\n")
    else:  # `tenants consent` checks the company; a TenantId given here is taken as it is
        out.write(f"Its Fortnox company is not checked yet: stripe-fortnox tenants verify {tenant.id}\n")
    return EXIT_OK


def _row(stack: Stack, tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "status": tenant.status.value,
        "mode": "live" if tenant.livemode else "test",
        "fortnox_tenant_id": tenant.fortnox_tenant_id,
        "organisation_number": tenant.organisation_number,
        "stripe_account": tenant.stripe_account,
        "webhook_url": webhook_url(stack, tenant) if tenant.webhook_slug else "",
        "overrides": dict(tenant.overrides),
    }


def _default_row(stack: Stack) -> dict[str, Any]:
    return {
        "id": DEFAULT_TENANT,
        "name": "(the stack's own)",
        "status": TenantStatus.ACTIVE.value,
        "mode": stack.mode,
        "fortnox_tenant_id": "",
        "organisation_number": "",
        "stripe_account": "",
        "webhook_url": stack.outputs.get("WebhookUrl", ""),
        "overrides": {},
    }


def list_tenants(stack: Stack, out: TextIO) -> int:
    rows = [_default_row(stack), *(_row(stack, t) for t in open_registry(stack).all())]
    for row in rows:
        where = row["stripe_account"] or row["webhook_url"]
        out.write(f"{row['id']:<20} {row['status']:<13} {row['mode']:<5} {row['name']:<28} {where}\n")
    return EXIT_OK


def _token_state(stack: Stack, client_id: str) -> dict[str, str]:
    """Fortnox TenantId -> when its service-account token was last granted (never the token)."""
    from stripe_fortnox_cli.ops.store import token_records

    states: dict[str, str] = {}
    for record in token_records(stack.output("StateTableName")):
        head, _, tenant_id = record.key.removeprefix("token#").partition("#")
        if head == client_id and tenant_id:
            valid = record.expires_at > time.time()
            states[tenant_id] = "valid" if valid else "expired"
    return states


def status(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """One row per tenant (`default` first): its record, token, last sync, events in 24 h, parked
    and the oldest parked one's age. Exit 1 while one needs attention: `auth_broken`,
    `onboarding`, or events parked."""
    from stripe_fortnox_cli.ops.tenants_health import age, gather, status_line

    now = time.time()
    tenants = open_registry(stack).all()
    tokens = _token_state(stack, client_id(stack))
    health, complete = gather(stack, [DEFAULT_TENANT, *(t.id for t in tenants)], now)
    rows = [{**_default_row(stack), "token": "see `stripe-fortnox status`"}]
    for tenant in tenants:
        row = _row(stack, tenant)
        row["token"] = tokens.get(tenant.fortnox_tenant_id, "none yet") if tenant.fortnox_tenant_id else "-"
        rows.append(row)
    for row in rows:
        found = health[row["id"]]
        row.update(found.columns())
        row["needs_attention"] = row["status"] in NEEDS_ATTENTION or found.parked > 0
    if args.json:
        out.write(json.dumps({"tenants": rows, "dead_letter_queue_read": complete}, indent=2) + "\n")
    else:
        out.write(status_line("TENANT", "STATUS", "MODE", "LAST SYNC", "24H", "PARKED", "OLDEST", "TOKEN"))
        for row in rows:
            flag = "  <- needs attention" if row["needs_attention"] else ""
            out.write(
                status_line(
                    *(row["id"], row["status"], row["mode"], age(row["last_sync"], now)),
                    *(str(row["events_24h"]), str(row["parked"]), age(row["oldest_parked"], now)),
                    row["token"] + flag,
                )
            )
        if not complete:
            out.write("(the dead-letter queue was not read to its end: parked counts are at least these)\n")
    return EXIT_FAILED if any(row["needs_attention"] for row in rows) else EXIT_OK


def set_status(stack: Stack, tenant_id: str, wanted: TenantStatus, out: TextIO) -> int:
    registry, tenant = existing(stack, tenant_id)
    if wanted is TenantStatus.ACTIVE and not tenant.fortnox_tenant_id:
        raise OperationError(f"tenant {tenant_id} has no Fortnox consent yet: `tenants consent` first")
    registry.set_status(tenant_id, wanted)
    out.write(f"Tenant {tenant_id}: {tenant.status.value} -> {wanted.value}.\n")
    if wanted is TenantStatus.ACTIVE:
        out.write("Events parked meanwhile: stripe-fortnox redrive --reason suspended --reason auth\n")
    return EXIT_OK


def tenants(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    action = args.tenants_command
    if action == "add":
        return add(stack, args, out)
    if action == "consent":
        from stripe_fortnox_cli.ops.tenants_consent import consent

        return consent(stack, args, out)
    if action == "list":
        return list_tenants(stack, out)
    if action == "status":
        return status(stack, args, out)
    if action in ("suspend", "resume"):
        wanted = TenantStatus.SUSPENDED if action == "suspend" else TenantStatus.ACTIVE
        return set_status(stack, args.tenant_id, wanted, out)
    if action == "verify":
        from stripe_fortnox_cli.ops.tenants_verify import verify

        return verify(stack, args, out)
    from stripe_fortnox_cli.ops import tenants_manage

    run = {
        "set-stripe": tenants_manage.set_stripe,
        "config": tenants_manage.config,
        "export": tenants_manage.export,
        "remove": tenants_manage.remove,
        "migrate": tenants_manage.migrate,
    }.get(action)
    if run is None:
        raise OperationError(f"unknown tenants action {action}")
    return run(stack, args, out)
