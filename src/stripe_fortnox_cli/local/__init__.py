"""The local stack: the deployed pipeline on one machine (`stripe-fortnox dev` and `demo`)."""

from .config import LocalConfig, LocalStackError
from .function_logs import ProcessedEvent
from .stack import LocalStack, running

__all__ = ["LocalConfig", "LocalStack", "LocalStackError", "ProcessedEvent", "running"]
