"""Powertools logger and metrics shared by both functions, configured by environment.

The X-Ray tracer lives in the sync function only: its SDK costs about as much to import as
boto3 itself, and the webhook's cold start is what Stripe waits on (Lambda's active tracing
still records the webhook's own segment).

POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_TRACE_DISABLED and POWERTOOLS_METRICS_DISABLED set them up in the template and in
the local stack alike.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
# Keys no operator filters on: the log group already names the function, and CloudWatch stamps every
# line with its time. Every byte of a log line is paid for at ingestion, on every event.
_UNFILTERED_KEYS = ("location", "service", "sampling_rate", "timestamp")


def new_invocation() -> None:
    """Before each invocation: no keys left from the last one, and none an operator does not use.

    Instead of Powertools' `inject_lambda_context`, which adds the function's name, ARN, memory
    size, request id and cold-start flag to every line: CloudWatch's log group and REPORT line say
    those once. The event id (`correlation_id`) is what each line is looked up by.
    """
    logger.clear_state()
    logger.remove_keys(_UNFILTERED_KEYS)


new_invocation()
# A namespace the code knows: without one Powertools fails the flush at the end of every
# invocation, which would fail the batch (and keep re-queueing it) over a missing variable.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "StripeFortnoxSync")

__all__ = ["MetricUnit", "logger", "metrics", "new_invocation"]
