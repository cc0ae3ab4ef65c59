"""What the local webhook answered one request, in the words the dev console prints.

Every request gets a line, the refused ones most of all: a wrong signing secret is the most
common set-up mistake, and without a line for it the console stays silent while Stripe's
deliveries fail. The request's id, type and customer are read from its body only to label the
line; for a refused request they are unverified, and shown only when they look like Stripe's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from stripe_fortnox_sync.mapping.identity import customer_key, expandable_id

# A Stripe id or event type; anything else from an unverified body is not echoed to a terminal.
_LABEL = re.compile(r"[A-Za-z0-9_.#:\-]{1,100}")
# Longer bodies are not parsed just to label a console line.
MAX_LABELLED_BODY = 1 << 20
SIGNATURE_HINT = "the sender must sign with this stack's secret, shown when it started"


@dataclass(frozen=True)
class WebhookRequest:
    """One request to `POST /webhook` (or any path) and how it was answered."""

    status: int
    verdict: str  # accepted, ignored, rejected (4xx), failed (5xx)
    event_id: str = ""
    event_type: str = ""
    customer: str = ""
    # Why it was ignored or refused, as the answer said it.
    message: str = ""
    # The tenant its URL named ("" for tenant `default`'s `/webhook`).
    tenant: str = ""


def _label(value: object) -> str:
    text = str(value) if isinstance(value, str) else ""
    return text if _LABEL.fullmatch(text) else ""


def subject_of(event: dict[str, Any]) -> str:
    """The customer an event concerns, else its object's id: what the console calls it by."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    found = customer_key(event) or (expandable_id(obj.get("id")) if isinstance(obj, dict) else None)
    return _label(found)


def _event(body: bytes | None) -> dict[str, Any]:
    if not body or len(body) > MAX_LABELLED_BODY:
        return {}
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return event if isinstance(event, dict) else {}


def _answer(text: str) -> dict[str, Any]:
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return answer if isinstance(answer, dict) else {}


def signature_hint(tenant: str = "", secret_name: str = "") -> str:
    """What to do about a refused signature: on a tenant's URL, its own secret."""
    if not tenant:
        return SIGNATURE_HINT
    where = f" ({secret_name})" if secret_name else ""
    return (
        f"the sender must sign with tenant {tenant}'s own secret{where}; "
        f"`stripe-fortnox tenants set-stripe {tenant} --webhook-secret whsec_... --local` changes it"
    )


def event_account(body: bytes | None) -> str:
    """The Connect account an event names, as a label (unverified: never trusted for more)."""
    return _label(_event(body).get("account"))


def _verdict(status: int, answer: dict[str, Any], hint: str = SIGNATURE_HINT) -> tuple[str, str]:
    if status == 200 and "received" in answer:
        return "accepted", ""
    if status == 200:
        return "ignored", str(answer.get("ignored") or "")
    message = str(answer.get("error") or answer.get("message") or "")
    if status >= 500:
        return "failed", message
    if "signature" in message.lower():
        message = f"{message}; {hint}"
    return "rejected", message


def describe(
    status: int, body: bytes | None, answer_text: str, tenant: str = "", secret_name: str = ""
) -> WebhookRequest:
    """The console's view of one request: `body` as sent (None when it was never read); `tenant`
    the one its URL named, with its signing secret's name."""
    event = _event(body)
    verdict, message = _verdict(status, _answer(answer_text), signature_hint(tenant, secret_name))
    return WebhookRequest(
        status=status,
        verdict=verdict,
        event_id=_label(event.get("id")),
        event_type=_label(event.get("type")),
        customer=subject_of(event) if event else "",
        message=" ".join(message.split())[:300],
        tenant=tenant,
    )
