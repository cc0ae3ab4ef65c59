"""The local stack must emulate the deployed one: same queues, same tables, same keys and TTLs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_sync.core.settings import SETTINGS
from tests.cfn import evaluate, function_environment

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "MappingTable": "MappingTableName",
    "IdempotencyTable": "IdempotencyTableName",
    "StateTable": "StateTableName",
    "ActivityTable": "ActivityTableName",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    resources: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    return resources


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = LocalConfig(port=0, state_dir=tmp_path_factory.mktemp("state"), start_worker=False)
    with LocalStack(config) as running:
        yield running


@pytest.mark.parametrize(
    ("resource", "output"), [("EventQueue", "EventQueueUrl"), ("DeadLetterQueue", "DeadLetterQueueUrl")]
)
def test_queues_match(template: dict[str, Any], stack: LocalStack, resource: str, output: str) -> None:
    wanted = template[resource]["Properties"]
    actual = boto3.client("sqs").get_queue_attributes(QueueUrl=stack.outputs[output], AttributeNames=["All"])[
        "Attributes"
    ]
    assert actual["FifoQueue"] == str(wanted["FifoQueue"]).lower()
    assert actual["ContentBasedDeduplication"] == str(wanted["ContentBasedDeduplication"]).lower()
    assert int(actual["MessageRetentionPeriod"]) == wanted["MessageRetentionPeriod"]
    assert int(actual["MaximumMessageSize"]) == wanted["MaximumMessageSize"]
    if "RedrivePolicy" in wanted:
        redrive = json.loads(actual["RedrivePolicy"])
        full = cfn_yaml.load(str(ROOT / "template.yaml"))
        assert str(redrive["maxReceiveCount"]) == evaluate(wanted["RedrivePolicy"]["maxReceiveCount"], full)
        assert redrive["deadLetterTargetArn"].endswith("-dlq.fifo")


@pytest.mark.parametrize(("resource", "output"), TABLES.items())
def test_tables_match(template: dict[str, Any], stack: LocalStack, resource: str, output: str) -> None:
    wanted = template[resource]["Properties"]
    client = boto3.client("dynamodb")
    name = stack.outputs[output]
    table = client.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == wanted["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        wanted["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    indexes = {
        i["IndexName"]: {"KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in table.get("GlobalSecondaryIndexes", [])
    }
    assert indexes == {
        i["IndexName"]: {"KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in wanted.get("GlobalSecondaryIndexes", [])
    }
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in wanted:
        assert ttl.get("AttributeName") == wanted["TimeToLiveSpecification"]["AttributeName"]
        assert ttl.get("TimeToLiveStatus") == "ENABLED"
    else:
        assert ttl.get("TimeToLiveStatus", "DISABLED") == "DISABLED"


@pytest.mark.parametrize("function", ["WebhookFunction", "SyncFunction"])
def test_function_environments_are_the_ones_the_template_sets(function: str, stack: LocalStack) -> None:
    """Each variable as the template sets it: the parameters at their defaults, the Refs of
    resources as the local stack's outputs; only the local ones differ."""
    assert stack.fortnox is not None
    local_only = {
        "STAGE": "local",
        "FORTNOX_API_URL": stack.fortnox.api_url,
        "FORTNOX_AUTH_URL": stack.fortnox.auth_url,
    }
    full = cfn_yaml.load(str(ROOT / "template.yaml"))
    resources = {s.resource: stack.outputs[s.output] for s in SETTINGS if s.resource}
    variables = function_environment(full, function)
    missing = {n for n in variables if n not in os.environ}
    assert not missing, f"{function}: the local stack does not set {sorted(missing)}"
    for name, value in variables.items():
        wanted = local_only.get(name) or evaluate(value, full, resources=resources)
        assert os.environ[name] == wanted, (
            f"{function} {name}: {os.environ[name]!r}, the template gives {wanted!r}"
        )


def test_outputs_file_has_every_parameter_and_resource_as_the_functions_get_them(stack: LocalStack) -> None:
    assert stack.outputs_file is not None
    written = json.loads(stack.outputs_file.read_text(encoding="utf-8"))
    for declared in SETTINGS:
        if declared.parameter:
            assert declared.env_value(written[declared.parameter]) == os.environ[declared.env], declared.name
        elif declared.resource:
            assert written[declared.output] == os.environ[declared.env], declared.name
    assert written["WebhookUrl"] == stack.webhook_url and written["Region"] == "eu-north-1"
    assert written["StripeMode"] == "test" and written["AwsEndpointUrl"].startswith("http://127.0.0.1:")
