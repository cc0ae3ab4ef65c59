"""The mapping table's index by Fortnox number: declared once in the template, named as the
adapter queries it, and the only thing of the table the sync function may query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from stripe_fortnox_sync.adapters.aws.dynamodb import FORTNOX_NUMBER_INDEX

ROOT = Path(__file__).resolve().parents[2]


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    return resources


def test_the_index_is_the_one_the_adapter_queries_and_projects_the_status() -> None:
    (index,) = _resources()["MappingTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == FORTNOX_NUMBER_INDEX
    assert index["KeySchema"] == [{"AttributeName": "fortnox_number", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}


def test_the_sync_may_query_that_index_and_nothing_else() -> None:
    statements = _resources()["SyncFunction"]["Properties"]["Policies"][0]["Statement"]
    queries = [s for s in statements if "dynamodb:Query" in str(s["Action"])]
    assert [(s["Action"], s["Resource"]) for s in queries] == [
        ("dynamodb:Query", {"Fn::Sub": f"${{MappingTable.Arn}}/index/{FORTNOX_NUMBER_INDEX}"})
    ]
