"""Powertools logger and metrics shared by both functions, configured by environment.

The X-Ray tracer lives in the sync function only: its SDK costs about as much to import as
boto3 itself, and the webhook's cold start is what Stripe waits on (Lambda's active tracing
still records the webhook's own segment).

POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_TRACE_DISABLED and POWERTOOLS_METRICS_DISABLED set them up in the template and in
the local stack alike.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter

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
    set_tenant(_DEFAULT_TENANT)


# A namespace the code knows: without one Powertools fails the flush at the end of every
# invocation, which would fail the batch (and keep re-queueing it) over a missing variable.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "StripeFortnoxSync")


# The metrics an operator acts on, also counted per tenant: parked events, Fortnox failures, Fortnox
# requests, 429s and token failures. Not all metrics: each (name, tenant) pair is a custom metric
# billed every month it is sent (docs/tenants.md). Tenant `default` only has the stack's own
# dimensionless (`service`) metrics, so a one-tenant stack logs not a byte more than before.
TENANT_METRICS = ("EventsParked", "FortnoxFailures", "FortnoxCalls", "Fortnox429", "TokenRefreshFailures")
TENANT_DIMENSION = "tenant"
_DEFAULT_TENANT = "default"  # core/tenants.py DEFAULT_TENANT; that module imports the settings
# The local stack runs several sync workers as threads of one process: each its own record's tenant.
_current = threading.local()
_tenant_counts: dict[str, Counter[str]] = {}
_tenant_lock = threading.Lock()


def set_tenant(tenant_id: str) -> None:
    """The tenant of the record being processed: `tenant_count` counts for it."""
    _current.tenant = tenant_id


def tenant_count(name: str) -> None:
    """Count one `name` (one of TENANT_METRICS) for the current tenant unless it is `default`."""
    tenant = getattr(_current, "tenant", _DEFAULT_TENANT)
    if tenant == _DEFAULT_TENANT:
        return
    with _tenant_lock:
        _tenant_counts.setdefault(tenant, Counter())[name] += 1


def flush_tenant_metrics() -> None:
    """At the end of an invocation: one EMF document per tenant that counted anything, with
    dimensions (service, tenant). One line per tenant and invocation rather than one per count."""
    with _tenant_lock:
        counts = dict(_tenant_counts)
        _tenant_counts.clear()
    if not counts or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined"
    for tenant, counted in counts.items():
        document = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": metrics.namespace,
                        "Dimensions": [["service", TENANT_DIMENSION]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(counted)],
                    }
                ],
            },
            "service": service,
            TENANT_DIMENSION: tenant,
            **{name: counted[name] for name in sorted(counted)},
        }
        print(json.dumps(document, separators=(",", ":")))


new_invocation()

__all__ = [
    "MetricUnit",
    "flush_tenant_metrics",
    "logger",
    "metrics",
    "new_invocation",
    "set_tenant",
    "tenant_count",
]
