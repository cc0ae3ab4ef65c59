"""Webhook handler -> SQS -> sync handler -> DynamoDB and Fortnox, with moto and the simulator.

The queue is stepped by hand (`poll_once`), so every test sees exactly which batches ran.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore
from tests.builders import event, ingrid_integration
from tests.integration.stack import (
    api_calls,
    drain,
    enqueue,
    fortnox_customers,
    local_stack,
    outcomes,
    parked,
    send,
    simulator,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with local_stack(tmp_path, visibility_timeout=1) as running:
        yield running


def test_new_customer_lands_once_with_mapped_fields(stack: LocalStack) -> None:
    status, body = send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    assert (status, body) == (200, {"received": "evt_c1"})
    drain(stack)
    (created,) = fortnox_customers(stack)
    assert created["Name"] == "Ingrid Integration" and created["ExternalReference"] == "cus_Int1"
    assert created["ZipCode"] == "123 45" and created["City"] == "Umeå" and created["VATType"] == "SEVAT"
    link = DynamoMappingStore(stack.outputs["MappingTableName"]).get("cus_Int1")
    assert link is not None and link.fortnox_number == created["CustomerNumber"]
    assert api_calls(stack) == 2  # search by e-mail, create


def test_redelivery_and_older_events_change_nothing(stack: LocalStack) -> None:
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    drain(stack)
    send(stack, event("evt_u2", "customer.updated", 300, ingrid_integration(name="Newer Name")))
    drain(stack)
    calls = api_calls(stack)
    # Stripe redelivers both and an update older than the one applied arrives late.
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    send(stack, event("evt_u2", "customer.updated", 300, ingrid_integration(name="Newer Name")))
    send(stack, event("evt_u1", "customer.updated", 200, ingrid_integration(name="Older Name")))
    drain(stack)
    assert api_calls(stack) == calls
    assert [c["Name"] for c in fortnox_customers(stack)] == ["Newer Name"]
    assert outcomes(stack)["evt_u1"] == "stale"


def test_redelivery_after_the_sqs_dedup_window_is_caught_by_idempotency(stack: LocalStack) -> None:
    body = json.dumps(event("evt_c1", "customer.created", 100, ingrid_integration()))
    for dedup in ("first", "second"):  # a different SQS dedup id: as if 5 minutes had passed
        enqueue(stack, body, "cus_Int1", dedup)
    drain(stack)
    assert len(fortnox_customers(stack)) == 1 and api_calls(stack) == 2
    assert [e.outcome for e in stack.processed] == ["created", "ignored"]
    assert "duplicate" in stack.processed[1].detail


def test_update_and_delete(stack: LocalStack) -> None:
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    drain(stack)
    before = api_calls(stack)
    send(stack, event("evt_u1", "customer.updated", 200, ingrid_integration(phone="+46 90 11 22 33")))
    drain(stack)
    assert api_calls(stack) == before + 1
    send(
        stack,
        event("evt_d1", "customer.deleted", 300, {"id": "cus_Int1", "object": "customer", "deleted": True}),
    )
    drain(stack)
    (stored,) = fortnox_customers(stack)
    assert stored["Phone1"] == "+46 90 11 22 33" and stored["Active"] is False
    assert api_calls(stack) == before + 2


def test_rejected_requests_are_never_queued(stack: LocalStack) -> None:
    evt = event("evt_c1", "customer.created", 100, ingrid_integration())
    assert send(stack, evt, "whsec_wrong")[0] == 400
    live = copy.deepcopy(evt)
    live["livemode"] = True
    assert send(stack, live) == (200, {"ignored": "live-mode event sent to a test-mode stack"})
    status, _ = stack.invoke_webhook(b"{}", {})
    assert status == 400
    assert stack.queue_depths() == {"EventQueueUrl": 0, "DeadLetterQueueUrl": 0}


def test_fortnox_rejection_is_parked_with_its_reason_and_others_go_on(stack: LocalStack) -> None:
    # SEK only: a currency Fortnox has not enabled is a validation error we cannot map away.
    simulator(stack).configure(currencies=["SEK"])
    send(stack, event("evt_bad", "customer.created", 100, ingrid_integration("cus_Bad", currency="eur")))
    send(stack, event("evt_ok", "customer.created", 100, ingrid_integration("cus_Ok")))
    drain(stack)
    assert [c["ExternalReference"] for c in fortnox_customers(stack)] == ["cus_Ok"]
    (message,) = stack.dead_letters()
    attributes = parked(stack, "evt_bad")
    assert attributes["failure_reason"] == "validation"
    assert "Currency" in attributes["failure_message"] or "currency" in attributes["failure_message"].lower()
    assert json.loads(message["Body"])["id"] == "evt_bad"
    assert outcomes(stack)["evt_bad"] == "failed"
    # Fixed in Fortnox (currency enabled), the parked event can be redriven and lands once.
    simulator(stack).configure(currencies=["SEK", "EUR"])
    enqueue(stack, message["Body"], "cus_Bad", "redrive-1")
    drain(stack)
    assert sorted(c["ExternalReference"] for c in fortnox_customers(stack)) == ["cus_Bad", "cus_Ok"]


def test_fortnox_outage_is_retried_by_sqs_then_lands(stack: LocalStack) -> None:
    # The client's own retries (4 attempts with backoff) are covered in the unit tests.
    simulator(stack).configure(error_rate=1.0)
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    stack.poll_once()
    assert fortnox_customers(stack) == [] and stack.queue_depths()["EventQueueUrl"] == 1
    simulator(stack).configure(error_rate=0.0)
    time.sleep(1.2)  # the failed message becomes visible again after the visibility timeout
    drain(stack)
    assert len(fortnox_customers(stack)) == 1 and stack.queue_depths()["DeadLetterQueueUrl"] == 0


def test_revoked_access_token_is_refreshed_mid_run(stack: LocalStack) -> None:
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration()))
    drain(stack)
    simulator(stack).expire_access_tokens()
    send(stack, event("evt_c2", "customer.created", 100, ingrid_integration("cus_Int2")))
    drain(stack)
    stats = simulator(stack).stats()
    assert len(fortnox_customers(stack)) == 2
    assert stats["unauthorized"] == 1 and stats["token_grants"].get("client_credentials", 0) >= 2


class SimulatedCrash(ConnectionError):
    """The mapping write after the Fortnox write never lands (the connection to DynamoDB drops): a
    failure outside the event, retried. (Any other exception would be parked as `invalid_event`.)"""


def test_crash_after_the_fortnox_write_does_not_duplicate(stack: LocalStack, monkeypatch: Any) -> None:
    real_save = DynamoMappingStore.save
    calls = {"n": 0}

    def crash_once_after_create(self: DynamoMappingStore, link: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # 1: the pending intent, 2: the mapping after the Fortnox create
            raise SimulatedCrash("killed between the Fortnox write and the mapping write")
        return real_save(self, link)

    monkeypatch.setattr(DynamoMappingStore, "save", crash_once_after_create)
    monkeypatch.setenv("CUSTOMER_MATCH_RULE", "none")
    send(stack, event("evt_c1", "customer.created", 100, ingrid_integration(email=None)))
    stack.poll_once()
    assert len(fortnox_customers(stack)) == 1
    time.sleep(1.2)
    drain(stack)
    assert len(fortnox_customers(stack)) == 1
    link = DynamoMappingStore(stack.outputs["MappingTableName"]).get("cus_Int1")
    assert link is not None and link.status.value == "active"


def test_refresh_token_chain_survives_rotation(tmp_path: Path) -> None:
    from fortnox_sim import FortnoxSimulator

    with FortnoxSimulator(token_lifetime=3600) as sim:
        sim.register_client("cid", "csecret")
        first = sim.issue_refresh_token("cid", "tenant-r")
        config: dict[str, Any] = {
            "fortnox_api_url": sim.api_url,
            "fortnox_auth_url": sim.auth_url,
            "fortnox_credentials": {"client_id": "cid", "client_secret": "csecret", "refresh_token": first},
        }
        with local_stack(tmp_path, **config) as running:
            send(running, event("evt_c1", "customer.created", 100, ingrid_integration()))
            drain(running)
            sim.expire_access_tokens()
            send(running, event("evt_c2", "customer.created", 100, ingrid_integration("cus_Int2")))
            drain(running)
        # Saved on stop: a second run continues the chain instead of reusing a spent token.
        with local_stack(tmp_path, **config) as again:
            send(again, event("evt_c3", "customer.created", 100, ingrid_integration("cus_Int3")))
            drain(again)
        stats = sim.stats()
        assert len(sim.customers("tenant-r")) == 3
        assert stats["invalid_grant"] == 0 and stats["token_grants"]["refresh_token"] >= 2
