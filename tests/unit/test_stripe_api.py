"""StripeApi sorts stripe-python's errors: unknown -> missing, a refused key -> parked, an outage -> retried.

The sorting is checked on the exceptions themselves, and once over HTTP against a tiny local server,
so that what stripe-python really raises for Stripe's answers (and a refused connection) is what
the sorting expects.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from stripe_fortnox_sync.adapters.stripe_api import StripeApi
from stripe_fortnox_sync.core.errors import PermanentEventError, StripeUnavailable
from tests.support import free_port


def _raise(exc: Exception) -> Callable[[], Any]:
    def call() -> Any:
        raise exc

    return call


def test_an_unknown_object_is_missing() -> None:
    api = StripeApi("rk_test_x")
    gone = stripe.InvalidRequestError(
        "No such refund: 're_x'", "id", code="resource_missing", http_status=404
    )
    assert api._call("the refund lookup", _raise(gone)) is None
    assert api._call("the refund list", _raise(gone), missing=[]) == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            stripe.InvalidRequestError("Invalid limit", "limit", code="parameter_invalid", http_status=400),
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
        stripe.APIConnectionError("Connection refused"),
        stripe.RateLimitError("Too many requests", http_status=429),
        stripe.APIError("Internal error", http_status=500),
    ],
)
def test_an_outage_is_retried(error: Exception) -> None:
    with pytest.raises(StripeUnavailable):
        StripeApi("rk_test_x")._call("the refund lookup", _raise(error))


# Over HTTP ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, Any]] = {}
    seen: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.seen.append((url.path, parse_qs(url.query)))
        status, body = self.answers.get(url.path, (404, _missing(url.path)))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _missing(path: str) -> dict[str, Any]:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such object: {path}",
            "param": "id",
        }
    }


def _list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": list(items), "has_more": False, "url": "/v1/x"}


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"answers": {}, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_over_http_unknown_objects_are_none_and_empty(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    api = StripeApi("rk_test_x", base)
    assert api.fetch_customer("cus_gone") is None
    assert api.refund("re_gone") is None
    assert api.checkout_line_items("cs_gone") == []


def test_over_http_a_refused_key_is_parked(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    handler.answers["/v1/refunds/re_1"] = (
        401,
        {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: rk_test_x"}},
    )
    with pytest.raises(PermanentEventError) as parked:
        StripeApi("rk_test_x", base).refund("re_1")
    assert parked.value.reason == "stripe_auth"


def test_over_http_an_unreachable_stripe_is_retried_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "_sleep_time_seconds", lambda self, n, *a: 0.0)
    api = StripeApi("rk_test_x", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(StripeUnavailable, match="APIConnectionError"):
        api.payment_intent("pi_1")


def test_over_http_the_payment_lookups_read_stripe_s_lists(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    handler.answers["/v1/invoice_payments"] = (
        200,
        _list(
            {
                "id": "inpay_1",
                "object": "invoice_payment",
                "invoice": "in_1",
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": "pi_1"},
            }
        ),
    )
    handler.answers["/v1/checkout/sessions"] = (200, _list({"id": "cs_1", "object": "checkout.session"}))
    api = StripeApi("rk_test_x", base)
    assert api.invoice_of("pi_1") == "in_1"
    assert api.payment_intent_of_invoice("in_1") == "pi_1"
    assert api.checkout_session_of("pi_1") == "cs_1"
    (by_intent, by_invoice, session) = handler.seen
    assert by_intent[1]["payment[payment_intent]"] == ["pi_1"] and by_invoice[1]["invoice"] == ["in_1"]
    assert session == ("/v1/checkout/sessions", {"payment_intent": ["pi_1"], "limit": ["1"]})
