"""The dev console's lines (one per request, one per processed event) and its banner's paste-ready
commands, and metrics documents kept off stdout: no stack, no sockets."""

from __future__ import annotations

import argparse
import json

import pytest

from stripe_fortnox_cli import metrics_output
from stripe_fortnox_cli.local.answers import WebhookRequest, describe
from stripe_fortnox_cli.local.console import print_event_line, print_request_line, try_it_lines
from stripe_fortnox_cli.local.function_logs import ProcessedEvent
from stripe_fortnox_sync.core.observability import MetricUnit, metrics

EVENT = json.dumps(
    {
        "id": "evt_1",
        "type": "invoice.paid",
        "livemode": False,
        "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}},
    }
).encode()


def test_an_accepted_request() -> None:
    assert describe(200, EVENT, '{"received": "evt_1"}') == WebhookRequest(
        200, "accepted", "evt_1", "invoice.paid", "cus_1", ""
    )


def test_an_ignored_request_says_why() -> None:
    why = "event type invoice.paid is not enabled on this stack (opt-in: add it to EnabledEventTypes)"
    request = describe(200, EVENT, json.dumps({"ignored": why}))
    assert (request.verdict, request.message, request.customer) == ("ignored", why, "cus_1")


@pytest.mark.parametrize("error", ["signature does not match", "missing Stripe-Signature header"])
def test_a_bad_signature_says_whose_secret_to_use(error: str) -> None:
    request = describe(400, EVENT, json.dumps({"error": error}))
    assert request.verdict == "rejected" and request.event_id == "evt_1"
    assert request.message.startswith(f"{error}; the sender must sign with this stack's")


def test_refusals_before_the_function_and_failures() -> None:
    assert describe(408, None, '{"error": "the request body did not arrive in time"}') == WebhookRequest(
        408, "rejected", message="the request body did not arrive in time"
    )
    failed = describe(500, EVENT, '{"message": "Internal Server Error: RuntimeError"}')
    assert (failed.verdict, failed.message) == ("failed", "Internal Server Error: RuntimeError")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"id": "evt_\x1b[31mred", "type": "x" * 500}).encode(),
        json.dumps({"id": 7, "data": {"object": {"customer": {"id": "cus_\n"}}}}).encode(),
    ],
)
def test_nothing_unverified_reaches_the_terminal_unless_it_looks_like_stripe_s(body: bytes) -> None:
    request = describe(400, body, '{"error": "signature does not match"}')
    assert (request.event_id, request.event_type, request.customer) == ("", "", "")


def test_request_lines_share_the_event_lines_columns(capsys: pytest.CaptureFixture[str]) -> None:
    print_request_line(describe(200, EVENT, '{"received": "evt_1"}'))
    print_event_line(ProcessedEvent("evt_1", "invoice.paid", "cus_1", "failed", None, "validation: x", 12.5))
    accepted, failed = capsys.readouterr().out.splitlines()
    assert accepted[10:].startswith(
        "invoice.paid                  cus_1                  accepted    webhook 200"
    )
    assert failed[10:].startswith(
        "invoice.paid                  cus_1                  failed      fortnox=-"
    )
    assert "12.5 ms  (validation: x)" in failed


def test_the_try_it_lines_sign_with_the_stack_s_secret() -> None:
    lines = try_it_lines("http://127.0.0.1:3000/webhook", "whsec_dev_abc")
    assert lines[0].startswith("  curl -sS -X POST http://127.0.0.1:3000/webhook ")
    assert "sign " in lines[1] and "--secret whsec_dev_abc)" in lines[1]
    assert lines[2].strip().startswith("--data-binary @") and lines[2].endswith("01-customer.created.json")


def test_metrics_documents_stay_off_stdout_while_held(capsys: pytest.CaptureFixture[str]) -> None:
    metrics_output.hold()
    try:
        for _ in range(150):  # Powertools prints a batch at 100 values of one metric
            metrics.add_metric(name="FortnoxCalls", unit=MetricUnit.Count, value=1)
    finally:
        metrics_output.release()
        metrics.clear_metrics()
    assert '"_aws"' not in capsys.readouterr().out


def test_released_metrics_print_as_in_lambda(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        for _ in range(100):
            metrics.add_metric(name="FortnoxCalls", unit=MetricUnit.Count, value=1)
    finally:
        metrics.clear_metrics()
    assert '"_aws"' in capsys.readouterr().out


def test_operator_commands_keep_metrics_documents_off_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator commands run the sync's Fortnox client, which counts into the same metrics."""
    from stripe_fortnox_cli.ops import commands, stack

    def dispatch(opened: object, args: argparse.Namespace) -> int:
        for _ in range(150):
            metrics.add_metric(name="FortnoxCalls", unit=MetricUnit.Count, value=1)
        return 0

    monkeypatch.setattr(stack, "open_stack", lambda args: object())
    monkeypatch.setattr(commands, "_dispatch", dispatch)
    try:
        assert commands.run_command(argparse.Namespace(local=None)) == 0
    finally:
        metrics.clear_metrics()
    assert '"_aws"' not in capsys.readouterr().out


def test_a_tenants_lines_name_it_and_a_refused_signature_names_its_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = describe(
        400, EVENT, '{"error": "signature does not match"}', "acme", "stack/tenants/acme/stripe-webhook"
    )
    assert "tenant acme's own secret (stack/tenants/acme/stripe-webhook)" in refused.message
    assert "tenants set-stripe acme" in refused.message
    assert "this stack's secret" in describe(400, EVENT, '{"error": "signature does not match"}').message
    print_request_line(refused)
    print_event_line(ProcessedEvent("evt_1", "invoice.paid", "cus_1", "synced", "7", "", 3.0, tenant="acme"))
    request, processed = capsys.readouterr().out.splitlines()
    assert request[10:].startswith("[acme] invoice.paid") and processed[10:].startswith("[acme] invoice.paid")
