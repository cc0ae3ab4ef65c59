"""Stripe as the operator commands read it, and the synthetic events they queue for the sync.

Fixes are never applied from here: they are queued as synthetic Stripe events and go through
the sync like any webhook (same ordering per customer, same idempotency, same mapping).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_FAILED
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.progress import Progress, plural
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import OutgoingMessage
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.models import HINT_KEY
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync.routes import message_group_id

if TYPE_CHECKING:
    import stripe

STRIPE_PAGE_SIZE = 100
KEY_PREFIXES = ("sk_", "rk_")


@dataclass(frozen=True)
class FetchedCustomer:
    data: dict[str, Any]
    # When Stripe showed us this state: the synthetic event's `created`, so a webhook for a
    # later change still wins and one for an earlier change is skipped as stale.
    fetched_at: int

    @property
    def id(self) -> str:
        return str(self.data.get("id") or "")


def _stored_key(settings: Settings) -> str | None:
    """The stack's own restricted key, when the operator may read it (else they pass one)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import BotoCoreError, ClientError

    from stripe_fortnox_sync.bootstrap import stripe_api_key

    with contextlib.suppress(ConfigError, GetParameterError, BotoCoreError, ClientError):
        return stripe_api_key(settings)
    return None


def stripe_key(stack: Stack, given: str | None) -> str:
    """--stripe-key, else $STRIPE_API_KEY, else the stack's secret; of the stack's mode."""
    key = given or os.environ.get("STRIPE_API_KEY")
    if not key:
        key = _stored_key(stack.settings)
    if not key:
        raise OperationError(
            "no Stripe API key: pass --stripe-key, set STRIPE_API_KEY, or store a restricted key "
            "(Customers: read) in the stack's StripeApiKeySecretArn secret"
        )
    if not key.startswith(KEY_PREFIXES):
        raise OperationError("the Stripe API key must be a secret (sk_...) or restricted (rk_...) key")
    live = "_live_" in key
    if live != stack.settings.stripe_livemode:
        raise OperationError(
            f"the Stripe key is a {'live' if live else 'test'}-mode key, but the stack serves "
            f"{stack.mode} mode (StripeMode)"
        )
    return key


def stripe_client(stack: Stack, key: str | None, err: TextIO) -> stripe.StripeClient:
    """A client for the stack's Stripe account: a key for another account is refused (exit 2)."""
    import stripe

    from stripe_fortnox_cli.ops.stripe_account import check_account

    base = os.environ.get("STRIPE_API_BASE") or None
    # A Connect platform's merchant (`--tenant`): the platform's key, as the connected account.
    account = stack.tenant.stripe_account if stack.tenant is not None else ""
    client = stripe.StripeClient(
        stripe_key(stack, key),
        stripe_account=account or None,
        base_addresses={"api": base} if base else {},
        max_network_retries=3,
    )
    check_account(stack, client, err)
    return client


@contextlib.contextmanager
def stripe_errors() -> Iterator[None]:
    """Stripe's errors as the command's: a refused key is exit 4, anything else exit 1."""
    import stripe

    try:
        yield
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise OperationError(f"Stripe refused the API key: {exc.user_message or exc}", EXIT_AUTH) from None
    except stripe.StripeError as exc:
        raise OperationError(f"Stripe failed: {exc.user_message or exc}", EXIT_FAILED) from None


def iter_stripe_customers(
    client: stripe.StripeClient, *, after: str | None = None, limit: int | None = None, stream: TextIO
) -> Iterator[FetchedCustomer]:
    """Every Stripe customer (newest first, as Stripe lists them), after `after`, with tax ids."""
    progress = Progress("Listing Stripe customers", stream=stream)
    count = 0
    try:
        while limit is None or count < limit:
            params: dict[str, Any] = {"limit": STRIPE_PAGE_SIZE, "expand": ["data.tax_ids"]}
            if after:
                params["starting_after"] = after
            with stripe_errors():
                page = client.v1.customers.list(params=params)  # type: ignore[arg-type]
            fetched_at = int(time.time())
            for customer in page.data:
                data: dict[str, Any] = customer.to_dict()
                count += 1
                progress.update(count)
                yield FetchedCustomer(data, fetched_at)
                if limit is not None and count >= limit:
                    break
            if not page.has_more or not page.data:
                break
            after = page.data[-1].id
    finally:
        progress.close(f"Stripe: {plural(count, 'customer')}")


def retrieve_stripe_customer(client: stripe.StripeClient, customer_id: str) -> dict[str, Any] | None:
    """The customer, `{"deleted": true, ...}` once deleted, or None when Stripe does not know it."""
    import stripe

    try:
        customer = client.v1.customers.retrieve(customer_id, params={"expand": ["tax_ids"]})
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" or exc.http_status == 404:
            return None
        raise OperationError(f"Stripe failed: {exc.user_message or exc}", EXIT_FAILED) from None
    data: dict[str, Any] = customer.to_dict()
    return data


# Synthetic events -------------------------------------------------------------------------------


def synthetic_event(
    customer: Mapping[str, Any],
    *,
    created: int,
    livemode: bool,
    source: str,
    event_type: str = "customer.updated",
    hint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Stripe-shaped event our tools queue; only the sync ever reads it (never signed)."""
    customer_id = str(customer.get("id") or "")
    event: dict[str, Any] = {
        "id": f"evt_{source}_{customer_id}_{created}",
        "object": "event",
        "type": event_type,
        "created": created,
        "livemode": livemode,
        "data": {"object": dict(customer)},
    }
    if hint is not None:
        event[HINT_KEY] = {"source": source, **hint}
    return event


def queue_message(event: Mapping[str, Any], *, source: str, group_id: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        body=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
        group_id=group_id or message_group_id(dict(event)),
        # The event id: a repeat within SQS's 5-minute window is dropped, later ones are caught
        # by the sync's idempotency on the same id.
        dedup_id=str(event["id"])[:128],
        attributes={"event_type": str(event["type"]), "source": source},
    )
