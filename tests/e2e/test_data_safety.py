"""The data-safety scenarios of issue 14 through the operator commands, against the local stack.

Two Stripe customers whose e-mails differ only in case share one Fortnox customer: a backfill
links the second without renaming it, reconcile reports the share, and deleting one of them in
Stripe (no webhook) and running `reconcile --fix` leaves the Fortnox customer active while the
other still maps to it. A key for another Stripe account is refused; a Stripe that cannot say
which account it is, and knows none of the mapped customers, deactivates nothing.

Stripe is localstripe, made to answer as Stripe does for a deleted customer and for
`GET /v1/account` (tests/stripe_like_localstripe.py); a second one is another, empty, account.
"""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus, Sharing
from tests.e2e.dev_process import post_signed, reachable, run_cli, running_dev, started_simulator, stop
from tests.stripe_like_localstripe import start_stripe_like_localstripe
from tests.support import free_port, start_localstripe, wait_for

pytestmark = pytest.mark.e2e

SECRET = "whsec_shared"
CLIENT_ID, CLIENT_SECRET, TENANT = "shared-client", "shared-client-secret", "shared-tenant"
STRIPE_KEY = "sk_test_shared"
ACCOUNT, OTHER_ACCOUNT = "acct_1Main", "acct_1Other"


def _up(url: str) -> bool:
    return reachable(url, auth=(STRIPE_KEY, ""))


@dataclass
class Shared:
    directory: Path
    sim: FortnoxSimulator
    stripe_bases: dict[str, str]  # "main", "other" (another account), "stock" (plain localstripe)
    webhook_port: int
    outputs: dict[str, Any]

    def stripe(self, which: str = "main") -> Any:
        import stripe

        return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": self.stripe_bases[which]})

    def cli(self, *args: str, stripe_api: str = "main") -> subprocess.CompletedProcess[str]:
        return run_cli(self.directory, STRIPE_KEY, self.stripe_bases[stripe_api], *args, timeout=180)

    def link(self, customer_id: str) -> CustomerLink | None:
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.outputs["AwsEndpointUrl"],
            region_name=self.outputs["Region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
            aws_session_token="local",
        )
        return DynamoMappingStore(self.outputs["MappingTableName"], client=client).get(customer_id)

    def post_created(self, customer: dict[str, Any]) -> None:
        event = {
            "id": f"evt_created_{customer['id']}",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": customer},
        }
        post_signed(self.webhook_port, SECRET, event)

    def fortnox(self, number: str) -> dict[str, Any]:
        customer: dict[str, Any] = {c["CustomerNumber"]: c for c in self.sim.customers(TENANT)}[number]
        return customer

    def active_in_fortnox(self) -> int:
        return sum(1 for c in self.sim.customers(TENANT) if c.get("Active", True))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    directory = tmp_path_factory.mktemp("shared")
    sim = started_simulator(CLIENT_ID, CLIENT_SECRET)
    ports = {name: free_port() for name in ("main", "other", "stock")}
    stripes = [
        start_stripe_like_localstripe(ports["main"], ACCOUNT),
        start_stripe_like_localstripe(ports["other"], OTHER_ACCOUNT),
        start_localstripe(ports["stock"]),
    ]
    try:
        bases = {name: f"http://127.0.0.1:{p}" for name, p in ports.items()}
        for base in bases.values():
            wait_for(functools.partial(_up, f"{base}/v1/customers"), timeout=90, what="localstripe")
        with running_dev(directory, sim, SECRET, (CLIENT_ID, CLIENT_SECRET, TENANT)) as dev:
            yield Shared(directory, sim, bases, dev.port, dev.outputs)
    finally:
        for process in stripes:
            stop(process)
        sim.stop()


def _lines(output: str, category: str) -> dict[str, str]:
    return {line.split()[1]: line for line in output.splitlines() if line.split()[:1] == [category]}


def test_case_twins_share_one_fortnox_customer_that_stays_active_while_either_lives(shared: Shared) -> None:
    client = shared.stripe()
    first = client.v1.customers.create(params={"name": "Anna Först", "email": "delad@example.se"}).to_dict()
    shared.post_created(first)
    wait_for(
        lambda: (shared.link(first["id"]) or CustomerLink("", LinkStatus.PENDING)).fortnox_number is not None
    )
    number = str((shared.link(first["id"]) or CustomerLink("", LinkStatus.PENDING)).fortnox_number)
    second = client.v1.customers.create(params={"name": "Bo Andra", "email": "DELAD@Example.se"}).to_dict()

    # The backfill matches the second by e-mail (case-blind) and links it without renaming it.
    backfill = shared.cli("backfill", "--local", "--wait")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    assert f"share      {second['id']}" in backfill.stdout and f"with {first['id']}" in backfill.stdout
    assert f"Recorded Stripe account {ACCOUNT}" in backfill.stderr
    link = shared.link(second["id"])
    assert link is not None and link.fortnox_number == number and link.sharing is Sharing.SHARER
    assert (shared.fortnox(number)["Name"], shared.fortnox(number)["ExternalReference"]) == (
        "Anna Först",
        first["id"],
    )

    report = shared.cli("reconcile", "--local")
    sharing = _lines(report.stdout, "shared")
    assert f"shares Fortnox customer {number} with {second['id']}" in sharing[first["id"]], report.stdout
    assert f"shares Fortnox customer {number} with {first['id']}" in sharing[second["id"]]
    assert "2 Stripe customers share 1 Fortnox customer (matched by email)" in report.stdout
    sharing_status = shared.cli("status", "--local", "--customer", first["id"])
    assert f"shared with: {second['id']} (linked to the same Fortnox customer)" in sharing_status.stdout

    # The second is deleted in Stripe (no webhook): the fix marks only its link deleted.
    client.v1.customers.delete(second["id"])
    fixed = shared.cli("reconcile", "--local", "--fix", "--wait")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    orphaned = _lines(fixed.stdout, "orphaned")[second["id"]]
    assert "deleted in Stripe" in orphaned and f"stays active ({first['id']} still maps to it)" in orphaned
    assert shared.fortnox(number)["Active"] is True
    assert (shared.link(second["id"]) or CustomerLink("", LinkStatus.ACTIVE)).status is LinkStatus.DELETED
    status = shared.cli("status", "--local", "--customer", first["id"])
    assert f"active, Fortnox customer {number}" in status.stdout

    # Once the last one is deleted too, the fix deactivates it: after a confirmation, since
    # that is more than a tenth of what is mapped here. Without a terminal: refused, exit 2.
    client.v1.customers.delete(first["id"])
    refused = shared.cli("reconcile", "--local", "--fix")
    assert refused.returncode == 2 and "confirm at a terminal, or pass --yes" in refused.stderr
    assert shared.fortnox(number)["Active"] is True
    confirmed = shared.cli("reconcile", "--local", "--fix", "--yes", "--wait")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert f"(the fix marks Fortnox customer {number} inactive)" in confirmed.stdout
    assert shared.fortnox(number)["Active"] is False


def test_a_key_for_another_stripe_account_is_refused_and_an_unknown_account_deactivates_nothing(
    shared: Shared,
) -> None:
    client = shared.stripe()
    for n in (1, 2):
        customer = client.v1.customers.create(params={"name": f"Kund {n}", "email": f"konto{n}@example.se"})
        shared.post_created(customer.to_dict())
    # Records this stack's account, if the test above has not.
    assert shared.cli("backfill", "--local", "--dry-run").returncode == 0
    active = shared.active_in_fortnox()
    assert active >= 2

    other = shared.cli("reconcile", "--local", "--fix", "--yes", stripe_api="other")
    assert other.returncode == 2, other.stdout + other.stderr
    assert f"belongs to account {OTHER_ACCOUNT}, but this stack serves {ACCOUNT}" in other.stderr
    assert "Queued" not in other.stdout

    # A Stripe that cannot say which account it is (stock localstripe), empty: every mapped
    # customer is "not found in this Stripe account", and nothing is fixed or deactivated.
    unknown = shared.cli("reconcile", "--local", "--fix", "--yes", stripe_api="stock")
    assert unknown.returncode == 1, unknown.stdout + unknown.stderr
    assert "which Stripe account the key belongs to is not checked" in unknown.stderr
    not_found = _lines(unknown.stdout, "not-found")
    assert len(not_found) >= 2 and all("another account" in line for line in not_found.values())
    assert "the Stripe key is for another account" in unknown.stdout
    assert "Nothing to queue: none of these differences has an automatic fix." in unknown.stdout
    time.sleep(1.0)
    assert shared.active_in_fortnox() == active
