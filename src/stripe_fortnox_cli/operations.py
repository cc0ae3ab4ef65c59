"""Operating a stack from the command line: backfill, redrive, status and reconcile.

Each command works on a deployed stack (its CloudFormation outputs and parameters, AWS
credentials from the usual chain) or on the local stack (`stripe-fortnox dev`, through its
`outputs.json`). Fortnox is reached with the layer's own client, the stack's credentials secret,
token state and rate-limit window: the CLI and the sync share one token chain and one
25-requests-per-5-s budget, so an operator's listing never makes the sync hit 429s or break a
refresh-token chain.

Fixes are never applied from here: they are queued as synthetic Stripe events and go through
the sync like any webhook (same ordering per customer, same idempotency, same mapping).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, fail
from stripe_fortnox_cli.ops.store import (
    FifoQueue,
    MappingRow,
    OutgoingMessage,
    QueueError,
    ReceivedMessage,
    TokenRecord,
    describe_stack,
    recent_activity,
    scan_mapping,
    token_records,
)
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.models import HINT_KEY, FortnoxFields, LinkStatus
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.identity import customer_key
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS, field_hashes
from stripe_fortnox_sync.sync.routes import enabled_types, message_group_id

if TYPE_CHECKING:
    import stripe

    from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient

DEFAULT_STACK = "stripe-fortnox-sync"
LOCAL_STATE_DIR = Path(".local-stack")
# Fortnox's list page size maximum: a full listing costs one request per 500 customers.
FORTNOX_PAGE_SIZE = 500
STRIPE_PAGE_SIZE = 100
# What the shared limiter adds to Fortnox's window (rate_limiter.SlidingWindowLimiter).
LIMITER_MARGIN_SECONDS = 0.25
# A refresh token lives 45 days from its issue (Fortnox); warn well before it lapses unused.
REFRESH_TOKEN_DAYS = 45
REFRESH_TOKEN_WARN_DAYS = 38
# The fields a Fortnox customer list item carries that we also send: what drift can be seen in.
COMPARED_FIELDS = ("Name", "Email", "ZipCode", "City", "Address1", "OrganisationNumber")


class OperationError(Exception):
    """The command cannot go on; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Stack ------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Where a stack's queues, tables and secrets are, and how it is configured."""

    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    settings: Settings
    local: bool = False
    state_dir: Path | None = None

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise OperationError(
                f"the stack {self.name} has no {key} output (is it deployed from this version?)"
            )
        return value

    @property
    def mode(self) -> str:
        return "live" if self.settings.stripe_livemode else "test"

    @property
    def identity(self) -> str:
        # The event queue URL names account, region and stack: a cursor is only valid for it.
        return self.outputs.get("EventQueueUrl", self.name)


def _settings_for(outputs: Mapping[str, str], parameters: Mapping[str, str]) -> Settings:
    """The stack's settings: its parameters where known, else the environment (as `dev` reads it)."""
    try:
        base = Settings.from_env()
    except ConfigError as exc:
        raise OperationError(str(exc)) from None
    changes: dict[str, Any] = {}
    mode = parameters.get("StripeMode")
    if mode:
        changes["stripe_livemode"] = mode == "live"
    rule = parameters.get("CustomerMatchRule")
    if rule:
        try:
            changes["match_rule"] = MatchRule(rule)
        except ValueError:
            raise OperationError(f"unknown CustomerMatchRule {rule!r}") from None
    for parameter, name in (
        ("OrganisationNumberMetadataKey", "organisation_number_metadata_key"),
        ("VatNumberMetadataKey", "vat_number_metadata_key"),
        ("SellerCountry", "seller_country"),
    ):
        if parameters.get(parameter):
            changes[name] = parameters[parameter]
    if parameters.get("EnabledEventTypes"):
        changes["event_types"] = tuple(
            t.strip() for t in parameters["EnabledEventTypes"].split(",") if t.strip()
        )
    for key, name in (("FortnoxApiUrl", "fortnox_api_url"), ("FortnoxAuthUrl", "fortnox_auth_url")):
        value = outputs.get(key) or parameters.get(key)
        if value:
            changes[name] = value.rstrip("/")
    for key, name in (
        ("FortnoxCredentialsSecretArn", "fortnox_credentials_secret_name"),
        ("EventQueueUrl", "queue_url"),
        ("DeadLetterQueueUrl", "dead_letter_queue_url"),
        ("MappingTableName", "mapping_table"),
        ("IdempotencyTableName", "idempotency_table"),
        ("StateTableName", "state_table"),
        ("ActivityTableName", "activity_table"),
        ("StripeApiKeySecretArn", "stripe_api_key_secret_name"),
    ):
        if outputs.get(key):
            changes[name] = outputs[key]
    return replace(base, **changes)


def open_local(state_dir: Path) -> Stack:
    """The stack `stripe-fortnox dev` runs, from the outputs file it writes."""
    path = state_dir / "outputs.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OperationError(
            f"no local stack in {state_dir}/ ({path.name} missing): start `stripe-fortnox dev`"
        ) from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"cannot read {path}: {exc}") from None
    region = str(outputs.get("Region") or "eu-north-1")
    endpoint = outputs.get("AwsEndpointUrl")
    if not endpoint:
        raise OperationError(f"{path} has no AwsEndpointUrl")
    # botocore's own settings, as the local stack sets them for its functions: every client,
    # Powertools' included, talks to the emulator. Real credentials must never be sent there.
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": str(endpoint),
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
        }
    )
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    outputs = {str(k): str(v) for k, v in outputs.items()}
    return Stack(
        name=f"local stack in {state_dir}",
        outputs=outputs,
        parameters=outputs,
        settings=_settings_for(outputs, outputs),
        local=True,
        state_dir=state_dir,
    )


def open_deployed(name: str, region: str | None) -> Stack:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    try:
        description = describe_stack(name, region)
    except NoRegionError:
        raise OperationError("no AWS region: pass --region or set AWS_REGION") from None
    except NoCredentialsError:
        raise OperationError("no AWS credentials found (profile, environment or SSO)") from None
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise OperationError(f"cannot describe stack {name}: {message}") from None
    except BotoCoreError as exc:
        raise OperationError(f"cannot describe stack {name}: {exc}") from None
    return Stack(
        name=description.name,
        outputs=description.outputs,
        parameters=description.parameters,
        settings=_settings_for(description.outputs, description.parameters),
    )


def open_outputs_file(path: Path, region: str | None) -> Stack:
    """Outputs saved from `aws cloudformation describe-stacks`, or a flat {"Key": "value"} file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OperationError(f"cannot read outputs file {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("Stacks"), list) and data["Stacks"]:
        data = data["Stacks"][0]
    outputs: dict[str, str] = {}
    parameters: dict[str, str] = {}
    name = path.stem
    if isinstance(data, dict) and ("Outputs" in data or "Parameters" in data):
        name = str(data.get("StackName") or name)
        outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in data.get("Outputs", [])}
        parameters = {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in data.get("Parameters", [])}
    elif isinstance(data, list):
        outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in data}
    elif isinstance(data, dict):
        outputs = {str(k): str(v) for k, v in data.items()}
        parameters = outputs
    else:
        raise OperationError(f"{path} holds no stack outputs")
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    return Stack(
        name=name, outputs=outputs, parameters=parameters, settings=_settings_for(outputs, parameters)
    )


def open_stack(args: argparse.Namespace) -> Stack:
    if args.local is not None:
        return open_local(Path(args.local))
    if args.outputs:
        return open_outputs_file(Path(args.outputs), args.region)
    return open_deployed(args.stack or os.environ.get("STRIPE_FORTNOX_STACK") or DEFAULT_STACK, args.region)


# Progress ---------------------------------------------------------------------------------------


def format_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class Progress:
    """A progress line on stderr: a bar with rate and ETA when the total is known.

    On a terminal it redraws in place; elsewhere (CI logs, a pipe) it prints a line now and then.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._clock = clock
        self._started = clock()
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = 0.1 if self._tty else 10.0
        # In a log, a line every 10 s (the closing summary says the rest); on a terminal, at once.
        self._last_draw = -math.inf if self._tty else self._started
        self._closed = False

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        self.done = done
        now = self._clock()
        if now - self._last_draw >= self._interval:
            self._draw(now)

    def eta(self, now: float | None = None) -> float | None:
        elapsed = (now if now is not None else self._clock()) - self._started
        if not self.total or self.done <= 0 or elapsed <= 0:
            return None
        return (self.total - self.done) / (self.done / elapsed)

    def line(self, now: float | None = None) -> str:
        now = now if now is not None else self._clock()
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            fraction = min(1.0, self.done / self.total)
            width = 24
            filled = round(fraction * width)
            bar = "#" * filled + "-" * (width - filled)
            eta = self.eta(now)
            eta_text = f"  ETA {format_duration(eta)}" if eta is not None and self.done < self.total else ""
            return (
                f"{self.label} [{bar}] {self.done:,}/{self.total:,} {fraction:4.0%}  {rate:,.1f}/s{eta_text}"
            )
        return f"{self.label} {self.done:,}  {rate:,.1f}/s"

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if self._tty:
            self._stream.write("\r\033[K" + self.line(now))
        else:
            self._stream.write(self.line(now) + "\n")
        self._stream.flush()

    def close(self, summary: str | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        now = self._clock()
        text = summary or f"{self.line(now)}  ({format_duration(now - self._started)})"
        if self._tty:
            self._stream.write("\r\033[K" + text + "\n")
        else:
            self._stream.write(text + "\n")
        self._stream.flush()


# Fortnox ----------------------------------------------------------------------------------------


def fortnox_client(settings: Settings) -> FortnoxClient:
    """The layer's Fortnox client, sharing the sync's token state and rate window."""
    from stripe_fortnox_sync.bootstrap import build_fortnox_client

    try:
        # An operator's listing may wait behind a busy sync longer than one invocation would.
        return build_fortnox_client(settings, observed=False, max_wait_seconds=120.0, secrets_max_age=0)
    except ConfigError as exc:
        raise OperationError(f"Fortnox credentials: {exc}") from None


@dataclass
class FortnoxListing:
    customers: list[dict[str, Any]]
    requests: int


def list_fortnox_customers(client: FortnoxClient, stream: TextIO) -> FortnoxListing:
    """Every Fortnox customer (list items), 500 per request."""
    progress = Progress("Listing Fortnox customers", stream=stream)
    customers: list[dict[str, Any]] = []
    page = 1
    while True:
        data = client.request("GET", "/customers", params={"limit": FORTNOX_PAGE_SIZE, "page": page})
        customers.extend(data.get("Customers") or [])
        progress.total = max(int((data.get("MetaInformation") or {}).get("@TotalResources") or 0), 1)
        progress.update(len(customers))
        if page >= int((data.get("MetaInformation") or {}).get("@TotalPages") or 1):
            break
        page += 1
    progress.close(f"Fortnox: {len(customers):,} customers ({page} request{'s' if page != 1 else ''})")
    return FortnoxListing(customers, page)


def _digits(value: object) -> str:
    return re.sub(r"\D", "", str(value or ""))


def match_key(fields: Mapping[str, Any], rule: MatchRule) -> str | None:
    """What the stack's match rule compares, normalised as the sync compares it."""
    if rule is MatchRule.EMAIL:
        email = str(fields.get("Email") or "").strip().lower()
        return email or None
    if rule is MatchRule.ORGANISATION_NUMBER:
        return _digits(fields.get("OrganisationNumber")) or None
    return None


def _number_key(number: str) -> tuple[int, str]:
    return (int(number) if number.isdigit() else 1 << 62, number)


class FortnoxIndex:
    """One full Fortnox listing, matched locally by the stack's rule instead of a search each."""

    def __init__(self, customers: Iterable[Mapping[str, Any]], rule: MatchRule) -> None:
        self.rule = rule
        self.by_number: dict[str, Mapping[str, Any]] = {}
        self._by_key: dict[str, str] = {}
        for item in customers:
            number = str(item.get("CustomerNumber") or "")
            if not number:
                continue
            self.by_number[number] = item
            key = match_key(item, rule)
            # Several exact matches are duplicates made by hand: the sync adopts the lowest number.
            if key and (key not in self._by_key or _number_key(number) < _number_key(self._by_key[key])):
                self._by_key[key] = number

    def match(self, fields: Mapping[str, Any]) -> str | None:
        key = match_key(fields, self.rule)
        return self._by_key.get(key) if key else None


# Stripe -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedCustomer:
    data: dict[str, Any]
    # When Stripe showed us this state: the synthetic event's `created`, so a webhook for a
    # later change still wins and one for an earlier change is skipped as stale.
    fetched_at: int

    @property
    def id(self) -> str:
        return str(self.data.get("id") or "")


def _stripe_key(stack: Stack, given: str | None) -> str:
    key = given or os.environ.get("STRIPE_API_KEY")
    if not key and stack.settings.stripe_api_key_secret_name:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
        from botocore.exceptions import BotoCoreError, ClientError

        from stripe_fortnox_sync.adapters.aws.secrets import secret_text

        # The stack's own restricted key, when the operator may read it; else ask for one.
        with contextlib.suppress(ConfigError, GetParameterError, BotoCoreError, ClientError):
            stored = secret_text(stack.settings.stripe_api_key_secret_name, 0).strip()
            key = stored if stored.startswith(("sk_", "rk_")) else None
    if not key:
        raise OperationError(
            "no Stripe API key: pass --stripe-key, set STRIPE_API_KEY, or store a restricted key "
            "(Customers: read) in the stack's StripeApiKeySecretArn secret"
        )
    if not key.startswith(("sk_", "rk_")):
        raise OperationError("the Stripe API key must be a secret (sk_...) or restricted (rk_...) key")
    live = "_live_" in key
    if live != stack.settings.stripe_livemode:
        raise OperationError(
            f"the Stripe key is a {'live' if live else 'test'}-mode key, but the stack serves "
            f"{stack.mode} mode (StripeMode)"
        )
    return key


def stripe_client(stack: Stack, key: str | None) -> stripe.StripeClient:
    import stripe

    base = os.environ.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        _stripe_key(stack, key),
        base_addresses={"api": base} if base else {},
        max_network_retries=3,
    )


@contextlib.contextmanager
def _stripe_errors() -> Iterator[None]:
    import stripe

    try:
        yield
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise OperationError(f"Stripe refused the API key: {exc.user_message or exc}", EXIT_AUTH) from None
    except stripe.StripeError as exc:
        raise OperationError(f"Stripe failed: {exc.user_message or exc}", EXIT_FAILED) from None


def iter_stripe_customers(
    client: stripe.StripeClient, *, after: str | None = None, limit: int | None = None, stream: TextIO
) -> Iterator[FetchedCustomer]:
    """Every Stripe customer (newest first, as Stripe lists them), after `after`, with tax ids."""
    progress = Progress("Listing Stripe customers", stream=stream)
    count = 0
    try:
        while limit is None or count < limit:
            params: dict[str, Any] = {"limit": STRIPE_PAGE_SIZE, "expand": ["data.tax_ids"]}
            if after:
                params["starting_after"] = after
            with _stripe_errors():
                page = client.v1.customers.list(params=params)  # type: ignore[arg-type]
            fetched_at = int(time.time())
            for customer in page.data:
                data: dict[str, Any] = customer.to_dict()
                count += 1
                progress.update(count)
                yield FetchedCustomer(data, fetched_at)
                if limit is not None and count >= limit:
                    break
            if not page.has_more or not page.data:
                break
            after = page.data[-1].id
    finally:
        progress.close(f"Stripe: {count:,} customers")


def retrieve_stripe_customer(client: stripe.StripeClient, customer_id: str) -> dict[str, Any] | None:
    """The customer, `{"deleted": true, ...}` once deleted, or None when Stripe does not know it."""
    import stripe

    try:
        customer = client.v1.customers.retrieve(customer_id, params={"expand": ["tax_ids"]})
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" or exc.http_status == 404:
            return None
        raise OperationError(f"Stripe failed: {exc.user_message or exc}", EXIT_FAILED) from None
    data: dict[str, Any] = customer.to_dict()
    return data


# Synthetic events -------------------------------------------------------------------------------


def synthetic_event(
    customer: Mapping[str, Any],
    *,
    created: int,
    livemode: bool,
    source: str,
    event_type: str = "customer.updated",
    hint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Stripe-shaped event our tools queue; only the sync ever reads it (never signed)."""
    customer_id = str(customer.get("id") or "")
    event: dict[str, Any] = {
        "id": f"evt_{source}_{customer_id}_{created}",
        "object": "event",
        "type": event_type,
        "created": created,
        "livemode": livemode,
        "data": {"object": dict(customer)},
    }
    if hint is not None:
        event[HINT_KEY] = {"source": source, **hint}
    return event


def queue_message(event: Mapping[str, Any], *, source: str, group_id: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        body=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
        group_id=group_id or message_group_id(dict(event)),
        # The event id: a repeat within SQS's 5-minute window is dropped, later ones are caught
        # by the sync's idempotency on the same id.
        dedup_id=str(event["id"])[:128],
        attributes={"event_type": str(event["type"]), "source": source},
    )


def _links(stack: Stack, stream: TextIO) -> dict[str, MappingRow]:
    progress = Progress("Reading the mapping table", stream=stream)
    links: dict[str, MappingRow] = {}
    for row in scan_mapping(stack.settings.mapping_table):
        links[row.stripe_id] = row
        progress.update(len(links))
    progress.close(f"Mapping: {len(links):,} entries")
    return links


def _changed(link: MappingRow, fields: FortnoxFields) -> bool:
    hashes = field_hashes(fields)
    if any(link.field_hashes.get(k) != v for k, v in hashes.items()):
        return True
    return any(k not in hashes and k in CLEARABLE_FIELDS for k in link.field_hashes)


# Backfill ---------------------------------------------------------------------------------------


class Action(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"
    AFTER_TWIN = "after-twin"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    RECOVER = "recover"
    SKIP = "skip"
    INVALID = "invalid"


# Fortnox requests the sync will spend per action (the listing is counted separately).
ACTION_REQUESTS = {
    Action.CREATE: 1,
    Action.ADOPT: 1,
    Action.AFTER_TWIN: 2,
    Action.UPDATE: 1,
    Action.UNCHANGED: 0,
    Action.RECOVER: 2,
    Action.SKIP: 0,
    Action.INVALID: 0,
}
ACTION_TEXT = {
    Action.CREATE: "create in Fortnox",
    Action.ADOPT: "link to an existing Fortnox customer and update it",
    Action.AFTER_TWIN: "shares its match key with a customer created in this backfill: linked after it",
    Action.UPDATE: "update (changed since the last sync)",
    Action.UNCHANGED: "leave alone (unchanged)",
    Action.RECOVER: "finish an interrupted create",
    Action.SKIP: "skip (deleted in our mapping)",
    Action.INVALID: "skip (cannot be mapped)",
}


@dataclass
class Planned:
    customer_id: str
    action: Action
    fortnox_number: str | None = None
    message: OutgoingMessage | None = None
    detail: str = ""


def _key_digest(rule: MatchRule, key: str) -> str:
    # The cursor file remembers match keys across runs; hashed, so it holds no e-mail addresses.
    return hashlib.sha256(f"{rule.value}\x1f{key}".encode()).hexdigest()[:24]


def plan_customer(
    fetched: FetchedCustomer,
    link: MappingRow | None,
    index: FortnoxIndex | None,
    settings: Settings,
    created_keys: dict[str, str],
    *,
    source: str = "backfill",
) -> Planned:
    """What a backfill does with one Stripe customer, and the event that does it."""
    customer = fetched.data
    customer_id = fetched.id
    try:
        mapped = map_customer(customer, settings)
    except ValueError as exc:
        return Planned(customer_id, Action.INVALID, detail=str(exc))

    def event(hint: Mapping[str, Any] | None) -> dict[str, Any]:
        return synthetic_event(
            customer, created=fetched.fetched_at, livemode=settings.stripe_livemode, source=source, hint=hint
        )

    if link is not None:
        if link.status is LinkStatus.DELETED:
            return Planned(customer_id, Action.SKIP, link.fortnox_number)
        # Mapped: the normal path, without a hint (no Fortnox call at all when unchanged).
        message = queue_message(event(None), source=source)
        if link.status is LinkStatus.PENDING or not link.fortnox_number:
            return Planned(customer_id, Action.RECOVER, None, message)
        action = Action.UPDATE if _changed(link, mapped.fields) else Action.UNCHANGED
        return Planned(customer_id, action, link.fortnox_number, message)

    number = index.match(mapped.fields) if index is not None else None
    if number is not None:
        hint = {"match_checked": True, "fortnox_number": number}
        return Planned(customer_id, Action.ADOPT, number, queue_message(event(hint), source=source))
    key = match_key(mapped.fields, settings.match_rule)
    if key is not None:
        digest = _key_digest(settings.match_rule, key)
        first = created_keys.get(digest)
        if first is not None:
            # Another customer of this backfill creates the Fortnox customer this one matches.
            # Queued in that customer's message group, without a hint: it is processed after the
            # create, and the sync's own search links it, as it would for live traffic.
            return Planned(
                customer_id,
                Action.AFTER_TWIN,
                None,
                queue_message(event(None), source=source, group_id=first),
                detail=f"after {first}",
            )
        created_keys[digest] = message_group_id(event(None))
    hint = {"match_checked": True, "fortnox_number": None}
    return Planned(customer_id, Action.CREATE, None, queue_message(event(hint), source=source))


def estimate_seconds(requests: int, settings: Settings) -> float:
    """How long Fortnox's rate limit makes `requests` take (25 per 5.25 s with the defaults)."""
    window = settings.fortnox_window_seconds + LIMITER_MARGIN_SECONDS
    return requests * window / max(1, settings.fortnox_max_requests)


def _rate_text(settings: Settings) -> str:
    window = settings.fortnox_window_seconds + LIMITER_MARGIN_SECONDS
    return f"{settings.fortnox_max_requests} requests per {window:g} s"


def _about(seconds: float) -> str:
    return "under a second" if seconds < 1 else f"about {format_duration(seconds)}"


@dataclass
class Cursor:
    """Where an interrupted backfill resumes: after the last customer it queued."""

    path: Path
    stack: str
    after: str | None = None
    queued: int = 0
    created_keys: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @classmethod
    def load(cls, path: Path, stack: Stack) -> Cursor | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise OperationError(f"cannot read the cursor file {path}: {exc}; use --restart") from None
        if data.get("stack") != stack.identity:
            raise OperationError(
                f"the cursor file {path} belongs to another stack ({data.get('stack')}); "
                "use --restart to start over or --cursor to choose another file"
            )
        return cls(
            path=path,
            stack=stack.identity,
            after=data.get("after"),
            queued=int(data.get("queued") or 0),
            created_keys=dict(data.get("created_keys") or {}),
            started_at=float(data.get("started_at") or time.time()),
        )

    def save(self) -> None:
        data = {
            "stack": self.stack,
            "after": self.after,
            "queued": self.queued,
            "created_keys": self.created_keys,
            "started_at": self.started_at,
            "updated_at": time.time(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        # Atomic: a backfill killed mid-write leaves the previous cursor, never half a file.
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def default_cursor_path(stack: Stack) -> Path:
    if stack.state_dir is not None:
        return stack.state_dir / "backfill-cursor.json"
    return Path(f".stripe-fortnox-backfill-{re.sub(r'[^A-Za-z0-9_-]', '_', stack.name)}.json")


@dataclass
class BackfillOptions:
    stripe_key: str | None = None
    cursor: Path | None = None
    restart: bool = False
    dry_run: bool = False
    max_customers: int | None = None
    wait: bool = False
    wait_timeout: float | None = None
    list_customers: bool = False


def _check_event_types(stack: Stack, *types: str) -> None:
    missing = [t for t in types if t not in enabled_types(stack.settings)]
    if missing:
        raise OperationError(
            f"the stack does not handle {', '.join(missing)} (EnabledEventTypes): "
            "the sync would ignore the events"
        )


def backfill(stack: Stack, options: BackfillOptions, out: TextIO, err: TextIO) -> int:
    _check_event_types(stack, "customer.updated")
    settings = stack.settings
    cursor_path = options.cursor or default_cursor_path(stack)
    cursor = None if options.restart else Cursor.load(cursor_path, stack)
    if cursor is not None:
        print(
            f"Resuming after {cursor.after} ({cursor.queued:,} customers already queued; "
            "--restart starts over)",
            file=err,
        )
    else:
        cursor = Cursor(cursor_path, stack.identity)
    client = stripe_client(stack, options.stripe_key)
    links = _links(stack, err)
    customers = list(
        iter_stripe_customers(client, after=cursor.after, limit=options.max_customers, stream=err)
    )
    if not customers:
        print(
            "Nothing to backfill: no Stripe customers" + (" after the cursor." if cursor.after else "."),
            file=out,
        )
        if not options.dry_run:
            cursor.remove()
        return EXIT_OK

    index: FortnoxIndex | None = None
    list_requests = 0
    unmapped = sum(1 for c in customers if c.id not in links)
    if unmapped and settings.match_rule is not MatchRule.NONE:
        listing = list_fortnox_customers(fortnox_client(settings), err)
        index, list_requests = FortnoxIndex(listing.customers, settings.match_rule), listing.requests

    created_keys = dict(cursor.created_keys)
    plan = [plan_customer(c, links.get(c.id), index, settings, created_keys) for c in customers]
    counts = Counter(p.action for p in plan)
    requests = sum(ACTION_REQUESTS[p.action] for p in plan)
    print(f"Backfill of {len(plan):,} Stripe customers into {stack.name} ({stack.mode} mode):", file=out)
    for action in Action:
        if counts[action]:
            print(f"  {counts[action]:>7,}  {ACTION_TEXT[action]}", file=out)
    seconds = estimate_seconds(requests, settings)
    spent = f" (plus {list_requests} spent listing Fortnox)" if list_requests else ""
    print(
        f"Fortnox requests: about {requests:,}{spent}, about {requests / len(plan):.2f} per customer; "
        f"{_about(seconds)} at Fortnox's {_rate_text(settings)}.",
        file=out,
    )
    if options.dry_run or options.list_customers:
        for p in plan:
            if options.list_customers or p.action in (Action.INVALID, Action.SKIP):
                number = p.fortnox_number or "-"
                detail = f"  {p.detail}" if p.detail else ""
                print(f"  {p.action.value:<10} {p.customer_id:<24} fortnox={number}{detail}", file=out)
    if options.dry_run:
        print("Dry run: nothing was queued.", file=out)
        return EXIT_OK

    queue = FifoQueue(settings.queue_url)
    dlq = FifoQueue(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None
    parked_before = dlq.depth().total if dlq else 0
    to_queue = [p for p in plan if p.message is not None]
    progress = Progress("Queueing events", total=len(to_queue), stream=err)
    queued = 0
    saved_at = time.monotonic()
    cursor.created_keys = created_keys
    try:
        for start in range(0, len(plan), 10):
            chunk = plan[start : start + 10]
            queue.send_many([p.message for p in chunk if p.message is not None])
            queued += sum(1 for p in chunk if p.message is not None)
            cursor.after = chunk[-1].customer_id
            cursor.queued += sum(1 for p in chunk if p.message is not None)
            progress.update(queued)
            # Saved now and then, not per batch: a cursor a second behind only re-queues a few
            # customers, whose second event the sync finds unchanged (0 Fortnox requests).
            if time.monotonic() - saved_at >= 1.0:
                cursor.save()
                saved_at = time.monotonic()
    except QueueError as exc:
        raise OperationError(
            f"{exc}; run the backfill again to resume after {cursor.after}", EXIT_FAILED
        ) from None
    finally:
        progress.close(f"Queued {queued:,} events")
        if queued:
            # Also on Ctrl-C or an error: the next run resumes after what was queued.
            cursor.save()
    more = options.max_customers is not None and len(customers) >= options.max_customers
    if not more:
        # Finished: the next backfill starts from the newest customer again.
        cursor.remove()
    print(
        f"Queued {queued:,} events ({len(plan) - queued:,} skipped). The sync works through them in "
        f"{_about(seconds)}; follow with `stripe-fortnox status`.",
        file=out,
    )
    if more:
        print(f"Stopped at --max-customers; run again to continue after {cursor.after}.", file=out)
    if not options.wait:
        return EXIT_OK
    return _follow(stack, queue, dlq, queued, parked_before, seconds, options.wait_timeout, out, err, plan)


def _follow(
    stack: Stack,
    queue: FifoQueue,
    dlq: FifoQueue | None,
    queued: int,
    parked_before: int,
    estimate: float,
    timeout: float | None,
    out: TextIO,
    err: TextIO,
    plan: Sequence[Planned] = (),
) -> int:
    """Wait until the sync has worked the queue empty, with a progress bar; then check the result."""
    deadline = time.monotonic() + (timeout if timeout is not None else max(120.0, estimate * 3 + 60))
    progress = Progress("Syncing", total=max(queued, 1), stream=err)
    empty_polls = 0
    while True:
        remaining = queue.depth().total
        progress.update(max(0, queued - remaining))
        empty_polls = empty_polls + 1 if remaining == 0 else 0
        if empty_polls >= 2:
            break
        if time.monotonic() > deadline:
            progress.close()
            print(f"Gave up waiting: {remaining:,} events still in the queue.", file=out)
            return EXIT_FAILED
        time.sleep(1.0)
    progress.close(f"The sync worked through {queued:,} events")
    parked = (dlq.depth().total if dlq else 0) - parked_before
    expected = {p.customer_id for p in plan if p.message is not None}
    if expected:
        links = {row.stripe_id: row for row in scan_mapping(stack.settings.mapping_table)}
        done = sum(
            1
            for customer_id in expected
            if (row := links.get(customer_id)) is not None
            and row.status is LinkStatus.ACTIVE
            and row.fortnox_number
        )
        print(f"{done:,} of {len(expected):,} customers are now linked to a Fortnox customer.", file=out)
    if parked > 0:
        print(
            f"{parked:,} events were parked in the dead-letter queue: "
            "`stripe-fortnox redrive --dry-run` says why.",
            file=out,
        )
        return EXIT_FAILED
    return EXIT_OK


# Redrive ----------------------------------------------------------------------------------------


@dataclass
class RedriveOptions:
    dry_run: bool = False
    reasons: frozenset[str] = frozenset()
    max_messages: int | None = None


# Held invisible while we read the queue, long enough for a slow run; released at the end.
REDRIVE_VISIBILITY_SECONDS = 300


def _failure(message: ReceivedMessage) -> tuple[str, str]:
    reason = message.attributes.get("failure_reason")
    if reason:
        return reason, message.attributes.get("failure_message", "")
    # No reason attached: SQS moved it after maxReceiveCount failed receives (transient errors).
    return "receive_limit", f"receive count {message.receive_count}; moved by the queue's redrive policy"


def _event_summary(body: str) -> tuple[str, str, str]:
    """Id, type and customer of a queued event; nothing else of the body is shown."""
    try:
        event = json.loads(body)
    except ValueError:
        return ("(not JSON)", "", "")
    if not isinstance(event, dict):
        return ("(not an event)", "", "")
    return (str(event.get("id") or "-"), str(event.get("type") or "-"), customer_key(event) or "-")


def redrive(stack: Stack, options: RedriveOptions, out: TextIO, err: TextIO) -> int:
    dlq = FifoQueue(stack.output("DeadLetterQueueUrl"))
    queue = FifoQueue(stack.output("EventQueueUrl"))
    depth = dlq.depth()
    if depth.total == 0:
        print("The dead-letter queue is empty.", file=out)
        return EXIT_OK
    print(f"The dead-letter queue holds about {depth.total:,} events.", file=out)
    held: list[ReceivedMessage] = []
    seen: set[str] = set()
    moved: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    listed = 0
    empty_rounds = 0
    if options.dry_run:
        print(f"{'EVENT':<36} {'TYPE':<30} {'CUSTOMER':<22} {'REASON':<14} DETAIL", file=out)
    try:
        while True:
            room = 10 if options.max_messages is None else options.max_messages - sum(moved.values()) - listed
            if room <= 0:
                break
            batch = [
                m
                for m in dlq.receive(min(10, room), REDRIVE_VISIBILITY_SECONDS, wait_seconds=1)
                if m.message_id not in seen
            ]
            if not batch:
                empty_rounds += 1
                if empty_rounds >= 2:
                    break
                continue
            empty_rounds = 0
            seen.update(m.message_id for m in batch)
            selected = [m for m in batch if not options.reasons or _failure(m)[0] in options.reasons]
            for m in batch:
                if m not in selected:
                    kept[_failure(m)[0]] += 1
            if options.dry_run:
                held.extend(batch)
                for m in selected:
                    event_id, event_type, customer = _event_summary(m.body)
                    reason, detail = _failure(m)
                    detail = " ".join(detail.split())[:300]
                    print(f"{event_id:<36} {event_type:<30} {customer:<22} {reason:<14} {detail}", file=out)
                    listed += 1
                continue
            held.extend(m for m in batch if m not in selected)
            if selected:
                queue.send_many(
                    [
                        OutgoingMessage(
                            body=m.body,
                            # The customer's group: its events stay in order behind each other.
                            group_id=m.group_id or "redrive",
                            # New: the original id may still be inside SQS's 5-minute dedup
                            # window. Derived from the DLQ message, so retrying a redrive that
                            # died before deleting cannot queue the event twice in that window.
                            dedup_id=f"redrive-{m.message_id}",
                            attributes={
                                **{
                                    k: v
                                    for k, v in m.attributes.items()
                                    if k not in ("failure_reason", "failure_message")
                                },
                                "redriven_after": _failure(m)[0],
                            },
                        )
                        for m in selected
                    ]
                )
                dlq.delete(selected)
                for m in selected:
                    moved[_failure(m)[0]] += 1
                print(f"Moved {sum(moved.values()):,} events back to the event queue", file=err)
    finally:
        if held:
            # Visible again at once, for the sync's parking and the next redrive.
            dlq.release(held)
    if options.dry_run:
        reasons = Counter(
            _failure(m)[0] for m in held if not options.reasons or _failure(m)[0] in options.reasons
        )
        summary = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items()))
        print(f"Dry run: {listed:,} events would be moved back ({summary}).", file=out)
        if listed < depth.total and not options.reasons:
            print(
                "Some events were not listed: a customer's later events stay hidden while its earlier "
                "ones are held (FIFO); they move with a real redrive.",
                file=out,
            )
        return EXIT_OK
    by_reason = ", ".join(f"{reason}: {n}" for reason, n in sorted(moved.items()))
    print(f"Moved {sum(moved.values()):,} events back to the event queue ({by_reason or 'none'}).", file=out)
    if kept:
        print(f"Left {sum(kept.values()):,} in the dead-letter queue (not selected by --reason).", file=out)
    left = dlq.depth().total
    if left and not kept:
        print(
            f"{left:,} events are still in the dead-letter queue (just parked, or hidden): run again.",
            file=out,
        )
    return EXIT_OK


# Status -----------------------------------------------------------------------------------------


def _when(timestamp: float | None, now: float) -> str:
    if not timestamp:
        return "never"
    stamp = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = now - timestamp
    relative = f"{format_duration(delta)} ago" if delta >= 0 else f"in {format_duration(-delta)}"
    return f"{stamp} ({relative})"


@dataclass
class TokenHealth:
    flow: str
    access_token_expires_at: float
    refreshed_at: float | None
    has_refresh_token: bool
    refreshing: bool
    problem: str | None
    text: str


def token_health(record: TokenRecord, now: float) -> TokenHealth:
    refresh_flow = record.key.endswith("#authorization-code")
    flow = "refresh token (authorization code)" if refresh_flow else "service account (client credentials)"
    left = record.expires_at - now
    parts = [
        f"access token valid for {format_duration(left)}"
        if left > 0
        else f"access token expired {format_duration(-left)} ago (the next sync gets a new one)"
    ]
    if record.refreshed_at:
        parts.append(f"last refresh {_when(record.refreshed_at, now)}")
    problem = None
    if refresh_flow:
        if not record.has_refresh_token:
            problem = "no refresh token stored: put a new one in the Fortnox credentials secret"
        elif record.refreshed_at:
            age_days = (now - record.refreshed_at) / 86400
            if age_days >= REFRESH_TOKEN_DAYS:
                problem = (
                    f"the refresh token is {age_days:.0f} days old and has expired: authorise the "
                    "integration again and put the new refresh token in the Fortnox credentials secret"
                )
            elif age_days >= REFRESH_TOKEN_WARN_DAYS:
                problem = (
                    f"the refresh token expires in {REFRESH_TOKEN_DAYS - age_days:.0f} days unless the "
                    "sync refreshes it (any customer event does)"
                )
    refreshing = bool(record.lock_until and record.lock_until > now)
    if refreshing:
        parts.append("a refresh is in progress")
    return TokenHealth(
        flow=flow,
        access_token_expires_at=record.expires_at,
        refreshed_at=record.refreshed_at,
        has_refresh_token=record.has_refresh_token,
        refreshing=refreshing,
        problem=problem,
        text="; ".join(parts),
    )


@dataclass
class StatusOptions:
    json: bool = False
    customer: str | None = None


def status(stack: Stack, options: StatusOptions, out: TextIO) -> int:
    if options.customer:
        return customer_status(stack, options.customer, options.json, out)
    now = time.time()
    rows = list(scan_mapping(stack.settings.mapping_table))
    customers = [r for r in rows if not r.is_guest]
    by_status = Counter(r.status.value for r in customers)
    guests = sum(1 for r in rows if r.is_guest)
    synced = [r.updated_at for r in rows if r.status is not LinkStatus.PENDING and r.updated_at]
    last_sync = max(synced) if synced else None
    queue = FifoQueue(stack.output("EventQueueUrl")).depth()
    dlq = FifoQueue(stack.output("DeadLetterQueueUrl")).depth()
    tokens = [token_health(r, now) for r in token_records(stack.settings.state_table)]
    attention: list[str] = []
    if dlq.total:
        attention.append(f"{dlq.total} events in the dead-letter queue: `stripe-fortnox redrive --dry-run`")
    attention.extend(t.problem for t in tokens if t.problem)
    if options.json:
        report = {
            "stack": stack.name,
            "mode": stack.mode,
            "mapped": {"total": len(customers), **dict(sorted(by_status.items()))},
            "guests": guests,
            "last_sync": datetime.fromtimestamp(last_sync, UTC).isoformat() if last_sync else None,
            "queue": {"waiting": queue.waiting, "in_flight": queue.in_flight, "delayed": queue.delayed},
            "dead_letters": dlq.total,
            "fortnox_tokens": [
                {
                    "flow": t.flow,
                    "access_token_expires_at": datetime.fromtimestamp(
                        t.access_token_expires_at, UTC
                    ).isoformat(),
                    "refreshed_at": datetime.fromtimestamp(t.refreshed_at, UTC).isoformat()
                    if t.refreshed_at
                    else None,
                    "has_refresh_token": t.has_refresh_token,
                    "refreshing": t.refreshing,
                    "problem": t.problem,
                }
                for t in tokens
            ],
            "attention": attention,
        }
        print(json.dumps(report, indent=2), file=out)
    else:
        detail = ", ".join(f"{n:,} {name}" for name, n in sorted(by_status.items()))
        print(f"Stack:         {stack.name} ({stack.mode} mode)", file=out)
        print(
            f"Mapped:        {len(customers):,} customers ({detail or 'none'}); {guests:,} guest buyers",
            file=out,
        )
        print(f"Last sync:     {_when(last_sync, now)}", file=out)
        print(f"Event queue:   {queue.waiting:,} waiting, {queue.in_flight:,} in flight", file=out)
        print(f"Dead letters:  {dlq.total:,}", file=out)
        if not tokens:
            print("Fortnox token: none yet (the first event that reaches Fortnox gets one)", file=out)
        for t in tokens:
            print(f"Fortnox token: {t.flow}; {t.text}", file=out)
        for line in attention:
            print(f"Attention:     {line}", file=out)
        if not attention:
            print("Health:        OK", file=out)
    return EXIT_FAILED if attention else EXIT_OK


def customer_status(stack: Stack, customer_id: str, as_json: bool, out: TextIO) -> int:
    from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoMappingStore

    now = time.time()
    link = DynamoMappingStore(stack.settings.mapping_table).get(customer_id)
    activity = (
        recent_activity(stack.settings.activity_table, customer_id) if stack.settings.activity_table else []
    )
    # Ids, times and event types only: the activity items may hold amounts or names.
    entries = [
        {
            "at": a.get("at", "").split("#", 1)[0],
            "event_type": a.get("event_type", ""),
            "event_id": a.get("event_id", ""),
        }
        for a in activity
    ]
    if as_json:
        report: dict[str, Any] = {"customer": customer_id, "mapping": None, "activity": entries}
        if link is not None:
            report["mapping"] = {
                "status": link.status.value,
                "fortnox_number": link.fortnox_number,
                "last_event_id": link.last_event_id,
                "last_event_created": link.last_event_created,
                "updated_at": link.updated_at,
            }
        print(json.dumps(report, indent=2), file=out)
        return EXIT_OK if link else EXIT_FAILED
    if link is None:
        print(f"{customer_id}: not in the mapping (never synced to Fortnox)", file=out)
    else:
        print(f"{customer_id}: {link.status.value}, Fortnox customer {link.fortnox_number or '-'}", file=out)
        print(
            f"  last event:  {link.last_event_id or '-'} of {_when(link.last_event_created or None, now)}",
            file=out,
        )
        print(f"  written:     {_when(link.updated_at or None, now)}", file=out)
    for entry in entries:
        print(f"  {entry['at']}  {entry['event_type']:<30} {entry['event_id']}", file=out)
    return EXIT_OK if link else EXIT_FAILED


# Reconcile --------------------------------------------------------------------------------------


class Category(StrEnum):
    MISSING = "missing"
    ORPHANED = "orphaned"
    DRIFTED = "drifted"


@dataclass
class Finding:
    category: Category
    stripe_id: str
    fortnox_number: str | None
    detail: str
    fields: tuple[str, ...] = ()
    stripe_values: dict[str, str] = field(default_factory=dict)
    fortnox_values: dict[str, str] = field(default_factory=dict)
    fix: OutgoingMessage | None = None


def _normalised(name: str, value: object) -> str:
    text = " ".join(str(value or "").split())
    if name == "Email":
        return text.lower()
    if name == "OrganisationNumber":
        return _digits(text)
    if name == "ZipCode":
        return text.replace(" ", "")
    return text


def drifted_fields(mapped: FortnoxFields, item: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Fields whose Fortnox value differs from what the sync would send: name -> (Stripe, Fortnox)."""
    drift: dict[str, tuple[str, str]] = {}
    for name in COMPARED_FIELDS:
        ours = mapped.get(name)
        if ours is None and name not in CLEARABLE_FIELDS:
            # The sync keeps what Fortnox has when Stripe lost the value (Name, Address1).
            continue
        theirs = item.get(name)
        if _normalised(name, ours) != _normalised(name, theirs):
            drift[name] = (str(ours or ""), str(theirs or ""))
    return drift


def shared_numbers(links: Mapping[str, MappingRow]) -> set[str]:
    """Fortnox customers linked from more than one active mapping entry."""
    counts = Counter(
        row.fortnox_number for row in links.values() if row.fortnox_number and row.status is LinkStatus.ACTIVE
    )
    return {number for number, n in counts.items() if n > 1}


@dataclass
class ReconcileOptions:
    stripe_key: str | None = None
    csv_path: Path | None = None
    fix: bool = False
    show_values: bool = False
    wait: bool = False
    wait_timeout: float | None = None


def reconcile_findings(
    stack: Stack,
    customers: Sequence[FetchedCustomer],
    links: Mapping[str, MappingRow],
    index: FortnoxIndex,
    lookup: Callable[[str], dict[str, Any] | None],
) -> list[Finding]:
    """Compare Stripe, the mapping and Fortnox; each finding carries the event that fixes it."""
    settings = stack.settings
    source = "reconcile"
    now = int(time.time())
    findings: list[Finding] = []
    created_keys: dict[str, str] = {}
    seen: set[str] = set()
    shared = shared_numbers(links)

    def check(fetched: FetchedCustomer) -> None:
        customer_id = fetched.id
        seen.add(customer_id)
        link = links.get(customer_id)
        if link is None or link.status is LinkStatus.PENDING:
            planned = plan_customer(fetched, link, index, settings, created_keys, source=source)
            if link is not None:
                detail = "a create was interrupted; the sync recovers it"
            elif planned.fortnox_number:
                rule = settings.match_rule.value
                detail = f"not mapped; Fortnox customer {planned.fortnox_number} matches by {rule}"
            else:
                detail = "not mapped and not in Fortnox"
            findings.append(
                Finding(Category.MISSING, customer_id, planned.fortnox_number, detail, fix=planned.message)
            )
            return
        if link.status is LinkStatus.DELETED:
            return
        forced = queue_message(
            synthetic_event(
                fetched.data,
                created=fetched.fetched_at,
                livemode=settings.stripe_livemode,
                source=source,
                hint={"force": True},
            ),
            source=source,
        )
        number = link.fortnox_number or ""
        item = index.by_number.get(number)
        if item is None:
            findings.append(
                Finding(
                    Category.ORPHANED,
                    customer_id,
                    number or None,
                    "gone from Fortnox (the fix creates it again)",
                    fix=forced,
                )
            )
            return
        if number in shared:
            # Several Stripe customers (one e-mail) share this Fortnox customer: it shows the
            # last one synced, so the others always differ. Not drift, and nothing to fix.
            return
        try:
            mapped = map_customer(fetched.data, settings)
        except ValueError:
            return
        drift = drifted_fields(mapped.fields, item)
        if drift:
            findings.append(
                Finding(
                    Category.DRIFTED,
                    customer_id,
                    number,
                    ", ".join(drift),
                    fields=tuple(drift),
                    stripe_values={k: v[0] for k, v in drift.items()},
                    fortnox_values={k: v[1] for k, v in drift.items()},
                    fix=forced,
                )
            )

    for fetched in customers:
        check(fetched)
    for stripe_id, link in sorted(links.items()):
        if stripe_id in seen or link.status is LinkStatus.DELETED:
            continue
        gone_from_fortnox = not link.fortnox_number or link.fortnox_number not in index.by_number
        if link.is_guest:
            if link.status is LinkStatus.ACTIVE and gone_from_fortnox:
                findings.append(
                    Finding(
                        Category.ORPHANED,
                        stripe_id,
                        link.fortnox_number,
                        "guest buyer gone from Fortnox (no fix)",
                    )
                )
            continue
        current = lookup(stripe_id)
        if current is not None and not current.get("deleted"):
            # Created after the listing began: compare it like the others.
            check(FetchedCustomer(current, int(time.time())))
            continue
        deleted = synthetic_event(
            {"id": stripe_id, "object": "customer", "deleted": True},
            created=now,
            livemode=settings.stripe_livemode,
            source=source,
            event_type="customer.deleted",
        )
        where = "deleted in Stripe" + (" and gone from Fortnox" if gone_from_fortnox else "")
        findings.append(
            Finding(
                Category.ORPHANED,
                stripe_id,
                link.fortnox_number,
                f"{where} (the fix marks the Fortnox customer inactive)",
                fix=queue_message(deleted, source=source),
            )
        )
    order = {Category.MISSING: 0, Category.ORPHANED: 1, Category.DRIFTED: 2}
    return sorted(findings, key=lambda f: (order[f.category], f.stripe_id))


def _describe(finding: Finding, show_values: bool) -> str:
    if finding.category is Category.DRIFTED and show_values:
        return "; ".join(
            f"{name}: {finding.stripe_values[name]!r} in Stripe, {finding.fortnox_values[name]!r} in Fortnox"
            for name in finding.fields
        )
    return finding.detail


def write_csv(path: Path, findings: Sequence[Finding], show_values: bool) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = ["category", "stripe_id", "fortnox_number", "fields", "detail"]
        if show_values:
            header += ["stripe_values", "fortnox_values"]
        writer.writerow(header)
        for f in findings:
            row = [f.category.value, f.stripe_id, f.fortnox_number or "", " ".join(f.fields), f.detail]
            if show_values:
                row += [
                    json.dumps(f.stripe_values, ensure_ascii=False) if f.stripe_values else "",
                    json.dumps(f.fortnox_values, ensure_ascii=False) if f.fortnox_values else "",
                ]
            writer.writerow(row)


def reconcile(stack: Stack, options: ReconcileOptions, out: TextIO, err: TextIO) -> int:
    _check_event_types(stack, "customer.updated", "customer.deleted")
    client = stripe_client(stack, options.stripe_key)
    links = _links(stack, err)
    customers = list(iter_stripe_customers(client, stream=err))
    listing = list_fortnox_customers(fortnox_client(stack.settings), err)
    index = FortnoxIndex(listing.customers, stack.settings.match_rule)

    def lookup(customer_id: str) -> dict[str, Any] | None:
        with _stripe_errors():
            return retrieve_stripe_customer(client, customer_id)

    findings = reconcile_findings(stack, customers, links, index, lookup)
    counts = Counter(f.category for f in findings)
    linked = {row.fortnox_number for row in links.values() if row.fortnox_number}
    unlinked = sum(1 for number in index.by_number if number not in linked)
    if findings:
        print(f"{'STATUS':<9} {'STRIPE ID':<28} {'FORTNOX':<9} DETAIL", file=out)
        for f in findings:
            number = f.fortnox_number or "-"
            print(
                f"{f.category.value:<9} {f.stripe_id:<28} {number:<9} {_describe(f, options.show_values)}",
                file=out,
            )
    flagged = {f.stripe_id for f in findings}
    in_sync = sum(1 for c in customers if c.id not in flagged)
    print(
        f"Stripe {len(customers):,} customers, mapping {len(links):,} entries, "
        f"Fortnox {len(index.by_number):,} customers: {counts[Category.MISSING]:,} missing, "
        f"{counts[Category.ORPHANED]:,} orphaned, {counts[Category.DRIFTED]:,} drifted, {in_sync:,} in sync. "
        f"{unlinked:,} Fortnox customers are not linked to Stripe (left alone).",
        file=out,
    )
    shared = shared_numbers(links)
    if shared:
        print(
            f"{len(shared):,} Fortnox customers are shared by several Stripe customers (matched by "
            f"{stack.settings.match_rule.value}); their fields are not compared.",
            file=out,
        )
    if options.csv_path:
        write_csv(options.csv_path, findings, options.show_values)
        print(f"Wrote {len(findings):,} rows to {options.csv_path}", file=out)
    if not findings:
        return EXIT_OK
    fixes = [f.fix for f in findings if f.fix is not None]
    if not options.fix:
        print("Queue the fixes with --fix.", file=out)
        return EXIT_FAILED
    queue = FifoQueue(stack.settings.queue_url)
    dlq = FifoQueue(stack.settings.dead_letter_queue_url) if stack.settings.dead_letter_queue_url else None
    parked_before = dlq.depth().total if dlq else 0
    queue.send_many(fixes)
    print(f"Queued {len(fixes):,} fixes.", file=out)
    unfixable = len(findings) - len(fixes)
    code = EXIT_OK
    if unfixable:
        print(f"{unfixable:,} differences have no automatic fix (see above).", file=out)
        code = EXIT_FAILED
    if options.wait:
        requests = len(fixes) * 2
        followed = _follow(
            stack,
            queue,
            dlq,
            len(fixes),
            parked_before,
            estimate_seconds(requests, stack.settings),
            options.wait_timeout,
            out,
            err,
        )
        code = max(code, followed)
    return code


# Entry point ------------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    """The CLI's `backfill`, `redrive`, `status` and `reconcile`; errors become exit codes."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from stripe_fortnox_sync.core.errors import FortnoxAuthError, FortnoxError, RateLimitTimeout

    out, err = sys.stdout, sys.stderr
    try:
        stack = open_stack(args)
        if args.command == "backfill":
            return backfill(
                stack,
                BackfillOptions(
                    stripe_key=args.stripe_key,
                    cursor=Path(args.cursor) if args.cursor else None,
                    restart=args.restart,
                    dry_run=args.dry_run,
                    max_customers=args.max_customers,
                    wait=args.wait,
                    wait_timeout=args.wait_timeout,
                    list_customers=args.list,
                ),
                out,
                err,
            )
        if args.command == "redrive":
            return redrive(
                stack,
                RedriveOptions(
                    dry_run=args.dry_run, reasons=frozenset(args.reason or ()), max_messages=args.max_messages
                ),
                out,
                err,
            )
        if args.command == "status":
            return status(stack, StatusOptions(json=args.json, customer=args.customer), out)
        if args.command == "reconcile":
            return reconcile(
                stack,
                ReconcileOptions(
                    stripe_key=args.stripe_key,
                    csv_path=Path(args.csv) if args.csv else None,
                    fix=args.fix,
                    show_values=args.show_values,
                    wait=args.wait,
                    wait_timeout=args.wait_timeout,
                ),
                out,
                err,
            )
        raise OperationError(f"unknown command {args.command}")
    except OperationError as exc:
        return fail(str(exc), exc.exit_code)
    except FortnoxAuthError as exc:
        return fail(f"Fortnox refused the credentials: {exc}", EXIT_AUTH)
    except (FortnoxError, RateLimitTimeout) as exc:
        return fail(str(exc), EXIT_FAILED)
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    except QueueError as exc:
        return fail(str(exc), EXIT_FAILED)
    except NoCredentialsError:
        return fail("no AWS credentials found (profile, environment or SSO)", EXIT_CONFIG)
    except NoRegionError:
        return fail("no AWS region: pass --region or set AWS_REGION", EXIT_CONFIG)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return fail(
            f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}", EXIT_FAILED
        )
    except BotoCoreError as exc:
        hint = " (is `stripe-fortnox dev` running?)" if os.environ.get("AWS_ENDPOINT_URL") else ""
        return fail(f"cannot reach AWS: {exc}{hint}", EXIT_FAILED)
