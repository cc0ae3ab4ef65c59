"""The template's queues, functions, API, tables, topics and outputs."""

from __future__ import annotations

import pytest

from tests.template.translated import Stack, ref

EXPECTED_OUTPUTS = {
    "WebhookUrl",
    "EventQueueUrl",
    "BulkQueueUrl",
    "DeadLetterQueueUrl",
    "MappingTableName",
    "IdempotencyTableName",
    "StateTableName",
    "StripeWebhookSecretArn",
    "FortnoxCredentialsSecretArn",
    "WebhookFunctionName",
    "SyncFunctionName",
    "ActivityTableName",
    "PaymentFailureTopicArn",
    "StripeApiKeySecretArn",
    "AlarmTopicArn",
    "DashboardUrl",
}


@pytest.mark.parametrize("name", ["EventQueue", "BulkQueue"])
def test_event_queue_is_fifo_with_redrive_to_fifo_dlq(stack: Stack, sync_timeout: int, name: str) -> None:
    queue = stack.props(name)
    dlq = stack.props("DeadLetterQueue")
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False  # the webhook dedupes by Stripe event id
    assert dlq["FifoQueue"] is True
    redrive = queue["RedrivePolicy"]
    assert ref(redrive["deadLetterTargetArn"]) == "DeadLetterQueue"
    assert 2 <= int(stack.value(redrive["maxReceiveCount"])) <= 10
    # The sync parks an event that fails on its last receive, with the reason: it must know which.
    env = stack.props("SyncFunction")["Environment"]["Variables"]
    assert ref(env["MAX_RECEIVE_COUNT"]) == ref(redrive["maxReceiveCount"]) == "MaxReceiveCount"
    assert int(queue["VisibilityTimeout"]) >= 6 * sync_timeout
    assert int(queue["MaximumMessageSize"]) == 262144
    for props in (queue, dlq):
        assert int(props["MessageRetentionPeriod"]) == 1209600
        assert props["SqsManagedSseEnabled"] is True


def test_dlq_only_accepts_redrive_from_the_event_and_bulk_queues(stack: Stack) -> None:
    allow = stack.props("DeadLetterQueue")["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    # The ARNs are built from the queue names (a GetAtt would be circular); they must agree.
    arns = [arn["Fn::Sub"] for arn in allow["sourceQueueArns"]]
    names = [stack.props(name)["QueueName"]["Fn::Sub"] for name in ("EventQueue", "BulkQueue")]
    assert len(arns) == len(names)
    for arn, queue_name in zip(arns, names, strict=True):
        assert arn.endswith(":" + queue_name)
        assert queue_name.endswith(".fifo")


@pytest.mark.parametrize(
    ("name", "queue"), [("SyncEventSource", "EventQueue"), ("SyncBulkEventSource", "BulkQueue")]
)
def test_sqs_event_source_mapping(stack: Stack, name: str, queue: str) -> None:
    assert set(stack.of_type("AWS::Lambda::EventSourceMapping")) == {"SyncEventSource", "SyncBulkEventSource"}
    props = stack.props(name)
    assert ref(props["EventSourceArn"]) == queue
    assert ref(props["FunctionName"]) == "SyncFunction"
    assert 1 <= int(props["BatchSize"]) <= 10  # FIFO maximum
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    concurrency = props["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= int(stack.value(concurrency)) <= 5
    parameter = stack.parameters.get(ref(concurrency) or "")
    if parameter is not None:  # any allowed value must be valid too
        assert int(parameter["MinValue"]) >= 2
        # SQS allows up to 1000; many tenants need about 2 per busy tenant (docs/tenants.md).
        assert int(parameter["MaxValue"]) <= 1000


def test_functions_are_arm64_python313_with_the_layer(stack: Stack) -> None:
    functions = stack.of_type("AWS::Lambda::Function")
    assert set(functions) == {"WebhookFunction", "SyncFunction"}
    (layer_id,) = stack.of_type("AWS::Lambda::LayerVersion")
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] == "python3.13", name
        assert [ref(layer) for layer in props["Layers"]] == [layer_id], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name


def test_layer_is_built_for_python313_arm64(stack: Stack) -> None:
    ((layer_id, layer),) = stack.of_type("AWS::Lambda::LayerVersion").items()
    assert layer["Metadata"]["BuildMethod"] == "python3.13", layer_id
    assert layer["Metadata"].get("BuildArchitecture") == "arm64", layer_id
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_every_function_logs_json_to_a_log_group_with_retention(stack: Stack) -> None:
    log_groups = stack.of_type("AWS::Logs::LogGroup")
    used: set[str] = set()
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", name
        group_id = ref(logging["LogGroup"])
        assert group_id in log_groups, f"{name} logs to {logging['LogGroup']!r}, not a group in the stack"
        assert int(stack.value(log_groups[group_id]["Properties"]["RetentionInDays"])) > 0, name
        assert group_id not in used, f"{name} shares a log group"
        used.add(group_id)


def test_http_api_route_throttling_and_access_logs(stack: Stack) -> None:
    (api,) = stack.of_type("AWS::ApiGatewayV2::Api").values()
    # Tenant `default`'s, a tenant's own (docs/tenants.md) and a Connect platform's.
    paths = {"/webhook", "/webhook/t/{slug}", "/webhook/connect"}
    assert set(api["Properties"]["Body"]["paths"]) == paths
    assert all(set(api["Properties"]["Body"]["paths"][path]) == {"post"} for path in paths)
    (stage,) = stack.of_type("AWS::ApiGatewayV2::Stage").values()
    throttling = stage["Properties"]["DefaultRouteSettings"]
    assert float(stack.value(throttling["ThrottlingRateLimit"])) > 0
    assert int(stack.value(throttling["ThrottlingBurstLimit"])) > 0
    group_id = ref(stage["Properties"]["AccessLogSettings"]["DestinationArn"])
    log_group = stack.resources[group_id or ""]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert int(stack.value(log_group["Properties"]["RetentionInDays"])) > 0


@pytest.mark.parametrize(
    ("table", "key", "ttl"),
    [
        ("MappingTable", "stripe_id", None),
        ("IdempotencyTable", "id", "expiration"),
        ("StateTable", "pk", "expires_at"),
    ],
)
def test_tables(stack: Stack, table: str, key: str, ttl: str | None) -> None:
    props = stack.props(table)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
    indexed = [
        {"AttributeName": index["KeySchema"][0]["AttributeName"], "AttributeType": "S"}
        for index in props.get("GlobalSecondaryIndexes", [])
    ]
    assert props["AttributeDefinitions"] == [{"AttributeName": key, "AttributeType": "S"}, *indexed]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_mapping_table_survives_stack_deletion_and_replacement(stack: Stack) -> None:
    table = stack.resources["MappingTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_activity_table(stack: Stack) -> None:
    props = stack.props("ActivityTable")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "customer_id", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "at", "AttributeType": "S"},
        {"AttributeName": "customer_id", "AttributeType": "S"},
    ]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize(
    ("topic", "subscription", "parameter", "condition"),
    [
        (
            "PaymentFailureTopic",
            "PaymentFailureEmailSubscription",
            "PaymentFailureEmail",
            "HasPaymentFailureEmail",
        ),
        ("AlarmTopic", "AlarmEmailSubscription", "AlarmEmail", "HasAlarmEmail"),
    ],
)
def test_email_subscription_only_when_an_address_is_given(
    stack: Stack, topic: str, subscription: str, parameter: str, condition: str
) -> None:
    assert stack.resources[topic]["Type"] == "AWS::SNS::Topic"
    resource = stack.resources[subscription]
    assert resource["Type"] == "AWS::SNS::Subscription"
    assert resource["Condition"] == condition
    assert stack.template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}
    props = resource["Properties"]
    assert props["Protocol"] == "email"
    assert ref(props["Endpoint"]) == parameter
    assert ref(props["TopicArn"]) == topic
    subscriptions = stack.of_type("AWS::SNS::Subscription")
    assert all(s.get("Condition") for s in subscriptions.values()), "every e-mail subscription is optional"


def test_topic_encryption(stack: Stack) -> None:
    # Lambda may publish to a topic under the AWS managed key; CloudWatch alarms may not.
    assert stack.props("PaymentFailureTopic")["KmsMasterKeyId"] == "alias/aws/sns"
    assert "KmsMasterKeyId" not in stack.props("AlarmTopic")


def test_outputs(stack: Stack) -> None:
    outputs = stack.template["Outputs"]
    missing = EXPECTED_OUTPUTS - set(outputs)
    assert not missing, f"missing outputs {sorted(missing)}"
    url = outputs["WebhookUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${WebhookHttpApi}.execute-api.${AWS::Region}.amazonaws.com/webhook"


def test_dashboard_url_output(stack: Stack) -> None:
    url = stack.template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.endswith("#dashboards:name=${Dashboard}")
    assert "${AWS::Region}.console.aws.amazon.com/cloudwatch" in url


def test_bulk_work_has_its_own_concurrency(stack: Stack) -> None:
    """Bulk work's mapping is capped apart from the live one: a backfill cannot take the event
    queue's pollers (docs/operations.md: bulk work)."""
    live = stack.props("SyncEventSource")["ScalingConfig"]["MaximumConcurrency"]
    bulk = stack.props("SyncBulkEventSource")["ScalingConfig"]["MaximumConcurrency"]
    assert (ref(live), ref(bulk)) == ("SyncMaximumConcurrency", "BulkMaximumConcurrency")
