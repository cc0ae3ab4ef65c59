"""The template's alarms and dashboard: what they watch is what the functions emit, and
docs/operations.md draws the dashboard as it is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.template.translated import REPO, Stack, ref

EMF_NAMESPACE = "StripeFortnoxSync"
EMF_DIMENSIONS = [{"Name": "service", "Value": "stripe-fortnox-sync"}]
ALARMS = {
    "DeadLetterQueueAlarm",
    "OldestMessageAlarm",
    "Webhook5xxAlarm",
    "SyncErrorsAlarm",
    "FortnoxAuthAlarm",
}


def _alarm_metrics(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads: the single metric, or each MetricStat of a math alarm."""
    if "MetricName" in props:
        return [
            {
                "Namespace": props["Namespace"],
                "MetricName": props["MetricName"],
                "Dimensions": props["Dimensions"],
            }
        ]
    return [query["MetricStat"]["Metric"] for query in props["Metrics"] if "MetricStat" in query]


def test_emf_namespace_and_service_match_the_functions(stack: Stack) -> None:
    """Alarms and charts name the namespace and dimension the functions' Powertools emit under."""
    for function in ("WebhookFunction", "SyncFunction"):
        variables = stack.props(function)["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == EMF_NAMESPACE, function
        assert [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}] == EMF_DIMENSIONS, (
            function
        )


def test_alarms_exist_and_notify_the_alarm_topic(stack: Stack) -> None:
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == ALARMS
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert [ref(a) for a in props["AlarmActions"]] == ["AlarmTopic"], name
        assert [ref(a) for a in props["OKActions"]] == ["AlarmTopic"], name
        assert props["TreatMissingData"] in ("notBreaching", "ignore"), name
        assert props["AlarmDescription"].strip(), name
        for metric in _alarm_metrics(props):
            if metric["Namespace"] == EMF_NAMESPACE:
                assert metric["Dimensions"] == EMF_DIMENSIONS, name


def test_any_dead_letter_raises_the_alarm(stack: Stack) -> None:
    props = stack.props("DeadLetterQueueAlarm")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
    ]
    assert props["Statistic"] == "Maximum"
    assert (props["ComparisonOperator"], float(props["Threshold"])) == ("GreaterThanThreshold", 0.0)
    assert int(props["EvaluationPeriods"]) == 1
    # An idle queue stops reporting: silence must not clear a parked event's alarm.
    assert props["TreatMissingData"] == "ignore"


def test_oldest_message_alarm_uses_the_threshold_parameter(stack: Stack) -> None:
    props = stack.props("OldestMessageAlarm")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["EventQueue", "QueueName"]}}
    ]
    assert ref(props["Threshold"]) == "OldestMessageAlarmSeconds"
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_webhook_5xx_alarm(stack: Stack) -> None:
    props = stack.props("Webhook5xxAlarm")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/ApiGateway", "5xx", "Sum")
    ((dimension),) = props["Dimensions"]
    assert dimension["Name"] == "ApiId" and ref(dimension["Value"]) == "WebhookHttpApi"
    assert float(props["Threshold"]) == 1.0
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(
    ("alarm", "metrics"),
    [
        ("SyncErrorsAlarm", {("AWS/Lambda", "Errors"), (EMF_NAMESPACE, "Customers_failed")}),
        ("FortnoxAuthAlarm", {(EMF_NAMESPACE, "TokenRefreshFailures"), (EMF_NAMESPACE, "EventsParked_auth")}),
    ],
)
def test_math_alarms_add_up_their_metrics(stack: Stack, alarm: str, metrics: set[tuple[str, str]]) -> None:
    props = stack.props(alarm)
    watched = {(m["Namespace"], m["MetricName"]) for m in _alarm_metrics(props)}
    assert watched == metrics
    (result,) = [q for q in props["Metrics"] if q.get("ReturnData", True)]
    ids = [q["Id"] for q in props["Metrics"] if "MetricStat" in q]
    for metric_id in ids:  # missing data counts as zero, so one silent metric cannot hide the other
        assert f"FILL({metric_id}, 0)" in result["Expression"]
    assert float(props["Threshold"]) == 1.0
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for query in props["Metrics"]:
        if "MetricStat" in query and query["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda":
            (dimension,) = query["MetricStat"]["Metric"]["Dimensions"]
            assert ref(dimension["Value"]) == "SyncFunction"


def _dashboard(stack: Stack) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body with every ${...} replaced by a marker, and the names it substitutes."""
    body = stack.props("Dashboard")["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    names = set(re.findall(r"\$\{([^}!]+)\}", body))

    def marker(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in stack.parameters and stack.parameters[name]["Type"] == "Number":
            return str(stack.parameters[name]["Default"])
        return f"<{name}>"

    return json.loads(re.sub(r"\$\{([^}!]+)\}", marker, body)), names


def test_dashboard_body_is_json_and_refers_to_stack_resources(stack: Stack) -> None:
    body, names = _dashboard(stack)
    for name in names:
        logical_id = name.split(".")[0]
        assert name.startswith("AWS::") or logical_id in stack.resources or logical_id in stack.parameters, (
            name
        )
    assert stack.props("Dashboard")["DashboardName"] == {"Ref": "AWS::StackName"}
    assert body["widgets"]


def test_dashboard_widgets_fit_the_grid_without_overlapping(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    taken: set[tuple[int, int]] = set()
    for widget in body["widgets"]:
        x, y, width, height = widget["x"], widget["y"], widget["width"], widget["height"]
        assert x >= 0 and x + width <= 24, widget.get("properties", {}).get("title")
        cells = {(cx, cy) for cx in range(x, x + width) for cy in range(y, y + height)}
        assert not cells & taken, widget.get("properties", {}).get("title")
        taken |= cells


def _dashboard_metrics(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric, dimension value) for every plain metric line of every widget."""
    found: set[tuple[str, str, str]] = set()
    for widget in body["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            names = [part for part in line if isinstance(part, str)]
            if len(names) >= 4:
                found.add((names[0], names[1], names[3]))
    return found


def test_dashboard_shows_what_the_issue_asks_for(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    metrics = _dashboard_metrics(body)
    api, queue, dlq = "<WebhookHttpApi>", "<EventQueue.QueueName>", "<DeadLetterQueue.QueueName>"
    service = EMF_DIMENSIONS[0]["Value"]
    expected = {
        # webhook traffic, 4xx and 5xx
        ("AWS/ApiGateway", "Count", api),
        ("AWS/ApiGateway", "4xx", api),
        ("AWS/ApiGateway", "5xx", api),
        # queue depth and age of the oldest message; DLQ depth
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq),
        # Fortnox latency and errors, token health
        (EMF_NAMESPACE, "FortnoxLatency", service),
        (EMF_NAMESPACE, "FortnoxErrors", service),
        (EMF_NAMESPACE, "Fortnox429", service),
        (EMF_NAMESPACE, "TokenRefreshFailures", service),
        # Lambda errors, throttles and duration, both functions
        *(
            ("AWS/Lambda", metric, f"<{function}>")
            for metric in ("Errors", "Throttles", "Duration")
            for function in ("SyncFunction", "WebhookFunction")
        ),
        # sync outcomes
        *(
            (EMF_NAMESPACE, f"Customers_{outcome}", service)
            for outcome in ("created", "updated", "unchanged", "deactivated", "ignored", "stale", "failed")
        ),
    }
    missing = expected - metrics
    assert not missing, sorted(missing)
    for namespace, _, dimension in metrics:
        if namespace == EMF_NAMESPACE:
            assert dimension == service
    searches = [
        part["expression"]
        for widget in body["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
        for part in line
        if isinstance(part, dict) and "expression" in part
    ]
    assert any("MetricName=EventsParked" in s for s in searches), "parked reasons are open-ended"
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert {a.removeprefix("<").removesuffix(".Arn>") for a in alarm_widget["properties"]["alarms"]} == ALARMS


def test_every_metric_the_issue_names_is_charted_and_emitted(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    charted = {metric for _, metric, _ in _dashboard_metrics(body)}
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("layers/shared/stripe_fortnox_sync", "functions")
        for path in (REPO / folder).rglob("*.py")
    )
    names = {
        "WebhookReceived",
        "EventsAccepted",
        "EventsIgnored",
        "EventsRejected",
        "WebhookErrors",
        "FortnoxCalls",
        "FortnoxLatency",
        "Fortnox429",
        "FortnoxErrors",
        "TokenRefreshes",
        "TokenRefreshFailures",
        "FieldAdjusted",
    }
    assert not names - charted, sorted(names - charted)
    # A renamed metric in the code would leave its chart (and any alarm on it) silently empty.
    assert all(f'"{name}"' in code for name in names), sorted(n for n in names if f'"{n}"' not in code)
    for prefix in ("Customers_", "EventsParked_", "FortnoxFailure_"):
        assert f'f"{prefix}' in code, prefix


def test_operations_guide_draws_the_dashboard_layout(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    guide = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    section = guide.split("\n## Dashboard", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", section, re.S)
    (layout,) = [block for block in blocks if "┌─ " in block]
    titles = [
        w["properties"]["title"]
        for w in sorted(body["widgets"], key=lambda w: (w["y"], w["x"]))
        if "title" in w.get("properties", {})
    ]
    positions = [layout.find(f"┌─ {title} ") for title in titles]
    assert all(p >= 0 for p in positions), [t for t, p in zip(titles, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "docs/operations.md shows the widgets in another order"


# Reasons an invoice or refund event is parked for (besides Fortnox's own, `validation`).
INVOICE_PARK_REASONS = ("invoice_total", "invoice_mapping", "needs_stripe_key", "no_customer")


def test_dashboard_charts_invoice_problems_the_code_reports(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    (widget,) = [
        w for w in body["widgets"] if w["properties"].get("title", "").startswith("Invoices and refunds")
    ]
    charted = {line[1] for line in widget["properties"]["metrics"]}
    expected = {"RefundWaiting", "StripeApiFailure", "EventsParked_validation"} | {
        f"EventsParked_{reason}" for reason in INVOICE_PARK_REASONS
    }
    assert charted == expected
    package = REPO / "layers/shared/stripe_fortnox_sync"
    code = "\n".join(path.read_text(encoding="utf-8") for path in package.rglob("*.py"))
    # A renamed metric or reason would leave its line silently empty.
    for name in ("RefundWaiting", "StripeApiFailure"):
        assert f'name="{name}"' in code, name
    for reason in INVOICE_PARK_REASONS:
        assert re.search(rf'PermanentEventError\(\s*"{reason}"', code), reason
    assert 'return "validation"' in code


def test_dashboard_lists_recent_invoices_from_the_sync_log(stack: Stack) -> None:
    body, _ = _dashboard(stack)
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == "Recent invoices and refunds"]
    assert widget["type"] == "log"
    query = widget["properties"]["query"]
    assert query.startswith("SOURCE '<SyncFunctionLogGroup>'")
    assert "filter message = 'event processed'" in query
    (regex,) = re.findall(r"detail like /(.*?)/", query)
    # The details invoice_sync writes for sales and credits; a customer update never matches.
    details = ("invoice 12 (100.00 SEK): created, booked, paid", "credit invoice 13 of invoice 12 (-5 SEK)")
    for detail in details:
        assert re.search(regex, detail), detail
    assert not re.search(regex, "created; updated Name, Email")
    from stripe_fortnox_sync.sync import invoice_sync
    from stripe_fortnox_sync.sync import service as sync_service

    assert 'f"invoice {number} (' in Path(invoice_sync.__file__).read_text(encoding="utf-8")
    assert '"event processed"' in Path(sync_service.__file__).read_text(encoding="utf-8")


def test_a_row_charts_the_operator_metrics_per_tenant(stack: Stack) -> None:
    """The five per-tenant metrics (core/observability.py TENANT_METRICS), each the ten busiest
    tenants labelled by tenant; the `service` charts above stay as they were."""
    from stripe_fortnox_sync.core.observability import TENANT_METRICS

    body, _ = _dashboard(stack)
    per_tenant = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("Per tenant")]
    expressions = [part for w in per_tenant for line in w["properties"]["metrics"] for part in line]
    schema = "{StripeFortnoxSync,service,tenant}"
    charted = {
        m.group(1)
        for part in expressions
        for m in [re.search(r'MetricName="(\w+)"', part["expression"])]
        if m and schema in part["expression"] and "DESC, 10)" in part["expression"]
    }
    assert charted == set(TENANT_METRICS)
    assert all(part["label"].startswith("${!PROP('Dim.tenant')}") for part in expressions)
