"""Keeps Powertools' metrics documents (CloudWatch EMF JSON) off the CLI's standard output.

In Lambda, a metrics document printed to stdout is how a metric reaches CloudWatch. In the CLI
it is noise: the operator commands run the sync's own Fortnox client, and the local stack runs
the functions in this process, all counting into the shared `metrics` object. With metrics
disabled Powertools skips its flush but still prints (and then clears) a batch once one metric
holds 100 values: a 5 KB JSON line in the middle of a backfill's output. Powertools prints with
the builtin `print` of its CloudWatch module, so that module gets a `print` of its own here.
The batch it cleared then leaves an invocation with nothing to flush, and Powertools warns about
that on stderr: the warning says nothing to a CLI user either.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

_lock = threading.Lock()
_holders = 0


def _discard(*args: Any, **kwargs: Any) -> None:
    """Where Powertools' metrics documents go instead of stdout."""


def _module() -> Any:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

    return cloudwatch


def hold() -> None:
    """Keep metrics documents off stdout until the matching `release` (calls nest)."""
    global _holders
    with _lock:
        _holders += 1
        _module().print = _discard
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def release() -> None:
    """Undo one `hold`; after the last, Powertools prints to stdout again (as in Lambda)."""
    global _holders
    with _lock:
        _holders = max(0, _holders - 1)
        module = _module()
        if _holders == 0 and "print" in vars(module):
            del module.print
