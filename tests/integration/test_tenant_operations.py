"""`--tenant` on the operator commands through the local stack: a backfill and a status of tenant
`acme` read and write only acme's keys, queue acme's stamped messages on the bulk queue, and
reach acme's Fortnox company and Stripe account; tenant `default` is left as it was."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from stripe_fortnox_cli.exits import EXIT_OK
from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from stripe_fortnox_cli.ops import backfill, status
from stripe_fortnox_cli.ops.tenant_scope import scoped
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from tests.builders import ingrid_integration
from tests.integration.stack import local_stack, simulator
from tests.integration.test_tenants_pipeline import COMPANIES, DEFAULT_COMPANY, operator, run

ACME_KEY = "sk_test_acme_key"
CUSTOMERS = 25


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    fast = {"FORTNOX_MAX_REQUESTS": "100000"}
    with local_stack(
        tmp_path, visibility_timeout=1, extra_env=fast, simulator_options={"max_requests": 100000}
    ) as running:
        yield running


@pytest.fixture
def acme_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripeApi]:
    with FakeStripeApi(ACME_KEY) as fake:
        monkeypatch.setenv("STRIPE_API_BASE", fake.base_url)
        monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        for n in range(CUSTOMERS):
            fake.add_customer(ingrid_integration(f"cus_Acme{n:03}", name=f"Acme Kund {n}"))
        yield fake


def _add_acme(stack: LocalStack) -> None:
    code, text = run(
        stack, "add", "acme", "--name", "Acme AB", "--fortnox-tenant-id", COMPANIES["acme"],
        "--webhook-secret", "whsec_acme",
    )  # fmt: skip
    assert code == 0, text


def _status(
    stack: LocalStack, tenant: str | None, customer: str | None = None
) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    options = status.StatusOptions(json=True, customer=customer)
    code = status.status(scoped(operator(stack), tenant), options, out)
    return code, json.loads(out.getvalue())


def _drain_bulk(stack: LocalStack) -> None:
    for _ in range(200):
        if stack.bulk_source.poll_once() == 0 and stack.bulk_depth() == 0:
            return
    raise AssertionError("the bulk queue did not drain")


def test_backfill_and_status_of_one_tenant(
    stack: LocalStack, acme_stripe: FakeStripeApi, tmp_path: Path
) -> None:
    _add_acme(stack)
    acme = scoped(operator(stack), "acme")
    out, err = io.StringIO(), io.StringIO()
    options = backfill.BackfillOptions(stripe_key=ACME_KEY, cursor=tmp_path / "acme-cursor.json")
    assert backfill.backfill(acme, options, out, err) == EXIT_OK, err.getvalue()
    assert f"Queued {CUSTOMERS} events" in out.getvalue()

    # On the bulk queue, as the webhook would queue them for acme: never on the live queue.
    assert stack.queue_depths()["EventQueueUrl"] == 0
    assert stack.bulk_depth() == CUSTOMERS
    peeked = boto3.client("sqs").receive_message(
        QueueUrl=stack.outputs["BulkQueueUrl"],
        MaxNumberOfMessages=1,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"][0]
    assert peeked["MessageAttributes"]["tenant"]["StringValue"] == "acme"
    assert peeked["Attributes"]["MessageGroupId"].startswith("acme#")
    assert peeked["Attributes"]["MessageDeduplicationId"].startswith("acme#")

    _drain_bulk(stack)
    sim = simulator(stack)
    assert len(sim.customers(COMPANIES["acme"])) == CUSTOMERS
    assert sim.customers(DEFAULT_COMPANY) == []
    mapping = stack.outputs["MappingTableName"]
    assert DynamoMappingStore(mapping, prefix="acme#").get("cus_Acme000") is not None
    assert DynamoMappingStore(mapping).get("cus_Acme000") is None

    code, report = _status(stack, "acme")
    assert code == EXIT_OK and report["tenant"] == "acme"
    assert report["mapped"] == {"total": CUSTOMERS, "active": CUSTOMERS}
    code, report = _status(stack, None)
    assert "tenant" not in report and report["mapped"] == {"total": 0}
    code, one = _status(stack, "acme", customer="cus_Acme001")
    assert code == EXIT_OK and one["mapping"] is not None
    assert _status(stack, None, customer="cus_Acme001")[1]["mapping"] is None

    # A second run finds every customer mapped and unchanged: nothing queued, nothing in default's.
    out = io.StringIO()
    assert backfill.backfill(acme, options, out, io.StringIO()) == EXIT_OK
    assert "Queued 0 events" in out.getvalue() and stack.bulk_depth() == 0
