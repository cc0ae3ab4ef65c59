"""The functions' logs: to a file, as CloudWatch would keep them; the sync function's "event
processed" lines as `ProcessedEvent`s for the console and the tests.

A parked event's line names no customer and no duration (the sync logs it before it knew or
timed either): the record being applied, kept per thread while its container works on it,
supplies both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answers import subject_of

# The SQS record a sync container is applying, in the thread applying it: (start, its subject).
_applying = threading.local()


@dataclass
class ProcessedEvent:
    event_id: str
    event_type: str
    stripe_id: str
    outcome: str
    fortnox_number: str | None
    detail: str
    duration_ms: float
    tenant: str = ""  # "" for tenant `default`


def _subject(body: str) -> str:
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    return subject_of(event) if isinstance(event, dict) else ""


def tracked(record_handler: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """`record_handler`, noting which record (an SQS record as Lambda delivers it) this thread
    applies and since when."""

    def handle(record: dict[str, Any]) -> None:
        _applying.current = (
            time.perf_counter(),
            _subject(str(record.get("body", ""))),
            _record_tenant(record),
        )
        try:
            record_handler(record)
        finally:
            _applying.current = None

    return handle


def _record_tenant(record: dict[str, Any]) -> str:
    """The tenant a queued record carries ("" for tenant `default`): this thread's, not the
    logger's keys, which every thread of the local stack shares."""
    from stripe_fortnox_sync.sync.tenants import message_tenant

    return message_tenant(record.get("messageAttributes")) or ""


def _tenant() -> str:
    current: tuple[float, str, str] | None = getattr(_applying, "current", None)
    return current[2] if current is not None else ""


def _filled_in(stripe_id: str, duration_ms: float) -> tuple[str, float]:
    """The record's subject for a result that names none; its time so far for one not timed."""
    current: tuple[float, str, str] | None = getattr(_applying, "current", None)
    if current is None:
        return stripe_id, duration_ms
    started, subject, _ = current
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return stripe_id or subject, duration_ms or elapsed


class _ResultCollector(logging.Handler):
    """Turns the sync function's "event processed" log records into `ProcessedEvent`s."""

    def __init__(self, sink: Callable[[ProcessedEvent], None]) -> None:
        super().__init__(level=logging.INFO)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() != "event processed":
            return
        get = record.__dict__.get
        stripe_id, duration_ms = _filled_in(str(get("stripe_id", "")), float(get("duration_ms", 0.0)))
        self._sink(
            ProcessedEvent(
                event_id=str(get("event_id", "")),
                event_type=str(get("event_type", "")),
                stripe_id=stripe_id,
                outcome=str(get("outcome", "")),
                fortnox_number=get("fortnox_number"),
                detail=str(get("detail", "")),
                duration_ms=duration_ms,
                tenant=_tenant(),
            )
        )


class FunctionLogs:
    """The functions' JSON logs to a file; every processed event to `processed` and `on_event`."""

    def __init__(self, on_event: Callable[[ProcessedEvent], None] | None = None) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self.processed: list[ProcessedEvent] = []
        self._collector: logging.Handler | None = None
        self._logger: logging.Logger | None = None
        self._file: logging.FileHandler | None = None
        self._streams: list[logging.Handler] = []

    def start(self, log_path: Path) -> None:
        from stripe_fortnox_sync.core.observability import logger

        # The functions' logger, whatever service name it was created under in this process.
        service_logger = logging.getLogger(logger.name)
        handlers = list(service_logger.handlers)
        self._streams = [h for h in handlers if type(h) is logging.StreamHandler]
        # A stack that ran before in this process (a test's) may have left its file behind.
        earlier = [h for h in handlers if isinstance(h, _StackLog)]
        formats = [h.formatter for h in (*self._streams, *earlier) if h.formatter]
        for handler in (*self._streams, *earlier):
            service_logger.removeHandler(handler)
        self._file = _StackLog(log_path, encoding="utf-8")
        self._file.setFormatter(formats[0] if formats else None)
        service_logger.addHandler(self._file)
        self._collector = _ResultCollector(self._record)
        service_logger.addHandler(self._collector)
        self._logger = service_logger

    def stop(self) -> None:
        """Back as it was before `start`: the functions log to their stream again."""
        if self._logger is None:
            return
        for handler in (self._collector, self._file):
            if handler is not None:
                self._logger.removeHandler(handler)
                handler.close()
        for stream in self._streams:
            self._logger.addHandler(stream)
        self._collector = self._file = self._logger = None
        self._streams = []

    def _record(self, event: ProcessedEvent) -> None:
        with self._lock:
            self.processed.append(event)
        if self._on_event:
            self._on_event(event)


class _StackLog(logging.FileHandler):
    """A local stack's functions.log."""
