"""`stripe-fortnox demo --tenants`: two Fortnox companies side by side from one local stack.

Two tenants (an accounting firm's two clients), each with its own webhook URL, signing secret and
Fortnox company. The same sample events (the first week: those that need no Stripe API) go to each
tenant's URL, signed with its own secret; one is also posted to the other tenant's URL with the
wrong secret (answered 400). Each company's customers and invoices are printed and checked
against events/expected-tenants.json: the same books in both, nothing in the stack's own company.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .config import LocalConfig
from .console import render_table
from .demo import INVOICE_COLUMNS, TABLE_COLUMNS, _post, run_stack
from .events import sign_payload
from .stack import LocalStack

EXPECTED = "expected-tenants.json"
# The two clients: tenant id -> (name, Fortnox TenantId, organisation number).
COMPANIES = {
    "norrbyra": ("Norr Konsult AB", "company-norr", "556001-0001"),
    "sydhandel": ("Syd Handel AB", "company-syd", "556002-0002"),
}
DEFAULT_COMPANY = "local-tenant"


def _add_tenants(stack: LocalStack) -> dict[str, tuple[str, str]]:
    """The two tenants, active: tenant id -> (its webhook URL, its signing secret)."""
    import boto3

    from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
    from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus, new_slug

    registry = DynamoTenantRegistry(stack.outputs["StateTableName"])
    secrets = boto3.client("secretsmanager")
    assert stack.fortnox is not None and stack.fortnox.simulator is not None
    stack.fortnox.simulator.configure(
        companies={
            fid: {"CompanyName": name, "OrganizationNumber": org} for name, fid, org in COMPANIES.values()
        }
    )
    urls = {}
    for tenant_id, (name, fortnox_id, org) in COMPANIES.items():
        secret = f"whsec_demo_{tenant_id}"
        arn = secrets.create_secret(Name=f"demo/tenants/{tenant_id}/stripe-webhook", SecretString=secret)[
            "ARN"
        ]
        slug = new_slug()
        registry.add(
            Tenant(tenant_id, name, TenantStatus.ACTIVE, slug, fortnox_id, org, webhook_secret_name=str(arn))
        )
        urls[tenant_id] = (f"{stack.webhook_url}/t/{slug}", secret)
        print(
            f"  tenant {tenant_id:<10} {name:<16} Fortnox {fortnox_id:<13} {stack.webhook_url}/t/{slug[:6]}…"
        )
    return urls


def _send(urls: dict[str, tuple[str, str]], files: list[Path]) -> list[str]:
    """Each file to each tenant's URL; the first also to the second tenant's URL signed with the
    first tenant's secret. Problems in words."""
    problems = []
    for path in files:
        payload = path.read_text(encoding="utf-8")
        answers = [_post(url, payload, sign_payload(payload, secret))[0] for url, secret in urls.values()]
        print(
            f"  sent {path.name:<40} -> " + "  ".join(f"{t} {a}" for t, a in zip(urls, answers, strict=True))
        )
        problems += [f"{path.name} to {t}: {a}" for t, a in zip(urls, answers, strict=True) if a != 200]
    (first, (_, first_secret)), (second, (second_url, _)) = urls.items()
    payload = files[0].read_text(encoding="utf-8")
    wrong = _post(second_url, payload, sign_payload(payload, first_secret))[0]
    print(f"  sent {files[0].name} to {second} signed by {first} -> {wrong}")
    if wrong != 400:
        problems.append(f"another tenant's signature answered {wrong}, expected 400")
    return problems


def _wait(stack: LocalStack, wanted: set[tuple[str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not wanted <= {(e.tenant, e.event_id) for e in stack.processed} and time.monotonic() < deadline:
        time.sleep(0.1)
    stack.wait_until_idle(timeout=max(1.0, deadline - time.monotonic()))


def _books(stack: LocalStack, fortnox_id: str) -> dict[str, Any]:
    assert stack.fortnox is not None and stack.fortnox.simulator is not None
    simulator = stack.fortnox.simulator
    return {"customers": simulator.customers(fortnox_id), "invoices": simulator.invoices(fortnox_id)}


def _summary(books: dict[str, Any]) -> dict[str, Any]:
    """What expected-tenants.json pins: each customer's reference and name, each invoice's total."""
    return {
        "customers": sorted([c["ExternalReference"], c["Name"]] for c in books["customers"]),
        "invoices": sorted([i["ExternalInvoiceReference1"], str(i["Total"])] for i in books["invoices"]),
    }


def _report(stack: LocalStack, expected: dict[str, Any]) -> list[str]:
    problems = []
    for tenant_id, (name, fortnox_id, _) in COMPANIES.items():
        books = _books(stack, fortnox_id)
        print(f"\n{name} (tenant {tenant_id}, Fortnox {fortnox_id}): customers")
        print(render_table(books["customers"], TABLE_COLUMNS))
        print(f"{name}: invoices")
        print(render_table(books["invoices"], INVOICE_COLUMNS))
        if _summary(books) != expected["company"]:
            problems.append(f"{tenant_id}'s company differs from {EXPECTED}: {json.dumps(_summary(books))}")
    own = _books(stack, DEFAULT_COMPANY)
    if own["customers"] or own["invoices"]:
        problems.append("the stack's own company (tenant default) got customers or invoices")
    dead = stack.queue_depths()["DeadLetterQueueUrl"]
    print(f"\nThe stack's own company: {len(own['customers'])} customers; dead-letter queue: {dead}")
    if dead:
        problems.append(f"{dead} events parked")
    return problems


def run_tenants_demo(
    events_dir: Path, port: int = 0, timeout: float = 90.0, state_dir: Path | None = None
) -> int:
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    expected = json.loads((events_dir.parent / EXPECTED).read_text(encoding="utf-8"))
    files = [f for f in sorted(events_dir.glob("*.json")) if f.name < expected["stripe_key_from"]]
    config = LocalConfig(
        port=port, state_dir=state_dir, extra_env={"ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES)}
    )
    print(f"Starting the local stack with two tenants (two Fortnox companies), {len(files)} events to each")

    def companies(stack: LocalStack) -> list[str]:
        urls = _add_tenants(stack)
        problems = _send(urls, files)
        ids = {str(json.loads(f.read_text(encoding="utf-8"))["id"]) for f in files}
        ignored = {(t, i) for t in urls for i in expected["ignored"]}
        _wait(stack, {(t, i) for t in urls for i in ids} - ignored, timeout)
        return problems + _report(stack, expected)

    ok = "Demo OK: each company got the same books from its own URL, and nothing of the other's."
    return run_stack(config, companies, ok)
