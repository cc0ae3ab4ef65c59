"""Keys that identify a Stripe customer on our side, including guests who have no Customer object,
and the readers of Stripe's nested and expandable fields they rest on."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any


def guest_key(email: str) -> str:
    """The mapping key of a guest checkout's buyer: by e-mail, hashed so no address is stored."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return f"guest#{digest}"


def checkout_email(session: Mapping[str, Any]) -> str | None:
    details = session.get("customer_details")
    email = (details.get("email") if isinstance(details, Mapping) else None) or session.get("customer_email")
    return str(email).strip() if isinstance(email, str) and email.strip() else None


def as_mapping(value: object) -> Mapping[str, Any]:
    """A nested Stripe object, or {} for anything else: Stripe sends null, {} or an object alike."""
    return value if isinstance(value, Mapping) else {}


def expandable_id(value: object) -> str | None:
    """The id in an expandable Stripe field, whether it came as the id or as the expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


# FIFO message groups --------------------------------------------------------------------------
# Order matters per customer (and per payment for refunds) only: events of different groups run in
# parallel, events of one group one after another. Each route names the key its events group by.
GroupKey = Callable[[Mapping[str, Any]], "str | None"]


def _object(event: Mapping[str, Any]) -> Mapping[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    return obj if isinstance(obj, Mapping) else {}


def customer_key(event: Mapping[str, Any]) -> str | None:
    """The Stripe customer an event concerns (the customer itself, or the object's `customer`)."""
    obj = _object(event)
    return expandable_id(obj.get("id") if obj.get("object") == "customer" else obj.get("customer"))


def payment_key(event: Mapping[str, Any]) -> str | None:
    """A refund's, dispute's or charge's payment (its PaymentIntent, else the charge), else its customer.

    charge.refunded and refund.* name the same refund (a refund names no customer): one group, so
    they never race to credit it twice; a lost dispute's credit queues behind the payment's refunds.
    """
    obj = _object(event)
    if obj.get("object") in ("refund", "charge", "dispute"):
        charge = obj.get("id") if obj.get("object") == "charge" else obj.get("charge")
        value = expandable_id(obj.get("payment_intent")) or expandable_id(charge)
        if value:
            return value[:128]
    return customer_key(event)


def payout_key(event: Mapping[str, Any]) -> str | None:
    """A payout's own id: its events (paid, reconciled, failed) book one voucher, one at a time."""
    obj = _object(event)
    return expandable_id(obj.get("id")) if obj.get("object") == "payout" else None


def buyer_key(event: Mapping[str, Any]) -> str | None:
    """The customer, else a guest checkout's e-mail key: two checkouts by one buyer must not race."""
    customer = customer_key(event)
    if customer:
        return customer
    obj = _object(event)
    email = checkout_email(obj) if obj.get("object") == "checkout.session" else None
    return guest_key(email) if email else None


def group_id(event: Mapping[str, Any], key: GroupKey) -> str:
    """The FIFO group: `key`'s answer, else the object's own id, else the event's."""
    found = key(event) or _object(event).get("id") or event["id"]
    return _sqs_safe(str(found))


# SQS takes 1-128 printable ASCII characters as a MessageGroupId.
_SQS_GROUP = re.compile(r"[!-~]{1,128}")


def _sqs_safe(value: str) -> str:
    if _SQS_GROUP.fullmatch(value):
        return value
    # Stripe's ids always fit; anything else keeps one stable group per value.
    return "h#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]
