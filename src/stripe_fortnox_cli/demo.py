"""`stripe-fortnox demo`: the sample events through the local stack, checked against expectations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from .local_stack import LocalConfig, LocalStack, LocalStackError, ProcessedEvent

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


def _post(url: str, payload: str, header: str) -> tuple[int, dict[str, Any]]:
    response = requests.post(
        url,
        data=payload.encode(),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=30,
    )
    return response.status_code, response.json()


def render_table(rows: list[dict[str, Any]], columns: tuple[str, ...] = TABLE_COLUMNS) -> str:
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])


def check(
    expected: dict[str, Any],
    answers: dict[str, tuple[int, dict[str, Any]]],
    processed: list[ProcessedEvent],
    customers: list[dict[str, Any]],
    dead_letters: int,
    notifications: int = 0,
    invoices: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Every way the run differs from `expected`, in words; empty when all landed."""
    problems = []
    accepted = sum(1 for status, body in answers.values() if status == 200 and "received" in body)
    ignored = sum(1 for status, body in answers.values() if status == 200 and "ignored" in body)
    if accepted != expected["webhook"]["accepted"] or ignored != expected["webhook"]["ignored"]:
        problems.append(f"webhook accepted {accepted} and ignored {ignored}, expected {expected['webhook']}")
    first_outcome: dict[str, str] = {}
    for event in processed:
        first_outcome.setdefault(event.event_id, event.outcome)
    for event_id, outcome in expected["outcomes"].items():
        if first_outcome.get(event_id) != outcome:
            problems.append(f"{event_id}: outcome {first_outcome.get(event_id)}, expected {outcome}")
    by_ref: dict[str, list[dict[str, Any]]] = {}
    for customer in customers:
        by_ref.setdefault(str(customer.get("ExternalReference")), []).append(customer)
    for want in expected["fortnox_customers"]:
        found = by_ref.get(want["ExternalReference"], [])
        if len(found) != 1:
            problems.append(
                f"{want['ExternalReference']}: {len(found)} Fortnox customers, expected exactly 1"
            )
            continue
        for key, value in want.items():
            if found[0].get(key) != value:
                problems.append(
                    f"{want['ExternalReference']}: {key} is {found[0].get(key)!r}, expected {value!r}"
                )
    if len(customers) != len(expected["fortnox_customers"]):
        problems.append(f"{len(customers)} Fortnox customers, expected {len(expected['fortnox_customers'])}")
    if dead_letters:
        problems.append(f"{dead_letters} message(s) in the dead-letter queue")
    for want in expected.get("fortnox_invoices", []):
        found = [
            i
            for i in invoices or []
            if i.get("ExternalInvoiceReference1") == want["ExternalInvoiceReference1"]
        ]
        if len(found) != 1:
            problems.append(
                f"{want['ExternalInvoiceReference1']}: {len(found)} Fortnox invoices, expected exactly 1"
            )
            continue
        for key, value in want.items():
            if found[0].get(key) != value:
                problems.append(
                    f"invoice {want['ExternalInvoiceReference1']}: {key} is {found[0].get(key)!r}, "
                    f"expected {value!r}"
                )
    if notifications != expected.get("notifications", 0):
        problems.append(
            f"{notifications} payment-failure notifications, expected {expected.get('notifications', 0)}"
        )
    return problems


def run_demo(events_dir: Path, port: int = 0, timeout: float = 90.0) -> int:
    from .cli import _print_event_line, sign_payload

    expected = json.loads((events_dir.parent / "expected.json").read_text(encoding="utf-8"))
    files = sorted(events_dir.glob("*.json"))
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    # Every supported event, invoices included (opt-in in a deployed stack).
    config = LocalConfig(port=port, extra_env={"ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES)})
    print(
        f"Starting the local stack (webhook, SQS and DynamoDB in moto, Fortnox simulator), "
        f"{len(files)} events"
    )
    try:
        stack = LocalStack(config, on_event=_print_event_line)
        stack.start()
    except LocalStackError as exc:
        print(f"stripe-fortnox: {exc}")
        return exc.exit_code
    try:
        secret = stack.webhook_secrets[0]
        answers: dict[str, tuple[int, dict[str, Any]]] = {}
        for path in files:
            payload = path.read_text(encoding="utf-8")
            answers[path.name] = _post(stack.webhook_url, payload, sign_payload(payload, secret))
            print(f"  sent {path.name:<40} -> {answers[path.name][0]} {json.dumps(answers[path.name][1])}")
        redelivered = (events_dir / expected["redeliver"]).read_text(encoding="utf-8")
        status, body = _post(stack.webhook_url, redelivered, sign_payload(redelivered, secret))
        print(
            f"  sent {expected['redeliver'] + ' again':<40} -> {status} {json.dumps(body)}",
            "(Stripe retried it)",
        )
        forged = _post(stack.webhook_url, redelivered, sign_payload(redelivered, "whsec_forged"))
        print(f"  sent a forged signature{'':<23} -> {forged[0]} {json.dumps(forged[1])}")

        deadline = time.monotonic() + timeout
        # The redelivery is either dropped by SQS's deduplication or answered as a duplicate by
        # the sync's own: wait for the expected events, not for a count.
        wanted = set(expected["outcomes"])
        while not wanted <= {e.event_id for e in stack.processed} and time.monotonic() < deadline:
            time.sleep(0.1)
        stack.wait_until_idle(timeout=max(1.0, deadline - time.monotonic()))
        assert stack.fortnox is not None and stack.fortnox.simulator is not None
        customers = stack.fortnox.simulator.customers()
        stats = stack.fortnox.simulator.stats()
        dead = stack.queue_depths()["DeadLetterQueueUrl"]
        notices = stack.notifications()
        invoices = stack.fortnox.simulator.invoices()

        print("\nFortnox customers (simulator):")
        print(render_table(customers))
        calls = stats.get("total") or stats.get("api_requests") or "?"
        print(f"\nFortnox API requests: {calls}; dead-letter queue: {dead}")
        if invoices:
            print("\nFortnox invoices (simulator):")
            print(render_table(invoices, INVOICE_COLUMNS))
        for notice in notices:
            print(f"Notification to the bookkeeper: {notice['subject']}")
        problems = check(expected, answers, stack.processed, customers, dead, len(notices), invoices)
        if forged[0] != 400:
            problems.append(f"forged signature answered {forged[0]}, expected 400")
        if status != 200:
            problems.append(f"redelivery answered {status}, expected 200")
    finally:
        stack.stop()
    if problems:
        print("\nDEMO FAILED:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("\nDemo OK: every event landed as expected, exactly once.")
    return 0
