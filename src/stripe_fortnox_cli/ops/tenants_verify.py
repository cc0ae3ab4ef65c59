"""`stripe-fortnox tenants verify ID`: one line per check, exit 1 when one fails (docs/tenants.md).

Fortnox: the company answers with the tenant's service-account token, it is the company consented
for (`DatabaseNumber` is the TenantId) and its organisation number is the one the operator gave (the
check `tenants consent` runs before recording a TenantId, tenants_consent.py; here it also catches
one recorded unchecked: `consent --no-check`, `add --fortnox-tenant-id`), and the scopes the sync
needs answer. Stripe: the key's mode is the tenant's, and it may read what the sync reads (for a
Connect merchant, with the platform's key and `Stripe-Account`). Last, a signed test event of a type
the stack does not handle goes through the tenant's URL: routing, signature, account and mode
checked, answered 200 ignored, nothing queued.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.tenant_registry import existing, webhook_url
from stripe_fortnox_cli.ops.tenants_consent import Check, company_checks, company_client, read_company
from stripe_fortnox_sync.core.tenants import Tenant

# A read per scope the sync needs (a missing scope answers 403), cheapest first.
SCOPE_PROBES = (
    ("customer", "/customers", {"limit": "1"}),
    ("invoice", "/invoices", {"limit": "1"}),
    ("payment", "/invoicepayments", {"limit": "1"}),
    ("bookkeeping", "/financialyears", None),
)
TEST_EVENT_TYPE = "stripe_fortnox.verify"


def fortnox_checks(stack: Stack, tenant: Tenant, org_number: str) -> list[Check]:
    from stripe_fortnox_sync.core.errors import ConfigError, FortnoxError

    if not tenant.fortnox_tenant_id:
        return [Check("fortnox company", False, "no TenantId yet: `tenants consent` first")]
    try:
        client = company_client(stack, tenant)
        company = read_company(client)
    except (ConfigError, FortnoxError) as exc:
        return [Check("fortnox company", False, f"not reachable with its token: {exc}")]
    checks = company_checks(company, tenant.fortnox_tenant_id, org_number or tenant.organisation_number)
    for scope, path, params in SCOPE_PROBES:
        try:
            client.request("GET", path, params=params)
        except FortnoxError as exc:
            checks.append(Check(f"scope {scope}", False, f"GET {path}: {exc}"))
        else:
            checks.append(Check(f"scope {scope}", True, f"GET {path} answered"))
    return checks


def _secret(name: str) -> str:
    from stripe_fortnox_sync.adapters.aws.secrets import secret_text

    return secret_text(name, 0).strip()


def stripe_checks(stack: Stack, tenant: Tenant) -> list[Check]:
    from stripe_fortnox_cli.ops.tenants_manage import key_mode
    from stripe_fortnox_sync.core.errors import ConfigError
    from stripe_fortnox_sync.core.tenants import tenant_settings

    name = tenant_settings(stack.settings, tenant).stripe_api_key_secret_name
    if not name:
        return [Check("stripe key", None, "none: events are applied from their own payloads")]
    key = _secret(name)
    try:
        mode = key_mode(key)
    except ConfigError as exc:
        return [Check("stripe key", False, str(exc))]
    wanted = "live" if tenant.livemode else "test"
    if mode != wanted:
        return [Check("stripe key mode", False, f"{mode}-mode key for a {wanted}-mode tenant")]
    checks = [Check("stripe key mode", True, mode)]
    return checks + _stripe_reads(stack, key, tenant.stripe_account)


def _stripe_reads(stack: Stack, key: str, account: str) -> list[Check]:
    import os

    import stripe

    base = stack.settings.stripe_api_base or os.environ.get("STRIPE_API_BASE") or None
    client = stripe.StripeClient(
        key,
        stripe_account=account or None,
        base_addresses={"api": base} if base else {},
    )
    reads: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("customers", lambda: client.v1.customers.list(params={"limit": 1})),
        ("payment intents", lambda: client.v1.payment_intents.list(params={"limit": 1})),
        ("balance transactions", lambda: client.v1.balance_transactions.list(params={"limit": 1})),
    )
    via = f" as {account}" if account else ""
    checks = []
    for what, read in reads:
        try:
            read()
        except stripe.StripeError as exc:
            checks.append(Check(f"stripe {what}", False, f"cannot read{via}: {exc.user_message or exc}"))
        else:
            checks.append(Check(f"stripe {what}", True, f"readable{via}"))
    return checks


def signed(payload: str, secret: str, at: int) -> str:
    """A `Stripe-Signature` header for `payload`, as Stripe makes it."""
    digest = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event_check(stack: Stack, tenant: Tenant) -> Check:
    if tenant.stripe_account:
        url = stack.outputs.get("WebhookUrl", "").rstrip("/") + "/connect"
        name = (
            stack.outputs.get("StripeConnectWebhookSecretArn", "")
            or stack.settings.stripe_connect_webhook_secret_name
        )
    else:
        url, name = webhook_url(stack, tenant), tenant.webhook_secret_name
    secrets = [s.strip() for s in _secret(name).split(",") if s.strip()] if name else []
    if not secrets or not secrets[0].startswith("whsec_"):
        return Check(
            "signed test event", False, f"no signing secret in {name or '(none)'}: `tenants set-stripe`"
        )
    now = int(time.time())
    event = {
        "id": f"evt_verify_{now}",
        "object": "event",
        "type": TEST_EVENT_TYPE,
        "created": now,
        "livemode": tenant.livemode,
        "account": tenant.stripe_account or None,
        "data": {"object": {"id": f"verify_{tenant.id}", "object": "verify"}},
    }
    payload = json.dumps(event)
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": signed(payload, secrets[0], now)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            status, body = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return Check("signed test event", False, f"{url}: {exc}")
    ok = status == 200 and "ignored" in body
    return Check(
        "signed test event", ok, f"{url.split('/webhook')[-1] or url} answered {status} {body[:120]}"
    )


def verify(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    _, tenant = existing(stack, args.tenant_id)
    out.write(f"Tenant {tenant.id} ({tenant.name}), {tenant.status.value}:\n")
    checks = fortnox_checks(stack, tenant, args.org_number)
    checks += stripe_checks(stack, tenant)
    if not args.skip_event:
        checks.append(event_check(stack, tenant))
    for check in checks:
        out.write(check.line())
    failed = [c for c in checks if c.ok is False]
    out.write(f"{len(failed)} check(s) failed.\n" if failed else "Every check passed.\n")
    return EXIT_FAILED if failed else EXIT_OK
