"""Webhook handler -> SQS -> sync handler -> DynamoDB and Fortnox, with moto and the simulator.

The queue is stepped by hand (`poll_once`), so every test sees exactly which batches ran.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore

SECRET = "whsec_integration"


@pytest.fixture
def stack(tmp_path: Any) -> Iterator[LocalStack]:
    config = LocalConfig(
        port=0, webhook_secrets=[SECRET], state_dir=tmp_path, start_worker=False, visibility_timeout=1
    )
    with LocalStack(config) as running:
        yield running


def customer(cid: str = "cus_Int1", **over: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "customer",
        "name": "Ingrid Integration",
        "email": f"{cid.lower()}@example.se",
        "phone": "+46 70 000 00 00",
        "address": {
            "line1": "Testvägen 1",
            "line2": None,
            "postal_code": "123 45",
            "city": "Umeå",
            "country": "SE",
            "state": None,
        },
        "shipping": None,
        "currency": "sek",
        "tax_exempt": "none",
        "metadata": {},
        "livemode": False,
        **over,
    }


def event(eid: str, kind: str, created: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": eid,
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": False,
        "data": {"object": obj},
    }


def send(stack: LocalStack, evt: dict[str, Any], secret: str = SECRET) -> tuple[int, dict[str, Any]]:
    body = json.dumps(evt)
    status, text = stack.invoke_webhook(body.encode(), {"Stripe-Signature": sign_payload(body, secret)})
    return status, json.loads(text)


def drain(stack: LocalStack, rounds: int = 20) -> None:
    idle = 0
    for _ in range(rounds):
        if stack.poll_once() == 0:
            idle += 1
            if idle >= 2:
                return
            time.sleep(0.05)


def fortnox_customers(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.fortnox and stack.fortnox.simulator
    return stack.fortnox.simulator.customers()


def api_calls(stack: LocalStack) -> int:
    assert stack.fortnox and stack.fortnox.simulator
    return int(stack.fortnox.simulator.stats()["api_requests"])


def outcomes(stack: LocalStack) -> dict[str, str]:
    return {e.event_id: e.outcome for e in stack.processed}


def test_new_customer_lands_once_with_mapped_fields(stack: LocalStack) -> None:
    status, body = send(stack, event("evt_c1", "customer.created", 100, customer()))
    assert (status, body) == (200, {"received": "evt_c1"})
    drain(stack)
    (created,) = fortnox_customers(stack)
    assert created["Name"] == "Ingrid Integration" and created["ExternalReference"] == "cus_Int1"
    assert created["ZipCode"] == "123 45" and created["City"] == "Umeå" and created["VATType"] == "SEVAT"
    link = DynamoMappingStore(stack.outputs["MappingTableName"]).get("cus_Int1")
    assert link is not None and link.fortnox_number == created["CustomerNumber"]
    assert api_calls(stack) == 2  # search by e-mail, create


def test_redelivery_and_older_events_change_nothing(stack: LocalStack) -> None:
    send(stack, event("evt_c1", "customer.created", 100, customer()))
    drain(stack)
    send(stack, event("evt_u2", "customer.updated", 300, customer(name="Newer Name")))
    drain(stack)
    calls = api_calls(stack)
    # Stripe redelivers both and an update older than the one applied arrives late.
    send(stack, event("evt_c1", "customer.created", 100, customer()))
    send(stack, event("evt_u2", "customer.updated", 300, customer(name="Newer Name")))
    send(stack, event("evt_u1", "customer.updated", 200, customer(name="Older Name")))
    drain(stack)
    assert api_calls(stack) == calls
    assert [c["Name"] for c in fortnox_customers(stack)] == ["Newer Name"]
    assert outcomes(stack)["evt_u1"] == "stale"


def test_redelivery_after_the_sqs_dedup_window_is_caught_by_idempotency(stack: LocalStack) -> None:
    body = json.dumps(event("evt_c1", "customer.created", 100, customer()))
    sqs = boto3.client("sqs")
    for dedup in ("first", "second"):  # a different SQS dedup id: as if 5 minutes had passed
        sqs.send_message(
            QueueUrl=stack.outputs["EventQueueUrl"],
            MessageBody=body,
            MessageGroupId="cus_Int1",
            MessageDeduplicationId=dedup,
        )
    drain(stack)
    assert len(fortnox_customers(stack)) == 1 and api_calls(stack) == 2
    assert [e.outcome for e in stack.processed] == ["created", "ignored"]
    assert "duplicate" in stack.processed[1].detail


def test_update_and_delete(stack: LocalStack) -> None:
    send(stack, event("evt_c1", "customer.created", 100, customer()))
    drain(stack)
    before = api_calls(stack)
    send(stack, event("evt_u1", "customer.updated", 200, customer(phone="+46 90 11 22 33")))
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
    evt = event("evt_c1", "customer.created", 100, customer())
    assert send(stack, evt, "whsec_wrong")[0] == 400
    live = copy.deepcopy(evt)
    live["livemode"] = True
    assert send(stack, live) == (200, {"ignored": "live-mode event sent to a test-mode stack"})
    status, _ = stack.invoke_webhook(b"{}", {})
    assert status == 400
    assert stack.queue_depths() == {"EventQueueUrl": 0, "DeadLetterQueueUrl": 0}


def test_fortnox_rejection_is_parked_with_its_reason_and_others_go_on(stack: LocalStack) -> None:
    assert stack.fortnox and stack.fortnox.simulator
    # SEK only: a currency Fortnox has not enabled is a validation error we cannot map away.
    stack.fortnox.simulator.configure(currencies=["SEK"])
    send(stack, event("evt_bad", "customer.created", 100, customer("cus_Bad", currency="eur")))
    send(stack, event("evt_ok", "customer.created", 100, customer("cus_Ok")))
    drain(stack)
    assert [c["ExternalReference"] for c in fortnox_customers(stack)] == ["cus_Ok"]
    (parked,) = stack.dead_letters()
    attributes = {k: v["StringValue"] for k, v in parked["MessageAttributes"].items()}
    assert attributes["failure_reason"] == "validation"
    assert "Currency" in attributes["failure_message"] or "currency" in attributes["failure_message"].lower()
    assert json.loads(parked["Body"])["id"] == "evt_bad"
    assert outcomes(stack)["evt_bad"] == "failed"
    # Fixed in Fortnox (currency enabled), the parked event can be redriven and lands once.
    stack.fortnox.simulator.configure(currencies=["SEK", "EUR"])
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.outputs["EventQueueUrl"],
        MessageBody=parked["Body"],
        MessageGroupId="cus_Bad",
        MessageDeduplicationId="redrive-1",
    )
    drain(stack)
    assert sorted(c["ExternalReference"] for c in fortnox_customers(stack)) == ["cus_Bad", "cus_Ok"]


def test_fortnox_outage_is_retried_by_sqs_then_lands(stack: LocalStack) -> None:
    # The client's own retries (4 attempts with backoff) are covered in the unit tests.
    assert stack.fortnox and stack.fortnox.simulator
    stack.fortnox.simulator.configure(error_rate=1.0)
    send(stack, event("evt_c1", "customer.created", 100, customer()))
    stack.poll_once()
    assert fortnox_customers(stack) == [] and stack.queue_depths()["EventQueueUrl"] == 1
    stack.fortnox.simulator.configure(error_rate=0.0)
    time.sleep(1.2)  # the failed message becomes visible again after the visibility timeout
    drain(stack)
    assert len(fortnox_customers(stack)) == 1 and stack.queue_depths()["DeadLetterQueueUrl"] == 0


def test_revoked_access_token_is_refreshed_mid_run(stack: LocalStack) -> None:
    assert stack.fortnox and stack.fortnox.simulator
    send(stack, event("evt_c1", "customer.created", 100, customer()))
    drain(stack)
    stack.fortnox.simulator.expire_access_tokens()
    send(stack, event("evt_c2", "customer.created", 100, customer("cus_Int2")))
    drain(stack)
    stats = stack.fortnox.simulator.stats()
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
    send(stack, event("evt_c1", "customer.created", 100, customer(email=None)))
    stack.poll_once()
    assert len(fortnox_customers(stack)) == 1
    time.sleep(1.2)
    drain(stack)
    assert len(fortnox_customers(stack)) == 1
    link = DynamoMappingStore(stack.outputs["MappingTableName"]).get("cus_Int1")
    assert link is not None and link.status.value == "active"


def test_refresh_token_chain_survives_rotation(tmp_path: Any) -> None:
    from fortnox_sim import FortnoxSimulator

    with FortnoxSimulator(token_lifetime=3600) as sim:
        sim.register_client("cid", "csecret")
        first = sim.issue_refresh_token("cid", "tenant-r")
        config = LocalConfig(
            port=0,
            webhook_secrets=[SECRET],
            state_dir=tmp_path,
            start_worker=False,
            fortnox_api_url=sim.api_url,
            fortnox_auth_url=sim.auth_url,
            fortnox_credentials={"client_id": "cid", "client_secret": "csecret", "refresh_token": first},
        )
        with LocalStack(config) as running:
            send(running, event("evt_c1", "customer.created", 100, customer()))
            drain(running)
            sim.expire_access_tokens()
            send(running, event("evt_c2", "customer.created", 100, customer("cus_Int2")))
            drain(running)
        # Saved on stop: a second run continues the chain instead of reusing a spent token.
        with LocalStack(config) as again:
            send(again, event("evt_c3", "customer.created", 100, customer("cus_Int3")))
            drain(again)
        stats = sim.stats()
        assert len(sim.customers("tenant-r")) == 3
        assert stats["invalid_grant"] == 0 and stats["token_grants"]["refresh_token"] >= 2
