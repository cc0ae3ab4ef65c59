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
# A namespace the code knows: without one Powertools fails the flush at the end of every
# invocation, which would fail the batch (and keep re-queueing it) over a missing variable.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "StripeFortnoxSync")

__all__ = ["MetricUnit", "logger", "metrics"]
