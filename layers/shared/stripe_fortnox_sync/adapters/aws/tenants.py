"""The tenant registry in the state table (docs/tenants.md).

Three kinds of item, all written in one transaction when a tenant is added:
`tenant#{id}` holds the tenant (as JSON, with a version for conditional updates);
`tenant-slug#{slug}` and `tenant-account#{stripe account}` point at the id, so the webhook finds
a tenant with two GetItems and never scans. Listing scans for `tenant#` (operators only).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stripe_fortnox_sync.adapters.aws.dynamodb import dynamodb_client
from stripe_fortnox_sync.core.errors import ConflictError
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus, check_tenant_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TENANT_PREFIX = "tenant#"
SLUG_PREFIX = "tenant-slug#"
ACCOUNT_PREFIX = "tenant-account#"


class DynamoTenantRegistry:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client or dynamodb_client()

    def _pointer(self, pk: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True).get(
            "Item"
        )
        return item["tenant_id"]["S"] if item and "tenant_id" in item else None

    def get(self, tenant_id: str) -> Tenant | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": TENANT_PREFIX + tenant_id}}, ConsistentRead=True
        ).get("Item")
        return Tenant.from_item(json.loads(item["tenant"]["S"])) if item and "tenant" in item else None

    def by_slug(self, slug: str) -> Tenant | None:
        tenant_id = self._pointer(SLUG_PREFIX + slug) if slug else None
        return self.get(tenant_id) if tenant_id else None

    def by_account(self, stripe_account: str) -> Tenant | None:
        tenant_id = self._pointer(ACCOUNT_PREFIX + stripe_account) if stripe_account else None
        return self.get(tenant_id) if tenant_id else None

    def add(self, tenant: Tenant) -> Tenant:
        check_tenant_id(tenant.id)
        stored = replace(tenant, version=1, created_at=tenant.created_at or round(time.time(), 3))
        new = "attribute_not_exists(pk)"
        puts: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": self._record(stored), "ConditionExpression": new}}
        ]
        pointers = [SLUG_PREFIX + stored.webhook_slug] if stored.webhook_slug else []
        if stored.stripe_account:
            pointers.append(ACCOUNT_PREFIX + stored.stripe_account)
        for pk in pointers:
            item = {"pk": {"S": pk}, "tenant_id": {"S": stored.id}}
            puts.append({"Put": {"TableName": self._table, "Item": item, "ConditionExpression": new}})
        try:
            self._client.transact_write_items(TransactItems=puts)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ConflictError(
                    f"tenant {tenant.id}: the id, webhook slug or Stripe account is already taken"
                ) from exc
            raise
        return stored

    def set_status(self, tenant_id: str, status: TenantStatus) -> Tenant | None:
        current = self.get(tenant_id)
        if current is None or current.status is status:
            return current
        return self.save(replace(current, status=status))

    def save(self, tenant: Tenant) -> Tenant:
        """Store a changed tenant over the version it was read at (its slug and account stay)."""
        updated = replace(tenant, version=tenant.version + 1)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._record(updated),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(tenant.version)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConflictError(f"tenant {tenant.id} changed concurrently") from exc
            raise
        return updated

    def all(self) -> list[Tenant]:
        paginator = self._client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            ConsistentRead=True,
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": TENANT_PREFIX}},
        )
        found = [
            Tenant.from_item(json.loads(item["tenant"]["S"]))
            for page in pages
            for item in page.get("Items", [])
            if "tenant" in item
        ]
        return sorted(found, key=lambda t: t.id)

    @staticmethod
    def _record(tenant: Tenant) -> dict[str, Any]:
        return {
            "pk": {"S": TENANT_PREFIX + tenant.id},
            "tenant": {"S": json.dumps(tenant.to_item(), sort_keys=True)},
            "version": {"N": str(tenant.version)},
        }
