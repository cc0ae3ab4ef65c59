"""Scenario 5b: signed hostile events, the findings of issue 13 as a run.

An attacker with no secret, and a careless sender with one, try what once made the stack answer
500 or stall a customer: non-ASCII signature values, JSON nested 10,000 deep, lone surrogates,
numbers no Stripe object holds, metadata nested 2,000 deep, signatures dated tomorrow, checkouts
whose customer details are not an object, the operator-only sync hint, and values of the wrong type
where the mapping reads them. Then normal events follow. Counted: 5xx answers (must be 0), forged,
stale or future-dated events processed (0), hints honoured (0), accepted events neither applied
nor parked with a reason (0), and whether `status --json` and `redrive --dry-run` still work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stripe_fortnox_sync.core.models import HINT_KEY
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from tests.builders import event

from .harness import Counts, Pipeline, pipeline
from .hostile import Case, Tally, _judge, signature
from .stripe_data import customer

CONTENT = "application/json"
NOW_TYPES = ",".join(SUPPORTED_TYPES)


def _body(evt: Any) -> bytes:
    return json.dumps(evt, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _signed(kind: str, evt: Any, expect: str, *, at: int | None = None) -> Case:
    body = _body(evt)
    return Case(kind, body, signature(body, timestamp=at), CONTENT, expect)


def _evt(n: int, kind: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return event(f"evt_Hs{n:05d}", kind, created or int(time.time()) - 60, obj)


def _nested(depth: int, leaf: Any = "x") -> Any:
    for _ in range(depth):
        leaf = {"k": leaf}
    return leaf


def refused_at_the_door(n: int) -> list[Case]:
    """Cases the webhook must answer 4xx, never queue."""
    base = _evt(n, "customer.created", customer(f"cus_Hs{n:05d}", name="Door"))
    body = _body(base)
    stamp = int(time.time())
    cases = [
        Case(f"non-ASCII {field}", body, header, CONTENT, "refused")
        for field, header in (
            ("t", f"t=é{n},v1={'0' * 64}"),
            ("v1", f"t={stamp},v1=é{n}"),
            ("v1 (surrogate)", f"t={stamp},v1=\udc80{n}"),
        )
    ]
    deep_json = ('{"a":' * 10_000 + "1" + "}" * 10_000).encode()
    cases.append(Case("JSON nested 10,000 deep", deep_json, signature(deep_json), CONTENT, "refused"))
    lone = _evt(
        n,
        "checkout.session.completed",
        {
            "id": f"cs_Hs{n}",
            "object": "checkout.session",
            "mode": "payment",
            "customer": None,
            "customer_details": {"email": f"x{n}\ud800@example.se"},
        },
    )
    cases.append(_signed("e-mail with a lone surrogate", lone, "refused"))
    for number in ("NaN", "Infinity", "1e20", str(2**63), "1e30"):
        raw = _body(
            _evt(
                n,
                "invoice.payment_failed",
                {"id": f"in_Hs{n}", "object": "invoice", "customer": f"cus_Hs{n:05d}", "attempt_count": 0},
            )
        )
        raw = raw.replace(b'"attempt_count": 0', b'"attempt_count": ' + number.encode())
        cases.append(Case(f"number {number}", raw, signature(raw), CONTENT, "refused"))
    metadata = customer(f"cus_Hs{n:05d}", metadata=_nested(2_000 if n % 2 else 500))
    cases.append(_signed("metadata nested 500-2,000 deep", _evt(n, "customer.updated", metadata), "refused"))
    cases.append(_signed("signature dated tomorrow", base, "refused", at=stamp + 86_400))
    cases.append(_signed("event id with a lone surrogate", {**base, "id": f"evt_\ud800{n}"}, "refused"))
    return cases


def accepted_then_parked_or_applied(n: int) -> list[Case]:
    """Signed events of handled types whose data the mapping cannot use: queued, then applied or
    parked with a reason by the sync, never retried until SQS gives up."""
    cid = f"cus_Hq{n:05d}"
    odd = {
        "id": f"cs_Hq{n}",
        "object": "checkout.session",
        "mode": "payment",
        "customer": None,
        "customer_details": ("a string", 42, ["a", "list"])[n % 3],
    }
    failed = {
        "id": f"in_Hq{n}",
        "object": "invoice",
        "customer": cid,
        "currency": "sek",
        "amount_due": {"not": "a number"},
        "attempt_count": "three",
        "next_payment_attempt": "soon",
    }
    refund = {
        "id": f"re_Hq{n}",
        "object": "refund",
        "amount": True,
        "currency": "sek",
        "status": "succeeded",
        "payment_intent": f"pi_Hq{n}",
        "charge": f"ch_Hq{n}",
    }
    return [
        _signed("checkout with odd customer_details", _evt(n, "checkout.session.completed", odd), "queued"),
        _signed(
            "tax_exempt as an object",
            _evt(n + 1, "customer.created", customer(cid, name="Odd", tax_exempt={"x": 1})),
            "queued",
        ),
        _signed("payment failure with wrong types", _evt(n + 2, "invoice.payment_failed", failed), "queued"),
        _signed("refund of amount true", _evt(n + 3, "refund.created", refund), "queued"),
    ]


def _hint_case(line: Pipeline, n: int) -> tuple[Case, str]:
    """A signed event carrying the operator-only hint that points at an unrelated Fortnox customer."""
    victim = customer("cus_HsVictim", name="Victim AB", email="victim@example.se")
    line.send(_evt(0, "customer.created", victim))
    line.drain()
    number = str(line.sim.customers()[0]["CustomerNumber"])
    # Another e-mail: the hint alone must not reach the victim (a shared e-mail is issue 14's case).
    attacker = customer(f"cus_HsHint{n}", name=f"Attacker {n}", email=f"attacker{n}@example.se")
    hint = {"source": "backfill", "match_checked": True, "fortnox_number": number, "force": True}
    return _signed(
        "sync hint through the webhook", {**_evt(n, "customer.created", attacker), HINT_KEY: hint}, "queued"
    ), number


def _stuck(line: Pipeline, accepted: set[str]) -> int:
    """Accepted events neither applied nor parked with a reason of the sync's own."""
    applied = {record.event_id for record in line.stack.processed if record.outcome != "failed"}
    parked = {letter.event_id for letter in line.dead if letter.reason != "max_receives"}
    return len(accepted - applied - parked)


def _operator_commands_work(workdir: Path) -> dict[str, int]:
    """Exit codes of `status --json` and `redrive --dry-run` against the stack (0 or 1 is fine:
    1 says something needs attention; anything else is a crash)."""
    codes = {}
    for name, args in (("status", ["status", "--json"]), ("redrive", ["redrive", "--dry-run"])):
        done = subprocess.run(
            [sys.executable, "-m", "stripe_fortnox_cli.cli", *args, "--local", str(workdir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        codes[name] = done.returncode if "Traceback" not in done.stderr else 99
    return codes


def signed_hostile_input(size: Any, workdir: Path) -> Counts:
    """Signed hostile events (issue 13): 4xx at the door or, once accepted, applied or parked with a
    reason; the sync hint never honoured; the operator commands still work afterwards."""
    started = time.monotonic()
    counts = Counts("5. Hostile input at the webhook", "signed, issue 13")
    rounds = max(2, size.hostile_cases // 40)
    with pipeline(workdir, start_worker=False, extra_env={"ENABLED_EVENT_TYPES": NOW_TYPES}) as line:
        hint, number = _hint_case(line, 90_000)
        cases = [hint] + [c for n in range(rounds) for c in refused_at_the_door(n)]
        cases += [c for n in range(0, rounds * 10, 10) for c in accepted_then_parked_or_applied(n)]
        tally = Tally()
        let_through = 0
        for case in cases:
            before = len(line.stack.published)
            _judge(line, case, tally)
            if len(line.stack.published) > before:
                line.accepted.add(line.stack.published[-1].dedup_id)  # the event id
                let_through += case.expect == "refused"
        for k in range(20):  # normal events after the storm
            line.send(_evt(95_000 + k, "customer.created", customer(f"cus_HsAfter{k}", name=f"After {k}")))
        counts.check(line.drain(), "the event queue did not drain")
        line.take_dead_letters()
        victim = next(c for c in line.sim.customers() if str(c["CustomerNumber"]) == number)
        honoured = int(victim.get("Name") != "Victim AB")
        stuck = _stuck(line, line.accepted)
        codes = _operator_commands_work(workdir)
        _fill(counts, line, tally, cases, (let_through, honoured, stuck), codes)
        line.fill(counts, started)
    return counts


def _fill(
    counts: Counts,
    line: Pipeline,
    tally: Tally,
    cases: list[Case],
    found: tuple[int, int, int],
    codes: dict[str, int],
) -> None:
    let_through, honoured, stuck = found
    answered_5xx = sum(n for status, n in tally.statuses.items() if status.startswith("5"))
    counts.events_sent = len(cases)
    counts.details.update(
        hostile_requests=len(cases),
        answered_5xx=answered_5xx,
        forged_stale_future_processed=let_through,
        hints_honoured=honoured,
        accepted=len(line.accepted),
        parked=dict(Counter(letter.reason for letter in line.dead)),
        stuck_without_reason=stuck,
        operator_commands=codes,
    )
    for problem, times in tally.violations.most_common(20):
        counts.problems.append(problem if times == 1 else f"{problem} ({times} cases)")
    counts.check(answered_5xx == 0, f"{answered_5xx} requests answered 5xx")
    counts.check(let_through == 0, f"{let_through} requests that must be refused were queued")
    counts.check(honoured == 0, "a sync hint from the webhook changed an unrelated Fortnox customer")
    counts.check(stuck == 0, f"{stuck} accepted events neither applied nor parked with a reason")
    counts.check(all(code in (0, 1) for code in codes.values()), f"operator commands failed: {codes}")
    counts.lost_events = stuck
