"""Issue #4's triggers through the real handlers, moto and the simulator (and localstripe)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from tests.builders import event, ingrid_integration, tax_id
from tests.integration.stack import drain, enqueue, fortnox_customers, local_stack, outcomes, send, simulator

EVENTS = Path(__file__).resolve().parents[2] / "events" / "stripe"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    env = {"CUSTOMER_MATCH_RULE": "none", "PAYMENT_FAILURE_COMMENTS": "true"}
    with local_stack(tmp_path, extra_env=env) as running:
        yield running


def test_guest_checkout_then_customer_with_the_same_email_is_one_fortnox_customer(stack: LocalStack) -> None:
    guest = sample("09-checkout.session.completed-guest.json")
    real = sample("10-customer.created-after-guest-checkout.json")
    assert send(stack, guest)[0] == 200 and send(stack, real)[0] == 200
    drain(stack)
    (only,) = fortnox_customers(stack)
    assert only["ExternalReference"] == "cus_DemoGretaSE0001" and only["Name"] == "Greta Gäst"
    assert outcomes(stack) == {"evt_DemoGuestCheckout1": "created", "evt_DemoGretaCreated01": "updated"}


def test_tax_id_added_then_removed(stack: LocalStack) -> None:
    send(stack, event("evt_c", "customer.created", 100, ingrid_integration()))
    tax = tax_id(customer_id="cus_Int1", id="txi_1")
    send(stack, event("evt_t1", "customer.tax_id.created", 200, tax))
    drain(stack)
    (stored,) = fortnox_customers(stack)
    assert (stored["VATNumber"], stored["OrganisationNumber"], stored["Type"]) == (
        "SE556677889901",
        "556677-8899",
        "COMPANY",
    )
    send(stack, event("evt_t2", "customer.tax_id.deleted", 300, tax))
    drain(stack)
    (stored,) = fortnox_customers(stack)
    assert stored["VATNumber"] is None or stored["VATNumber"] == ""


def test_payment_failure_is_recorded_notified_and_commented(stack: LocalStack) -> None:
    send(stack, sample("02-customer.created-eu-business.json"))
    send(stack, sample("12-invoice.payment_failed.json"))
    drain(stack)
    (notice,) = stack.notifications()
    assert "1299.00 EUR" in notice["subject"] and "Berliner Bäckerei GmbH" in notice["message"]
    items = boto3.client("dynamodb").query(
        TableName=stack.outputs["ActivityTableName"],
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": "cus_DemoBerlinDE01"}},
    )["Items"]
    (entry,) = items
    assert entry["event_type"]["S"] == "invoice.payment_failed" and entry["amount"]["S"] == "1299.00 EUR"
    assert entry["attempt_count"]["N"] == "1"
    (stored,) = fortnox_customers(stack)
    assert "Stripe payment failed: 1299.00 EUR, invoice DEMO-0001, attempt 1" in stored["Comments"]


def test_subscription_for_an_unknown_customer_is_fetched_from_stripe(
    tmp_path: Path, localstripe: str
) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_triggers", base_addresses={"api": localstripe})
    made = client.v1.customers.create(
        params={
            "name": "Sara Subscriber",
            "email": "sara@example.se",
            "address": {"line1": "Abonnentvägen 1", "postal_code": "903 25", "city": "Umeå", "country": "SE"},
        }
    )
    with local_stack(tmp_path, stripe_api_key="sk_test_triggers", stripe_api_base=localstripe) as stack:
        subscription = {"id": "sub_1", "object": "subscription", "customer": made.id, "status": "active"}
        send(stack, event("evt_s1", "customer.subscription.created", int(time.time()), subscription))
        drain(stack)
        (stored,) = fortnox_customers(stack)
        assert stored["Name"] == "Sara Subscriber" and stored["City"] == "Umeå"
        assert stored["ExternalReference"] == made.id
        assert outcomes(stack) == {"evt_s1": "created"}


def test_invoice_paid_three_times_is_one_booked_paid_invoice(tmp_path: Path) -> None:
    with local_stack(tmp_path, extra_env={"ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES)}) as stack:
        paid = sample("14-invoice.paid.json")
        send(stack, sample("01-customer.created.json"))
        drain(stack)
        for _ in range(3):  # Stripe redelivers; the SQS dedup window is bypassed the third time
            send(stack, paid)
        enqueue(stack, json.dumps(paid), "cus_DemoAnnaSE0001", "later-redelivery")
        drain(stack)
        (invoice,) = simulator(stack).invoices()
        assert invoice["ExternalInvoiceReference1"] == "in_DemoAnnaRenewal01"
        # Stripe's total 309.25 SEK; Fortnox rounds SEK invoices to whole kronor and the payment
        # writes the round-off off, so the invoice is booked and fully paid.
        assert (invoice["Net"], invoice["TotalVAT"], invoice["Booked"], invoice["Balance"]) == (
            247.4,
            61.85,
            True,
            0.0,
        )
        assert len(simulator(stack).payments()) == 1
        seen = [e.outcome for e in stack.processed if e.event_id == "evt_DemoAnnaInvPaid001"]
        # A repeat finds the invoice done in Fortnox (by its external reference): nothing again.
        assert seen[0] == "created" and set(seen[1:]) <= {"unchanged"} and len(seen) >= 2
