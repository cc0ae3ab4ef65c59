"""Composition root: builds the services with their real AWS and Fortnox adapters."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from .aws.dynamodb import DynamoMappingStore, DynamoStateStore
from .aws.secrets import secret_json
from .aws.sqs import SqsFifoPublisher
from .customer_sync import CustomerSync
from .fortnox_auth import FortnoxCredentials, OAuthTokenProvider
from .fortnox_client import FortnoxClient
from .observability import MetricUnit, metrics
from .rate_limiter import SlidingWindowLimiter
from .settings import Settings
from .sync_service import SyncService


def _observe_call(method: str, path: str, status: int, seconds: float) -> None:
    metrics.add_metric(name="FortnoxCalls", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="FortnoxLatency", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))
    if status == 429:
        metrics.add_metric(name="Fortnox429", unit=MetricUnit.Count, value=1)
    elif status == 0 or status >= 500:
        metrics.add_metric(name="FortnoxErrors", unit=MetricUnit.Count, value=1)


def _observe_refresh(flow: str, ok: bool) -> None:
    metrics.add_metric(
        name="TokenRefreshes" if ok else "TokenRefreshFailures", unit=MetricUnit.Count, value=1
    )


def build_customer_sync(settings: Settings) -> CustomerSync:
    credentials = FortnoxCredentials.from_secret(
        secret_json(settings.fortnox_credentials_secret_name, settings.secrets_max_age_seconds)
    )
    state = DynamoStateStore(settings.state_table)
    tokens = OAuthTokenProvider(
        credentials,
        settings.fortnox_auth_url,
        state,
        timeout=settings.fortnox_timeout_seconds,
        on_refresh=_observe_refresh,
    )
    limiter = SlidingWindowLimiter(
        state,
        f"{credentials.client_id}#{credentials.tenant_id or 'authorization-code'}",
        max_requests=settings.fortnox_max_requests,
        window_seconds=settings.fortnox_window_seconds,
    )
    client = FortnoxClient(
        settings.fortnox_api_url,
        tokens,
        limiter,
        timeout=settings.fortnox_timeout_seconds,
        max_attempts=settings.fortnox_max_attempts,
        observer=_observe_call,
    )
    return CustomerSync(settings, client, DynamoMappingStore(settings.mapping_table))


def build_sync_service(settings: Settings) -> SyncService:
    return SyncService(
        settings,
        lambda: build_customer_sync(settings),
        SqsFifoPublisher(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None,
        DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
    )
