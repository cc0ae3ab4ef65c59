"""SQS (FIFO) batch -> Fortnox, one record at a time; failures are reported per record."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from stripe_fortnox_sync.bootstrap import build_sync_service
from stripe_fortnox_sync.core.observability import flush_tenant_metrics, metrics, new_invocation
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.schedule import book_recent_days
from stripe_fortnox_sync.sync.tenants import TenantRouter, message_tenant

# Only the failed customer's later messages wait; other customers' messages go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
tracer = Tracer()


@cache
def _service() -> TenantRouter:
    return build_sync_service(Settings.from_env())


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    result = _service().handle(
        record.body,
        receive_count=int(record.attributes.approximate_receive_count),
        tenant=message_tenant(record.raw_event.get("messageAttributes")),
    )
    tracer.put_annotation("outcome", result.outcome.value)
    tracer.put_annotation("event_type", result.event_type)


@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse | dict[str, Any]:
    new_invocation()
    if event.get("book_days"):
        # The schedule (template.yaml: BookDaysSchedule): summary booking's days that are over.
        return {"booked": book_recent_days(Settings.from_env())}
    service = _service()
    service.idempotency_config.register_lambda_context(context)
    service.start_batch()
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        # The per-tenant counts (core/observability.py): one document per tenant, not per count.
        flush_tenant_metrics()
