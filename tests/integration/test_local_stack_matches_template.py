"""The local stack must emulate the deployed one: same queues, same tables, same keys and TTLs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from stripe_fortnox_cli.local_stack import LocalConfig, LocalStack

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
        import json

        redrive = json.loads(actual["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == wanted["RedrivePolicy"]["maxReceiveCount"]
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
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in wanted:
        assert ttl.get("AttributeName") == wanted["TimeToLiveSpecification"]["AttributeName"]
        assert ttl.get("TimeToLiveStatus") == "ENABLED"
    else:
        assert ttl.get("TimeToLiveStatus", "DISABLED") == "DISABLED"


def test_function_environments_are_the_ones_the_local_stack_sets(
    template: dict[str, Any], stack: LocalStack
) -> None:
    import os

    for function in ("WebhookFunction", "SyncFunction"):
        names = set(template[function]["Properties"]["Environment"]["Variables"])
        missing = {n for n in names if n not in os.environ}
        assert not missing, f"{function}: the local stack does not set {sorted(missing)}"
