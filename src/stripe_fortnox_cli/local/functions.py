"""The real Lambda handlers, loaded as "containers" and invoked as Lambda invokes them.

Each container is a separate load of the handler module: its own module state, cached settings,
clients and secrets, like a warm Lambda execution environment. What they log goes to
`function_logs`.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .config import ACCOUNT, REGION, STACK, LocalStackError
from .function_logs import tracked

# template.yaml: the functions' Timeout and MemorySize.
WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MEMORY_MB = 10, 256
SYNC_TIMEOUT_SECONDS, SYNC_MEMORY_MB = 60, 512
WEBHOOK_HANDLER = Path("functions/webhook/webhook_handler.py")
SYNC_HANDLER = Path("functions/sync/sync_handler.py")


@dataclass
class PublishedMessage:
    """A message the webhook function put on the event queue."""

    dedup_id: str
    group_id: str
    body_bytes: int


class LambdaContext:
    """What Powertools reads from a Lambda context object."""

    def __init__(self, function_name: str, timeout_seconds: int, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def load_handler(name: str, path: Path) -> ModuleType:
    """A fresh load of the handler module at `path` (relative to the repository), named `name`."""
    spec = importlib.util.spec_from_file_location(name, repo_root() / path)
    if spec is None or spec.loader is None:
        raise LocalStackError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clear_secret_caches() -> None:
    """Powertools caches secrets per process; a new stack (or a cold container) reads them again."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]


class WebhookFunction:
    """One webhook container, invoked one request at a time; records what it queues."""

    def __init__(self) -> None:
        self._module = load_handler("webhook_handler", WEBHOOK_HANDLER)
        self._lock = threading.Lock()
        self.published: list[PublishedMessage] = []
        # Told of every message queued: the event source's poll wakes as SQS's long poll would.
        self.on_publish: Callable[[], None] = lambda: None
        self._record_publishes()

    def invoke(self, apigw_event: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            context = LambdaContext(f"{STACK}-webhook", WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MEMORY_MB)
            result = self._module.lambda_handler(apigw_event, context)
        return int(result["statusCode"]), str(result.get("body", ""))

    def _record_publishes(self) -> None:
        # Wraps the handler's publisher factory, so tests can tell exactly what was queued.
        make_publisher: Callable[[], Any] = self._module._publisher
        published, lock, function = self.published, threading.Lock(), self

        class RecordingPublisher:
            def publish(
                self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
            ) -> None:
                make_publisher().publish(body, group_id=group_id, dedup_id=dedup_id, attributes=attributes)
                with lock:
                    published.append(PublishedMessage(dedup_id, group_id, len(body.encode())))
                function.on_publish()

        recorder = RecordingPublisher()
        self._module._publisher = lambda: recorder  # type: ignore[attr-defined]


class SyncFunction:
    """The sync function's warm containers: an invocation takes a free one, or waits for one."""

    def __init__(self, containers: int) -> None:
        self._modules = [self._load(i) for i in range(max(1, containers))]
        self._slots = [threading.Lock() for _ in self._modules]
        self._count_lock = threading.Lock()
        self._running = 0
        self.invocations = 0
        self.max_concurrent_invocations = 0

    @property
    def containers(self) -> int:
        return len(self._modules)

    def invoke(self, event: dict[str, Any]) -> set[str]:
        """Run one batch; returns the message ids that failed (all of them when it crashed)."""
        module, slot = self._take_container()
        self._count(+1)
        try:
            context = LambdaContext(f"{STACK}-sync", SYNC_TIMEOUT_SECONDS, SYNC_MEMORY_MB)
            response = module.lambda_handler(event, context)
            return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            # A crashed invocation fails the whole batch, as Lambda does.
            logging.getLogger(__name__).exception("sync invocation failed")
            return {record["messageId"] for record in event["Records"]}
        finally:
            self._count(-1)
            slot.release()

    def recycle(self) -> None:
        """Replace every container with a cold one, as Lambda does after a deployment, a
        configuration change or idle time: module state, cached secrets and clients start over."""
        for slot in self._slots:
            slot.acquire()  # wait for running invocations; none starts meanwhile
        try:
            clear_secret_caches()
            self._modules = [self._load(i) for i in range(len(self._modules))]
        finally:
            for slot in self._slots:
                slot.release()

    @staticmethod
    def _load(number: int) -> ModuleType:
        module = load_handler(f"sync_handler_{number}", SYNC_HANDLER)
        # The handler looks `record_handler` up when it runs: the wrapper is what it calls.
        module.record_handler = tracked(module.record_handler)  # type: ignore[attr-defined]
        return module

    def _take_container(self) -> tuple[ModuleType, threading.Lock]:
        while True:
            for module, slot in zip(self._modules, self._slots, strict=True):
                if slot.acquire(blocking=False):
                    return module, slot
            time.sleep(0.005)

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._running += change
            if change > 0:
                self.invocations += 1
                self.max_concurrent_invocations = max(self.max_concurrent_invocations, self._running)
