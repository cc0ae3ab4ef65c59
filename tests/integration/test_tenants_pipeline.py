"""Tenants end to end (docs/tenants.md): the real webhook and sync handlers, moto, the simulator with
one Fortnox company per TenantId, and the operator commands.

Tenants `acme` and `beta` have their own webhook URLs and signing secrets, `gamma` is a connected
account on the Connect endpoint, and tenant `default` is the stack as it always was.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_cli.ops import tenants as tenant_commands
from stripe_fortnox_cli.ops.stack import Stack, settings_for
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
from stripe_fortnox_sync.core.tenants import Tenant
from tests.builders import event, ingrid_integration
from tests.integration.stack import drain, parked, send, simulator, unlimited_stack

DEFAULT_COMPANY = "local-tenant"
SECRETS = {"acme": "whsec_acme", "beta": "whsec_beta"}
COMPANIES = {"acme": "company-acme", "beta": "company-beta", "gamma": "company-gamma"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with unlimited_stack(tmp_path) as running:
        yield running


def operator(stack: LocalStack) -> Stack:
    return Stack("local", dict(stack.outputs), {}, settings_for(stack.outputs, {}), local=True)


def run(stack: LocalStack, *argv: str) -> tuple[int, str]:
    """`stripe-fortnox tenants ARGV` on the local stack, in this process."""
    parser = argparse.ArgumentParser()
    from stripe_fortnox_cli.ops.tenants_args import add_parser

    sub = parser.add_subparsers(dest="command")
    add_parser(sub, argparse.ArgumentParser(add_help=False), _command, None)
    args = parser.parse_args(["tenants", *argv])
    out = io.StringIO()
    code = tenant_commands.tenants(operator(stack), args, out)
    return code, out.getvalue()


def _command(sub: Any, name: str, target: argparse.ArgumentParser, summary: str, more: str) -> Any:
    return sub.add_parser(name, parents=[target], help=summary)


def registry(stack: LocalStack) -> DynamoTenantRegistry:
    return DynamoTenantRegistry(stack.outputs["StateTableName"])


def add_tenants(stack: LocalStack) -> dict[str, Tenant]:
    for tenant_id, secret in SECRETS.items():
        code, text = run(
            stack,
            "add",
            tenant_id,
            "--name",
            f"{tenant_id.title()} AB",
            "--fortnox-tenant-id",
            COMPANIES[tenant_id],
            "--webhook-secret",
            secret,
        )
        assert code == 0 and "/webhook/t/" in text and "account_type=service" in text, text
    code, text = run(
        stack, "add", "gamma", "--name", "Gamma AB", "--fortnox-tenant-id", "company-gamma",
        "--stripe-account", "acct_gamma",
    )  # fmt: skip
    assert code == 0 and "acct_gamma" in text
    found = {t.id: t for t in registry(stack).all()}
    assert set(found) == {"acme", "beta", "gamma"}
    return found


def post(stack: LocalStack, path: str, evt: dict[str, Any], secret: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps(evt)
    status, text = stack.invoke_webhook(body.encode(), {"Stripe-Signature": sign_payload(body, secret)}, path)
    return status, json.loads(text)


def names(stack: LocalStack, company: str) -> set[str]:
    return {str(c["Name"]) for c in simulator(stack).customers(company)}


def test_each_tenants_events_land_in_its_own_company_only(stack: LocalStack) -> None:
    tenants = add_tenants(stack)
    acme, beta = (f"/webhook/t/{tenants[t].webhook_slug}" for t in ("acme", "beta"))
    # The same Stripe customer id in three companies and the stack's own.
    same = "cus_Same1"
    assert (
        post(stack, acme, event("evt_a1", obj=ingrid_integration(same, name="Acme Kund")), "whsec_acme")[0]
        == 200
    )
    assert (
        post(stack, beta, event("evt_b1", obj=ingrid_integration(same, name="Beta Kund")), "whsec_beta")[0]
        == 200
    )
    connect_secret = stack.connect_webhook_secrets[0]
    gamma = event("evt_g1", obj=ingrid_integration(same, name="Gamma Kund"), account="acct_gamma")
    assert post(stack, "/webhook/connect", gamma, connect_secret)[0] == 200
    assert send(stack, event("evt_d1", obj=ingrid_integration(same, name="Default Kund")))[0] == 200
    drain(stack)
    assert names(stack, "company-acme") == {"Acme Kund"}
    assert names(stack, "company-beta") == {"Beta Kund"}
    assert names(stack, "company-gamma") == {"Gamma Kund"}
    assert names(stack, DEFAULT_COMPANY) == {"Default Kund"}
    # Tenant default's mapping key is today's; the others' carry their prefix.
    table = stack.outputs["MappingTableName"]
    assert DynamoMappingStore(table).get(same) is not None
    assert DynamoMappingStore(table, prefix="acme#").get(same) is not None
    # One rate window per company: Fortnox's limit is per client id and TenantId.
    items = boto3.client("dynamodb").scan(TableName=stack.outputs["StateTableName"])["Items"]
    windows = {item["pk"]["S"].rsplit("#", 1)[-1] for item in items if item["pk"]["S"].startswith("rate#")}
    assert windows == {DEFAULT_COMPANY, *COMPANIES.values()}
    assert stack.dead_letters() == []


def test_wrong_signatures_urls_and_accounts_are_answered(stack: LocalStack) -> None:
    tenants = add_tenants(stack)
    acme = f"/webhook/t/{tenants['acme'].webhook_slug}"
    evt = event("evt_x", obj=ingrid_integration("cus_X"))
    assert post(stack, acme, evt, "whsec_beta")[0] == 400  # B's signature on A's URL
    assert post(stack, acme, evt, "whsec_integration")[0] == 400  # default's too
    assert post(stack, "/webhook/t/not-a-slug", evt, "whsec_acme")[0] == 404
    assert post(stack, "/webhook/other", evt, "whsec_acme")[0] == 404
    unknown = event("evt_u", obj=ingrid_integration("cus_U"), account="acct_nobody")
    status, body = post(stack, "/webhook/connect", unknown, stack.connect_webhook_secrets[0])
    assert status == 200 and "ignored" in body
    assert post(stack, acme, event("evt_live", livemode=True), "whsec_acme")[0] == 400
    drain(stack)
    assert all(names(stack, company) == set() for company in COMPANIES.values())


def test_a_suspended_tenant_is_answered_503_and_its_queued_events_parked(stack: LocalStack) -> None:
    tenants = add_tenants(stack)
    acme = f"/webhook/t/{tenants['acme'].webhook_slug}"
    assert post(stack, acme, event("evt_q1", obj=ingrid_integration("cus_Q1")), "whsec_acme")[0] == 200
    assert run(stack, "suspend", "acme")[0] == 0
    assert post(stack, acme, event("evt_q2", obj=ingrid_integration("cus_Q2")), "whsec_acme")[0] == 503
    drain(stack)
    assert names(stack, "company-acme") == set()
    attributes = parked(stack, "evt_q1")
    assert attributes["failure_reason"] == "suspended" and attributes["tenant"] == "acme"
    code, text = run(stack, "list")
    assert code == 0 and "suspended" in text and text.startswith("default")
    assert run(stack, "resume", "acme")[0] == 0
    assert post(stack, acme, event("evt_q3", obj=ingrid_integration("cus_Q3")), "whsec_acme")[0] == 200
    drain(stack)
    assert names(stack, "company-acme") == {"Ingrid Integration"}


def test_tenants_status_exits_1_while_one_waits_for_consent(stack: LocalStack) -> None:
    assert run(stack, "add", "delta", "--name", "Delta AB")[0] == 0
    code, text = run(stack, "status")
    assert code == 1 and "onboarding" in text and "needs attention" in text
    assert run(stack, "consent", "delta", "--fortnox-tenant-id", "company-delta")[0] == 0
    assert run(stack, "status")[0] == 0


# The randomized isolation run (300 events quick, 10,000 in the soak) is reliability scenario
# `tenants`: tests/reliability/scenarios_tenants.py.
