"""The operator commands (`backfill`, `redrive`, `status`, `reconcile`) against the local stack.

One `stripe-fortnox dev` for the module, fed by localstripe and a Fortnox simulator whose rate
limit is relaxed (and FORTNOX_MAX_REQUESTS raised to match), so a thousand customers sync in
seconds; request counts, not wall time, show what the real 25-per-5-s limit would cost. The
commands run as a user runs them: `stripe-fortnox ... --local` subprocesses in the stack's
directory. The module's tests share the stack and run in order; each sets up what it checks.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_cli.ops.progress import plural
from stripe_fortnox_cli.ops.store import MappingRow, scan_mapping
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from stripe_fortnox_sync.core.models import LinkStatus
from tests.builders import event
from tests.e2e.dev_process import post_signed, reachable, run_cli, running_dev, started_simulator
from tests.stripe_like_localstripe import start_stripe_like_localstripe
from tests.support import CLI, clean_env, free_port, wait_for

pytestmark = pytest.mark.e2e

SECRET = "whsec_operations"
CLIENT_ID, CLIENT_SECRET, TENANT = "ops-client", "ops-client-secret", "ops-tenant"
STRIPE_KEY = "sk_test_operations"
BACKFILL_CUSTOMERS = 1000
ADOPTED = 30  # already in Fortnox (added by hand), matched by e-mail
SYNCED = 20  # synced by webhooks before the backfill
CHANGED = 5  # of those, changed in Stripe since (the webhook was lost)


@dataclass
class Ops:
    """The running stack and everything around it, as the tests see it."""

    directory: Path
    sim: FortnoxSimulator
    stripe_base: str
    webhook_port: int
    outputs: dict[str, Any]
    aws: dict[str, Any]

    @property
    def stripe(self) -> Any:
        import stripe

        return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": self.stripe_base})

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli(self.directory, STRIPE_KEY, self.stripe_base, *args, timeout=timeout)

    def client(self, service: str) -> Any:
        factory: Any = boto3.client  # the service is a name, not one of the stubs' literals
        return factory(service, **self.aws)

    def mapping(self) -> dict[str, MappingRow]:
        rows = scan_mapping(self.outputs["MappingTableName"], client=self.client("dynamodb"))
        return {row.stripe_id: row for row in rows}

    def linked(self, *customer_ids: str) -> bool:
        """Whether all these customers are linked to a Fortnox customer (item reads, not a scan:
        polling a whole-table scan would starve the stack's own worker of the emulator)."""
        store = DynamoMappingStore(self.outputs["MappingTableName"], client=self.client("dynamodb"))
        for customer_id in customer_ids:
            link = store.get(customer_id)
            if link is None or link.status is not LinkStatus.ACTIVE or not link.fortnox_number:
                return False
        return True

    def await_linked(self, *customer_ids: str, what: str) -> None:
        wait_for(lambda: self.linked(*customer_ids), what=what, interval=0.3)

    def depth(self, name: str) -> int:
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=self.outputs[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def post_event(self, event: dict[str, Any]) -> None:
        post_signed(self.webhook_port, SECRET, event)

    def fortnox(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fortnox as a person at the Fortnox web UI would change it (the same company)."""
        token = requests.post(
            f"{self.sim.auth_url}/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            headers={"TenantId": TENANT},
            timeout=10,
        ).json()["access_token"]
        response = requests.request(
            method,
            f"{self.sim.api_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    def fortnox_customers(self) -> dict[str, dict[str, Any]]:
        return {c["CustomerNumber"]: c for c in self.sim.customers(TENANT)}

    def api_requests(self) -> int:
        return int(self.sim.stats()["api_requests"])


def customer_event(
    customer: dict[str, Any], event_id: str, kind: str = "customer.created", created: int | None = None
) -> dict[str, Any]:
    return event(event_id, kind, created or int(time.time()), customer)


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    directory = tmp_path_factory.mktemp("operations")
    sim = started_simulator(CLIENT_ID, CLIENT_SECRET)
    stripe_port = free_port()
    localstripe = start_stripe_like_localstripe(stripe_port, "acct_operations")
    try:
        stripe_base = f"http://127.0.0.1:{stripe_port}"
        wait_for(lambda: reachable(f"{stripe_base}/v1/customers", auth=(STRIPE_KEY, "")), what="localstripe")
        with running_dev(directory, sim, SECRET, (CLIENT_ID, CLIENT_SECRET, TENANT)) as dev:
            outputs = dev.outputs
            aws = {
                "endpoint_url": outputs["AwsEndpointUrl"],
                "region_name": outputs["Region"],
                "aws_access_key_id": "local",
                "aws_secret_access_key": "local",
                "aws_session_token": "local",
            }
            yield Ops(directory, sim, stripe_base, dev.port, outputs, aws)
    finally:
        localstripe.terminate()
        localstripe.wait(timeout=10)
        sim.stop()


def _create_customers(ops: Ops, indexes: range) -> list[dict[str, Any]]:
    client = ops.stripe

    def create(i: int) -> dict[str, Any]:
        customer = client.v1.customers.create(
            params={
                "name": f"Kund {i}",
                "email": f"kund{i}@example.se",
                "address": {
                    "line1": f"Gatan {i}",
                    "postal_code": "111 22",
                    "city": "Stockholm",
                    "country": "SE",
                },
            }
        )
        data: dict[str, Any] = customer.to_dict()
        return data

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, indexes))


# --------------------------------------------------------------------------- backfill


@pytest.mark.slow
def test_backfill_1000_customers_costs_about_one_fortnox_request_each(ops: Ops) -> None:
    # Stripe lists customers in a fixed order (localstripe: oldest first); two customers with the
    # same e-mail sit right at the boundary of the first, interrupted, run.
    first = _create_customers(ops, range(0, 399))
    client = ops.stripe
    twins = [
        client.v1.customers.create(params={"name": f"Tvilling {n}", "email": "tvilling@example.se"}).to_dict()
        for n in (1, 2)
    ]
    rest = _create_customers(ops, range(399, BACKFILL_CUSTOMERS - 2))
    customers = [*first, *twins, *rest]
    assert len(customers) == BACKFILL_CUSTOMERS
    by_index = {int(c["name"].split()[-1]): c for c in customers if c["name"].startswith("Kund")}

    # Some are in Fortnox already, typed in by hand (the e-mail in other case).
    adopted = {
        by_index[i]["id"]: ops.fortnox(
            "POST", "/customers", {"Customer": {"Name": f"Kund {i} AB", "Email": f"KUND{i}@example.se"}}
        )["Customer"]["CustomerNumber"]
        for i in range(ADOPTED)
    }
    # Some were synced by webhooks; a few of those changed in Stripe since, unnoticed.
    synced = [by_index[i] for i in range(ADOPTED, ADOPTED + SYNCED)]
    for customer in synced:
        ops.post_event(customer_event(customer, f"evt_synced_{customer['id']}"))
    ops.await_linked(*(c["id"] for c in synced), what="the webhook-synced customers")
    for customer in synced[:CHANGED]:
        client.v1.customers.update(customer["id"], params={"phone": "+46 8 123 45 67"})

    ops.sim.reset()
    dry = ops.cli("backfill", "--local", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    creates = BACKFILL_CUSTOMERS - ADOPTED - SYNCED - 1
    for count, what in (
        (creates, "create in Fortnox"),
        (ADOPTED, "link to an existing Fortnox customer"),
        (1, "shares its match key"),
        (CHANGED, "update (changed since the last sync)"),
        (SYNCED - CHANGED, "leave alone (unchanged)"),
    ):
        assert f"{count:>7,}  {what}" in dry.stdout, dry.stdout
    expected_requests = creates + ADOPTED + 1 + CHANGED  # the twin searches, then shares (no write)
    assert f"Fortnox requests: about {expected_requests:,} (plus 1 spent listing Fortnox)" in dry.stdout
    assert "Dry run: nothing was queued." in dry.stdout
    assert ops.api_requests() == 1  # the listing, nothing else
    assert ops.depth("EventQueueUrl") == 0

    ops.sim.reset()
    started = time.monotonic()
    interrupted = ops.cli("backfill", "--local", "--max-customers", "400")
    assert interrupted.returncode == 0, interrupted.stdout + interrupted.stderr
    cursor = json.loads((ops.directory / ".local-stack" / "backfill-cursor.json").read_text())
    unchanged = SYNCED - CHANGED  # in the first 400, and not queued: the sync would do nothing
    assert cursor["queued"] == 400 - unchanged and cursor["after"] == twins[0]["id"]
    assert "tvilling" not in json.dumps(cursor)  # match keys are kept hashed

    resumed = ops.cli("backfill", "--local", "--wait", timeout=240)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Resuming after {twins[0]['id']} ({400 - unchanged} customers already queued" in resumed.stderr
    assert (
        f"{BACKFILL_CUSTOMERS - 400} of {BACKFILL_CUSTOMERS - 400} customers are now linked" in resumed.stdout
    )
    assert not (ops.directory / ".local-stack" / "backfill-cursor.json").exists()
    elapsed = time.monotonic() - started

    mapping = ops.mapping()
    assert all(mapping[c["id"]].status is LinkStatus.ACTIVE for c in customers)
    for stripe_id, number in adopted.items():
        assert mapping[stripe_id].fortnox_number == number
    assert mapping[twins[0]["id"]].fortnox_number == mapping[twins[1]["id"]].fortnox_number
    fortnox = ops.fortnox_customers()
    # Nobody twice: the adopted ones were reused and the twins share one.
    assert len(fortnox) == BACKFILL_CUSTOMERS - 1
    numbers = {mapping[c["id"]].fortnox_number for c in customers}
    assert numbers == set(fortnox)
    changed = fortnox[mapping[synced[0]["id"]].fortnox_number or ""]
    assert changed["Phone1"] == "+46 8 123 45 67"

    requests_made = ops.api_requests()
    per_customer = requests_made / BACKFILL_CUSTOMERS
    print(
        f"\nbackfill: {requests_made} Fortnox requests for {BACKFILL_CUSTOMERS} customers "
        f"({per_customer:.3f} each), {elapsed:.1f} s"
    )
    assert per_customer <= 1.05
    assert ops.sim.stats()["rate_limited"] == 0
    assert ops.depth("DeadLetterQueueUrl") == 0


def test_backfill_refuses_a_cursor_of_another_stack(ops: Ops) -> None:
    cursor = ops.directory / "other-cursor.json"
    cursor.write_text(json.dumps({"stack": "https://sqs.example/other.fifo", "after": "cus_x", "queued": 3}))
    result = ops.cli("backfill", "--local", "--dry-run", "--cursor", str(cursor))
    assert result.returncode == 2 and "belongs to another stack" in result.stderr


def test_backfill_refuses_a_live_key_for_a_test_stack(ops: Ops) -> None:
    result = ops.cli("backfill", "--local", "--dry-run", "--stripe-key", "rk_live_abc")
    assert result.returncode == 2 and "live-mode key" in result.stderr


# --------------------------------------------------------------------------- redrive and status


def test_redrive_lists_reasons_then_moves_events_back_once_fixed(ops: Ops) -> None:
    client = ops.stripe
    customers = [
        client.v1.customers.create(
            params={"name": f"Norsk Kunde {n}", "email": f"norsk{n}@example.no"}
        ).to_dict()
        for n in (1, 2, 3, 4)
    ]
    for customer in customers:
        ops.post_event(customer_event(customer, f"evt_norsk_{customer['id']}"))
    ops.await_linked(*(c["id"] for c in customers), what="four synced customers")

    # The customers start paying in NOK, which Fortnox refuses until the company adds the
    # currency: a permanent error, parked at once with its reason.
    ops.sim.configure(currencies=["SEK", "EUR"])
    later = int(time.time()) + 1
    parked = [{**customer, "currency": "nok"} for customer in customers[:3]]
    for customer in parked:
        ops.post_event(customer_event(customer, f"evt_redrive_{customer['id']}", "customer.updated", later))
    # One more that SQS itself moved after its receives ran out: no failure attributes.
    lost = {**customers[3], "phone": "+47 22 33 44 55"}
    ops.client("sqs").send_message(
        QueueUrl=ops.outputs["DeadLetterQueueUrl"],
        MessageBody=json.dumps(customer_event(lost, "evt_redrive_lost", "customer.updated", later)),
        MessageGroupId=lost["id"],
        MessageDeduplicationId="evt_redrive_lost",
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": "customer.updated"}},
    )
    wait_for(lambda: ops.depth("DeadLetterQueueUrl") == 4, what="three parked events")

    attention = ops.cli("status", "--local")
    assert attention.returncode == 1 and "4 events in the dead-letter queue" in attention.stdout

    dry = ops.cli("redrive", "--local", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for customer in parked:
        line = next(x for x in dry.stdout.splitlines() if customer["id"] in x)
        assert f"evt_redrive_{customer['id']}" in line and "validation" in line and "Currency" in line
    lost_line = next(x for x in dry.stdout.splitlines() if lost["id"] in x)
    assert "receive_limit" in lost_line and "receive count" in lost_line
    assert "Norsk Kunde" not in dry.stdout  # ids and reasons, not the customer's data
    assert ops.depth("DeadLetterQueueUrl") == 4

    ops.sim.configure(currencies=["SEK", "EUR", "NOK"])
    only_validation = ops.cli("redrive", "--local", "--reason", "validation")
    assert only_validation.returncode == 0, only_validation.stderr
    assert "Moved 3 events back to the event queue (validation: 3)" in only_validation.stdout
    assert "Left 1 in the dead-letter queue" in only_validation.stdout
    rest = ops.cli("redrive", "--local")
    assert rest.returncode == 0 and "(receive_limit: 1)" in rest.stdout, rest.stdout + rest.stderr

    mapping = ops.mapping()

    def landed() -> bool:
        fortnox = ops.fortnox_customers()
        by_id = {c["id"]: fortnox.get(mapping[c["id"]].fortnox_number or "", {}) for c in customers}
        return all(by_id[c["id"]].get("Currency") == "NOK" for c in parked) and (
            by_id[lost["id"]].get("Phone1") == "+47 22 33 44 55"
        )

    wait_for(landed, what="the redriven events to land", interval=0.3)
    assert ops.depth("DeadLetterQueueUrl") == 0
    assert ops.cli("redrive", "--local").stdout.strip() == "The dead-letter queue is empty."


def test_status_shows_counts_and_token_health_but_no_secret(ops: Ops) -> None:
    customer = ops.stripe.v1.customers.create(
        params={"name": "Status Kund", "email": "status@example.se"}
    ).to_dict()
    ops.post_event(customer_event(customer, f"evt_status_{customer['id']}"))
    ops.await_linked(customer["id"], what="a synced customer")
    result = ops.cli("status", "--local", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    mapping = ops.mapping()
    assert report["mapped"]["total"] == len(mapping) == report["mapped"]["active"]
    assert report["dead_letters"] == 0 and report["queue"]["waiting"] == 0 and report["attention"] == []
    (token,) = report["fortnox_tokens"]
    assert token["flow"].startswith("service account") and token["refreshed_at"] and token["problem"] is None
    assert report["last_sync"]

    text = ops.cli("status", "--local")
    assert text.returncode == 0 and "Health:        OK" in text.stdout
    assert f"Mapped:        {plural(len(mapping), 'customer')} ({len(mapping):,} active)" in text.stdout
    state = ops.client("dynamodb").scan(TableName=ops.outputs["StateTableName"])["Items"]
    access_tokens = [item["access_token"]["S"] for item in state if "access_token" in item]
    assert access_tokens
    for secret in (*access_tokens, CLIENT_SECRET):
        assert secret not in text.stdout + text.stderr + result.stdout + result.stderr

    one = ops.cli("status", "--local", "--customer", customer["id"])
    number = mapping[customer["id"]].fortnox_number
    assert one.returncode == 0 and f"active, Fortnox customer {number}" in one.stdout
    unknown = ops.cli("status", "--local", "--customer", "cus_Unknown")
    assert unknown.returncode == 1 and "not in the mapping" in unknown.stdout


def test_status_without_a_local_stack_is_a_configuration_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "status", "--local", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert result.returncode == 2 and "stripe-fortnox dev" in result.stderr


# --------------------------------------------------------------------------- reconcile


def test_reconcile_reports_and_fixes_missing_orphaned_and_drifted(ops: Ops) -> None:
    client = ops.stripe
    drifting, vanishing, leaving = (
        client.v1.customers.create(
            params={
                "name": name,
                "email": f"{name.split()[0].lower()}@example.se",
                "address": {"line1": "Torget 1", "postal_code": "222 22", "city": "Lund", "country": "SE"},
            }
        ).to_dict()
        for name in ("Drift Kund", "Borta Kund", "Avslutad Kund")
    )
    for customer in (drifting, vanishing, leaving):
        ops.post_event(customer_event(customer, f"evt_reconcile_{customer['id']}"))
    ops.await_linked(drifting["id"], vanishing["id"], leaving["id"], what="three synced customers")
    mapping = ops.mapping()
    # Someone edits one customer in Fortnox, deletes another there, and deletes a third in Stripe;
    # a fourth customer is created in Stripe while the webhook is down.
    ops.fortnox(
        "PUT", f"/customers/{mapping[drifting['id']].fortnox_number}", {"Customer": {"City": "Fel Stad"}}
    )
    ops.fortnox("DELETE", f"/customers/{mapping[vanishing['id']].fortnox_number}")
    client.v1.customers.delete(leaving["id"])
    missing = client.v1.customers.create(params={"name": "Ny Kund", "email": "ny@example.se"}).to_dict()

    report = ops.cli("reconcile", "--local", "--csv", "findings.csv")
    assert report.returncode == 1, report.stdout + report.stderr
    lines = {
        line.split()[1]: line
        for line in report.stdout.splitlines()
        if line.split()[:1] in (["missing"], ["orphaned"], ["drifted"])
    }
    assert set(lines) == {drifting["id"], vanishing["id"], leaving["id"], missing["id"]}, report.stdout
    assert lines[missing["id"]].startswith("missing") and "not in Fortnox" in lines[missing["id"]]
    assert lines[vanishing["id"]].startswith("orphaned") and "gone from Fortnox" in lines[vanishing["id"]]
    assert lines[leaving["id"]].startswith("orphaned") and "deleted in Stripe" in lines[leaving["id"]]
    assert lines[drifting["id"]].startswith("drifted") and lines[drifting["id"]].rstrip().endswith("City")
    assert "Fel Stad" not in report.stdout and "Lund" not in report.stdout  # field names, not values
    assert "1 missing, 2 orphaned, 1 drifted" in report.stdout
    rows = [
        r
        for r in csv.DictReader(io.StringIO((ops.directory / "findings.csv").read_text()))
        if r["category"] != "shared"  # the backfill's twins share one Fortnox customer
    ]
    assert {(r["category"], r["stripe_id"]) for r in rows} == {
        ("missing", missing["id"]),
        ("orphaned", vanishing["id"]),
        ("orphaned", leaving["id"]),
        ("drifted", drifting["id"]),
    }
    assert next(r for r in rows if r["category"] == "drifted")["fields"] == "City"

    fixed = ops.cli("reconcile", "--local", "--fix", "--wait", "--show-values", "--yes")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "City: 'Lund' in Stripe, 'Fel Stad' in Fortnox" in fixed.stdout
    assert "Queued 4 fixes." in fixed.stdout

    again = ops.cli("reconcile", "--local")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 missing, 0 orphaned, 0 drifted" in again.stdout
    mapping = ops.mapping()
    fortnox = ops.fortnox_customers()
    assert fortnox[mapping[drifting["id"]].fortnox_number or ""]["City"] == "Lund"
    assert fortnox[mapping[vanishing["id"]].fortnox_number or ""]["ExternalReference"] == vanishing["id"]
    assert mapping[leaving["id"]].status is LinkStatus.DELETED
    assert fortnox[mapping[leaving["id"]].fortnox_number or ""]["Active"] is False
    assert fortnox[mapping[missing["id"]].fortnox_number or ""]["Name"] == "Ny Kund"
