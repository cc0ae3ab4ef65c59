"""Scenario 5: hostile requests at the webhook, generated with hypothesis.

Every request goes through the real webhook Lambda handler as API Gateway (HTTP API, payload
2.0) calls it, with the local stack's SQS behind it. Refused requests must get a 4xx with a
readable `error`, never a 5xx, and never put anything on the queue; correctly signed events
of the other livemode or of types the stack does not handle get 200 `ignored`, unqueued.

The property runs inside the scenario (not as a pytest test of its own), so the report can show
how many cases of each kind ran; violations are collected, not raised, for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from stripe_fortnox_cli.local.events import api_gateway_event
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from stripe_fortnox_sync.webhook.envelope import MAX_BODY_BYTES
from tests.builders import event

from .harness import SECRET, Counts, Pipeline, pipeline
from .stripe_data import customer

# Stripe event types the stack does not handle (checked against the supported list at run time,
# which grows as issues add triggers).
OTHER_TYPES = tuple(
    t
    for t in (
        "invoice.paid",
        "invoice.finalized",
        "charge.succeeded",
        "charge.refunded",
        "payment_intent.created",
        "payment_intent.succeeded",
        "product.updated",
        "price.created",
        "customer.source.created",
        "customer.discount.created",
        "account.updated",
        "payout.paid",
        "setup_intent.succeeded",
        "radar.early_fraud_warning.created",
    )
    if t not in SUPPORTED_TYPES
)
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/octet-stream",
    "",
)
MAX_MESSAGE_LENGTH = 300  # a clear message is a sentence, not an echo of the body


@dataclass(frozen=True)
class Case:
    kind: str
    body: bytes
    signature: str | None
    content_type: str
    expect: str  # "refused": 4xx with an error; "ignored": 200 ignored; "queued": 200 received
    text_body: str | None = None  # API Gateway passed the body as text instead of base64
    base64_body: str | None = None  # the (possibly broken) base64 API Gateway passed


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    # "kind: what went wrong" -> how often; the examples kept short so the report stays readable.
    violations: Counter[str] = field(default_factory=Counter)


def signature(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme over raw bytes: HMAC-SHA256 of "{t}.{body}" with the endpoint secret."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# Strategies -----------------------------------------------------------------------------------

identifiers = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=14
)
content_types = st.sampled_from(CONTENT_TYPES)


@st.composite
def handled_events(draw: st.DrawFn, livemode: bool = False) -> dict[str, Any]:
    """A well-formed event of a handled type that would be queued if it arrived signed."""
    suffix = draw(identifiers)
    kind = draw(st.sampled_from(("customer.created", "customer.updated", "customer.deleted")))
    obj = customer(f"cus_{suffix}", name=draw(st.text(max_size=40)), email=f"{suffix.lower()}@example.se")
    return event(
        f"evt_{suffix}", kind, draw(st.integers(1_500_000_000, 2_000_000_000)), obj, livemode=livemode
    )


def _case(kind: str, body: bytes, sig: str | None, content_type: str, expect: str = "refused") -> Case:
    return Case(kind, body, sig, content_type, expect)


@st.composite
def missing_signature(draw: st.DrawFn) -> Case:
    header = draw(st.sampled_from((None, "")))
    return _case("missing signature", dumps(draw(handled_events())), header, draw(content_types))


@st.composite
def forged_signature(draw: st.DrawFn) -> Case:
    body = dumps(draw(handled_events()))
    macs = draw(
        st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), min_size=1, max_size=3)
    )
    stamp = int(time.time()) + draw(st.integers(-200, 200))
    header = ",".join([f"t={stamp}", *(f"v1={m}" for m in macs), *draw(st.sampled_from(([], ["v0=00"])))])
    return _case("forged signature", body, header, draw(content_types))


@st.composite
def malformed_header(draw: st.DrawFn) -> Case:
    header = draw(
        st.one_of(st.text(min_size=1, max_size=120), st.sampled_from(("t=", "v1=", "t=abc,v1=zz", "=,=,")))
    )
    return _case("malformed signature header", dumps(draw(handled_events())), header, draw(content_types))


@st.composite
def wrong_secret(draw: st.DrawFn) -> Case:
    body = dumps(draw(handled_events()))
    secret = "whsec_" + draw(identifiers)
    return _case("signed with another secret", body, signature(body, secret), draw(content_types))


@st.composite
def replayed(draw: st.DrawFn) -> Case:
    body = dumps(draw(handled_events()))
    # Well past the 300 s tolerance, so the outcome never depends on the test's own speed.
    age = draw(st.integers(330, 10 * 365 * 24 * 3600))
    return _case(
        "replayed old timestamp", body, signature(body, timestamp=int(time.time()) - age), draw(content_types)
    )


@st.composite
def other_body(draw: st.DrawFn) -> Case:
    signed = dumps(draw(handled_events()))
    how = draw(st.sampled_from(("other event", "one byte changed", "whitespace added", "prefix added")))
    if how == "other event":
        sent = dumps(draw(handled_events()))
    elif how == "one byte changed":
        at = draw(st.integers(0, len(signed) - 1))
        sent = signed[:at] + bytes([(signed[at] + draw(st.integers(1, 25))) % 128 or 32]) + signed[at + 1 :]
    elif how == "whitespace added":
        sent = signed + b"\n"
    else:
        sent = b" " + signed
    if sent == signed:
        sent = signed + b" "
    return _case("signature for another body", sent, signature(signed), draw(content_types))


@st.composite
def truncated(draw: st.DrawFn) -> Case:
    full = dumps(draw(handled_events()))
    cut = full[: draw(st.integers(0, len(full) - 1))]
    # Signed over the whole body (cut in transit) or over the cut body (a valid HMAC over junk).
    sig = signature(full) if draw(st.booleans()) else signature(cut)
    return _case("truncated body", cut, sig, draw(content_types))


@st.composite
def not_utf8(draw: st.DrawFn) -> Case:
    evt = draw(handled_events())
    evt["data"]["object"]["name"] = "Åsa Öberg " + draw(st.text(max_size=10))
    text = json.dumps(evt, ensure_ascii=False)
    how = draw(st.sampled_from(("latin-1", "utf-16", "utf-32", "byte inserted", "random bytes")))
    if how in ("latin-1", "utf-16", "utf-32"):
        body = text.encode(how, "replace")
    elif how == "byte inserted":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        body = (
            raw[:at]
            + draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80")))
            + raw[at:]
        )
    else:
        body = draw(st.binary(min_size=1, max_size=300))
    try:
        body.decode("utf-8")
        body = b"\xff" + body  # still valid UTF-8 by chance: make it not
    except UnicodeDecodeError:
        pass
    sig = signature(body) if draw(st.booleans()) else None
    return _case("not UTF-8", body, sig, draw(content_types))


@st.composite
def huge(draw: st.DrawFn) -> Case:
    evt = draw(handled_events())
    size = draw(st.integers(MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES))
    evt["data"]["object"]["metadata"] = {"padding": "x" * size}
    body = dumps(evt)
    return _case("huge body", body, signature(body) if draw(st.booleans()) else None, draw(content_types))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def not_an_event(draw: st.DrawFn) -> Case:
    """Valid JSON, correctly signed, that is not a Stripe event."""
    how = draw(st.sampled_from(("any JSON", "broken event")))
    if how == "any JSON":
        value: Any = draw(json_values)
    else:
        value = draw(handled_events())
        key, bad = draw(
            st.sampled_from(
                (
                    ("object", "customer"),
                    ("object", None),
                    ("id", "cus_123"),
                    ("id", 42),
                    ("type", ""),
                    ("type", ["customer.created"]),
                    ("created", "1700000000"),
                    ("created", 1.5),
                    ("created", True),
                    ("livemode", "false"),
                    ("livemode", 0),
                    ("data", []),
                    ("data", {"object": "cus_1"}),
                    ("data", {}),
                )
            )
        )
        value[key] = bad
        if draw(st.booleans()):
            value.pop(key)
    body = dumps(value)
    return _case("valid signature, not an event", body, signature(body), draw(content_types))


@st.composite
def gateway_tricks(draw: st.DrawFn) -> Case:
    """Bodies API Gateway could hand over oddly: broken base64, or text with a lone surrogate."""
    evt = draw(handled_events())
    if draw(st.booleans()):
        broken = draw(st.sampled_from(("not base64!", "====", "eyJ", "e30", "%%%"))) + draw(identifiers)
        return Case(
            "broken base64", b"", signature(dumps(evt)), draw(content_types), "refused", base64_body=broken
        )
    evt["data"]["object"]["name"] = "Lone \ud83d surrogate"
    text = json.dumps(evt, ensure_ascii=False)
    body = text.encode("utf-8", "surrogatepass")
    return Case(
        "text body with a lone surrogate",
        body,
        signature(body),
        draw(content_types),
        "refused",
        text_body=text,
    )


@st.composite
def other_livemode(draw: st.DrawFn) -> Case:
    body = dumps(draw(handled_events(livemode=True)))
    return _case("other livemode (ignored)", body, signature(body), draw(content_types), "ignored")


@st.composite
def unhandled_type(draw: st.DrawFn) -> Case:
    evt = draw(handled_events())
    evt["type"] = draw(
        st.one_of(st.sampled_from(OTHER_TYPES), st.text(min_size=1, max_size=40)).filter(
            lambda t: t not in SUPPORTED_TYPES
        )
    )
    body = dumps(evt)
    return _case("unhandled type (ignored)", body, signature(body), draw(content_types), "ignored")


HOSTILE = st.one_of(
    missing_signature(),
    forged_signature(),
    malformed_header(),
    wrong_secret(),
    replayed(),
    other_body(),
    truncated(),
    not_utf8(),
    huge(),
    not_an_event(),
    gateway_tricks(),
    other_livemode(),
    unhandled_type(),
)


@st.composite
def unqueueable(draw: st.DrawFn) -> Case:
    """A genuine, signed event whose text holds a character SQS refuses (U+FFFE, U+FFFF)."""
    evt = draw(handled_events())
    bad = draw(st.sampled_from(("\ufffe", "\uffff")))
    evt["data"]["object"]["name"] = draw(st.text(max_size=10)) + bad + draw(st.text(max_size=10))
    body = dumps(evt)
    return _case("signed event with U+FFFE/U+FFFF", body, signature(body), draw(content_types), "queued")


# Running ------------------------------------------------------------------------------------


def _request(case: Case) -> dict[str, Any]:
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    if case.signature is not None:
        headers["Stripe-Signature"] = case.signature
    apigw = api_gateway_event(case.body, headers)
    if case.text_body is not None:
        apigw.update(body=case.text_body, isBase64Encoded=False)
    elif case.base64_body is not None:
        apigw.update(body=case.base64_body, isBase64Encoded=True)
    return apigw


def _judge(line: Pipeline, case: Case, tally: Tally) -> None:
    queued_before = len(line.stack.published)
    status, text = line.stack.invoke_webhook_event(_request(case))
    line.deliveries += 1
    queued = len(line.stack.published) - queued_before
    tally.cases[case.kind] += 1
    tally.statuses[str(status)] += 1
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {}
    problem = ""
    if status >= 500:
        problem = f"answered {status}"
    elif case.expect == "refused":
        message = answer.get("error") if isinstance(answer, dict) else None
        if not 400 <= status < 500:
            problem = f"answered {status}, expected a 4xx"
        elif not isinstance(message, str) or not message or len(message) > MAX_MESSAGE_LENGTH:
            problem = f"4xx without a clear error message: {text[:120]}"
        elif queued:
            problem = "refused, yet queued"
    elif case.expect == "ignored":
        if status != 200 or "ignored" not in answer:
            problem = f"answered {status} {text[:120]}, expected 200 ignored"
        elif queued:
            problem = "ignored, yet queued"
    elif case.expect == "queued" and (status != 200 or "received" not in answer or queued != 1):
        problem = f"answered {status} {text[:120]} and queued {queued}, expected 200 received and queued"
    if problem:
        tally.violations[f"{case.kind}: {problem[:160]}"] += 1


def _run(line: Pipeline, strategy: st.SearchStrategy[Case], examples: int) -> Tally:
    tally = Tally()

    # derandomize: the same cases on every run; no database, no shrinking: the tally is the result.
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(case: Case) -> None:
        _judge(line, case, tally)

    check()
    return tally


def _fill(counts: Counts, line: Pipeline, tally: Tally, started: float) -> None:
    counts.events_sent = sum(tally.cases.values())
    counts.details.update(
        cases=dict(sorted(tally.cases.items())),
        statuses=dict(sorted(tally.statuses.items())),
        violations=sum(tally.violations.values()),
        queued=len(line.stack.published),
    )
    for problem, times in tally.violations.most_common(20):
        counts.problems.append(problem if times == 1 else f"{problem} ({times} cases)")
    if len(tally.violations) > 20:
        counts.problems.append(f"... and {len(tally.violations) - 20} other kinds of violation")
    depth = line.stack.queue_depths()["EventQueueUrl"]
    counts.details["queue_depth"] = depth
    # The figures the report's hostile-input table shows (issue 13).
    counts.details.update(
        hostile_requests=counts.events_sent,
        answered_5xx=sum(n for status, n in tally.statuses.items() if status.startswith("5")),
    )
    line.fill(counts, started)


def hostile_input(size: Any, workdir: Path) -> Counts:
    """Forged, missing, replayed and misplaced signatures, broken bodies, non-events: 4xx, never
    queued; signed events of the other livemode or unhandled types: 200 ignored, never queued."""
    started = time.monotonic()
    counts = Counts("5. Hostile input at the webhook", "hypothesis")
    with pipeline(workdir) as line:
        tally = _run(line, HOSTILE, size.hostile_cases)
        _fill(counts, line, tally, started)
    counts.check(counts.events_sent >= min(1_000, size.hostile_cases), f"only {counts.events_sent} cases ran")
    counts.check(counts.details["queued"] == 0, f"{counts.details['queued']} messages queued")
    counts.check(counts.details["queue_depth"] == 0, "the event queue is not empty")
    return counts


def unqueueable_characters(size: Any, workdir: Path) -> Counts:
    """Genuine, signed events whose text holds U+FFFE or U+FFFF, characters SQS refuses in a
    message (the local stack's SQS refuses them as AWS does): the webhook must still queue
    them. Any other answer loses the event: Stripe retries a non-2xx answer for 3 days, then
    gives up."""
    started = time.monotonic()
    counts = Counts("5. Hostile input at the webhook", "characters SQS refuses")
    with pipeline(workdir) as line:
        tally = _run(line, unqueueable(), max(10, size.hostile_cases // 50))
        _fill(counts, line, tally, started)
    return counts
