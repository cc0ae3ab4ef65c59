from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from stripe import WebhookSignature

from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES, message_group_id
from stripe_fortnox_sync.webhook.accept import WebhookResponse, handle_webhook
from stripe_fortnox_sync.webhook.envelope import MAX_BODY_BYTES
from tests.builders import event
from tests.fakes import FakeQueue

SECRET = "whsec_test_one"
OLD_SECRET = "whsec_test_old"


def sign(body: str, secret: str = SECRET, at: int | None = None) -> str:
    header: str = WebhookSignature.generate_signature_header(body, secret, timestamp=at)
    return header


def call(
    body: str | bytes, header: str | None, publisher: FakeQueue | None = None, livemode: bool = False
) -> tuple[WebhookResponse, FakeQueue]:
    publisher = publisher if publisher is not None else FakeQueue()
    raw = body.encode() if isinstance(body, str) else body
    response = handle_webhook(
        raw,
        header,
        [SECRET, OLD_SECRET],
        livemode=livemode,
        event_types=SUPPORTED_TYPES,
        publisher=publisher,
    )
    return response, publisher


def test_valid_event_is_queued_by_customer_with_event_id_as_dedup_key() -> None:
    body = json.dumps(event())
    response, publisher = call(body, sign(body))
    assert response.status == 200 and response.body == {"received": "evt_1"}
    assert publisher.sent == [
        {"body": body, "group": "cus_1", "dedup": "evt_1", "attributes": {"event_type": "customer.created"}}
    ]


def test_any_of_several_secrets_is_accepted_while_rolling() -> None:
    body = json.dumps(event())
    response, publisher = call(body, sign(body, OLD_SECRET))
    assert response.status == 200 and len(publisher.sent) == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Stripe-Signature header"),
        ("", "missing Stripe-Signature header"),
        ("garbage", "malformed Stripe-Signature header"),
        ("t=123", "malformed Stripe-Signature header"),
        ("t=1,v1=deadbeef", "signature does not match"),
    ],
)
def test_bad_signatures_are_refused_and_never_queued(header: str | None, message: str) -> None:
    response, publisher = call(json.dumps(event()), header)
    assert (response.status, response.body) == (400, {"error": message}) and publisher.sent == []


def test_signature_for_another_body_is_refused() -> None:
    response, publisher = call(json.dumps(event()), sign(json.dumps(event(id="evt_2"))))
    assert response.status == 400 and publisher.sent == []


def test_replayed_old_signature_is_refused() -> None:
    body = json.dumps(event())
    response, publisher = call(body, sign(body, at=int(time.time()) - 301))
    assert response.status == 400 and "too old" in response.body["error"] and publisher.sent == []


def test_signature_from_unknown_secret_is_refused() -> None:
    body = json.dumps(event())
    response, _ = call(body, sign(body, "whsec_attacker"))
    assert response.status == 400


def test_non_utf8_body_is_refused() -> None:
    body = b"\xff\xfe{}"
    now = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    response, publisher = call(body, f"t={now},v1={digest}")
    assert response.body == {"error": "body is not UTF-8"} and publisher.sent == []


def test_an_unsigned_non_utf8_body_is_refused_for_its_signature_first() -> None:
    response, publisher = call(b"\xff\xfe{}", "t=1,v1=00")
    assert response.body == {"error": "signature does not match"} and publisher.sent == []


def test_too_large_body_is_413() -> None:
    body = json.dumps(event(pad="x" * MAX_BODY_BYTES))
    response, publisher = call(body, sign(body))
    assert response.status == 413 and publisher.sent == []


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        json.dumps({"hello": "world"}),
        json.dumps(event(object="customer")),
        json.dumps(event(id="cus_1")),
        json.dumps({**event(), "created": "yesterday"}),
        json.dumps({**event(), "livemode": "false"}),
        json.dumps(event(data={"object": "cus_1"})),
        json.dumps(event(type=None)),
    ],
)
def test_signed_non_events_are_400(payload: str) -> None:
    response, publisher = call(payload, sign(payload))
    assert response.status == 400 and "error" in response.body and publisher.sent == []


def test_other_livemode_is_ignored_not_queued() -> None:
    body = json.dumps(event(livemode=True))
    response, publisher = call(body, sign(body))
    assert response.status == 200 and "ignored" in response.body and publisher.sent == []
    response, publisher = call(json.dumps(event()), sign(json.dumps(event())), livemode=True)
    assert response.status == 200 and "test-mode event" in response.body["ignored"] and publisher.sent == []


def test_unhandled_type_is_ignored_not_queued() -> None:
    body = json.dumps(event(type="charge.succeeded"))
    response, publisher = call(body, sign(body))
    assert response.body == {"ignored": "event type charge.succeeded is not handled"} and publisher.sent == []


def test_queue_failure_propagates_so_the_handler_answers_500() -> None:
    body = json.dumps(event())
    with pytest.raises(RuntimeError):
        call(body, sign(body), FakeQueue(down=True))


# The route table names each type's FIFO group key; these are the types each object arrives in.
TYPE_OF = {
    "customer": "customer.updated",
    "tax_id": "customer.tax_id.created",
    "subscription": "customer.subscription.created",
    "checkout.session": "checkout.session.completed",
    "refund": "refund.created",
    "charge": "charge.refunded",
    "payment_intent": "payment_intent.succeeded",
}


@pytest.mark.parametrize(
    ("obj", "group"),
    [
        ({"object": "customer", "id": "cus_9"}, "cus_9"),
        ({"object": "tax_id", "id": "txi_1", "customer": "cus_8"}, "cus_8"),
        ({"object": "subscription", "id": "sub_1", "customer": {"id": "cus_7"}}, "cus_7"),
        ({"object": "checkout.session", "id": "cs_1", "customer": None}, "cs_1"),
    ],
)
def test_message_group_is_the_customer(obj: dict[str, Any], group: str) -> None:
    assert message_group_id(event(type=TYPE_OF[obj["object"]], data={"object": obj})) == group


def test_guest_checkouts_by_one_buyer_share_a_group() -> None:
    a = {
        "object": "checkout.session",
        "id": "cs_1",
        "customer": None,
        "customer_details": {"email": "A@x.se"},
    }
    b = {
        "object": "checkout.session",
        "id": "cs_2",
        "customer": None,
        "customer_details": {"email": "a@x.se"},
    }
    kind = "checkout.session.completed"
    group = message_group_id(event(type=kind, data={"object": a}))
    assert group.startswith("guest#") and group == message_group_id(event(type=kind, data={"object": b}))
    assert "a@x.se" not in group


def test_characters_sqs_refuses_are_escaped_not_a_500() -> None:
    body = json.dumps(
        event(data={"object": {"id": "cus_1", "object": "customer", "name": "A\uffffB"}}), ensure_ascii=False
    )
    response, publisher = call(body, sign(body))
    assert response.status == 200
    queued = publisher.sent[0]["body"]
    assert "\uffff" not in queued and json.loads(queued)["data"]["object"]["name"] == "A\uffffB"


@pytest.mark.parametrize(
    ("obj", "group"),
    [
        ({"object": "refund", "id": "re_1", "payment_intent": "pi_1", "charge": "ch_1"}, "pi_1"),
        ({"object": "refund", "id": "re_1", "payment_intent": {"id": "pi_2"}, "charge": "ch_1"}, "pi_2"),
        ({"object": "refund", "id": "re_1", "payment_intent": None, "charge": "ch_3"}, "ch_3"),
        ({"object": "refund", "id": "re_1", "payment_intent": None, "charge": {"id": "ch_4"}}, "ch_4"),
        ({"object": "charge", "id": "ch_1", "payment_intent": "pi_5", "customer": "cus_1"}, "pi_5"),
        ({"object": "charge", "id": "ch_6", "payment_intent": None, "customer": "cus_1"}, "ch_6"),
        # A guest's PaymentIntent (no customer) is in the group of its refunds.
        ({"object": "payment_intent", "id": "pi_8", "customer": None}, "pi_8"),
        # A refund that names no payment at all falls back to its own id.
        ({"object": "refund", "id": "re_7", "payment_intent": None, "charge": None}, "re_7"),
    ],
)
def test_refunds_and_charges_are_grouped_by_their_payment(obj: dict[str, Any], group: str) -> None:
    assert message_group_id(event(type=TYPE_OF[obj["object"]], data={"object": obj})) == group


@pytest.mark.parametrize("intent", ["pi_9", None])
def test_a_refund_and_the_refunded_charge_of_one_payment_share_a_group(intent: str | None) -> None:
    refund = {"object": "refund", "id": "re_1", "payment_intent": intent, "charge": "ch_9"}
    charge = {"object": "charge", "id": "ch_9", "payment_intent": intent, "customer": "cus_1"}
    created = message_group_id(event(type="refund.created", data={"object": refund}))
    refunded = message_group_id(event(id="evt_2", type="charge.refunded", data={"object": charge}))
    assert created == refunded == (intent or "ch_9")


def test_a_refund_event_is_queued_in_its_payment_group() -> None:
    obj = {"object": "refund", "id": "re_1", "payment_intent": "pi_1", "charge": "ch_1"}
    body = json.dumps(event(type="refund.created", data={"object": obj}))
    response, publisher = call(body, sign(body))
    assert response.status == 200 and publisher.sent[0]["group"] == "pi_1"
