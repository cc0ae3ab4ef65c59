"""`stripe-fortnox demo`: the sample events through the local stack, checked against expectations.

The events that need no Stripe API go first, as a stack without a Stripe key applies them; then a
key is stored and the second week (`demo_books.py`) books sales, a payout and a dispute."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests

from stripe_fortnox_cli.exits import fail

from .config import LocalConfig, LocalStackError
from .console import print_event_line, render_table
from .demo_books import book_summary_days, load_stripe_api, report_books
from .events import sign_payload
from .function_logs import ProcessedEvent
from .stack import LocalStack
from .stripe_fake import FakeStripeApi

INVOICE_COLUMNS = (
    "DocumentNumber",
    "CustomerNumber",
    "Currency",
    "Net",
    "TotalVAT",
    "RoundOff",
    "Total",
    "Booked",
    "Balance",
    "ExternalInvoiceReference1",
    "CreditInvoiceReference",
)
TABLE_COLUMNS = (
    "CustomerNumber",
    "Name",
    "CountryCode",
    "Currency",
    "Type",
    "VATType",
    "VATNumber",
    "Active",
    "ExternalReference",
)

Answer = tuple[int, dict[str, Any]]


@dataclass
class Sent:
    """What the webhook answered: each sample file, the redelivery, the forged signature."""

    answers: dict[str, Answer] = field(default_factory=dict)
    redelivery: int = 0
    forged: int = 0


def _post(url: str, payload: str, header: str) -> Answer:
    response = requests.post(
        url,
        data=payload.encode(),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=30,
    )
    return response.status_code, response.json()


def _check_webhook(expected: dict[str, Any], answers: dict[str, Answer]) -> list[str]:
    accepted = sum(1 for status, body in answers.values() if status == 200 and "received" in body)
    ignored = sum(1 for status, body in answers.values() if status == 200 and "ignored" in body)
    if accepted != expected["webhook"]["accepted"] or ignored != expected["webhook"]["ignored"]:
        return [f"webhook accepted {accepted} and ignored {ignored}, expected {expected['webhook']}"]
    return []


def _check_outcomes(expected: dict[str, Any], processed: list[ProcessedEvent]) -> list[str]:
    first_outcome: dict[str, str] = {}
    for event in processed:
        first_outcome.setdefault(event.event_id, event.outcome)
    return [
        f"{event_id}: outcome {first_outcome.get(event_id)}, expected {outcome}"
        for event_id, outcome in expected["outcomes"].items()
        if first_outcome.get(event_id) != outcome
    ]


def _check_one_each(
    wanted: list[dict[str, Any]], found: list[dict[str, Any]], key: str, what: str, label: str = ""
) -> list[str]:
    """Exactly one of `found` per `wanted` row (matched on `key`), with the wanted values."""
    problems = []
    for want in wanted:
        matches = [item for item in found if item.get(key) == want[key]]
        if len(matches) != 1:
            problems.append(f"{want[key]}: {len(matches)} Fortnox {what}, expected exactly 1")
            continue
        problems += [
            f"{label}{want[key]}: {name} is {matches[0].get(name)!r}, expected {value!r}"
            for name, value in want.items()
            if matches[0].get(name) != value
        ]
    return problems


def check(
    expected: dict[str, Any],
    answers: dict[str, Answer],
    processed: list[ProcessedEvent],
    customers: list[dict[str, Any]],
    dead_letters: int,
    notifications: int = 0,
    invoices: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Every way the run differs from `expected`, in words; empty when all landed."""
    wanted_customers = expected["fortnox_customers"]
    problems = _check_webhook(expected, answers) + _check_outcomes(expected, processed)
    problems += _check_one_each(wanted_customers, customers, "ExternalReference", "customers")
    if len(customers) != len(wanted_customers):
        problems.append(f"{len(customers)} Fortnox customers, expected {len(wanted_customers)}")
    if dead_letters:
        problems.append(f"{dead_letters} message(s) in the dead-letter queue")
    wanted_invoices = expected.get("fortnox_invoices", [])
    problems += _check_one_each(
        wanted_invoices, invoices or [], "ExternalInvoiceReference1", "invoices", label="invoice "
    )
    if notifications != expected.get("notifications", 0):
        problems.append(
            f"{notifications} payment-failure notifications, expected {expected.get('notifications', 0)}"
        )
    return problems


def _send_file(stack: LocalStack, path: Path, sent: Sent) -> None:
    payload = path.read_text(encoding="utf-8")
    sent.answers[path.name] = _post(
        stack.webhook_url, payload, sign_payload(payload, stack.webhook_secrets[0])
    )
    print(f"  sent {path.name:<40} -> {sent.answers[path.name][0]} {json.dumps(sent.answers[path.name][1])}")


def _send(stack: LocalStack, events_dir: Path, files: list[Path], expected: dict[str, Any]) -> Sent:
    secret = stack.webhook_secrets[0]
    sent = Sent()
    for path in files:
        _send_file(stack, path, sent)
    redelivered = (events_dir / expected["redeliver"]).read_text(encoding="utf-8")
    sent.redelivery, body = _post(stack.webhook_url, redelivered, sign_payload(redelivered, secret))
    print(
        f"  sent {expected['redeliver'] + ' again':<40} -> {sent.redelivery} {json.dumps(body)}",
        "(Stripe retried it)",
    )
    sent.forged, body = _post(stack.webhook_url, redelivered, sign_payload(redelivered, "whsec_forged"))
    print(f"  sent a forged signature{'':<23} -> {sent.forged} {json.dumps(body)}")
    return sent


def _wait(stack: LocalStack, wanted: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    # The redelivery is either dropped by SQS's deduplication or answered as a duplicate by
    # the sync's own: wait for the expected events, not for a count.
    while not wanted <= {e.event_id for e in stack.processed} and time.monotonic() < deadline:
        time.sleep(0.1)
    stack.wait_until_idle(timeout=max(1.0, deadline - time.monotonic()))


def _second_week(
    stack: LocalStack, api: FakeStripeApi, events_dir: Path, files: list[Path], sent: Sent, timeout: float
) -> None:
    """The events that need the Stripe API, after the key is stored; each applied before the next,
    as a week's sales come before its payout."""
    print("\nA restricted Stripe key is stored (payouts need it); the second week:")
    load_stripe_api(api, events_dir.parent / "stripe-api.json")
    stack.store_stripe_key(api.api_key)
    for path in files:
        _send_file(stack, path, sent)
        _wait(stack, {json.loads(path.read_text(encoding="utf-8"))["id"]}, timeout)


def _report(stack: LocalStack, expected: dict[str, Any], sent: Sent) -> list[str]:
    """Print what landed in Fortnox; return how it differs from `expected`."""
    assert stack.fortnox is not None and stack.fortnox.simulator is not None
    simulator = stack.fortnox.simulator
    customers, stats, invoices = simulator.customers(), simulator.stats(), simulator.invoices()
    dead = stack.queue_depths()["DeadLetterQueueUrl"]
    notices = stack.notifications()
    print("\nFortnox customers (simulator):")
    print(render_table(customers, TABLE_COLUMNS))
    calls = stats.get("total") or stats.get("api_requests") or "?"
    print(f"\nFortnox API requests: {calls}; dead-letter queue: {dead}")
    if invoices:
        print("\nFortnox invoices (simulator):")
        print(render_table(invoices, INVOICE_COLUMNS))
    for notice in notices:
        print(f"Notification to the bookkeeper: {notice['subject']}")
    problems = check(expected, sent.answers, stack.processed, customers, dead, len(notices), invoices)
    if len(invoices) != len(expected.get("fortnox_invoices", [])):
        problems.append(
            f"{len(invoices)} Fortnox invoices, expected {len(expected.get('fortnox_invoices', []))}"
        )
    problems += report_books(stack, expected)
    if sent.forged != 400:
        problems.append(f"forged signature answered {sent.forged}, expected 400")
    if sent.redelivery != 200:
        problems.append(f"redelivery answered {sent.redelivery}, expected 200")
    return problems


def _ids(files: list[Path]) -> set[str]:
    return {str(json.loads(f.read_text(encoding="utf-8"))["id"]) for f in files}


def _event_days(files: list[Path]) -> tuple[date, date]:
    """The first and last Stockholm day of the events (summary booking books them)."""
    from stripe_fortnox_sync.mapping.dates import swedish_date

    days = [swedish_date(int(json.loads(f.read_text(encoding="utf-8"))["created"])) for f in files]
    return min(days), max(days)


def run_demo(
    events_dir: Path,
    port: int = 0,
    timeout: float = 90.0,
    state_dir: Path | None = None,
    booking_mode: str = "invoices",
) -> int:
    """The sample events through a local stack of its own (`state_dir`, else a temporary directory,
    kept when the demo fails so its function logs can be read). `booking_mode` summary: no invoices,
    the days booked as vouchers at the end (expectations in expected-summary.json)."""
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    summary = booking_mode == "summary"
    name = "expected-summary.json" if summary else "expected.json"
    expected = json.loads((events_dir.parent / name).read_text(encoding="utf-8"))
    files = sorted(events_dir.glob("*.json"))
    # The files from `stripe_key_from` on need the Stripe API (payouts, disputes).
    first = [f for f in files if f.name < expected.get("stripe_key_from", "~")]
    with FakeStripeApi(f"rk_test_{secrets.token_hex(12)}") as api:
        # Every supported event, invoices and payouts included (opt-in in a deployed stack).
        config = LocalConfig(
            port=port,
            state_dir=state_dir,
            stripe_api_base=api.base_url,
            extra_env={"ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES), "BOOKING_MODE": booking_mode},
        )
        print(
            f"Starting the local stack (webhook, SQS and DynamoDB in moto, Fortnox simulator, a local "
            f"Stripe API), {len(files)} events"
        )

        def week(stack: LocalStack) -> list[str]:
            sent = _send(stack, events_dir, first, expected)
            _wait(stack, set(expected["outcomes"]) & _ids(first), timeout)
            _second_week(stack, api, events_dir, files[len(first) :], sent, timeout)
            if summary:
                book_summary_days(stack, *_event_days(files))
            return _report(stack, expected, sent)

        return run_stack(config, week, "Demo OK: every event landed as expected, exactly once.")


def run_stack(config: LocalConfig, demo: Callable[[LocalStack], list[str]], ok: str) -> int:
    """Start a demo's stack, run `demo` on it (its problems, none when all is as expected), stop it
    (its state kept when something went wrong) and say how it went."""
    stack = LocalStack(config, on_event=print_event_line)
    try:
        stack.start()
    except LocalStackError as exc:
        return fail(str(exc), exc.exit_code)
    problems = ["interrupted"]
    try:
        problems = demo(stack)
    finally:
        stack.stop(keep_state=bool(problems))
    return conclude(stack, problems, ok)


def conclude(stack: LocalStack, problems: list[str], ok: str) -> int:
    """A demo's last words: what differs from its expectations (its logs kept), or `ok`."""
    if problems:
        print("\nDEMO FAILED:")
        for problem in problems:
            print(f"  - {problem}")
        print(f"The functions' logs: {stack.state_dir / 'functions.log'}")
        return 1
    print(f"\n{ok}")
    return 0
