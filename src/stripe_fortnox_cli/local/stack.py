"""The deployed pipeline on one machine: the real handlers, AWS emulated by moto's server.

HTTP `POST /webhook` (`http.WebhookServer`) -> the webhook Lambda handler, as API Gateway would
call it (`functions.WebhookFunction`) -> SQS FIFO in moto (`aws`) -> a worker that polls like
Lambda's event source mapping (`event_source.SqsEventSource`) -> the sync Lambda handler
(`functions.SyncFunction`) -> DynamoDB in moto and Fortnox (real, or the embedded simulator:
`fortnox_target`). The functions' environment is derived from the settings' declarations
(`environment`), as template.yaml sets it.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from stripe_fortnox_cli import metrics_output

from . import aws, environment
from .answers import WebhookRequest, describe, event_account
from .config import LocalConfig
from .event_source import SqsEventSource
from .fortnox_target import FortnoxTarget, check_credentials, save_token_state, start_fortnox
from .function_logs import FunctionLogs, ProcessedEvent
from .functions import PublishedMessage, SyncFunction, WebhookFunction, clear_secret_caches
from .http import WebhookServer
from .state_dir import StateDirectory

# How long Ctrl-C waits, in all, for the queue workers to finish the batch in hand.
STOP_GRACE_SECONDS = 10


class LocalStack:
    def __init__(
        self,
        config: LocalConfig,
        on_event: Callable[[ProcessedEvent], None] | None = None,
        on_request: Callable[[WebhookRequest], None] | None = None,
    ) -> None:
        self.config = config
        self.ready = False
        self.fortnox: FortnoxTarget | None = None
        self.webhook_secrets: list[str] = []
        self.connect_webhook_secrets: list[str] = []
        self.outputs: dict[str, str] = {}
        self.parameters: dict[str, str] = {}
        self.state = StateDirectory(config.state_dir)
        self._on_request = on_request
        self._metrics_held = False
        self._environment = environment.ProcessEnvironment()
        self._http: WebhookServer | None = None
        self._moto = aws.MotoServer(self._environment)
        self._logs = FunctionLogs(on_event)
        self._webhook: WebhookFunction | None = None
        self._sync: SyncFunction | None = None
        self._source: SqsEventSource | None = None
        # The bulk queue's own event source mapping, at its own concurrency (`bulk_workers`).
        self._bulk: SqsEventSource | None = None

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        cfg = self.config
        try:
            # First: a directory a live stack has, or a busy port, fails before anything starts.
            self.state.claim()
            self._http = WebhookServer(
                self, cfg.host, cfg.port, cfg.request_timeout, self._answered if self._on_request else None
            )
            self._http.start()
            metrics_output.hold()
            self._metrics_held = True
            self._moto.start()
            self.outputs = aws.create_resources(
                cfg.visibility_timeout, cfg.max_receives, self._moto.endpoint_url
            )
            self.fortnox = start_fortnox(cfg)
            self._start_functions(self.fortnox)
            check_credentials(self.fortnox, self.outputs["StateTableName"], self.state_dir)
            # Last: `--local` finds only a stack that is ready.
            outputs = environment.outputs_file(self.outputs, self.parameters, self.webhook_url)
            self.state.write_outputs(outputs)
        except BaseException:
            self.stop()
            raise
        self.ready = True
        if cfg.start_worker:
            self.event_source.start(workers=cfg.workers)
            self.bulk_source.start(workers=cfg.bulk_workers)

    def _start_functions(self, fortnox: FortnoxTarget) -> None:
        cfg = self.config
        self.webhook_secrets = cfg.webhook_secrets or [f"whsec_dev_{secrets.token_hex(16)}"]
        self.connect_webhook_secrets = cfg.connect_webhook_secrets or [
            f"whsec_connect_{secrets.token_hex(16)}"
        ]
        self.outputs.update(
            aws.create_secrets(
                self.webhook_secrets, cfg.stripe_api_key, fortnox.credentials, self.connect_webhook_secrets
            )
        )
        self.parameters = environment.stack_parameters(cfg, fortnox.api_url, fortnox.auth_url)
        self._environment.set(environment.function_environment(cfg, self.parameters, self.outputs))
        # Secrets are cached per process; a new stack has new secrets under the same names.
        clear_secret_caches()
        self._webhook = WebhookFunction()
        self._sync = SyncFunction(cfg.workers + cfg.bulk_workers)
        self._source = SqsEventSource(self.outputs["EventQueueUrl"], self._sync, cfg.visibility_timeout)
        self._bulk = SqsEventSource(self.outputs["BulkQueueUrl"], self._sync, cfg.visibility_timeout)
        self._webhook.on_publish = self._source.arrived
        self._logs.start(self.state_dir / "functions.log")

    def stop(self, keep_state: bool = False) -> None:
        """Stop everything; remove the outputs file, and a temporary state directory unless `keep_state`."""
        self.ready = False
        sources = [s for s in (self._source, self._bulk) if s is not None]
        for source in sources:
            source.signal_stop()
        if self._http is not None:
            self._http.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        busy = [name for source in sources for name in source.join(deadline)]
        if busy:
            print(
                f"stripe-fortnox: {', '.join(busy)} still busy after {STOP_GRACE_SECONDS} s; stopping anyway",
                file=sys.stderr,
                flush=True,
            )
        if self.fortnox is not None and self.outputs and self._moto.running:
            save_token_state(self.fortnox, self.outputs["StateTableName"], self.state_dir)
        self._logs.stop()
        if self.fortnox is not None:
            self.fortnox.stop()
        self._moto.stop()
        self._environment.restore()
        if self._metrics_held:
            metrics_output.release()
            self._metrics_held = False
        self.state.release(keep=keep_state)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # The parts ---------------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.state.path

    @property
    def outputs_file(self) -> Path:
        return self.state.outputs_path

    @property
    def webhook_url(self) -> str:
        return _started(self._http).url

    @property
    def sync(self) -> SyncFunction:
        return _started(self._sync)

    @property
    def event_source(self) -> SqsEventSource:
        return _started(self._source)

    @property
    def bulk_source(self) -> SqsEventSource:
        assert self._bulk is not None, "the local stack is not started"
        return self._bulk

    @property
    def processed(self) -> list[ProcessedEvent]:
        return self._logs.processed

    @property
    def published(self) -> list[PublishedMessage]:
        return self._webhook.published if self._webhook else []

    # Both queues' event sources together, for tests and reports.
    @property
    def _sources(self) -> list[SqsEventSource]:
        return [s for s in (self._source, self._bulk) if s is not None]

    @property
    def deliveries(self) -> int:
        return sum(s.deliveries for s in self._sources)

    @property
    def redeliveries(self) -> int:
        return sum(s.redeliveries for s in self._sources)

    # Driving it --------------------------------------------------------------------------------

    def invoke_webhook(self, body: bytes, headers: dict[str, str], path: str = "/webhook") -> tuple[int, str]:
        from .events import api_gateway_event

        return self.invoke_webhook_event(api_gateway_event(body, headers, path))

    def _answered(self, status: int, body: bytes | None, answer: str, path: str) -> None:
        if self._on_request is not None:
            self._on_request(describe(status, body, answer, *self._tenant_of(path, body)))

    def _tenant_of(self, path: str, body: bytes | None) -> tuple[str, str]:
        """The tenant a request's URL names (its id and signing secret's name), for the console;
        the Connect endpoint's by the event's `account`. ("", "") for tenant `default`."""
        from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry

        slug = path.removeprefix("/webhook/t/") if path.startswith("/webhook/t/") else ""
        account = event_account(body) if path == "/webhook/connect" else ""
        if not slug and not account:
            return "", ""
        try:
            registry = DynamoTenantRegistry(self.outputs["StateTableName"])
            tenant = registry.by_slug(slug) if slug else registry.by_account(account)
        except Exception:  # a console label only: never fails the request's line
            return "", ""
        return (tenant.id, tenant.webhook_secret_name) if tenant else ("(unknown)", "")

    def invoke_webhook_event(self, apigw_event: dict[str, Any]) -> tuple[int, str]:
        """The webhook function on any API Gateway event, e.g. one with a text (not base64) body."""
        return _started(self._webhook).invoke(apigw_event)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive-and-invoke round of the event source mapping; returns the batch size."""
        return self.event_source.poll_once(wait_seconds)

    def recycle_sync_containers(self) -> None:
        """Replace every sync container with a cold one (see `SyncFunction.recycle`)."""
        self.sync.recycle()

    def store_stripe_key(self, key: str) -> None:
        """Store a Stripe API key in the stack's secret, as an operator would, and start the sync
        containers cold so that they read it (deployed, they would within SecretsMaxAge)."""
        aws.put_secret(self.outputs["StripeApiKeySecretArn"], key)
        self.recycle_sync_containers()

    # Inspection -------------------------------------------------------------------------------

    def queue_depths(self) -> dict[str, int]:
        return {name: aws.queue_depth(self.outputs[name]) for name in ("EventQueueUrl", "DeadLetterQueueUrl")}

    def bulk_depth(self) -> int:
        """Operator bulk work waiting or in flight on the bulk queue."""
        return aws.queue_depth(self.outputs["BulkQueueUrl"])

    def wait_until_idle(self, timeout: float = 60.0, settle: float = 0.5) -> bool:
        """True once the event and bulk queues have been empty for `settle` seconds."""
        deadline = time.monotonic() + timeout
        empty_since: float | None = None
        while time.monotonic() < deadline:
            if all(aws.queue_depth(self.outputs[name]) == 0 for name in ("EventQueueUrl", "BulkQueueUrl")):
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= settle:
                    return True
            else:
                empty_since = None
            time.sleep(0.1)
        return False

    def notifications(self) -> list[dict[str, Any]]:
        """The payment-failure notices published so far (subject and message), consumed."""
        return aws.take_notifications(self.outputs["PaymentFailureInboxUrl"])

    def dead_letters(self) -> list[dict[str, Any]]:
        """Peek at the dead-letter queue without consuming it."""
        return aws.peek_messages(self.outputs["DeadLetterQueueUrl"])


@contextlib.contextmanager
def running(
    config: LocalConfig, on_event: Callable[[ProcessedEvent], None] | None = None
) -> Iterator[LocalStack]:
    """A started local stack, stopped (and its temporary state removed) on leaving."""
    stack = LocalStack(config, on_event)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


_Part = TypeVar("_Part")


def _started(part: _Part | None) -> _Part:
    """A part that exists only while the stack runs (its HTTP server, functions, event source)."""
    assert part is not None, "the local stack is not started"
    return part
