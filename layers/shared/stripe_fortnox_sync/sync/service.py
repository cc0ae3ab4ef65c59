"""Processes one queued Stripe event: dedupe, apply, and park what can never succeed.

Transient failures (Fortnox down, rate limit, a concurrent write) raise, so SQS delivers the
message again and, after the queue's maxReceiveCount, moves it to the dead-letter queue.
Permanent ones (a Fortnox validation error, a broken chain of refresh tokens) are parked in the
dead-letter queue at once with their reason, to be redriven once the cause is fixed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from stripe_fortnox_sync.core.errors import (
    ConfigError,
    ConflictError,
    FortnoxError,
    PermanentEventError,
    RateLimitTimeout,
    StripeUnavailable,
    UnbookedCharge,
    WaitingForInvoice,
)
from stripe_fortnox_sync.core.models import FieldWarning, Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.observability import MetricUnit, logger, metrics, tenant_count
from stripe_fortnox_sync.core.payload import PayloadError, parse_event
from stripe_fortnox_sync.core.ports import EventPublisher
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.sync import routes

# Stripe retries for up to three days; remember event ids a little longer than that.
DEDUPE_SECONDS = 4 * 24 * 3600
# After Fortnox fails transiently for OUTAGE_AFTER records in a row (each with its own retries
# spent), the rest of the batch fails at once instead of each record waiting out the same outage
# into the function's timeout. One failure alone is more often a blip than an outage.
OUTAGE_HOLD_SECONDS = 30.0
OUTAGE_AFTER = 2
# SQS message attributes count toward the 256 KiB message limit, and the webhook leaves 2 KiB.
MAX_FAILURE_MESSAGE = 1000
# Parking for these reasons means a secret is wrong or missing: the operator's fix (a new secret
# value) must reach this warm container, not only the next cold one.
REBUILD_REASONS = frozenset(
    {"auth", "forbidden", "unauthorized", "config", "stripe_auth", "needs_stripe_key"}
)


def _result_from_dict(data: dict[str, Any], duplicate: bool = False) -> SyncResult:
    result = SyncResult(
        event_id=data["event_id"],
        event_type=data["event_type"],
        stripe_id=data["stripe_id"],
        outcome=Outcome(data["outcome"]),
        fortnox_number=data.get("fortnox_number"),
        detail=data.get("detail", ""),
        warnings=tuple(FieldWarning(**w) for w in data.get("warnings", ())),
    )
    if duplicate:
        return SyncResult(
            result.event_id,
            result.event_type,
            result.stripe_id,
            Outcome.IGNORED,
            result.fortnox_number,
            f"duplicate delivery (first: {result.outcome.value})",
        )
    return result


def _identified(body: str) -> dict[str, Any] | None:
    """The id and type of a refused event, for its park record, when they can be read safely."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].isascii():
        return None
    return {"id": raw["id"], "type": str(raw.get("type") or "")[:100]}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# Failures of our own layers that a later attempt may not meet: a concurrent writer, the shared
# rate window full, an idempotency record still in progress, the network. (The AWS adapters judge
# their own errors, also when Powertools' idempotency layer wraps them: see `transient`.)
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConflictError,
    RateLimitTimeout,
    IdempotencyAlreadyInProgressError,
    ConnectionError,
    TimeoutError,
)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT_TYPES)


def _retry_reason(exc: BaseException) -> str:
    """The park reason of a failure that was retried until the queue's last receive."""
    if isinstance(exc, WaitingForInvoice):
        return exc.reason
    if isinstance(exc, StripeUnavailable):
        return "stripe_unavailable"
    if isinstance(exc, FortnoxError):
        return f"fortnox_{exc.reason}"
    return "unavailable"


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    if isinstance(response, dict):
        return {**response, "_duplicate": True}
    return response


def new_idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="id",
        expires_after_seconds=DEDUPE_SECONDS,
        raise_on_no_idempotency_key=True,
        response_hook=_mark_duplicate,
    )


# Applies one event (routes.apply bound to the handlers' ports); built lazily, rebuilt after a refused secret.
Applier = Callable[[StripeEvent], SyncResult]


class SyncService:
    def __init__(
        self,
        settings: Settings,
        handlers: Callable[[], Applier],
        parker: EventPublisher | None,
        persistence: BasePersistenceLayer | None,
        forget_secrets: Callable[[], None] | None = None,
        transient: Callable[[BaseException], bool] = lambda _: False,
        *,
        key_prefix: str = "stripe-event",
        idempotency_config: IdempotencyConfig | None = None,
    ) -> None:
        self._settings = settings
        self._handlers_factory = handlers
        self._enabled = routes.enabled_types(settings)
        self._forget_secrets = forget_secrets
        # The AWS adapters' judgement of their own errors (throttling, 5xx, network: retry).
        self._infrastructure_transient = transient
        self._handlers: Applier | None = None
        self._parker = parker
        self._outage_until = 0.0
        self._transient_in_a_row = 0
        # One config may serve several services (one per tenant; `key_prefix` keeps them apart).
        self.idempotency_config = idempotency_config or new_idempotency_config()
        apply = self._apply
        if persistence is not None:
            apply = idempotent_function(
                data_keyword_argument="event",
                persistence_store=persistence,
                config=self.idempotency_config,
                key_prefix=key_prefix,
            )(apply)
        self._apply_once = apply

    def start_batch(self) -> None:
        """A new invocation: Fortnox gets a fresh chance."""
        self._outage_until = 0.0
        self._transient_in_a_row = 0

    def _rebuild(self) -> None:
        """Credentials were refused or missing: the operator's fix (a new secret value) must
        reach this warm container, not only the next cold one."""
        self._handlers = None
        if self._forget_secrets is not None:
            self._forget_secrets()

    def _applier(self) -> Applier:
        # Built on first use: secrets and the Fortnox session are only needed when an event
        # actually reaches Fortnox.
        if self._handlers is None:
            self._handlers = self._handlers_factory()
        return self._handlers

    def _apply(self, event: dict[str, Any]) -> dict[str, Any]:
        result = self._applier()(StripeEvent.from_dict(event))
        data = asdict(result)
        data["outcome"] = result.outcome.value
        return data

    def handle(self, body: str, receive_count: int = 1) -> SyncResult:
        """Apply one queued event; `receive_count` is SQS's ApproximateReceiveCount for it."""
        started = time.perf_counter()
        try:
            raw = parse_event(body)
        except PayloadError as exc:
            if exc.not_json:
                return self._park(body, None, "bad_payload", f"queued message is not JSON: {exc}")
            return self._park(body, _identified(body), "invalid_event", str(exc))
        event = StripeEvent.from_dict(raw)
        logger.set_correlation_id(event.id)
        logger.append_keys(event_type=event.type)
        if event.type not in self._enabled or event.livemode != self._settings.stripe_livemode:
            result = SyncResult(event.id, event.type, "", Outcome.IGNORED, detail="type or mode not enabled")
        else:
            try:
                result = self._apply_unless_down(raw)
            except Exception as exc:
                reason = self._classify(exc)
                if reason is not None:
                    return self._park(body, raw, reason, _describe(exc))
                if receive_count < self._settings.max_receives:
                    raise
                # SQS would move it now without a word: park it with what kept failing instead.
                message = f"still failing on receive {receive_count}: {_describe(exc)}"
                return self._park(body, raw, _retry_reason(exc), message)
        self._record(result, time.perf_counter() - started)
        return result

    def _apply_unless_down(self, raw: dict[str, Any]) -> SyncResult:
        if time.monotonic() < self._outage_until:
            raise FortnoxError("Fortnox failed moments ago; not trying again in this batch", status=503)
        route = routes.BY_TYPE.get(str(raw["type"]))
        apply = (
            self._apply
            if route is not None and route.dedupe is routes.Dedupe.REPEAT_SAFE
            else self._apply_once
        )
        data = apply(event=raw)
        self._transient_in_a_row = 0
        return _result_from_dict(data, duplicate=bool(data.get("_duplicate")))

    def _classify(self, exc: Exception) -> str | None:
        """The park reason for a failure that retrying cannot fix, or None to retry (re-raise)."""
        if isinstance(exc, PermanentEventError):
            return exc.reason
        if isinstance(exc, ConfigError):
            return "config"
        if isinstance(exc, WaitingForInvoice):
            # The sale's own event is still on its way (or parked): SQS delivers this one again.
            if isinstance(exc, UnbookedCharge):
                metrics.add_metric(name="PayoutWaiting", unit=MetricUnit.Count, value=1)
            else:
                metrics.add_metric(name="RefundWaiting", unit=MetricUnit.Count, value=1)
            logger.warning("waiting for a sale's invoice, will retry", extra={"error": str(exc)})
            return None
        if isinstance(exc, StripeUnavailable):
            metrics.add_metric(name="StripeApiFailure", unit=MetricUnit.Count, value=1)
            logger.warning("Stripe API failed, will retry", extra={"error": str(exc)})
            return None
        if isinstance(exc, FortnoxError):
            return self._fortnox_failed(exc)
        if _transient(exc) or self._infrastructure_transient(exc):
            logger.warning("a dependency failed, will retry", extra={"error": _describe(exc)})
            return None
        # Nothing outside failed: the event's own data broke the code that applies it. Retrying
        # cannot help, and would hold the customer's later events behind it.
        logger.exception("event could not be applied")
        return "invalid_event"

    def _fortnox_failed(self, exc: FortnoxError) -> str | None:
        metrics.add_metric(name=f"FortnoxFailure_{exc.reason}", unit=MetricUnit.Count, value=1)
        tenant_count("FortnoxFailures")
        if not exc.transient:
            return exc.reason
        self._transient_in_a_row += 1
        if self._transient_in_a_row >= OUTAGE_AFTER:
            self._outage_until = time.monotonic() + OUTAGE_HOLD_SECONDS
        logger.warning("Fortnox failed, will retry", extra={"error": str(exc), "reason": exc.reason})
        return None

    def _record(self, result: SyncResult, seconds: float) -> None:
        metrics.add_metric(name=f"Customers_{result.outcome.value}", unit=MetricUnit.Count, value=1)
        for warning in result.warnings:
            metrics.add_metric(name="FieldAdjusted", unit=MetricUnit.Count, value=1)
            logger.warning(
                "Stripe value adjusted to fit Fortnox", extra={"field": warning.field, "why": warning.reason}
            )
        fields = {
            "event_id": result.event_id,
            "event_type": result.event_type,
            "outcome": result.outcome.value,
            "stripe_id": result.stripe_id,
            "fortnox_number": result.fortnox_number,
            "detail": result.detail,
            "duration_ms": round(seconds * 1000, 1),
        }
        # Empty fields cost ingestion and say nothing.
        logger.info("event processed", extra={k: v for k, v in fields.items() if v not in (None, "")})

    def park(self, body: str, reason: str, message: str) -> SyncResult:
        """Park a queued message without applying it (the tenant checks: sync/tenants.py)."""
        return self._park(body, _identified(body), reason, message)

    def _park(self, body: str, raw: dict[str, Any] | None, reason: str, message: str) -> SyncResult:
        event_id = str(raw.get("id")) if isinstance(raw, dict) else "unknown"
        event_type = str(raw.get("type")) if isinstance(raw, dict) else "unknown"
        if reason in REBUILD_REASONS:
            self._rebuild()
        metrics.add_metric(name=f"EventsParked_{reason}", unit=MetricUnit.Count, value=1)
        tenant_count("EventsParked")
        logger.error("event parked in the dead-letter queue", extra={"reason": reason, "error": message})
        if self._parker is None:
            raise RuntimeError(f"cannot park event {event_id}: no dead-letter queue configured ({message})")
        group = routes.message_group_id(raw) if isinstance(raw, dict) and "id" in raw else "unparseable"
        self._parker.publish(
            body,
            group_id=group,
            # Unique per body and second: two unparseable messages must not collapse into one, and
            # an event parked again after a redrive must not be dropped as a duplicate.
            dedup_id=f"{event_id[:60]}-{hashlib.sha256(body.encode()).hexdigest()[:32]}-{int(time.time())}",
            attributes={
                "failure_reason": reason,
                "failure_message": message[:MAX_FAILURE_MESSAGE],
                "event_type": event_type[:100],
            },
        )
        result = SyncResult(event_id, event_type, "", Outcome.FAILED, detail=f"{reason}: {message}")
        self._record(result, 0.0)
        return result
