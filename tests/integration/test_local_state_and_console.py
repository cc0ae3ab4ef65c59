"""The local stack's state directory (its own, never a live one's, its outputs gone when it stops)
and what it reports: a line for every webhook request, and a parked event's customer and time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from stripe_fortnox_cli.local import LocalConfig, LocalStack, LocalStackError, ProcessedEvent
from stripe_fortnox_cli.local.answers import WebhookRequest
from stripe_fortnox_cli.local.events import sign_payload
from stripe_fortnox_cli.local_state import NotRunning, require_running

SECRET = "whsec_state_and_console"


def config(state_dir: Path | None = None, **over: Any) -> LocalConfig:
    return LocalConfig(port=0, webhook_secrets=[SECRET], state_dir=state_dir, start_worker=False, **over)


def test_a_stack_without_a_state_directory_gets_a_temporary_one_and_removes_it() -> None:
    with LocalStack(config()) as stack:
        directory = stack.state_dir
        assert directory.name.startswith("stripe-fortnox-local-")
        assert json.loads(stack.outputs_file.read_text())["WebhookUrl"] == stack.webhook_url
    assert not directory.exists()


def test_a_live_state_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    with LocalStack(config(tmp_path)) as first:
        written = first.outputs_file.read_text()
        second = LocalStack(config(tmp_path))
        with pytest.raises(LocalStackError) as refused:
            second.start()
        assert refused.value.exit_code == 2
        assert "already running in" in str(refused.value) and "--state-dir" in str(refused.value)
        assert first.outputs_file.read_text() == written
        assert require_running(tmp_path)["WebhookUrl"] == first.webhook_url
    # Stopped: its outputs are gone, its logs stay.
    assert not (tmp_path / "outputs.json").exists() and (tmp_path / "functions.log").exists()
    with pytest.raises(NotRunning, match=r"outputs\.json missing"):
        require_running(tmp_path)


def test_outputs_left_by_a_stack_that_died_are_taken_over(tmp_path: Path) -> None:
    stale = {"AwsEndpointUrl": "http://127.0.0.1:9", "WebhookUrl": "http://127.0.0.1:9/webhook"}
    (tmp_path / "outputs.json").write_text(json.dumps(stale))
    started = time.monotonic()
    with pytest.raises(NotRunning, match="is not running"):
        require_running(tmp_path)
    assert time.monotonic() - started < 2
    with LocalStack(config(tmp_path)) as stack:
        assert json.loads(stack.outputs_file.read_text())["WebhookUrl"] == stack.webhook_url


def _event(event_id: str, event_type: str, obj: dict[str, Any]) -> str:
    body = {"id": event_id, "object": "event", "type": event_type, "created": int(time.time())}
    return json.dumps({**body, "livemode": False, "data": {"object": obj}})


def _post(stack: LocalStack, payload: str, secret: str = SECRET) -> int:
    headers = {"Stripe-Signature": sign_payload(payload, secret), "Content-Type": "application/json"}
    return requests.post(stack.webhook_url, data=payload.encode(), headers=headers, timeout=10).status_code


def test_every_request_and_a_parked_event_are_reported(tmp_path: Path) -> None:
    requests_seen: list[WebhookRequest] = []
    events_seen: list[ProcessedEvent] = []
    # A Fortnox company without SEK: the customer is refused (validation) and parked at once.
    setup = config(tmp_path, simulator_options={"currencies": ("EUR",)})
    with LocalStack(setup, on_event=events_seen.append, on_request=requests_seen.append) as stack:
        customer = {"id": "cus_Console1", "object": "customer", "name": "Konsol AB", "currency": "sek"}
        created = _event("evt_console_created", "customer.created", customer)
        assert _post(stack, created) == 200
        assert _post(stack, created, secret="whsec_wrong") == 400
        invoice = {"id": "in_1", "object": "invoice", "customer": "cus_Console1"}
        assert _post(stack, _event("evt_console_paid", "invoice.paid", invoice)) == 200
        assert _post(stack, _event("evt_console_other", "charge.succeeded", {"id": "ch_1"})) == 200
        assert stack.poll_once(wait_seconds=5) == 1
    # The console is told after each answer, so a quick second request may be told first.
    seen = {(r.verdict, r.event_type, r.customer): r.message for r in requests_seen}
    assert sorted(seen) == sorted(
        [
            ("accepted", "customer.created", "cus_Console1"),
            ("rejected", "customer.created", "cus_Console1"),
            ("ignored", "invoice.paid", "cus_Console1"),
            ("ignored", "charge.succeeded", "ch_1"),
        ]
    )
    assert "signature does not match" in seen[("rejected", "customer.created", "cus_Console1")]
    assert "not enabled on this stack (opt-in" in seen[("ignored", "invoice.paid", "cus_Console1")]
    assert seen[("ignored", "charge.succeeded", "ch_1")] == "event type charge.succeeded is not handled"
    (parked,) = events_seen
    assert (parked.outcome, parked.stripe_id) == ("failed", "cus_Console1")
    assert parked.duration_ms > 0 and parked.detail.startswith("validation")
