"""StripeApi sorts stripe-python's errors: unknown -> missing, a refused key -> parked, an outage -> retried.

Checked here on the exceptions themselves; tests/integration/test_stripe_api_http.py checks it over
HTTP, so that what stripe-python really raises for Stripe's answers is what the sorting expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_fortnox_sync.adapters.stripe_api import StripeApi
from stripe_fortnox_sync.core.errors import PermanentEventError, StripeUnavailable

# stripe-python leaves these two constructors unannotated.
invalid_request: Callable[..., stripe.InvalidRequestError] = stripe.InvalidRequestError
connection_error: Callable[..., stripe.APIConnectionError] = stripe.APIConnectionError


def _raise(exc: Exception) -> Callable[[], Any]:
    def call() -> Any:
        raise exc

    return call


def test_an_unknown_object_is_missing() -> None:
    api = StripeApi("rk_test_x")
    gone = invalid_request("No such refund: 're_x'", "id", code="resource_missing", http_status=404)
    assert api._call("the refund lookup", _raise(gone)) is None
    assert api._call("the refund list", _raise(gone), missing=[]) == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            invalid_request("Invalid limit", "limit", code="parameter_invalid", http_status=400),
            "stripe_request",
        ),
        (stripe.AuthenticationError("Invalid API Key provided", http_status=401), "stripe_auth"),
        (stripe.PermissionError("The key lacks Refunds: Read", http_status=403), "stripe_auth"),
    ],
)
def test_what_a_human_must_fix_is_parked(error: Exception, reason: str) -> None:
    with pytest.raises(PermanentEventError) as parked:
        StripeApi("rk_test_x")._call("the refund lookup", _raise(error))
    assert parked.value.reason == reason and "the refund lookup" in str(parked.value)


@pytest.mark.parametrize(
    "error",
    [
        connection_error("Connection refused"),
        stripe.RateLimitError("Too many requests", http_status=429),
        stripe.APIError("Internal error", http_status=500),
    ],
)
def test_an_outage_is_retried(error: Exception) -> None:
    with pytest.raises(StripeUnavailable):
        StripeApi("rk_test_x")._call("the refund lookup", _raise(error))
