"""Which Stripe account a stack serves, and refusing a key for another one.

The account id (`GET /v1/account`) is recorded in the stack's state table the first time an
operator command reads Stripe with a key; every later key must belong to the same account. A key
for another account would make `backfill` copy that account's customers into Fortnox, and make
every mapped customer look unknown to `reconcile`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_sync.core.tenants import tenant_key

if TYPE_CHECKING:
    import stripe
    from mypy_boto3_dynamodb import DynamoDBClient

    from stripe_fortnox_cli.ops.stack import Stack

# The state table's item for it, next to the token state and the rate window.
ACCOUNT_KEY = "stripe#account"


def key_account(client: stripe.StripeClient) -> tuple[str | None, str]:
    """The account the key belongs to, or None and why Stripe did not say."""
    import stripe

    try:
        account = client.v1.accounts.retrieve_current()
    except stripe.AuthenticationError as exc:
        raise OperationError(f"Stripe refused the API key: {exc.user_message or exc}", EXIT_AUTH) from None
    except stripe.PermissionError:
        return None, "the key may not read its own account (GET /v1/account)"
    except stripe.StripeError as exc:
        if exc.http_status == 404:
            # localstripe, for one, does not serve it (a 404 without Stripe's error body).
            return None, "this Stripe API does not serve GET /v1/account"
        raise OperationError(f"Stripe failed: {exc.user_message or exc}", EXIT_FAILED) from None
    return str(account.id), ""


def recorded_account(table: str, client: DynamoDBClient, key: str = ACCOUNT_KEY) -> str | None:
    item = client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
    return item["account_id"]["S"] if item and "account_id" in item else None


def record_account(table: str, account_id: str, client: DynamoDBClient, key: str = ACCOUNT_KEY) -> str:
    """Record `account_id` unless one is recorded already; returns the one recorded."""
    from botocore.exceptions import ClientError

    try:
        client.put_item(
            TableName=table,
            Item={
                "pk": {"S": key},
                "account_id": {"S": account_id},
                "recorded_at": {"N": str(int(time.time()))},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        # Another command recorded one between our read and this write: that one stands.
        return recorded_account(table, client, key) or account_id
    return account_id


def check_account(
    stack: Stack, client: stripe.StripeClient, err: TextIO, dynamodb: DynamoDBClient | None = None
) -> None:
    """Refuse (exit 2) a key for another account than the one recorded; record it the first time."""
    from stripe_fortnox_sync.adapters.aws.dynamodb import dynamodb_client

    account, why = key_account(client)
    if account is None:
        print(f"Note: which Stripe account the key belongs to is not checked: {why}.", file=err)
        return
    table = stack.settings.state_table
    dynamodb = dynamodb or dynamodb_client()
    # Each tenant's own account, under its own key (`--tenant`); a Connect merchant's is known.
    key = tenant_key(stack.tenant_id, ACCOUNT_KEY)
    recorded = recorded_account(table, dynamodb, key)
    if recorded is None and stack.tenant is not None and stack.tenant.stripe_account:
        recorded = stack.tenant.stripe_account
    if recorded is None:
        recorded = record_account(table, account, dynamodb, key)
        if recorded == account:
            print(f"Recorded Stripe account {account} as the one this stack serves.", file=err)
    if recorded != account:
        raise OperationError(
            f"the Stripe key belongs to account {account}, but this stack serves {recorded} (recorded "
            "the first time an operator command read Stripe): use a key of that account "
            "(docs/operations.md says how to change the recorded one)",
            EXIT_CONFIG,
        )
