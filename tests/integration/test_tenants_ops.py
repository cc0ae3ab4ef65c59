"""The tenants' operator commands on the local stack (docs/tenants.md): set-stripe, verify, config,
export, remove --purge and migrate, against moto, the simulator and the real webhook over HTTP."""

from __future__ import annotations

import argparse
import io
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from stripe_fortnox_cli.local import LocalConfig, LocalStack, ProcessedEvent
from stripe_fortnox_cli.local.answers import WebhookRequest
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_cli.ops import tenants as tenant_commands
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack, settings_for
from stripe_fortnox_cli.ops.tenants_args import add_parser
from stripe_fortnox_cli.ops.tenants_health import DAY
from stripe_fortnox_sync.sync.service import DEDUPE_SECONDS
from tests.builders import event, ingrid_integration
from tests.integration.stack import drain, send, simulator
from tests.integration.test_tenants_pipeline import _command, post, registry, stack

__all__ = ["stack"]  # the fixture, shared with the pipeline's tests

ORG = "556677-8899"


def run(stack: LocalStack, *argv: str, **settings: Any) -> tuple[int, str]:
    """`stripe-fortnox tenants ARGV --local` in this process, with the stack's real webhook URL
    (verify posts its test event over HTTP); `settings` change the operator's (a Fortnox URL)."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False), _command, None)
    args = parser.parse_args(["tenants", *argv])
    outputs = {**stack.outputs, "WebhookUrl": stack.webhook_url}
    operator = Stack("local", outputs, {}, replace(settings_for(outputs, {}), **settings), local=True)
    out = io.StringIO()
    return tenant_commands.tenants(operator, args, out), out.getvalue()


def add_acme(stack: LocalStack) -> str:
    """Tenant acme with consent given in company-acme, whose organisation number is ORG."""
    simulator(stack).configure(
        companies={"company-acme": {"CompanyName": "Acme AB", "OrganizationNumber": ORG}}
    )
    code, text = run(
        stack, "add", "acme", "--name", "Acme AB", "--org-number", ORG,
        "--fortnox-tenant-id", "company-acme", "--webhook-secret", "whsec_acme",
    )  # fmt: skip
    assert code == 0, text
    tenant = registry(stack).get("acme")
    assert tenant is not None
    return f"/webhook/t/{tenant.webhook_slug}"


def test_verify_passes_for_the_right_company_and_catches_the_wrong_one(stack: LocalStack) -> None:
    add_acme(stack)
    code, text = run(stack, "verify", "acme")
    assert code == 0, text
    for line in (
        "ok   fortnox company",
        "ok   organisation number",
        "ok   scope invoice",
        "ok   signed test event",
    ):
        assert line in text, text
    assert "skip stripe key" in text
    # Consent given in another client's company: its organisation number is not the one given.
    code, text = run(stack, "verify", "acme", "--org-number", "559999-0000")
    assert code == 1 and "FAIL organisation number" in text and "1 check(s) failed" in text
    # Nothing reached the queue: the test event is of a type the stack does not handle.
    drain(stack)
    assert simulator(stack).customers("company-acme") == []
    assert stack.dead_letters() == []


def test_verify_fails_a_tenant_without_consent_or_with_an_old_secret(stack: LocalStack) -> None:
    assert run(stack, "add", "delta", "--name", "Delta AB", "--webhook-secret", "whsec_delta")[0] == 0
    code, text = run(stack, "verify", "delta")
    assert code == 1 and "FAIL fortnox company" in text and "consent" in text
    add_acme(stack)
    assert run(stack, "set-stripe", "acme", "--webhook-secret", "whsec_new")[0] == 0
    assert run(stack, "verify", "acme")[0] == 0  # signed with the new secret: the webhook reads it


def test_set_stripe_checks_the_key_and_a_connect_tenant_has_no_secret_of_its_own(stack: LocalStack) -> None:
    add_acme(stack)
    with pytest.raises(OperationError, match="test-mode"):
        run(stack, "set-stripe", "acme", "--stripe-key", "rk_live_x")
    code, text = run(stack, "set-stripe", "acme", "--stripe-key", "rk_test_acme")
    assert code == 0 and "its own" in text
    tenant = registry(stack).get("acme")
    assert tenant is not None and tenant.stripe_api_key_secret_name
    value = boto3.client("secretsmanager").get_secret_value(SecretId=tenant.stripe_api_key_secret_name)
    assert value["SecretString"] == "rk_test_acme"
    assert run(stack, "add", "gamma", "--name", "Gamma AB", "--stripe-account", "acct_gamma")[0] == 0
    with pytest.raises(OperationError, match="Connect"):
        run(stack, "set-stripe", "gamma", "--webhook-secret", "whsec_gamma")
    code, text = run(stack, "set-stripe", "gamma", "--stripe-key", "rk_test_platform")
    assert code == 0 and "Stripe-Account acct_gamma" in text


def test_config_shows_and_sets_overrides_through_the_settings_parsers(stack: LocalStack) -> None:
    add_acme(stack)
    code, text = run(stack, "config", "acme", "--set", "seller_country=NO")
    assert code == 0 and "seller_country" in text and " NO" in text
    assert "(the stack: " in text  # the others are the stack's
    with pytest.raises(OperationError, match="PAYMENT_INTENT_VAT_RATE must be a whole number"):
        run(stack, "config", "acme", "--set", "payment_intent_vat_rate=lots")
    with pytest.raises(OperationError, match="not a per-tenant setting"):
        run(stack, "config", "acme", "--set", "fortnox_api_url=http://x")
    code, text = run(stack, "config", "acme", "--set", "seller_country=", "--json")
    assert code == 0 and json.loads(text.split("\n", 1)[1])["overrides"] == {}


def test_export_then_purge_removes_one_tenant_and_keeps_the_others(stack: LocalStack) -> None:
    url = add_acme(stack)
    assert (
        post(stack, url, event("evt_a1", obj=ingrid_integration("cus_A1", name="Acme Kund")), "whsec_acme")[0]
        == 200
    )
    assert send(stack, event("evt_d1", obj=ingrid_integration("cus_A1", name="Default Kund")))[0] == 200
    drain(stack)
    code, text = run(stack, "export", "acme")
    rows = [json.loads(line) for line in text.splitlines()]
    assert code == 0 and [r["stripe_id"] for r in rows] == ["cus_A1"] and "#" not in rows[0]["fortnox_number"]
    assert [json.loads(line)["stripe_id"] for line in run(stack, "export", "default")[1].splitlines()] == [
        "cus_A1"
    ]
    tenant = registry(stack).get("acme")
    assert tenant is not None
    code, text = run(stack, "remove", "acme", "--purge")  # no terminal to ask at: not confirmed
    assert code == 2 and registry(stack).get("acme") is not None
    code, text = run(stack, "remove", "acme", "--purge", "--yes")
    assert code == 0 and "purged" in text, text
    assert registry(stack).get("acme") is None
    for output in ("MappingTableName", "ActivityTableName", "IdempotencyTableName", "StateTableName"):
        items = boto3.client("dynamodb").scan(TableName=stack.outputs[output])["Items"]
        keys = [
            str(next(iter(item[k].values())))
            for item in items
            for k in ("stripe_id", "customer_id", "id", "pk")
            if k in item
        ]
        assert not [k for k in keys if k.startswith("acme#") or k.endswith("#company-acme")], (output, keys)
    assert run(stack, "export", "default")[1].count("cus_A1") == 1  # tenant default's kept
    with pytest.raises(Exception, match=r"ResourceNotFound|not find"):
        boto3.client("secretsmanager").get_secret_value(SecretId=tenant.webhook_secret_name)
    body = json.dumps(event("evt_a2", obj=ingrid_integration("cus_A2")))
    assert (
        stack.invoke_webhook(body.encode(), {"Stripe-Signature": sign_payload(body, "whsec_acme")}, url)[0]
        == 404
    )


def test_remove_without_purge_disconnects_and_migrate_has_nothing_to_move(stack: LocalStack) -> None:
    add_acme(stack)
    assert run(stack, "remove", "acme")[0] == 0
    tenant = registry(stack).get("acme")
    assert tenant is not None and tenant.status.value == "disconnected"
    code, text = run(stack, "migrate")
    assert code == 0 and "Nothing to migrate" in text


def test_status_shows_each_tenants_sync_and_parked_events(stack: LocalStack) -> None:
    url = add_acme(stack)
    assert post(stack, url, event("evt_a1", obj=ingrid_integration("cus_A1")), "whsec_acme")[0] == 200
    drain(stack)
    assert run(stack, "status")[0] == 0
    assert post(stack, url, event("evt_a2", obj=ingrid_integration("cus_A2")), "whsec_acme")[0] == 200
    assert run(stack, "suspend", "acme")[0] == 0
    drain(stack)  # queued before the suspension: parked with reason `suspended`
    # What a tenant's sync leaves in the idempotency table: one record written now, one 2 days ago.
    for key, written in (
        ("acme#stripe-event#new", time.time()),
        ("acme#stripe-event#old", time.time() - 2 * DAY),
    ):
        item = {
            "id": {"S": key},
            "status": {"S": "COMPLETED"},
            "expiration": {"N": str(int(written + DEDUPE_SECONDS))},
        }
        boto3.client("dynamodb").put_item(TableName=stack.outputs["IdempotencyTableName"], Item=item)
    code, text = run(stack, "status", "--json")
    rows = {row["id"]: row for row in json.loads(text)["tenants"]}
    assert code == 1 and rows["acme"]["needs_attention"] and not rows["default"]["needs_attention"]
    assert rows["acme"]["events_24h"] == 1 and rows["acme"]["last_sync"]
    assert rows["acme"]["parked"] == 1 and rows["acme"]["parked_reasons"] == {"suspended": 1}
    assert rows["default"]["parked"] == 0 and rows["default"]["events_24h"] == 0
    code, text = run(stack, "status")
    assert "PARKED" in text and "acme" in text and "needs attention" in text
    assert len(stack.dead_letters()) == 1  # the look gave it back


def test_the_dev_console_names_the_tenant_and_its_secret(tmp_path: Path) -> None:
    requests_seen: list[WebhookRequest] = []
    events_seen: list[ProcessedEvent] = []
    setup = LocalConfig(port=0, webhook_secrets=["whsec_local"], state_dir=tmp_path, start_worker=False)
    with LocalStack(setup, on_event=events_seen.append, on_request=requests_seen.append) as running:
        url = add_acme(running)
        customer = event("evt_c1", obj=ingrid_integration("cus_C1"))
        for secret in ("whsec_acme", "whsec_wrong"):
            body = json.dumps(customer)
            headers = {"Stripe-Signature": sign_payload(body, secret), "Content-Type": "application/json"}
            requests.post(
                running.webhook_url + url.removeprefix("/webhook"), data=body, headers=headers, timeout=10
            )
        assert running.poll_once(wait_seconds=5) == 1
    assert [(r.tenant, r.verdict) for r in requests_seen] == [("acme", "accepted"), ("acme", "rejected")]
    assert "tenant acme's own secret" in requests_seen[1].message
    assert [(e.tenant, e.outcome) for e in events_seen] == [("acme", "created")]
