"""Issue 13: nobody outside makes us answer 500, and no accepted event gets stuck without a reason.

Each finding of the hostile run has a test here: the webhook answers 4xx for whatever it cannot
verify or read, and the sync parks what it cannot apply with reason `invalid_event` at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe import WebhookSignature

from stripe_fortnox_sync.adapters.aws.errors import transient as aws_transient
from stripe_fortnox_sync.core.errors import FortnoxError, StripeUnavailable, WaitingForInvoice
from stripe_fortnox_sync.core.models import HINT_KEY, Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.payload import MAX_DEPTH, PayloadError, parse_event, value_problem
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from stripe_fortnox_sync.sync.service import SyncService
from stripe_fortnox_sync.webhook.accept import WebhookResponse, handle_webhook
from tests import builders
from tests.fakes import FakeQueue

SECRET = "whsec_test_secret"


def event(obj: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """An event created now, of `obj` (a customer by default)."""
    return builders.event(created=int(time.time()), obj=obj, **fields)


def send(
    body: str | bytes, header: str | None = None, at: int | None = None
) -> tuple[WebhookResponse, FakeQueue]:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if header is None:
        header = WebhookSignature.generate_signature_header(
            raw.decode("utf-8", "surrogatepass"), SECRET, timestamp=at
        )
    publisher = FakeQueue()
    response = handle_webhook(
        raw, header, [SECRET], livemode=False, event_types=SUPPORTED_TYPES, publisher=publisher
    )
    return response, publisher


# 1. Unsigned requests never cause a 500 --------------------------------------------------------


@pytest.mark.parametrize("value", ["é", "\u2603" * 64, "\udc80", "日本"])
@pytest.mark.parametrize("field", ["t", "v1"])
def test_a_non_ascii_signature_value_is_a_400(field: str, value: str) -> None:
    header = f"t={value},v1={'0' * 64}" if field == "t" else f"t=1,v1={value}"
    response, publisher = send(json.dumps(event()), header)
    assert response.status == 400 and publisher.sent == []


# 2. Signed bodies that answered 500 ----------------------------------------------------------------


def test_json_nested_ten_thousand_deep_is_a_400() -> None:
    body = '{"a":' * 10_000 + "1" + "}" * 10_000
    response, publisher = send(body)
    assert response.status == 400 and "nested" in response.body["error"] and publisher.sent == []


@pytest.mark.parametrize("details", ["a string", 42, ["a", "list"], None, {"email": 7}])
def test_a_checkout_without_customer_and_odd_customer_details_is_queued_not_a_500(details: Any) -> None:
    session = {"id": "cs_1", "object": "checkout.session", "customer": None, "customer_details": details}
    response, publisher = send(json.dumps(event(session, type="checkout.session.completed")))
    assert response.status == 200 and publisher.sent[0]["group"] == "cs_1"


def test_an_email_holding_a_lone_surrogate_is_a_400() -> None:
    session = {"id": "cs_1", "object": "checkout.session", "customer_details": {"email": "a\ud800@x.se"}}
    body = json.dumps(event(session, type="checkout.session.completed"))  # "\ud800" stays escaped
    response, publisher = send(body)
    assert response.status == 400 and "surrogate" in response.body["error"] and publisher.sent == []


@pytest.mark.parametrize("customer_id", ["cus_" + "x" * 300, "cus_ å", "cus_\t1"])
def test_a_customer_id_sqs_would_refuse_as_a_group_still_gets_a_stable_group(customer_id: str) -> None:
    first, publisher = send(json.dumps(event({"id": customer_id, "object": "customer"})))
    again, second = send(json.dumps(event({"id": customer_id, "object": "customer"}, id="evt_2")))
    assert first.status == again.status == 200
    assert publisher.sent[0]["group"] == second.sent[0]["group"]


# 3. Values that got stuck in the sync are refused at the door ----------------------------------------


@pytest.mark.parametrize(
    "raw_value",
    ["NaN", "Infinity", "-Infinity", "1e20", "1e30", str(2**63), str(-(2**63)), "1e400"],
)
def test_numbers_outside_what_stripe_sends_are_a_400(raw_value: str) -> None:
    body = json.dumps(event({"id": "in_1", "object": "invoice", "customer": "cus_1", "total": 0}))
    body = body.replace('"total": 0', f'"total": {raw_value}')
    response, publisher = send(body)
    assert response.status == 400 and publisher.sent == []


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 2_000])
def test_metadata_nested_deeper_than_stripe_ever_does_is_a_400(depth: int) -> None:
    nested: Any = "x"
    for _ in range(depth):
        nested = {"k": nested}
    obj = {"id": "cus_1", "object": "customer", "metadata": nested}
    response, publisher = send(json.dumps(event(obj)))
    assert response.status == 400 and publisher.sent == []


def test_an_event_id_holding_a_lone_surrogate_is_a_400() -> None:
    response, publisher = send(json.dumps(event(id="evt_\ud800")))
    assert response.status == 400 and publisher.sent == []


# 4. Future-dated signatures ------------------------------------------------------------------------


def test_a_signature_dated_a_day_ahead_is_refused() -> None:
    response, publisher = send(json.dumps(event()), at=int(time.time()) + 86_400)
    assert response.status == 400 and "future" in response.body["error"] and publisher.sent == []


# 5. The operator-only sync hint ----------------------------------------------------------------------


def test_a_sync_hint_in_a_signed_event_is_dropped_before_queueing() -> None:
    hint = {"source": "backfill", "match_checked": True, "fortnox_number": "1", "force": True}
    response, publisher = send(json.dumps({**event(), HINT_KEY: hint}))
    assert response.status == 200
    queued = json.loads(publisher.sent[0]["body"])
    assert HINT_KEY not in queued and StripeEvent.from_dict(queued).hint is None


# Whatever the bytes ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from(SUPPORTED_TYPES), obj=st.dictionaries(st.text(max_size=12), json_values, max_size=8)
)
def test_any_signed_event_of_a_handled_type_is_answered_below_500(kind: str, obj: dict[str, Any]) -> None:
    body = json.dumps(event(obj, type=kind), allow_nan=True)
    response, _ = send(body)
    assert response.status in (200, 400, 413)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=400))
def test_any_signed_bytes_are_answered_below_500(raw: bytes) -> None:
    stamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    response, _ = send(raw, f"t={stamp},v1={mac}")
    assert response.status in (200, 400, 413)


# The sync: everything is either applied, retried for a reason outside, or parked with a reason --------


class Raising:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __call__(self, event: StripeEvent) -> SyncResult:
        raise self.error


def _service(error: BaseException, parker: FakeQueue) -> SyncService:
    return SyncService(Settings(), lambda: Raising(error), parker, None, transient=aws_transient)


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


@pytest.mark.parametrize(
    "error",
    [
        TypeError("unhashable type: 'dict'"),
        OverflowError("timestamp out of range"),
        RecursionError("maximum recursion depth exceeded"),
        KeyError("total"),
        _client_error("ValidationException"),
    ],
)
def test_an_event_the_code_cannot_apply_is_parked_at_once_as_invalid_event(error: BaseException) -> None:
    parker = FakeQueue()
    result = _service(error, parker).handle(json.dumps(event()))
    assert result.outcome is Outcome.FAILED
    (parked,) = parker.sent
    assert parked["attributes"]["failure_reason"] == "invalid_event"
    assert type(error).__name__ in parked["attributes"]["failure_message"]


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("InternalServerError"),
        EndpointConnectionError(endpoint_url="https://dynamodb.eu-north-1.amazonaws.com"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_an_aws_or_network_failure_is_retried_not_parked(error: BaseException) -> None:
    parker = FakeQueue()
    with pytest.raises(type(error)):
        _service(error, parker).handle(json.dumps(event()))
    assert parker.sent == []


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(event()).replace('"livemode": false', '"livemode": false, "x": NaN'),
        json.dumps(event({"id": "cus_1", "object": "customer", "m": {"k": {"k": {"k": 1}}}})).replace(
            '{"k": 1}', "[" * 40 + "1" + "]" * 40
        ),
        json.dumps(event(id="evt_\ud800")),
    ],
)
def test_a_queued_message_that_is_no_valid_event_is_parked_as_invalid_event(body: str) -> None:
    parker = FakeQueue()
    result = _service(RuntimeError("never applied"), parker).handle(body)
    assert result.outcome is Outcome.FAILED
    assert parker.sent[0]["attributes"]["failure_reason"] == "invalid_event"


def test_the_payload_rules_accept_stripes_own_fixtures() -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    for path in sorted(fixtures.glob("*.json")):
        obj = json.loads(path.read_text())
        assert parse_event(json.dumps(event(obj)))["data"]["object"] == obj, path.name


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (WaitingForInvoice("payment pi_1 has no Fortnox invoice yet"), "waiting_for_invoice"),
        (StripeUnavailable("Stripe API unavailable: APIConnectionError"), "stripe_unavailable"),
        (FortnoxError("down", status=503), "fortnox_server_error"),
        (_client_error("ThrottlingException"), "unavailable"),
    ],
)
def test_on_the_last_receive_a_retried_failure_is_parked_with_its_reason(
    error: Exception, reason: str
) -> None:
    parker = FakeQueue()
    service = _service(error, parker)
    with pytest.raises(type(error)):
        service.handle(json.dumps(event()), receive_count=4)
    result = service.handle(json.dumps(event()), receive_count=5)
    assert result.outcome is Outcome.FAILED
    (parked,) = parker.sent
    assert parked["attributes"]["failure_reason"] == reason
    assert "receive 5" in parked["attributes"]["failure_message"]


# The fast checks riding on the parse say what the plain walk over the parsed value says ----------

surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\U0001f600", r"\ud800", "x"])
tricky_text = st.lists(surrogates | st.text(max_size=3), max_size=5).map("".join)
tricky_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=tricky_values, ascii_only=st.booleans())
def test_parse_event_refuses_exactly_what_the_reference_walk_refuses(value: Any, ascii_only: bool) -> None:
    envelope = event({"id": "cus_1", "object": "customer", "metadata": {"v": value}})
    text = json.dumps(envelope, ensure_ascii=ascii_only, allow_nan=True)
    # What the text means: JSON joins an escaped surrogate pair into one character.
    expected = value_problem(json.loads(text))
    try:
        parsed = parse_event(text)
    except PayloadError:
        assert expected is not None, text[:200]
    else:
        assert expected is None, expected
        assert parsed == json.loads(text)


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        (r'"\\ud800"', False),  # an escaped backslash, then the letters ud800
        (r'"\\\ud800"', True),  # an escaped backslash, then a real escape
        (r'"\ud83d\ude00"', False),  # a pair: one emoji
        (r'"\ude00\ud83d"', True),  # the pair the wrong way round
        (r'"\uD800x"', True),
    ],
)
def test_surrogate_escapes_are_told_apart_by_the_backslashes_before_them(text: str, lone: bool) -> None:
    envelope = json.dumps(event({"id": "cus_1", "object": "customer"})).replace('"cus_1"', text, 1)
    if lone:
        with pytest.raises(PayloadError, match="surrogate"):
            parse_event(envelope)
    else:
        parse_event(envelope)
