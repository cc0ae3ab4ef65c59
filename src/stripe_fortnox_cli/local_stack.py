"""The deployed pipeline on one machine: the real handlers, AWS emulated by moto's server.

HTTP `POST /webhook` -> the webhook Lambda handler (as API Gateway would call it) -> SQS FIFO
(moto) -> a worker that long-polls like Lambda's event source mapping -> the sync Lambda
handler -> DynamoDB (moto) and Fortnox (real, or the embedded simulator).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from fortnox_sim import FortnoxSimulator

REGION = "eu-north-1"
ACCOUNT = "123456789012"
STACK = "stripe-fortnox-local"
SERVICE_NAME = "stripe-fortnox-sync"

# Mirrors template.yaml (tests/template checks that they agree), except the visibility
# timeout: 360 s in AWS, shorter here so a failed record is retried while you watch.
QUEUE_ATTRIBUTES = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "MessageRetentionPeriod": "1209600",
    "MaximumMessageSize": "262144",
}
MAX_RECEIVE_COUNT = 5
TABLES = {
    "mapping": ("stripe_id", None),
    "idempotency": ("id", "expiration"),
    "state": ("pk", "expires_at"),
}
SQS_BATCH_SIZE = 10
# template.yaml: the sync function's Timeout, and the queue's VisibilityTimeout (6x it). A received
# batch stays invisible this long, as in AWS, so a slow invocation (a shared rate limit, Fortnox
# retries) never sees its own messages handed to another worker; a failed record is made visible
# again after `LocalConfig.visibility_timeout` instead.
SYNC_TIMEOUT_SECONDS = 60
IN_FLIGHT_VISIBILITY_SECONDS = 6 * SYNC_TIMEOUT_SECONDS
# SQS FIFO drops a message whose deduplication id it saw this recently.
SQS_DEDUPLICATION_SECONDS = 300
# How often an idle worker asks the queue again while emulating a long poll.
IDLE_POLL_SECONDS = 0.05
# What SQS accepts in a message (moto accepts anything): real SQS refuses the send, and the webhook
# would answer 500, so the local stack must refuse it too.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
_SQS_FORBIDDEN_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class LocalStackError(Exception):
    """The local stack cannot start; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class FortnoxTarget:
    api_url: str
    auth_url: str
    credentials: dict[str, str]
    simulator: FortnoxSimulator | None = None


@dataclass
class ProcessedEvent:
    event_id: str
    event_type: str
    stripe_id: str
    outcome: str
    fortnox_number: str | None
    detail: str
    duration_ms: float


@dataclass
class PublishedMessage:
    """A message the webhook function put on the event queue."""

    dedup_id: str
    group_id: str
    body_bytes: int


@dataclass
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = 3000
    webhook_secrets: list[str] = field(default_factory=list)
    livemode: bool = False
    # Seconds a failed record waits before it is delivered again (360 s after the receive in AWS).
    visibility_timeout: int = 5
    fortnox_api_url: str | None = None
    fortnox_auth_url: str | None = None
    fortnox_credentials: dict[str, str] = field(default_factory=dict)
    # A Stripe key lets the sync read current customers; the base URL points at localstripe.
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    state_dir: Path = Path(".local-stack")
    extra_env: dict[str, str] = field(default_factory=dict)
    simulator_options: dict[str, Any] = field(default_factory=dict)
    # Off in integration tests, which step the queue themselves with `poll_once`.
    start_worker: bool = True
    # Concurrent sync "containers", like the event source's MaximumConcurrency.
    workers: int = 1

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", port: int = 3000) -> LocalConfig:
        env = os.environ
        from stripe_fortnox_sync.core.errors import ConfigError
        from stripe_fortnox_sync.core.settings import Settings

        try:
            livemode = Settings.from_env({"STRIPE_LIVEMODE": env.get("STRIPE_LIVEMODE", "")}).stripe_livemode
        except ConfigError as exc:
            raise LocalStackError(str(exc)) from None
        secrets_raw = env.get("STRIPE_WEBHOOK_SECRET", "")
        webhook_secrets = [s.strip() for s in secrets_raw.split(",") if s.strip()]
        bad = [s for s in webhook_secrets if not s.startswith("whsec_")]
        if bad:
            raise LocalStackError("STRIPE_WEBHOOK_SECRET must be whsec_... values, comma-separated")
        creds = {
            key: env[name]
            for key, name in (
                ("client_id", "FORTNOX_CLIENT_ID"),
                ("client_secret", "FORTNOX_CLIENT_SECRET"),
                ("tenant_id", "FORTNOX_TENANT_ID"),
                ("refresh_token", "FORTNOX_REFRESH_TOKEN"),
            )
            if env.get(name)
        }
        passthrough = {
            name: env[name]
            for name in (
                "CUSTOMER_MATCH_RULE",
                "ORGANISATION_NUMBER_METADATA_KEY",
                "VAT_NUMBER_METADATA_KEY",
                "SELLER_COUNTRY",
                "ENABLED_EVENT_TYPES",
                "CHECKOUT_MODES",
                "PAYMENT_FAILURE_COMMENTS",
                "INVOICE_ACCOUNTS",
                "INVOICE_CHECKOUT_PAYMENTS",
                "PAYMENT_INTENT_VAT_RATE",
                "FORTNOX_TIMEOUT_SECONDS",
                "FORTNOX_MAX_REQUESTS",
                "FORTNOX_MAX_ATTEMPTS",
            )
            if env.get(name)
        }
        return cls(
            host=host,
            port=port,
            webhook_secrets=webhook_secrets,
            livemode=livemode,
            fortnox_api_url=env.get("FORTNOX_API_URL") or None,
            fortnox_auth_url=env.get("FORTNOX_AUTH_URL") or None,
            fortnox_credentials=creds,
            stripe_api_key=env.get("STRIPE_API_KEY") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            extra_env=passthrough,
        )


class _LambdaContext:
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


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _load_handler(name: str, path: Path) -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LocalStackError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _ResultCollector(logging.Handler):
    """Turns the sync function's "event processed" log records into `ProcessedEvent`s."""

    def __init__(self, sink: Callable[[ProcessedEvent], None]) -> None:
        super().__init__(level=logging.INFO)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() != "event processed":
            return
        get = record.__dict__.get
        self._sink(
            ProcessedEvent(
                event_id=str(get("event_id", "")),
                event_type=str(get("event_type", "")),
                stripe_id=str(get("stripe_id", "")),
                outcome=str(get("outcome", "")),
                fortnox_number=get("fortnox_number"),
                detail=str(get("detail", "")),
                duration_ms=float(get("duration_ms", 0.0)),
            )
        )


class LocalStack:
    def __init__(self, config: LocalConfig, on_event: Callable[[ProcessedEvent], None] | None = None) -> None:
        self.config = config
        self._on_event = on_event
        self.processed: list[ProcessedEvent] = []
        self._processed_lock = threading.Lock()
        self._stop = threading.Event()
        self._moto: Any = None
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._webhook_lock = threading.Lock()
        self._counter_lock = threading.Lock()
        self.fortnox: FortnoxTarget | None = None
        self.webhook_secrets: list[str] = []
        self.outputs: dict[str, str] = {}
        self._saved_env: dict[str, str | None] = {}
        self._webhook: ModuleType | None = None
        self.outputs_file: Path | None = None
        # One handler module per worker: each is a separate warm container with its own state.
        self._syncs: list[ModuleType] = []
        self._sync_slots: list[threading.Lock] = []
        self.invocations = 0
        # Event-source bookkeeping, for tests and reports: messages handed to the sync function,
        # how many of those were redeliveries, and FIFO violations caught (see `_invoke_sync`).
        self.deliveries = 0
        self.redeliveries = 0
        self.fifo_conflicts = 0
        self.max_concurrent_invocations = 0
        self._running_invocations = 0
        self.published: list[PublishedMessage] = []
        # One receive at a time, never a long poll inside moto: moto computes a FIFO queue's
        # busy message groups once per ReceiveMessage call, so a long poll that began before
        # another consumer took a group's message can hand that group's next message to a
        # second consumer. Real SQS never does; with one receive at a time and short polls it
        # holds here too.
        self._receive_lock = threading.Lock()
        self._inflight_groups: dict[str, int] = {}
        # Per message group, the SentTimestamp of the newest message processed: an older one
        # delivered afterwards is a FIFO order violation (counted in `fifo_conflicts`).
        self._group_high_water: dict[str, int] = {}
        self._retry_timers: list[threading.Timer] = []
        self.ready = False
        self._collector: logging.Handler | None = None
        self._service_logger = logging.getLogger(SERVICE_NAME)

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start_http()  # first: a busy port should fail before anything else starts
            self._start_aws()
            self._start_fortnox()
            self._configure_functions()
            self._check_fortnox_credentials()
        except BaseException:
            self.stop()
            raise
        self.ready = True
        if self.config.start_worker:
            for i in range(len(self._syncs)):
                worker = threading.Thread(target=self._poll_queue, name=f"sqs-event-source-{i}", daemon=True)
                worker.start()
                self._threads.append(worker)

    def stop(self) -> None:
        self.ready = False
        self._stop.set()
        for timer in self._retry_timers:
            timer.cancel()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self._save_token_state()
        if self._collector is not None:
            self._service_logger.removeHandler(self._collector)
            self._collector = None
        if self.fortnox and self.fortnox.simulator:
            self.fortnox.simulator.stop()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        assert self._http is not None
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def _setenv(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    # AWS --------------------------------------------------------------------------------------

    def _start_aws(self) -> None:
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        # botocore's own settings: every boto3 client, Powertools' included, talks to moto.
        self._setenv(
            {
                "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
            }
        )
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            self._saved_env.setdefault(name, os.environ.pop(name, None))
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto keeps its backends per process: a second stack in one process starts clean.
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
        _patch_moto_sqs()
        sqs: Any = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName=f"{STACK}-dlq.fifo", Attributes=QUEUE_ATTRIBUTES)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName=f"{STACK}-events.fifo",
            Attributes={
                **QUEUE_ATTRIBUTES,
                "VisibilityTimeout": str(self.config.visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
                ),
            },
        )["QueueUrl"]
        dynamodb = boto3.client("dynamodb")
        tables = {}
        for kind, (key, ttl) in TABLES.items():
            name = f"{STACK}-{kind}"
            dynamodb.create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            if ttl:
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
                )
            tables[kind] = name
        activity = f"{STACK}-activity"
        dynamodb.create_table(
            TableName=activity,
            AttributeDefinitions=[
                {"AttributeName": "customer_id", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "customer_id", "KeyType": "HASH"},
                {"AttributeName": "at", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=activity, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        # The bookkeeper's e-mail subscription, here a queue anyone can read the notices from.
        sns: Any = boto3.client("sns")
        topic_arn = sns.create_topic(Name=f"{STACK}-payment-failures")["TopicArn"]
        inbox_url = sqs.create_queue(QueueName=f"{STACK}-payment-failure-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
        self.outputs = {
            "ActivityTableName": activity,
            "PaymentFailureTopicArn": topic_arn,
            "PaymentFailureInboxUrl": inbox_url,
            "EventQueueUrl": queue_url,
            "DeadLetterQueueUrl": dlq_url,
            "MappingTableName": tables["mapping"],
            "IdempotencyTableName": tables["idempotency"],
            "StateTableName": tables["state"],
            "AwsEndpointUrl": f"http://{host}:{port}",
        }

    # Fortnox ----------------------------------------------------------------------------------

    def _start_fortnox(self) -> None:
        cfg = self.config
        if cfg.fortnox_api_url or cfg.fortnox_credentials:
            creds = dict(cfg.fortnox_credentials)
            if not creds.get("client_id") or not creds.get("client_secret"):
                raise LocalStackError(
                    "FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET are needed for a real Fortnox"
                )
            if not creds.get("tenant_id") and not creds.get("refresh_token"):
                raise LocalStackError("set FORTNOX_TENANT_ID (service account) or FORTNOX_REFRESH_TOKEN")
            self.fortnox = FortnoxTarget(
                cfg.fortnox_api_url or "https://api.fortnox.se/3",
                cfg.fortnox_auth_url or "https://apps.fortnox.se/oauth-v1",
                creds,
            )
            return
        simulator = FortnoxSimulator(**cfg.simulator_options)
        simulator.start(host="127.0.0.1", port=0)
        client_id, client_secret = "local-client", secrets.token_hex(16)
        simulator.register_client(client_id, client_secret)
        self.fortnox = FortnoxTarget(
            simulator.api_url,
            simulator.auth_url,
            {"client_id": client_id, "client_secret": client_secret, "tenant_id": "local-tenant"},
            simulator,
        )

    def _token_file(self) -> Path:
        return self.config.state_dir / "fortnox-token.json"

    def _restore_token_state(self) -> None:
        # A refresh token works once: the chain must survive restarts of the local stack,
        # or the next start would present a refresh token Fortnox has already retired.
        path = self._token_file()
        if not self.fortnox or self.fortnox.simulator or not path.exists():
            return
        item = json.loads(path.read_text())
        boto3.client("dynamodb").put_item(TableName=self.outputs["StateTableName"], Item=item)

    def _save_token_state(self) -> None:
        if not self.fortnox or self.fortnox.simulator or not self.outputs or self._moto is None:
            return
        with contextlib.suppress(Exception):
            from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials

            key = FortnoxCredentials.from_secret(self.fortnox.credentials).store_key
            item = (
                boto3.client("dynamodb")
                .get_item(TableName=self.outputs["StateTableName"], Key={"pk": {"S": key}})
                .get("Item")
            )
            if item:
                self.config.state_dir.mkdir(parents=True, exist_ok=True)
                self._token_file().write_text(json.dumps(item))
                self._token_file().chmod(0o600)

    def _check_fortnox_credentials(self) -> None:
        from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoStateStore
        from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials, OAuthTokenProvider
        from stripe_fortnox_sync.core.errors import FortnoxError

        assert self.fortnox is not None
        self._restore_token_state()
        try:
            creds = FortnoxCredentials.from_secret(self.fortnox.credentials)
            OAuthTokenProvider(
                creds, self.fortnox.auth_url, DynamoStateStore(self.outputs["StateTableName"])
            ).access_token()
        except FortnoxError as exc:
            raise LocalStackError(f"Fortnox refused the credentials: {exc}", exit_code=4) from None

    # Functions --------------------------------------------------------------------------------

    def _configure_functions(self) -> None:
        assert self.fortnox is not None
        cfg = self.config
        self.webhook_secrets = cfg.webhook_secrets or [f"whsec_dev_{secrets.token_hex(16)}"]
        sm = boto3.client("secretsmanager")
        webhook_arn = sm.create_secret(
            Name=f"{STACK}/stripe-webhook", SecretString=",".join(self.webhook_secrets)
        )["ARN"]
        stripe_key_arn = sm.create_secret(
            Name=f"{STACK}/stripe-api-key", SecretString=cfg.stripe_api_key or "not-configured"
        )["ARN"]
        fortnox_arn = sm.create_secret(
            Name=f"{STACK}/fortnox-credentials", SecretString=json.dumps(self.fortnox.credentials)
        )["ARN"]
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        from stripe_fortnox_sync.core.settings import Settings
        from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES

        defaults = Settings()
        self._setenv(
            {
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": "StripeFortnoxSync",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "STAGE": "local",
                "STRIPE_LIVEMODE": "true" if cfg.livemode else "false",
                "STRIPE_WEBHOOK_SECRET_NAME": webhook_arn,
                "FORTNOX_CREDENTIALS_SECRET_NAME": fortnox_arn,
                "FORTNOX_API_URL": self.fortnox.api_url,
                "FORTNOX_AUTH_URL": self.fortnox.auth_url,
                "QUEUE_URL": self.outputs["EventQueueUrl"],
                "DEAD_LETTER_QUEUE_URL": self.outputs["DeadLetterQueueUrl"],
                "MAPPING_TABLE": self.outputs["MappingTableName"],
                "IDEMPOTENCY_TABLE": self.outputs["IdempotencyTableName"],
                "STATE_TABLE": self.outputs["StateTableName"],
                "ACTIVITY_TABLE": self.outputs["ActivityTableName"],
                "PAYMENT_FAILURE_TOPIC_ARN": self.outputs["PaymentFailureTopicArn"],
                "STRIPE_API_KEY_SECRET_NAME": stripe_key_arn,
                "STRIPE_API_BASE": cfg.stripe_api_base or "",
                # The stack parameters' defaults, as template.yaml passes them.
                "ENABLED_EVENT_TYPES": ",".join(DEFAULT_TYPES),
                "CHECKOUT_MODES": ",".join(defaults.checkout_modes),
                "PAYMENT_FAILURE_COMMENTS": "false",
                "INVOICE_ACCOUNTS": "",
                "INVOICE_CHECKOUT_PAYMENTS": "true" if defaults.invoice_checkout_payments else "false",
                "PAYMENT_INTENT_VAT_RATE": str(defaults.payment_intent_vat_rate),
                "CUSTOMER_MATCH_RULE": defaults.match_rule.value,
                "ORGANISATION_NUMBER_METADATA_KEY": defaults.organisation_number_metadata_key,
                "VAT_NUMBER_METADATA_KEY": defaults.vat_number_metadata_key,
                "SELLER_COUNTRY": defaults.seller_country,
                "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                **cfg.extra_env,
            }
        )
        from aws_lambda_powertools.utilities import parameters

        # Secrets are cached per process; a new stack has new secrets under the same names.
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        root = _repo_root()
        self._webhook = _load_handler("webhook_handler", root / "functions/webhook/webhook_handler.py")
        self._record_webhook_publishes(self._webhook)
        self._syncs = [
            _load_handler(f"sync_handler_{i}", root / "functions/sync/sync_handler.py")
            for i in range(max(1, cfg.workers))
        ]
        self._sync_slots = [threading.Lock() for _ in self._syncs]
        self._write_outputs()
        self._route_function_logs()

    def _route_function_logs(self) -> None:
        # The functions' JSON logs go to a file (as CloudWatch would keep them); the console
        # gets one short line per event from the collector.
        from stripe_fortnox_sync.core.observability import logger

        # The functions' logger, whatever service name it was created under in this process.
        service_logger = logging.getLogger(logger.name)
        self._service_logger = service_logger
        log_path = self.config.state_dir / "functions.log"
        for handler in list(service_logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                formatter = handler.formatter
                service_logger.removeHandler(handler)
                file_handler = logging.FileHandler(log_path, encoding="utf-8")
                file_handler.setFormatter(formatter)
                service_logger.addHandler(file_handler)
        self._collector = _ResultCollector(self._record)
        service_logger.addHandler(self._collector)

    def _record_webhook_publishes(self, module: ModuleType) -> None:
        # Wraps the handler's publisher factory, so tests can tell exactly what was queued.
        make_publisher: Callable[[], Any] = module._publisher
        stack = self

        class RecordingPublisher:
            def publish(
                self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
            ) -> None:
                make_publisher().publish(body, group_id=group_id, dedup_id=dedup_id, attributes=attributes)
                with stack._counter_lock:
                    stack.published.append(PublishedMessage(dedup_id, group_id, len(body.encode())))

        recorder = RecordingPublisher()
        module._publisher = lambda: recorder  # type: ignore[attr-defined]

    def _record(self, event: ProcessedEvent) -> None:
        with self._processed_lock:
            self.processed.append(event)
        if self._on_event:
            self._on_event(event)

    def invoke_webhook(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        return self.invoke_webhook_event(api_gateway_event(body, headers))

    def invoke_webhook_event(self, apigw_event: dict[str, Any]) -> tuple[int, str]:
        """The webhook function on any API Gateway event, e.g. one with a text (not base64) body."""
        assert self._webhook is not None
        with self._webhook_lock:
            result = self._webhook.lambda_handler(apigw_event, _LambdaContext(f"{STACK}-webhook", 10, 256))
        return int(result["statusCode"]), str(result.get("body", ""))

    def recycle_sync_containers(self) -> None:
        """Replace every sync container with a cold one, as Lambda does after a deployment, a
        configuration change or idle time: module state, cached secrets and clients start over."""
        from aws_lambda_powertools.utilities import parameters

        for slot in self._sync_slots:
            slot.acquire()  # wait for running invocations; none starts meanwhile
        try:
            parameters.clear_caches()  # type: ignore[no-untyped-call]
            path = _repo_root() / "functions/sync/sync_handler.py"
            self._syncs = [_load_handler(f"sync_handler_{i}", path) for i in range(len(self._syncs))]
        finally:
            for slot in self._sync_slots:
                slot.release()

    # HTTP -------------------------------------------------------------------------------------

    def _start_http(self) -> None:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "stripe-fortnox-local"

            def do_POST(self) -> None:
                if not stack.ready:
                    self._send(503, json.dumps({"error": "the local stack is still starting"}))
                    return
                if self.path.split("?")[0] != "/webhook":
                    self._send(404, json.dumps({"error": "not found; POST /webhook"}))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, text = stack.invoke_webhook(body, dict(self.headers.items()))
                except Exception as exc:  # what API Gateway answers when the function fails
                    status, text = (
                        500,
                        json.dumps({"message": f"Internal Server Error: {type(exc).__name__}"}),
                    )
                self._send(status, text)

            def do_GET(self) -> None:
                if self.path != "/health":
                    self._send(404, json.dumps({"error": "not found; POST /webhook"}))
                else:
                    self._send(200 if stack.ready else 503, json.dumps({"ready": stack.ready}))

            def _send(self, status: int, text: str) -> None:
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        try:
            self._http = ThreadingHTTPServer((self.config.host, self.config.port), Handler)
        except OSError as exc:
            raise LocalStackError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror}; "
                "choose another with --port",
                exit_code=3,
            ) from None
        self._http.daemon_threads = True
        thread = threading.Thread(target=self._http.serve_forever, name="webhook-http", daemon=True)
        thread.start()
        self._threads.append(thread)

    # SQS event source -------------------------------------------------------------------------

    def _poll_queue(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                if self._stop.is_set():
                    return
                logging.getLogger(__name__).exception("polling the local queue failed")
                time.sleep(0.5)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One receive-and-invoke round of the event source mapping; returns the batch size."""
        sqs: Any = boto3.client("sqs")
        queue_url = self.outputs["EventQueueUrl"]
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._receive_lock:
                messages: list[dict[str, Any]] = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=SQS_BATCH_SIZE,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=IN_FLIGHT_VISIBILITY_SECONDS,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                # Claimed under the lock, so no other worker can start on these groups first.
                messages = self._claim_groups(sqs, queue_url, messages)
            if messages or time.monotonic() >= deadline or self._stop.is_set():
                break
            time.sleep(IDLE_POLL_SECONDS)
        if messages:
            queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-events.fifo"
            event = {"Records": [sqs_record(m, queue_arn) for m in messages]}
            self._invoke_sync(sqs, queue_url, event, messages)
        return len(messages)

    def _claim_groups(self, sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Mark the batch's message groups busy; give back messages of a group already busy.

        The safety net behind the receive lock: SQS FIFO never hands a group's message to a
        consumer while another message of that group is in flight, and nothing here may either.
        """
        late = [m for m in messages if _sent_at(m) < self._group_high_water.get(_group_of(m), -1)]
        if late:
            with self._counter_lock:
                self.fifo_conflicts += len(late)
            logging.getLogger(__name__).error("FIFO group delivered out of order")
        busy = [m for m in messages if _group_of(m) in self._inflight_groups]
        if busy:
            with self._counter_lock:
                self.fifo_conflicts += len(busy)
            logging.getLogger(__name__).error("FIFO group delivered to two consumers; message returned")
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(busy)
                ],
            )
        kept = [m for m in messages if m not in busy]
        for message in kept:
            group = _group_of(message)
            self._inflight_groups[group] = self._inflight_groups.get(group, 0) + 1
        return kept

    def _release_groups(self, messages: list[dict[str, Any]]) -> None:
        with self._receive_lock:
            for message in messages:
                group = _group_of(message)
                left = self._inflight_groups.get(group, 0) - 1
                if left > 0:
                    self._inflight_groups[group] = left
                else:
                    self._inflight_groups.pop(group, None)

    def _invoke_sync(
        self, sqs: Any, queue_url: str, event: dict[str, Any], messages: list[dict[str, Any]]
    ) -> None:
        module, slot = self._free_container()
        try:
            with self._counter_lock:
                self.invocations += 1
                self._running_invocations += 1
                self.max_concurrent_invocations = max(
                    self.max_concurrent_invocations, self._running_invocations
                )
                self.deliveries += len(messages)
                self.redeliveries += sum(
                    1
                    for m in messages
                    if int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1
                )
            response = module.lambda_handler(
                event, _LambdaContext(f"{STACK}-sync", SYNC_TIMEOUT_SECONDS, 512)
            )
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            # A crashed invocation fails the whole batch, as Lambda does.
            logging.getLogger(__name__).exception("sync invocation failed")
            failed = {m["MessageId"] for m in messages}
        finally:
            with self._counter_lock:
                self._running_invocations -= 1
            slot.release()
        # The groups are free once the batch is settled. Released before the deletes: a failed
        # record stays in flight (invisible) in SQS, which keeps its group blocked there.
        self._release_groups(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        with self._receive_lock:
            for message in done:
                group = _group_of(message)
                self._group_high_water[group] = max(self._group_high_water.get(group, -1), _sent_at(message))
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        if retry:
            self._return_later(queue_url, retry)

    def _return_later(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Make failed records visible again after `visibility_timeout`, all at once.

        Not with a visibility timeout per message: moto counts a message's group as busy while
        any of its messages is still marked in flight, even one whose timeout has run out, so
        records of one group that come back a millisecond apart can be redelivered newest first.
        Made visible together (visibility 0, which clears moto's in-flight mark at once) and
        under the receive lock, they are received in their FIFO order, as SQS guarantees.
        """

        def release() -> None:
            if self._stop.is_set():
                return
            sqs: Any = boto3.client("sqs")
            with self._receive_lock, contextlib.suppress(Exception):
                for start in range(0, len(messages), 10):
                    sqs.change_message_visibility_batch(
                        QueueUrl=queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                            for i, m in enumerate(messages[start : start + 10])
                        ],
                    )

        timer = threading.Timer(self.config.visibility_timeout, release)
        timer.daemon = True
        self._retry_timers = [t for t in self._retry_timers if t.is_alive()] + [timer]
        timer.start()

    def _free_container(self) -> tuple[ModuleType, threading.Lock]:
        while True:
            for module, slot in zip(self._syncs, self._sync_slots, strict=True):
                if slot.acquire(blocking=False):
                    return module, slot
            time.sleep(0.005)

    def _write_outputs(self) -> None:
        """Where the running stack is, for `stripe-fortnox status --local` and friends."""
        assert self.fortnox is not None
        data = {
            **self.outputs,
            "WebhookUrl": self.webhook_url,
            "FortnoxApiUrl": self.fortnox.api_url,
            "FortnoxAuthUrl": self.fortnox.auth_url,
            "StripeWebhookSecretArn": os.environ["STRIPE_WEBHOOK_SECRET_NAME"],
            "FortnoxCredentialsSecretArn": os.environ["FORTNOX_CREDENTIALS_SECRET_NAME"],
            "StripeApiKeySecretArn": os.environ["STRIPE_API_KEY_SECRET_NAME"],
            "Region": REGION,
            # The stack parameters, as a deployed stack's describe-stacks would give them.
            "StripeMode": "live" if os.environ["STRIPE_LIVEMODE"] == "true" else "test",
            "CustomerMatchRule": os.environ["CUSTOMER_MATCH_RULE"],
            "EnabledEventTypes": os.environ["ENABLED_EVENT_TYPES"],
            "SellerCountry": os.environ["SELLER_COUNTRY"],
            "OrganisationNumberMetadataKey": os.environ["ORGANISATION_NUMBER_METADATA_KEY"],
            "VatNumberMetadataKey": os.environ["VAT_NUMBER_METADATA_KEY"],
        }
        path = self.config.state_dir / "outputs.json"
        path.write_text(json.dumps(data, indent=2))
        self.outputs_file = path

    # Inspection -------------------------------------------------------------------------------

    def queue_depths(self) -> dict[str, int]:
        sqs = boto3.client("sqs")
        depths = {}
        for name in ("EventQueueUrl", "DeadLetterQueueUrl"):
            attrs = sqs.get_queue_attributes(
                QueueUrl=self.outputs[name],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[name] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def wait_until_idle(self, timeout: float = 60.0, settle: float = 0.5) -> bool:
        """True once the event queue has been empty for `settle` seconds."""
        deadline = time.monotonic() + timeout
        empty_since: float | None = None
        while time.monotonic() < deadline:
            if self.queue_depths()["EventQueueUrl"] == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= settle:
                    return True
            else:
                empty_since = None
            time.sleep(0.1)
        return False

    def notifications(self) -> list[dict[str, Any]]:
        """The payment-failure notices published so far (subject and message), consumed."""
        sqs: Any = boto3.client("sqs")
        notices: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.outputs["PaymentFailureInboxUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return notices
            for message in batch:
                envelope = json.loads(message["Body"])
                notices.append(
                    {"subject": envelope.get("Subject", ""), "message": envelope.get("Message", "")}
                )
                sqs.delete_message(
                    QueueUrl=self.outputs["PaymentFailureInboxUrl"], ReceiptHandle=message["ReceiptHandle"]
                )

    def dead_letters(self) -> list[dict[str, Any]]:
        """Peek at the dead-letter queue without consuming it."""
        sqs: Any = boto3.client("sqs")
        messages: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=self.outputs["DeadLetterQueueUrl"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        return messages


def _group_of(message: dict[str, Any]) -> str:
    return str(message.get("Attributes", {}).get("MessageGroupId", ""))


def _sent_at(message: dict[str, Any]) -> int:
    # moto's SequenceNumber is random digits, not increasing as in SQS: order by send time.
    return int(message.get("Attributes", {}).get("SentTimestamp", "0"))


def _patch_moto_sqs() -> None:
    """Make moto's SQS behave like SQS where the pipeline can tell the difference.

    - It refuses what SQS refuses: characters outside SQS's set, and messages over the queue's
      size in UTF-8 bytes with their attributes (moto checks neither).
    - FIFO deduplication lasts 5 minutes from the first send, also after that message was
      consumed (moto forgets a deduplication id once its message is deleted).
    - The retention check of every received message reads one attribute instead of computing
      all of them, each a pass over the queue: moto's way made a receive O(queue length) per
      message, minutes for a soak run.

    Patched on the backend instance, so a moto reset (every new local stack, every `mock_aws`)
    drops the patches with the instance.
    """
    from moto.sqs.exceptions import SQSException
    from moto.sqs.models import Message, sqs_backends

    backend = sqs_backends[ACCOUNT][REGION]
    original_send = backend.send_message
    first_sends: dict[tuple[str, str], tuple[float, Message]] = {}

    def send_message(
        queue_name: str,
        message_body: str,
        message_attributes: dict[str, Any] | None = None,
        delay_seconds: int | None = None,
        deduplication_id: str | None = None,
        group_id: str | None = None,
        system_attributes: dict[str, Any] | None = None,
        validate_group_id: bool = True,
    ) -> Message:
        bad = _SQS_FORBIDDEN_CHARACTER.search(message_body)
        if bad:
            raise SQSException(
                "InvalidMessageContents",
                f"Invalid characters found. Deleted message body contains U+{ord(bad.group()):04X}",
            )
        # SQS counts the body and every attribute's name, type and value, in UTF-8 bytes.
        size = len(message_body.encode("utf-8", "surrogatepass")) + sum(
            len(f"{name}{value.get('DataType', '')}{value.get('StringValue') or ''}".encode())
            for name, value in (message_attributes or {}).items()
            if isinstance(value, dict)
        )
        queue = backend.get_queue(queue_name)
        limit = int(getattr(queue, "maximum_message_size", 262_144))
        if size > limit:
            raise SQSException(
                "InvalidParameterValue",
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
            )
        key = (queue_name, deduplication_id or "")
        now = time.time()
        if queue.fifo_queue and deduplication_id:
            seen = first_sends.get(key)
            if seen and now - seen[0] < SQS_DEDUPLICATION_SECONDS:
                return seen[1]  # accepted and dropped; SQS answers with the first message's id
        message: Message = original_send(
            queue_name,
            message_body,
            message_attributes=message_attributes,
            delay_seconds=delay_seconds,
            deduplication_id=deduplication_id,
            group_id=group_id,
            system_attributes=system_attributes,
            validate_group_id=validate_group_id,
        )
        if queue.fifo_queue and deduplication_id:
            first_sends[key] = (now, message)
        return message

    def retained(queue_name: str, message: Message) -> bool:
        period = int(getattr(backend.get_queue(queue_name), "message_retention_period", 345_600))
        return period + float(message.sent_timestamp or 0) / 1000 > time.time()

    backend.send_message = send_message  # type: ignore[method-assign]
    backend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]


def api_gateway_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The HTTP API (payload format 2.0) event for a `POST /webhook`."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "POST /webhook",
        "rawPath": "/webhook",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": "POST",
                "path": "/webhook",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "POST /webhook",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@contextlib.contextmanager
def running(
    config: LocalConfig, on_event: Callable[[ProcessedEvent], None] | None = None
) -> Iterator[LocalStack]:
    stack = LocalStack(config, on_event)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
