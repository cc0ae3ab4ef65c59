"""Decides what to do with one webhook request: refuse it, ignore it, or queue it.

Nothing here knows HTTP or AWS: it takes the raw body and the signature header, and hands
accepted events to a publisher port.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stripe import SignatureVerificationError, WebhookSignature

from .identity import checkout_email, expandable_id, guest_key

# The queue's MaximumMessageSize; SQS counts message attributes too, so leave them room.
QUEUE_MAX_MESSAGE_BYTES = 262_144
# What SQS refuses in a message body (it allows #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-).
_SQS_REFUSES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_BODY_BYTES = QUEUE_MAX_MESSAGE_BYTES - 2_048
SIGNATURE_TOLERANCE_SECONDS = 300


class EventPublisher(Protocol):
    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None: ...


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]
    # Why, for the log line and the metric; never sent to Stripe beyond `body`.
    reason: str = ""
    event_id: str | None = None
    event_type: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _refuse(status: int, message: str, reason: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": message}, reason=reason)


def stripe_customer_id(event: dict[str, Any]) -> str | None:
    """The Stripe customer an event concerns, used to serialise its processing."""
    obj = event.get("data", {}).get("object", {})
    if not isinstance(obj, dict):
        return None
    return expandable_id(obj.get("id") if obj.get("object") == "customer" else obj.get("customer"))


def _payment_of(obj: dict[str, Any]) -> str | None:
    """The payment a refund or charge belongs to: its PaymentIntent, else the charge."""
    charge = obj.get("charge") if obj.get("object") == "refund" else obj.get("id")
    value = expandable_id(obj.get("payment_intent")) or expandable_id(charge)
    return value[:128] if value else None


def message_group_id(event: dict[str, Any]) -> str:
    # FIFO order matters per customer only; events without one are independent of each other.
    obj = event.get("data", {}).get("object", {})
    if isinstance(obj, dict) and obj.get("object") in ("refund", "charge"):
        # charge.refunded and refund.* name the same refund (a refund names no customer): one
        # group, so they never race to credit it twice.
        payment = _payment_of(obj)
        if payment:
            return payment
    customer = stripe_customer_id(event)
    if customer:
        return customer
    if isinstance(obj, dict) and obj.get("object") == "checkout.session":
        email = checkout_email(obj)
        if email:
            # Guests are keyed by e-mail: two checkouts by one buyer must not race to create.
            return guest_key(email)
    obj_id = obj.get("id") if isinstance(obj, dict) else None
    return str(obj_id or event["id"])[:128]


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "the body is not a JSON object"
    if event.get("object") != "event":
        return 'the body is not a Stripe event (object != "event")'
    if not isinstance(event.get("id"), str) or not event["id"].startswith("evt_"):
        return "the event has no evt_ id"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return "the event has no type"
    if not isinstance(event.get("created"), int) or isinstance(event.get("created"), bool):
        return "the event has no created timestamp"
    if not isinstance(event.get("livemode"), bool):
        return "the event has no livemode flag"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "the event has no data.object"
    return None


def verify_signature(payload: str, header: str | None, secrets: Sequence[str]) -> str | None:
    """None when any of `secrets` signed `payload` recently enough, else why not."""
    if not header:
        return "missing Stripe-Signature header"
    problem = "signature does not match"
    for secret in secrets:
        try:
            # verify_header checks the HMAC and the timestamp without building a StripeObject,
            # which is most of construct_event's cost.
            WebhookSignature.verify_header(payload, header, secret, SIGNATURE_TOLERANCE_SECONDS)
            return None
        except SignatureVerificationError as exc:
            text = str(exc)
            if "tolerance" in text:
                problem = "signature timestamp is too old (replayed or delayed request)"
            elif "extract" in text or "scheme" in text:
                problem = "malformed Stripe-Signature header"
    return problem


def handle_webhook(
    raw_body: bytes,
    signature: str | None,
    secrets: Sequence[str],
    *,
    livemode: bool,
    event_types: Sequence[str],
    publisher: EventPublisher,
) -> WebhookResponse:
    if len(raw_body) > MAX_BODY_BYTES:
        return _refuse(413, f"body is larger than {MAX_BODY_BYTES} bytes", "too_large")
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8", "bad_encoding")
    problem = verify_signature(payload, signature, secrets)
    if problem:
        return _refuse(400, problem, "bad_signature")
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        return _refuse(400, "body is not JSON", "bad_body")
    problem = _event_problem(event)
    if problem:
        return _refuse(400, problem, "not_an_event")

    event_id, event_type = event["id"], event["type"]

    def ignored(message: str, reason: str) -> WebhookResponse:
        # 200, so Stripe stops delivering what this stack must never act on.
        return WebhookResponse(
            200, {"ignored": message}, reason=reason, event_id=event_id, event_type=event_type
        )

    if event["livemode"] != livemode:
        mode, stack = ("live" if event["livemode"] else "test"), ("live" if livemode else "test")
        return ignored(f"{mode}-mode event sent to a {stack}-mode stack", "livemode_mismatch")
    if event_type not in event_types:
        return ignored(f"event type {event_type} is not handled", "unhandled_type")
    if _SQS_REFUSES.search(payload):
        # SQS refuses these characters; JSON escapes keep the event as it is.
        payload = json.dumps(event)
        if len(payload.encode()) > MAX_BODY_BYTES:
            return _refuse(
                413, f"body is larger than {MAX_BODY_BYTES} bytes once escaped for SQS", "too_large"
            )
    # Any failure here propagates: the caller answers 500 so Stripe delivers again.
    publisher.publish(
        payload,
        group_id=message_group_id(event),
        dedup_id=event_id,
        attributes={"event_type": event_type},
    )
    return WebhookResponse(
        200, {"received": event_id}, reason="accepted", event_id=event_id, event_type=event_type
    )
