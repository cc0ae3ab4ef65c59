"""What the webhook and the refund handler tell an operator about types the stack does not act on:
"not enabled here, and how to enable it" is not "not handled", and nothing already enabled is
advised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stripe import WebhookSignature

from stripe_fortnox_sync.core.models import Outcome, StripeEvent
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync import refunds
from stripe_fortnox_sync.sync.context import Context
from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES, OPT_IN_TYPES
from stripe_fortnox_sync.webhook.accept import WebhookResponse, handle_webhook

SECRET = "whsec_wording"


class Publisher:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None:
        self.sent.append(body)


def answer(event_type: str, enabled: tuple[str, ...] = DEFAULT_TYPES) -> tuple[WebhookResponse, Publisher]:
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": event_type,
            "created": 1_700_000_000,
            "livemode": False,
            "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}},
        }
    )
    publisher = Publisher()
    header = WebhookSignature.generate_signature_header(body, SECRET)
    response = handle_webhook(
        body.encode(), header, [SECRET], livemode=False, event_types=enabled, publisher=publisher
    )
    return response, publisher


@pytest.mark.parametrize("event_type", OPT_IN_TYPES)
def test_an_opt_in_type_not_enabled_says_how_to_enable_it(event_type: str) -> None:
    response, publisher = answer(event_type)
    assert response.status == 200 and publisher.sent == []
    how = "opt-in: add it to EnabledEventTypes"
    assert response.body == {"ignored": f"event type {event_type} is not enabled on this stack ({how})"}
    assert response.reason == "type_not_enabled"


def test_a_default_type_left_out_of_enabled_types_says_so() -> None:
    response, _ = answer("customer.deleted", enabled=("customer.created",))
    assert response.body["ignored"] == (
        "event type customer.deleted is not enabled on this stack (add it back to EnabledEventTypes)"
    )
    assert response.reason == "type_not_enabled"


def test_an_unsupported_type_is_still_not_handled() -> None:
    response, _ = answer("charge.succeeded")
    assert response.body == {"ignored": "event type charge.succeeded is not handled"}
    assert response.reason == "unhandled_type"


def _charge_refunded() -> StripeEvent:
    charge: dict[str, Any] = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "refunds": None}
    return StripeEvent("evt_r", "charge.refunded", 1_700_000_000, False, charge)


def _context(enabled: set[str]) -> Context:
    # Only what an unlisted charge.refunded reaches: invoicing on, no Stripe key, no observer.
    return Context(
        settings=Settings(),
        enabled=frozenset(enabled),
        customers=None,  # type: ignore[arg-type]
        fortnox=None,  # type: ignore[arg-type]
        invoices=object(),  # type: ignore[arg-type]
    )


def test_an_unlisted_refund_does_not_advise_enabling_refund_created_when_it_is() -> None:
    result = refunds.charge_refunded(_context({"charge.refunded", "refund.created"}), _charge_refunded())
    assert result.outcome is Outcome.IGNORED and result.stripe_id == "ch_1"
    assert "enable refund.created" not in result.detail
    assert result.detail == "refunds not listed in the event; each is credited by its own refund.created"


def test_an_unlisted_refund_advises_refund_created_when_it_is_not_enabled() -> None:
    result = refunds.charge_refunded(_context({"charge.refunded"}), _charge_refunded())
    assert result.detail == "refunds not listed in the event: enable refund.created or give a Stripe API key"
