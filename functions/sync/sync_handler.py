"""SQS (FIFO) batch -> Fortnox, one record at a time; failures are reported per record."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Tracer

from stripe_fortnox_sync.bootstrap import build_sync_service
from stripe_fortnox_sync.core.observability import flush_tenant_metrics, metrics, new_invocation
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.schedule import book_recent_days
from stripe_fortnox_sync.sync.fifo_batch import process_fifo_batch
from stripe_fortnox_sync.sync.tenants import TenantRouter, message_tenant

tracer = Tracer()


@cache
def _service() -> TenantRouter:
    return build_sync_service(Settings.from_env())


@tracer.capture_method
def record_handler(record: dict[str, Any]) -> None:
    """One SQS record, as Lambda delivers it."""
    result = _service().handle(
        record["body"],
        receive_count=int(record["attributes"]["ApproximateReceiveCount"]),
        tenant=message_tenant(record.get("messageAttributes")),
    )
    tracer.put_annotation("outcome", result.outcome.value)
    tracer.put_annotation("event_type", result.event_type)


@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    new_invocation()
    if event.get("book_days"):
        # The schedule (template.yaml: BookDaysSchedule): summary booking's days that are over.
        return {"booked": book_recent_days(Settings.from_env())}
    service = _service()
    service.idempotency_config.register_lambda_context(context)
    service.start_batch()
    try:
        # Only the failed customer's later messages wait; other customers' messages go on. Every
        # record failed: it raises, and Lambda gives the whole batch back (sync/fifo_batch.py).
        return process_fifo_batch(event, record_handler)
    finally:
        # The per-tenant counts (core/observability.py): one document per tenant, not per count.
        flush_tenant_metrics()
