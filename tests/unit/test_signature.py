"""Our Stripe-Signature check against stripe's own: same answer for every header Stripe generates,
never an exception, and no timestamps from the future."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe import SignatureVerificationError, WebhookSignature

from stripe_fortnox_sync.webhook.verify import SIGNATURE_TOLERANCE_SECONDS, parse_header, verify_signature

SECRET = "whsec_current"
OLD = "whsec_previous"
PAYLOAD = '{"id": "evt_1", "object": "event", "name": "Åsa Öberg"}'


def stripe_accepts(
    payload: str, header: str, secret: str, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    try:
        return bool(WebhookSignature.verify_header(payload, header, secret, tolerance))
    except SignatureVerificationError:
        return False


def ours(payload: str, header: str | None, secrets: list[str], now: float | None = None) -> str | None:
    return verify_signature(payload.encode(), header, secrets, now=now)


def signed(payload: str = PAYLOAD, secret: str = SECRET, at: int | None = None) -> str:
    return str(WebhookSignature.generate_signature_header(payload, secret, timestamp=at))


@pytest.mark.parametrize("secrets", [[SECRET], [OLD, SECRET], [SECRET, OLD]])
def test_a_header_stripe_generates_is_accepted_with_any_of_the_secrets(secrets: list[str]) -> None:
    header = signed()
    assert stripe_accepts(PAYLOAD, header, SECRET)
    assert ours(PAYLOAD, header, secrets) is None


def test_a_header_signed_with_another_secret_is_refused_by_both() -> None:
    header = signed(secret="whsec_attacker")
    assert not stripe_accepts(PAYLOAD, header, SECRET)
    assert ours(PAYLOAD, header, [SECRET, OLD]) == "signature does not match"


def test_a_changed_body_is_refused_by_both() -> None:
    header = signed()
    tampered = PAYLOAD.replace("Åsa", "Eva")
    assert not stripe_accepts(tampered, header, SECRET)
    assert ours(tampered, header, [SECRET]) == "signature does not match"


def test_one_good_signature_among_several_is_enough_as_for_stripe() -> None:
    timestamp, good = signed().split(",")
    header = f"{timestamp},v1={'0' * 64},v0=abc,{good}"
    assert stripe_accepts(PAYLOAD, header, SECRET)
    assert ours(PAYLOAD, header, [SECRET]) is None


@pytest.mark.parametrize("age", [0, 60, SIGNATURE_TOLERANCE_SECONDS - 5])
def test_recent_timestamps_are_accepted_like_stripe(age: int) -> None:
    header = signed(at=int(time.time()) - age)
    assert stripe_accepts(PAYLOAD, header, SECRET)
    assert ours(PAYLOAD, header, [SECRET]) is None


def test_an_old_timestamp_is_refused_like_stripe() -> None:
    header = signed(at=int(time.time()) - SIGNATURE_TOLERANCE_SECONDS - 60)
    assert not stripe_accepts(PAYLOAD, header, SECRET)
    assert "too old" in str(ours(PAYLOAD, header, [SECRET]))


@pytest.mark.parametrize("ahead", [SIGNATURE_TOLERANCE_SECONDS + 60, 86_400])
def test_a_timestamp_from_the_future_is_refused_though_stripe_takes_it(ahead: int) -> None:
    header = signed(at=int(time.time()) + ahead)
    assert stripe_accepts(PAYLOAD, header, SECRET)  # stripe only looks backwards
    assert "in the future" in str(ours(PAYLOAD, header, [SECRET]))


def test_a_little_clock_skew_ahead_is_tolerated() -> None:
    now = time.time()
    assert ours(PAYLOAD, signed(at=int(now) + 30), [SECRET], now=now) is None


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "missing Stripe-Signature header"),
        ("", "missing Stripe-Signature header"),
        ("garbage", "malformed Stripe-Signature header"),
        ("v1=" + "0" * 64, "malformed Stripe-Signature header"),
        ("t=123", "malformed Stripe-Signature header"),
        ("t=abc,v1=" + "0" * 64, "malformed Stripe-Signature header"),
        ("t=1,v1=é", "signature does not match"),
        ("t=١٢٣,v1=" + "0" * 64, "malformed Stripe-Signature header"),
        ("t=1,v1=" + "\udc80" * 3, "signature does not match"),
        ("t=" + "9" * 40 + ",v1=00", "malformed Stripe-Signature header"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason_never_an_exception(header: str | None, why: str) -> None:
    assert ours(PAYLOAD, header, [SECRET]) == why


def test_the_non_ascii_header_that_made_stripe_raise_type_error() -> None:
    # stripe's check raises TypeError here (hmac.compare_digest on non-ASCII text): the old 500.
    with pytest.raises(TypeError):
        WebhookSignature.verify_header(PAYLOAD, "t=1,v1=é", SECRET, SIGNATURE_TOLERANCE_SECONDS)
    assert ours(PAYLOAD, "t=1,v1=é", [SECRET]) == "signature does not match"


def test_a_very_long_header_is_malformed() -> None:
    assert ours(PAYLOAD, signed() + ",v0=" + "a" * 5000, [SECRET]) == "malformed Stripe-Signature header"


def test_the_first_timestamp_counts_as_for_stripe() -> None:
    header = signed()
    later = f"{header},t=1"
    assert stripe_accepts(PAYLOAD, later, SECRET)
    assert ours(PAYLOAD, later, [SECRET]) is None
    parsed = parse_header(later)
    assert parsed is not None and parsed[0] == int(header[2:].split(",")[0])


@settings(max_examples=300, deadline=None)
@given(header=st.text(max_size=200))
def test_any_header_gets_an_answer_and_never_one_stripe_would_refuse(header: str) -> None:
    answer = ours(PAYLOAD, header, [SECRET])
    assert answer is None or isinstance(answer, str)
    if answer is None:
        assert stripe_accepts(PAYLOAD, header, SECRET)


@settings(max_examples=200, deadline=None)
@given(
    payload=st.text(max_size=300),
    offset=st.integers(min_value=-SIGNATURE_TOLERANCE_SECONDS + 5, max_value=0),
    secret=st.sampled_from([SECRET, OLD]),
)
def test_every_recent_stripe_signature_is_accepted(payload: str, offset: int, secret: str) -> None:
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError:
        return  # a body with a lone surrogate never arrives as UTF-8 bytes
    header = signed(payload, secret, at=int(time.time()) + offset)
    assert stripe_accepts(payload, header, secret)
    assert ours(payload, header, [SECRET, OLD]) is None
