"""A Fortnox API simulator: OAuth token endpoint plus the v3 customers and invoices resources.

Stands in for api.fortnox.se and apps.fortnox.se in the test suite, the benchmarks and the local
dev stack. It copies Fortnox's observable behaviour where that behaviour matters to a sync client:
single-use refresh tokens, a 25-per-5-seconds sliding window, substring (ILIKE) search with one
filter at a time, a customer number series that never reuses a number, partial PUTs, the error
envelope and field validation taken from the official OpenAPI spec. Fault knobs (5xx, 429, hangs,
lost responses, expired tokens) let tests drive the unhappy paths on purpose.

Only the standard library is used, so the simulator runs anywhere the CLI runs. Everything
mutable sits behind one lock; sleeps (latency, hangs) happen outside it so a hanging request
never stalls the others.

Simulator-only endpoints live under /_sim (never rate limited, never faulted):
  GET  /_sim/stats[?durations=1]   counters and server-side request durations
  POST /_sim/reset                 {"customers": bool, "knobs": bool}
  GET  /_sim/customers[?tenant=x]  {"tenants": {tenant: [full customer, ...]}}
  GET  /_sim/invoices[?tenant=x]   {"tenants": {tenant: {"invoices": [...], "payments": [...]}}}
  GET  /_sim/config, POST /_sim/config   knobs, see FortnoxSimulator.configure
  POST /_sim/clients               {"client_id", "client_secret"}
  POST /_sim/refresh-token         {"client_id", "tenant_id"} -> {"refresh_token"}
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import random
import re
import secrets
import signal
import threading
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Final, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from stripe_fortnox_cli.fortnox_sim_invoices import (
    DEFAULT_ACCOUNTS,
    DEFAULT_CURRENCY_RATES,
    INVOICE_ERROR_CODES,
    InvoiceApiError,
    InvoiceBook,
    InvoiceContext,
    handle_invoice_request,
    invoice_knob_changes,
    invoice_route_template,
    render_invoices,
    render_payments,
)
from stripe_fortnox_sync.mapping.iso_codes import COUNTRY_CODES

__all__ = [
    "DEFAULT_CURRENCIES",
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "DEV_TENANT_ID",
    "ERROR_CODES",
    "FORTNOX_TIMEZONE",
    "FortnoxSimulator",
    "serve",
]

DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("SEK", "EUR", "USD", "GBP", "NOK", "DKK")
REFRESH_TOKEN_LIFETIME: Final[float] = 45 * 24 * 3600.0
SCOPE: Final[str] = "customer"

DEV_CLIENT_ID: Final[str] = "dev-client"
DEV_CLIENT_SECRET: Final[str] = "dev-secret"
DEV_TENANT_ID: Final[str] = "dev-tenant"

# Error codes in the envelope {"ErrorInformation": {"error": 1, "message": ..., "code": N}}.
# The first group are codes Fortnox itself uses (FACTS.md). The 29900xx group is invented here:
# Fortnox does not document a code for these cases, and a client must not depend on these numbers
# when talking to the real API, only on the HTTP status.
ERROR_CODES: Final[Mapping[str, int]] = {
    "invalid_characters": 2000359,  # control character or character outside the Unicode BMP
    "customer_number_used": 2000637,  # also answered for an empty or missing Name (reported)
    "invalid_content_type": 1000031,  # a POST/PUT whose Content-Type is not application/json
    "unauthorized": 2000311,  # missing, unknown or expired bearer token (HTTP 401)
    "unknown_field": 2990001,
    "wrong_type": 2990002,  # e.g. a number where the spec says string
    "too_long": 2990003,
    "too_short": 2990004,
    "invalid_enum": 2990005,  # Type, VATType, DefaultDeliveryTypes.*
    "invalid_email": 2990006,
    "invalid_country_code": 2990007,
    "invalid_currency": 2990008,  # not enabled in this (simulated) Fortnox company
    "invalid_body": 2990009,  # not JSON, or not wrapped as {"Customer": {...}}
    "invalid_parameter": 2990010,  # limit, page, filter, lastmodified, sortby, sortorder
    "multiple_filters": 2990011,  # more than one search filter in a list request
    "invalid_customer_number": 2990012,  # characters other than A-Z a-z 0-9 + - / _
    "customer_number_immutable": 2990013,  # PUT body names another CustomerNumber than the path
    "not_found": 2990014,  # HTTP 404: no such customer
    "unknown_resource": 2990015,  # HTTP 404: a path the simulator does not implement
    "method_not_allowed": 2990016,  # HTTP 405
    "rate_limited": 2990017,  # HTTP 429
    "internal_error": 2990018,  # HTTP 500, injected by error_rate (or a simulator bug)
    "gateway_timeout": 2990019,  # HTTP 504 after an injected hang that did not write
    **INVOICE_ERROR_CODES,  # invoices and invoice payments (29901xx), see fortnox_sim_invoices
}

# Read-only fields: Fortnox ignores them in a request body instead of rejecting them.
_READ_ONLY: Final[frozenset[str]] = frozenset({"@url", "Country", "DeliveryCountry", "VisitingCountry"})

# Fortnox derives Country from CountryCode. It answers with a country name; the simulator knows a
# few common ones in English and falls back to the code itself.
_COUNTRY_NAMES: Final[Mapping[str, str]] = {
    "SE": "Sweden",
    "NO": "Norway",
    "DK": "Denmark",
    "FI": "Finland",
    "IS": "Iceland",
    "DE": "Germany",
    "GB": "United Kingdom",
    "US": "United States",
    "FR": "France",
    "NL": "Netherlands",
    "BE": "Belgium",
    "ES": "Spain",
    "IT": "Italy",
    "PL": "Poland",
    "AT": "Austria",
    "CH": "Switzerland",
    "IE": "Ireland",
    "EE": "Estonia",
    "LV": "Latvia",
    "LT": "Lithuania",
    "PT": "Portugal",
    "CA": "Canada",
    "AU": "Australia",
}
_DERIVED_COUNTRY: Final[Mapping[str, str]] = {
    "CountryCode": "Country",
    "DeliveryCountryCode": "DeliveryCountry",
    "VisitingCountryCode": "VisitingCountry",
}

_Kind = Literal["str", "bool", "number", "object"]


@dataclass(frozen=True)
class _Field:
    kind: _Kind = "str"
    min_len: int = 0
    max_len: int | None = None
    enum: tuple[str, ...] = ()
    sub: Mapping[str, _Field] | None = None


_DELIVERY_TYPE = _Field("str", enum=("PRINT", "EMAIL", "PRINTSERVICE"))

# fortnox_Customer from the official OpenAPI spec, compacted: type, minLength, maxLength, enum.
# OrganisationNumber has no limit in fortnox_Customer; 30 comes from fortnox_CustomerListItem.
_FIELDS: Final[Mapping[str, _Field]] = {
    "Active": _Field("bool"),
    "Address1": _Field("str", 1, 1024),
    "Address2": _Field("str", 0, 1024),
    "City": _Field("str", 0, 1024),
    "Comments": _Field("str", 0, 1024),
    "CostCenter": _Field("str"),
    "CountryCode": _Field("str", 2, 2),
    "Currency": _Field("str", 3, 3),
    "CustomerNumber": _Field("str", 0, 1024),
    "DefaultDeliveryTypes": _Field(
        "object", sub={"Invoice": _DELIVERY_TYPE, "Offer": _DELIVERY_TYPE, "Order": _DELIVERY_TYPE}
    ),
    "DefaultTemplates": _Field(
        "object", sub={name: _Field("str") for name in ("CashInvoice", "Invoice", "Offer", "Order")}
    ),
    "DeliveryAddress1": _Field("str", 0, 1024),
    "DeliveryAddress2": _Field("str", 0, 1024),
    "DeliveryCity": _Field("str", 0, 1024),
    "DeliveryCountryCode": _Field("str", 2, 2),
    "DeliveryFax": _Field("str", 0, 1024),
    "DeliveryName": _Field("str", 0, 1024),
    "DeliveryPhone1": _Field("str", 0, 1024),
    "DeliveryPhone2": _Field("str", 0, 1024),
    "DeliveryZipCode": _Field("str", 0, 10),
    "Email": _Field("str", 0, 1024),
    "EmailInvoice": _Field("str", 0, 1024),
    "EmailInvoiceBCC": _Field("str", 0, 1024),
    "EmailInvoiceCC": _Field("str", 0, 1024),
    "EmailOffer": _Field("str", 0, 1024),
    "EmailOfferBCC": _Field("str", 0, 1024),
    "EmailOfferCC": _Field("str", 0, 1024),
    "EmailOrder": _Field("str", 0, 1024),
    "EmailOrderBCC": _Field("str", 0, 1024),
    "EmailOrderCC": _Field("str", 0, 1024),
    "ExternalReference": _Field("str", 0, 1024),
    "Fax": _Field("str", 0, 1024),
    "GLN": _Field("str", 13, 13),
    "GLNDelivery": _Field("str", 13, 13),
    "InvoiceAdministrationFee": _Field("str"),
    "InvoiceDiscount": _Field("number"),
    "InvoiceFreight": _Field("str"),
    "InvoiceRemark": _Field("str", 0, 1024),
    "Name": _Field("str", 1, 1024),
    "OrganisationNumber": _Field("str", 0, 30),
    "OurReference": _Field("str", 0, 50),
    "Phone1": _Field("str", 0, 1024),
    "Phone2": _Field("str", 0, 1024),
    "PriceList": _Field("str"),
    "Project": _Field("str"),
    "SalesAccount": _Field("str", 4, 4),
    "ShowPriceVATIncluded": _Field("bool"),
    "TermsOfDelivery": _Field("str"),
    "TermsOfPayment": _Field("str"),
    "Type": _Field("str", enum=("PRIVATE", "COMPANY")),
    "VATNumber": _Field("str"),
    "VATType": _Field("str", enum=("SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")),
    "VisitingAddress": _Field("str", 0, 128),
    "VisitingCity": _Field("str", 0, 128),
    "VisitingCountryCode": _Field("str", 2, 2),
    "VisitingZipCode": _Field("str", 0, 10),
    "WWW": _Field("str", 0, 128),
    "WayOfDelivery": _Field("str"),
    "YourReference": _Field("str", 0, 50),
    "ZipCode": _Field("str", 0, 10),
}

# What a fresh customer looks like before the request's fields are applied. Unset text fields are
# null, as Fortnox answers for many of them, so clients must cope with null.
_DEFAULTS: Final[Mapping[str, Any]] = {
    "Active": True,
    "Currency": "SEK",
    "Type": "COMPANY",
    "VATType": "SEVAT",
    "ShowPriceVATIncluded": False,
    "DefaultDeliveryTypes": {"Invoice": "PRINT", "Offer": "PRINT", "Order": "PRINT"},
    "DefaultTemplates": {
        "CashInvoice": "DEFAULTTEMPLATE",
        "Invoice": "DEFAULTTEMPLATE",
        "Offer": "DEFAULTTEMPLATE",
        "Order": "DEFAULTTEMPLATE",
    },
}

# The list endpoint answers only these fields (fortnox_CustomerListItem); Phone is Phone1.
_LIST_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("Address1", "Address1"),
    ("Address2", "Address2"),
    ("City", "City"),
    ("CustomerNumber", "CustomerNumber"),
    ("Email", "Email"),
    ("Name", "Name"),
    ("OrganisationNumber", "OrganisationNumber"),
    ("Phone", "Phone1"),
    ("ZipCode", "ZipCode"),
)

# Search parameter -> customer field. Fortnox allows one of these per request.
_SEARCH_FILTERS: Final[Mapping[str, str]] = {
    "email": "Email",
    "name": "Name",
    "organisationnumber": "OrganisationNumber",
    "customernumber": "CustomerNumber",
    "phone": "Phone1",
    "zipcode": "ZipCode",
    "city": "City",
    "gln": "GLN",
    "glndelivery": "GLNDelivery",
}

_EMAIL_RE: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CUSTOMER_NUMBER_RE: Final = re.compile(r"[A-Za-z0-9+/_-]+")
_LASTMODIFIED_FORMATS: Final[tuple[str, ...]] = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _fortnox_zone() -> tzinfo:
    # Fortnox reads and shows lastmodified in Swedish local time, whatever the client's zone.
    # Read in the host's zone instead, a client's UTC-based search looked hours into the
    # future on a machine west of UTC and found nothing (crash recovery then duplicated).
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Stockholm")
    except Exception:  # no tz database (slim containers): standard time, off by 1 h in summer
        return timezone(timedelta(hours=1), "CET")


FORTNOX_TIMEZONE: Final[tzinfo] = _fortnox_zone()
_MAX_DURATIONS: Final[int] = 100_000


class _ApiError(Exception):
    """Turned into Fortnox's error envelope by the request handler."""

    def __init__(self, status: int, code_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = ERROR_CODES[code_name]
        self.message = message


@dataclass
class _Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for no body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _AccessToken:
    client_id: str
    tenant_id: str
    expires_at: float


@dataclass
class _RefreshToken:
    client_id: str
    tenant_id: str
    expires_at: float


@dataclass
class _Tenant:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    modified_at: dict[str, float] = field(default_factory=dict)  # wall-clock epoch seconds
    used_numbers: set[str] = field(default_factory=set)
    next_number: int = 1
    invoices: InvoiceBook = field(default_factory=InvoiceBook)


@dataclass
class _Knobs:
    error_rate: float = 0.0
    latency_ms: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    timeout_applies_write: bool = False
    rate_limit_enabled: bool = True
    max_requests: int = 25
    window_seconds: float = 5.0
    token_lifetime: float = 3600.0
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES
    # The spec gives Address1 minLength 1 and the country codes minLength 2, yet clearing a field
    # means sending "". Off (the default), "" clears any optional field; on, "" must satisfy
    # minLength like any other value.
    strict_min_length: bool = False
    # ILIKE treats "_" and "%" in the value as wildcards unless Fortnox escapes them, which is
    # undocumented. On (the default) a search for "a_b" also finds "axb", the harsher case.
    search_wildcards: bool = True
    # Invoices (fortnox_sim_invoices): the chart of accounts row and payment accounts must be in,
    # years whose books are closed, öresavrundning of SEK totals, SEK rates for other currencies,
    # and whether a payment needs a booked invoice.
    accounts: tuple[int, ...] = DEFAULT_ACCOUNTS
    closed_years: tuple[int, ...] = ()
    invoice_round_off: bool = True
    currency_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CURRENCY_RATES))
    payment_requires_booked: bool = True


@dataclass
class _Stats:
    requests: Counter[str] = field(default_factory=Counter)
    status_codes: Counter[str] = field(default_factory=Counter)
    api_requests: int = 0
    rate_limited: int = 0
    forced_429: int = 0
    unauthorized: int = 0
    invalid_client: int = 0
    injected_5xx: int = 0
    injected_timeouts: int = 0
    token_grants: Counter[str] = field(default_factory=Counter)
    invalid_grant: int = 0
    durations: dict[str, deque[float]] = field(default_factory=dict)


def _summary(values: Iterable[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def rank(p: float) -> float:
        # Nearest-rank percentile: always an observed value, no interpolation surprises.
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 3)

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 3),
        "min": round(ordered[0], 3),
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 3),
    }


def _first_invalid_char(value: str) -> str | None:
    for char in value:
        # Cc: control characters; Cs: lone surrogates (JSON "\ud83d" without its pair).
        if ord(char) > 0xFFFF or unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _number_key(number: str) -> tuple[int, int, str]:
    # Numeric customer numbers sort by value (2 before 10); alphanumeric ones after, as text.
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def _like_pattern(value: str, wildcards: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for char in value:
        if wildcards and char == "%":
            parts.append(".*")
        elif wildcards and char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _envelope(code: int, message: str) -> dict[str, Any]:
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}


def _oauth_error(status: int, error: str, description: str) -> _Response:
    return _Response(status, {"error": error, "error_description": description})


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: FortnoxSimulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as a requests.Session expects; every response therefore
    # carries a Content-Length and every request body is read in full, even on early errors.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive connection waits
    # for the client's delayed ACK (about 40 ms) before the body, which would swamp latency numbers.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sim.log_requests:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    # Trailer section ends with an empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        # Header names are case-insensitive: the simulator looks them up in lower case.
        headers = {name.lower(): value for name, value in self.headers.items()}
        response, route = self.server.sim._handle(self.command, self.path, headers, body)
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status != 204:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its own timeout): exactly what a lost response looks like.
            self.close_connection = True
        if route is not None:
            self.server.sim._record_duration(route, (time.perf_counter() - started) * 1000.0)


class FortnoxSimulator:
    """An in-process Fortnox: start() it, point the client at api_url and auth_url."""

    def __init__(
        self,
        *,
        token_lifetime: float = 3600.0,
        max_requests: int = 25,
        window_seconds: float = 5.0,
        currencies: Iterable[str] = DEFAULT_CURRENCIES,
        seed: int = 0,
        log_requests: bool = False,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._seed = seed
        self._knobs = _Knobs()
        self._force_429 = 0
        self.configure(
            token_lifetime=token_lifetime,
            max_requests=max_requests,
            window_seconds=window_seconds,
            currencies=currencies,
        )
        self._initial_knobs = _Knobs(**vars(self._knobs))
        self._clock_offset = 0.0
        self._clients: dict[str, str] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._used_refresh_tokens: set[str] = set()
        self._tenants: dict[str, _Tenant] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._stats = _Stats()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.log_requests = log_requests

    # ----------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._stopping.clear()
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        # Wakes requests hanging in an injected timeout or latency, so they finish now.
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FortnoxSimulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        # A wildcard bind is reachable on loopback; the URL must name a connectable address.
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/3"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/oauth-v1"

    # ----------------------------------------------------------------- clients and tokens

    def register_client(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must be non-empty")
        with self._lock:
            self._clients[client_id] = client_secret

    def issue_refresh_token(self, client_id: str, tenant_id: str) -> str:
        """What the authorization-code flow would hand out: a valid refresh token for tenant_id."""
        if not tenant_id:
            raise ValueError("tenant_id must be non-empty")
        with self._lock:
            if client_id not in self._clients:
                raise ValueError(f"unknown client {client_id!r}: register_client first")
            return self._new_refresh_token(client_id, tenant_id)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on; new grants still work."""
        with self._lock:
            now = self._now()
            for token in self._access_tokens.values():
                token.expires_at = min(token.expires_at, now)

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's clock forward: expires tokens, empties rate windows, ages lastmodified."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._clock_offset += seconds

    # ----------------------------------------------------------------- knobs

    def configure(
        self,
        *,
        error_rate: float | None = None,
        latency_ms: float | None = None,
        timeout_rate: float | None = None,
        timeout_seconds: float | None = None,
        timeout_applies_write: bool | None = None,
        rate_limit_enabled: bool | None = None,
        max_requests: int | None = None,
        window_seconds: float | None = None,
        token_lifetime: float | None = None,
        currencies: Iterable[str] | None = None,
        strict_min_length: bool | None = None,
        search_wildcards: bool | None = None,
        accounts: Iterable[int] | None = None,
        closed_years: Iterable[int] | None = None,
        invoice_round_off: bool | None = None,
        currency_rates: Mapping[str, float] | None = None,
        payment_requires_booked: bool | None = None,
    ) -> dict[str, Any]:
        """Change any of the knobs; the others keep their values. Returns the whole set.

        The invoice knobs (accounts, closed_years, invoice_round_off, currency_rates,
        payment_requires_booked) are described in fortnox_sim_invoices.
        """
        for name, rate in (("error_rate", error_rate), ("timeout_rate", timeout_rate)):
            if rate is not None and not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name, amount in (
            ("latency_ms", latency_ms),
            ("timeout_seconds", timeout_seconds),
            ("token_lifetime", token_lifetime),
        ):
            if amount is not None and amount < 0:
                raise ValueError(f"{name} must not be negative")
        if max_requests is not None and max_requests < 1:
            raise ValueError("max_requests must be at least 1")
        if window_seconds is not None and window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        codes: tuple[str, ...] | None = None
        if currencies is not None:
            if isinstance(currencies, str):
                raise ValueError("currencies must be a list of codes, not one string")
            codes = tuple(currencies)
            if not all(isinstance(c, str) and re.fullmatch(r"[A-Z]{3}", c) for c in codes):
                raise ValueError("currencies must be three-letter upper-case codes")
        changes: dict[str, Any] = {
            "error_rate": error_rate,
            "latency_ms": latency_ms,
            "timeout_rate": timeout_rate,
            "timeout_seconds": timeout_seconds,
            "timeout_applies_write": timeout_applies_write,
            "rate_limit_enabled": rate_limit_enabled,
            "max_requests": max_requests,
            "window_seconds": window_seconds,
            "token_lifetime": token_lifetime,
            "currencies": codes,
            "strict_min_length": strict_min_length,
            "search_wildcards": search_wildcards,
            **invoice_knob_changes(
                accounts=accounts,
                closed_years=closed_years,
                invoice_round_off=invoice_round_off,
                currency_rates=currency_rates,
                payment_requires_booked=payment_requires_booked,
            ),
        }
        with self._lock:
            for name, value in changes.items():
                if value is not None:
                    setattr(self._knobs, name, value)
            return self._config_locked()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return self._config_locked()

    def force_429(self, n: int) -> None:
        """The next n authenticated /3 requests answer 429, whatever the window says."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            self._force_429 = n

    # ----------------------------------------------------------------- inspection

    def stats(self, include_durations: bool = False) -> dict[str, Any]:
        """Counters since the last reset.

        requests / status_codes: counts by "METHOD /path-template" and by status (not /_sim);
        api_requests: all /3 requests; rate_limited: 429s (forced_429 of them from force_429);
        unauthorized: /3 401s; invalid_client: token-endpoint 401s; injected_5xx and
        injected_timeouts; token_grants by grant type; invalid_grant; customers (and per tenant);
        durations_ms: server-side time of /3 requests (count, mean, min, p50..p99, max), also per
        route in durations_ms_by_route, and every sample in durations_ms_raw if asked.
        """
        with self._lock:
            s = self._stats
            api_durations = [d for route, values in s.durations.items() if " /3/" in route for d in values]
            result: dict[str, Any] = {
                "requests": dict(sorted(s.requests.items())),
                "status_codes": dict(sorted(s.status_codes.items())),
                "api_requests": s.api_requests,
                "rate_limited": s.rate_limited,
                "forced_429": s.forced_429,
                "unauthorized": s.unauthorized,
                "invalid_client": s.invalid_client,
                "injected_5xx": s.injected_5xx,
                "injected_timeouts": s.injected_timeouts,
                "token_grants": dict(sorted(s.token_grants.items())),
                "invalid_grant": s.invalid_grant,
                "customers": sum(len(t.customers) for t in self._tenants.values()),
                "customers_by_tenant": {k: len(t.customers) for k, t in sorted(self._tenants.items())},
                "invoices": sum(len(t.invoices.invoices) for t in self._tenants.values()),
                "invoice_payments": sum(len(t.invoices.payments) for t in self._tenants.values()),
                "durations_ms": _summary(api_durations),
                "durations_ms_by_route": {r: _summary(v) for r, v in sorted(s.durations.items())},
            }
            if include_durations:
                result["durations_ms_raw"] = {r: [round(d, 3) for d in v] for r, v in s.durations.items()}
            return result

    def customers(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Full customers of one tenant, or of every tenant when tenant_id is None."""
        with self._lock:
            tenants = [tenant_id] if tenant_id is not None else sorted(self._tenants)
            result: list[dict[str, Any]] = []
            for name in tenants:
                tenant = self._tenants.get(name)
                if tenant is not None:
                    result.extend(self._render(c, None) for c in self._ordered(tenant))
            return result

    def invoices(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Full invoices (with rows and totals) of one tenant, or of every tenant when None."""
        return self._invoice_data(tenant_id, render_invoices)

    def payments(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Invoice payments of one tenant, or of every tenant when tenant_id is None."""
        return self._invoice_data(tenant_id, render_payments)

    def _invoice_data(
        self, tenant_id: str | None, render: Callable[[InvoiceBook, str], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        with self._lock:
            base = self.api_url if self._server is not None else "http://fortnox-sim/3"
            names = [tenant_id] if tenant_id is not None else sorted(self._tenants)
            result: list[dict[str, Any]] = []
            for name in names:
                tenant = self._tenants.get(name)
                if tenant is not None:
                    result.extend(render(tenant.invoices, base))
            return result

    def last_modified(self, tenant_id: str, customer_number: str) -> datetime | None:
        """When a customer last changed, in Fortnox's zone (the one its lastmodified filter reads)."""
        with self._lock:
            tenant = self._tenants.get(tenant_id)
            stamp = tenant.modified_at.get(customer_number) if tenant else None
            return datetime.fromtimestamp(stamp, FORTNOX_TIMEZONE) if stamp is not None else None

    def reset(self, customers: bool = False, knobs: bool = False) -> None:
        """Clear counters and rate windows; with customers=True also data and number series."""
        with self._lock:
            self._stats = _Stats()
            self._windows.clear()
            if customers:
                self._tenants.clear()
            if knobs:
                self._knobs = _Knobs(**vars(self._initial_knobs))
                self._force_429 = 0
                self._rng = random.Random(self._seed)

    # ----------------------------------------------------------------- internals: state

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def _wall(self) -> float:
        return time.time() + self._clock_offset

    def _config_locked(self) -> dict[str, Any]:
        config = dict(vars(self._knobs))
        config["currencies"] = list(self._knobs.currencies)
        config["force_429_pending"] = self._force_429
        return config

    def _new_refresh_token(self, client_id: str, tenant_id: str) -> str:
        token = secrets.token_urlsafe(24)
        self._refresh_tokens[token] = _RefreshToken(
            client_id, tenant_id, self._now() + REFRESH_TOKEN_LIFETIME
        )
        return token

    def _new_access_token(self, client_id: str, tenant_id: str) -> str:
        now = self._now()
        # Drop tokens dead for a day, so long benchmarks do not grow the table without bound.
        stale = [t for t, v in self._access_tokens.items() if v.expires_at < now - 86400]
        for token in stale:
            del self._access_tokens[token]
        token = secrets.token_urlsafe(32)
        self._access_tokens[token] = _AccessToken(client_id, tenant_id, now + self._knobs.token_lifetime)
        return token

    def _tenant(self, tenant_id: str) -> _Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            tenant = self._tenants[tenant_id] = _Tenant()
        return tenant

    @staticmethod
    def _ordered(tenant: _Tenant) -> list[dict[str, Any]]:
        return [tenant.customers[n] for n in sorted(tenant.customers, key=_number_key)]

    def _render(self, customer: Mapping[str, Any], host: str | None) -> dict[str, Any]:
        if host:
            base = f"http://{host}/3"
        else:
            base = self.api_url if self._server is not None else "http://fortnox-sim/3"
        result: dict[str, Any] = {"@url": f"{base}/customers/{customer['CustomerNumber']}"}
        for name, value in customer.items():
            result[name] = dict(value) if isinstance(value, dict) else value
        return result

    def _record_duration(self, route: str, millis: float) -> None:
        with self._lock:
            values = self._stats.durations.get(route)
            if values is None:
                values = self._stats.durations[route] = deque(maxlen=_MAX_DURATIONS)
            values.append(millis)

    # ----------------------------------------------------------------- internals: dispatch

    def _handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[_Response, str | None]:
        """Answer one request (header names in lower case): the response and its stats route.

        The route is None for /_sim requests, which stay out of the statistics.
        """
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == "/_sim" or path.startswith("/_sim/"):
            try:
                return self._handle_sim(method, path, query, body), None
            except ValueError as exc:
                return _Response(400, {"error": str(exc)}), None

        if path == "/3" or path.startswith("/3/"):
            route = f"{method} {self._template(path)}"
        elif path == "/oauth-v1/token":
            route = f"{method} /oauth-v1/token"
        else:
            route = f"{method} /{{unknown}}"
        with self._lock:
            latency = self._knobs.latency_ms
        if latency > 0:
            self._stopping.wait(latency / 1000.0)

        if path == "/3" or path.startswith("/3/"):
            response = self._handle_api(method, path, query, headers, body)
        elif path == "/oauth-v1/token":
            response = (
                self._handle_token(headers, body)
                if method == "POST"
                else self._error(405, "method_not_allowed", "Use POST for the token endpoint")
            )
        else:
            response = self._error(404, "unknown_resource", f"No such resource: {path}")
        with self._lock:
            self._stats.requests[route] += 1
            self._stats.status_codes[str(response.status)] += 1
        return response, route

    @staticmethod
    def _template(path: str) -> str:
        segments = path.split("/")
        if len(segments) == 3 and segments[2] == "customers":
            return "/3/customers"
        if len(segments) == 4 and segments[2] == "customers":
            return "/3/customers/{n}"
        invoice_route = invoice_route_template(path)
        if invoice_route is not None:
            return invoice_route
        return "/3/{unknown}"

    @staticmethod
    def _error(status: int, code_name: str, message: str) -> _Response:
        return _Response(status, _envelope(ERROR_CODES[code_name], message))

    def _handle_sim(self, method: str, path: str, query: Mapping[str, list[str]], body: bytes) -> _Response:
        data: Any = json.loads(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        if method == "GET" and path == "/_sim/stats":
            return _Response(200, self.stats(include_durations=query.get("durations", ["0"])[0] == "1"))
        if method == "GET" and path == "/_sim/invoices":
            wanted = query.get("tenant", [None])[0]
            with self._lock:
                names = [wanted] if wanted is not None else sorted(self._tenants)
            return _Response(
                200,
                {"tenants": {n: {"invoices": self.invoices(n), "payments": self.payments(n)} for n in names}},
            )
        if method == "GET" and path == "/_sim/customers":
            with self._lock:
                wanted = query.get("tenant", [None])[0]
                names = [wanted] if wanted is not None else sorted(self._tenants)
            return _Response(200, {"tenants": {name: self.customers(name) for name in names}})
        if method == "POST" and path == "/_sim/reset":
            self.reset(customers=bool(data.get("customers")), knobs=bool(data.get("knobs")))
            return _Response(200, {"ok": True})
        if method == "GET" and path == "/_sim/config":
            return _Response(200, self.config())
        if method == "POST" and path == "/_sim/config":
            actions = {
                key: data.pop(key)
                for key in ("force_429", "expire_access_tokens", "advance_clock")
                if key in data
            }
            try:
                config = self.configure(**data)
            except TypeError as exc:
                raise ValueError(f"unknown knob: {exc}") from None
            if "force_429" in actions:
                self.force_429(int(actions["force_429"]))
            if actions.get("expire_access_tokens"):
                self.expire_access_tokens()
            if "advance_clock" in actions:
                self.advance_clock(float(actions["advance_clock"]))
            if actions:
                config = self.config()
            return _Response(200, config)
        if method == "POST" and path == "/_sim/clients":
            self.register_client(str(data.get("client_id") or ""), str(data.get("client_secret") or ""))
            return _Response(200, {"ok": True})
        if method == "POST" and path == "/_sim/refresh-token":
            token = self.issue_refresh_token(
                str(data.get("client_id") or ""), str(data.get("tenant_id") or "")
            )
            return _Response(200, {"refresh_token": token})
        return _Response(404, {"error": f"no simulator endpoint {method} {path}"})

    # ----------------------------------------------------------------- OAuth

    def _handle_token(self, headers: Mapping[str, str], body: bytes) -> _Response:
        client_id = self._basic_client(headers.get("authorization"))
        if client_id is None:
            with self._lock:
                self._stats.invalid_client += 1
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if _media_type(headers.get("content-type")) != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "Body must be application/x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            tenant_id = (headers.get("tenantid") or "").strip()
            if not tenant_id:
                return _oauth_error(400, "invalid_request", "Header TenantId is required")
            with self._lock:
                access = self._new_access_token(client_id, tenant_id)
                self._stats.token_grants[grant_type] += 1
                lifetime = self._knobs.token_lifetime
            return _Response(
                200,
                {
                    "access_token": access,
                    "scope": SCOPE,
                    "expires_in": math.ceil(lifetime),
                    "token_type": "bearer",
                },
            )
        if grant_type == "refresh_token":
            presented = form.get("refresh_token", "")
            if not presented:
                return _oauth_error(400, "invalid_request", "Parameter refresh_token is required")
            with self._lock:
                record = self._refresh_tokens.pop(presented, None)
                problem = None
                if record is None:
                    used = presented in self._used_refresh_tokens
                    problem = "Refresh token already used" if used else "Invalid refresh token"
                elif record.client_id != client_id:
                    problem = "Refresh token was issued to another client"
                    self._refresh_tokens[presented] = record
                elif record.expires_at <= self._now():
                    problem = "Refresh token expired"
                if problem is not None or record is None:
                    self._stats.invalid_grant += 1
                    return _oauth_error(400, "invalid_grant", problem or "Invalid refresh token")
                # Single use: the presented token is gone for good, a new one takes its place.
                self._used_refresh_tokens.add(presented)
                access = self._new_access_token(client_id, record.tenant_id)
                refresh = self._new_refresh_token(client_id, record.tenant_id)
                self._stats.token_grants[grant_type] += 1
                lifetime = self._knobs.token_lifetime
            return _Response(
                200,
                {
                    "access_token": access,
                    "refresh_token": refresh,
                    "scope": SCOPE,
                    "expires_in": math.ceil(lifetime),
                    "token_type": "bearer",
                },
            )
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Parameter grant_type is required")
        return _oauth_error(400, "unsupported_grant_type", f"Grant type {grant_type!r} is not supported")

    def _basic_client(self, header: str | None) -> str | None:
        if not header or header[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        with self._lock:
            expected = self._clients.get(client_id)
        if not sep or expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
            return None
        return client_id

    # ----------------------------------------------------------------- /3

    def _handle_api(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> _Response:
        auth = headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        with self._lock:
            self._stats.api_requests += 1
            record = self._access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            problem = None
            if not auth:
                problem = "Missing Authorization header"
            elif record is None:
                problem = "Invalid access token"
            elif record.expires_at <= self._now():
                problem = "Access token has expired"
            if problem is not None or record is None:
                self._stats.unauthorized += 1
                return self._error(401, "unauthorized", problem or "Invalid access token")
            if self._force_429 > 0:
                self._force_429 -= 1
                self._stats.forced_429 += 1
                self._stats.rate_limited += 1
                return self._error(429, "rate_limited", "Too many requests")
            if self._knobs.rate_limit_enabled and not self._admit((record.client_id, record.tenant_id)):
                self._stats.rate_limited += 1
                return self._error(429, "rate_limited", "Too many requests")
            if self._knobs.error_rate > 0 and self._rng.random() < self._knobs.error_rate:
                self._stats.injected_5xx += 1
                return self._error(500, "internal_error", "Internal server error (injected)")
            hang = self._knobs.timeout_rate > 0 and self._rng.random() < self._knobs.timeout_rate
            hang_seconds = self._knobs.timeout_seconds
            applies_write = self._knobs.timeout_applies_write
            if hang:
                self._stats.injected_timeouts += 1
        if hang and not applies_write:
            self._stopping.wait(hang_seconds)
            return self._error(504, "gateway_timeout", "Gateway timeout (injected); nothing was written")
        try:
            response = self._api(method, path, query, headers, body, record.tenant_id)
        except _ApiError as exc:
            response = _Response(exc.status, _envelope(exc.code, exc.message))
        if hang:
            # The write (if any) is done; only the answer is late, as when a real timeout loses it.
            self._stopping.wait(hang_seconds)
        return response

    def _admit(self, key: tuple[str, str]) -> bool:
        """Sliding window; caller holds the lock. Refused requests do not enter the window."""
        now = self._now()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        while window and window[0] <= now - self._knobs.window_seconds:
            window.popleft()
        if len(window) >= self._knobs.max_requests:
            return False
        window.append(now)
        return True

    def _api(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        tenant_id: str,
    ) -> _Response:
        template = self._template(path)
        host = headers.get("host")
        if template == "/3/customers":
            if method == "GET":
                return self._list(query, tenant_id, host)
            if method == "POST":
                return self._create(self._customer_body(headers, body), tenant_id, host)
            raise _ApiError(405, "method_not_allowed", f"{method} is not allowed on /3/customers")
        if template == "/3/customers/{n}":
            # Split before unquoting: a customer number may contain an encoded "/".
            number = unquote(path.split("/")[3])
            if method == "GET":
                with self._lock:
                    customer = self._find(tenant_id, number)
                    return _Response(200, {"Customer": self._render(customer, host)})
            if method == "PUT":
                return self._update(number, self._customer_body(headers, body), tenant_id, host)
            if method == "DELETE":
                with self._lock:
                    self._find(tenant_id, number)
                    tenant = self._tenant(tenant_id)
                    del tenant.customers[number]
                    tenant.modified_at.pop(number, None)
                return _Response(204)
            raise _ApiError(405, "method_not_allowed", f"{method} is not allowed on /3/customers/{{n}}")
        if invoice_route_template(path) is not None:
            return self._invoice_api(method, path, query, headers, body, tenant_id)
        raise _ApiError(404, "unknown_resource", f"The simulator does not implement {path}")

    def _invoice_api(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        tenant_id: str,
    ) -> _Response:
        """/3/invoices and /3/invoicepayments, answered by fortnox_sim_invoices under the lock."""
        host = headers.get("host")
        with self._lock:
            tenant = self._tenant(tenant_id)
            knobs = self._knobs
            context = InvoiceContext(
                customers=tenant.customers,
                currencies=frozenset(knobs.currencies),
                accounts=frozenset(knobs.accounts),
                closed_years=frozenset(knobs.closed_years),
                round_off=knobs.invoice_round_off,
                currency_rates=knobs.currency_rates,
                payment_requires_booked=knobs.payment_requires_booked,
                search_wildcards=knobs.search_wildcards,
                now=self._wall(),
                zone=FORTNOX_TIMEZONE,
                base_url=f"http://{host}/3" if host else self.api_url,
            )
            try:
                status, payload = handle_invoice_request(
                    tenant.invoices, context, method, path, query, headers.get("content-type"), body
                )
            except InvoiceApiError as exc:
                raise _ApiError(exc.status, exc.code_name, exc.message) from None
        return _Response(status, payload)

    def _find(self, tenant_id: str, number: str) -> dict[str, Any]:
        """Caller holds the lock."""
        tenant = self._tenants.get(tenant_id)
        customer = tenant.customers.get(number) if tenant else None
        if customer is None:
            raise _ApiError(404, "not_found", f"Customer {number} not found")
        return customer

    def _list(self, query: Mapping[str, list[str]], tenant_id: str, host: str | None) -> _Response:
        def param(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        def positive(name: str, default: int, maximum: int | None) -> int:
            raw = param(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise _ApiError(400, "invalid_parameter", f"{name} must be a whole number") from None
            if value < 1 or (maximum is not None and value > maximum):
                bound = f"1..{maximum}" if maximum else "at least 1"
                raise _ApiError(400, "invalid_parameter", f"{name} must be {bound}")
            return value

        limit = positive("limit", 100, 500)
        page = positive("page", 1, None)
        searches = [name for name in _SEARCH_FILTERS if name in query]
        if len(searches) > 1:
            raise _ApiError(
                400, "multiple_filters", f"Only one search filter at a time, got {', '.join(searches)}"
            )
        active_filter = param("filter")
        if active_filter is not None and active_filter not in ("active", "inactive"):
            raise _ApiError(400, "invalid_parameter", "filter must be active or inactive")
        since: float | None = None
        raw_since = param("lastmodified")
        if raw_since is not None:
            for fmt in _LASTMODIFIED_FORMATS:
                try:
                    parsed = datetime.strptime(raw_since.strip(), fmt)
                    since = parsed.replace(tzinfo=FORTNOX_TIMEZONE).timestamp()
                    break
                except ValueError:
                    continue
            if since is None:
                raise _ApiError(400, "invalid_parameter", "lastmodified must be YYYY-MM-DD HH:MM")
        sortby = param("sortby") or "customernumber"
        sortorder = param("sortorder") or "ascending"
        if sortby not in ("customernumber", "name") or sortorder not in ("ascending", "descending"):
            raise _ApiError(400, "invalid_parameter", "sortby/sortorder has an unknown value")

        with self._lock:
            tenant = self._tenant(tenant_id)
            matches = self._ordered(tenant)
            if searches:
                name = searches[0]
                pattern = _like_pattern(param(name) or "", self._knobs.search_wildcards)
                target = _SEARCH_FILTERS[name]
                matches = [c for c in matches if c.get(target) and pattern.search(str(c[target]))]
            if active_filter is not None:
                matches = [c for c in matches if c["Active"] is (active_filter == "active")]
            if since is not None:
                matches = [c for c in matches if tenant.modified_at[c["CustomerNumber"]] >= since]
            if sortby == "name":
                matches.sort(
                    key=lambda c: (str(c.get("Name") or "").casefold(), _number_key(c["CustomerNumber"]))
                )
            if sortorder == "descending":
                matches.reverse()
            total = len(matches)
            chunk = matches[(page - 1) * limit : page * limit]
            items = []
            for customer in chunk:
                rendered = self._render(customer, host)
                item: dict[str, Any] = {"@url": rendered["@url"]}
                for out_name, source in _LIST_FIELDS:
                    value = customer.get(source)
                    # List items show unset fields as "" (documented example), not null.
                    item[out_name] = "" if value is None else value
                items.append(item)
        return _Response(
            200,
            {
                "Customers": items,
                "MetaInformation": {
                    "@TotalResources": total,
                    "@TotalPages": max(1, math.ceil(total / limit)),
                    "@CurrentPage": page,
                },
            },
        )

    # ----------------------------------------------------------------- writes

    def _customer_body(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        if _media_type(headers.get("content-type")) != "application/json":
            raise _ApiError(400, "invalid_content_type", "Invalid Content-Type, use application/json")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _ApiError(400, "invalid_body", "The request body is not valid JSON") from None
        if not isinstance(data, dict) or set(data) != {"Customer"} or not isinstance(data["Customer"], dict):
            raise _ApiError(400, "invalid_body", 'The body must be {"Customer": {...}}')
        customer: dict[str, Any] = data["Customer"]
        return customer

    def _validated(self, fields: Mapping[str, Any], creating: bool) -> dict[str, Any]:
        with self._lock:
            currencies = frozenset(self._knobs.currencies)
            strict = self._knobs.strict_min_length
        clean: dict[str, Any] = {}
        for name, value in fields.items():
            if name in _READ_ONLY:
                continue
            spec = _FIELDS.get(name)
            if spec is None:
                raise _ApiError(400, "unknown_field", f"Unknown field: {name}")
            # null is taken as "not sent", as for a field left out of a partial update.
            if value is None:
                continue
            clean[name] = self._checked(name, value, spec, currencies, strict)
        name_value = clean.get("Name")
        if (creating and name_value is None) or (name_value is not None and not name_value.strip()):
            # Fortnox reports a missing Name with the "customer number used" code (reported).
            raise _ApiError(400, "customer_number_used", "Customer name (Name) is required")
        return clean

    def _checked(self, name: str, value: Any, spec: _Field, currencies: frozenset[str], strict: bool) -> Any:
        if spec.kind == "bool":
            if not isinstance(value, bool):
                raise _ApiError(400, "wrong_type", f"{name} must be true or false")
            return value
        if spec.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise _ApiError(400, "wrong_type", f"{name} must be a number")
            return float(value)
        if spec.kind == "object":
            if not isinstance(value, dict) or spec.sub is None:
                raise _ApiError(400, "wrong_type", f"{name} must be an object")
            nested: dict[str, Any] = {}
            for key, item in value.items():
                sub = spec.sub.get(key)
                if sub is None:
                    raise _ApiError(400, "unknown_field", f"Unknown field: {name}.{key}")
                if item is not None:
                    nested[key] = self._checked(f"{name}.{key}", item, sub, currencies, strict)
            return nested
        if not isinstance(value, str):
            raise _ApiError(400, "wrong_type", f"{name} must be a string")
        bad = _first_invalid_char(value)
        if bad is not None:
            raise _ApiError(400, "invalid_characters", f"Invalid characters in {name} (U+{ord(bad):04X})")
        if value == "" and name != "Name":
            if spec.enum:
                raise _ApiError(400, "invalid_enum", f"{name} must be one of {', '.join(spec.enum)}")
            if name == "Currency":
                raise _ApiError(400, "invalid_currency", "Currency must not be empty")
            if strict and spec.min_len > 0:
                raise _ApiError(400, "too_short", f"{name} must be at least {spec.min_len} characters")
            return value
        if spec.max_len is not None and len(value) > spec.max_len:
            raise _ApiError(400, "too_long", f"{name} must be at most {spec.max_len} characters")
        if len(value) < spec.min_len and name != "Name":
            raise _ApiError(400, "too_short", f"{name} must be at least {spec.min_len} characters")
        if spec.enum and value not in spec.enum:
            raise _ApiError(400, "invalid_enum", f"{name} must be one of {', '.join(spec.enum)}")
        if name.startswith("Email") and not _EMAIL_RE.fullmatch(value):
            raise _ApiError(400, "invalid_email", f"{name} is not a valid e-mail address")
        if name in _DERIVED_COUNTRY and value not in COUNTRY_CODES:
            raise _ApiError(400, "invalid_country_code", f"{name} {value!r} is not an ISO 3166-1 code")
        if name == "Currency" and value not in currencies:
            raise _ApiError(400, "invalid_currency", f"Currency {value!r} does not exist in this company")
        if name == "CustomerNumber" and not _CUSTOMER_NUMBER_RE.fullmatch(value):
            raise _ApiError(
                400, "invalid_customer_number", "CustomerNumber may hold only A-Z, a-z, 0-9, +, -, / and _"
            )
        return value

    @staticmethod
    def _apply(customer: dict[str, Any], fields: Mapping[str, Any]) -> None:
        for name, value in fields.items():
            if isinstance(value, dict):
                customer[name] = {**customer.get(name, {}), **value}
            else:
                customer[name] = value
            derived = _DERIVED_COUNTRY.get(name)
            if derived is not None:
                customer[derived] = _COUNTRY_NAMES.get(value, value) if value else value

    def _create(self, fields: Mapping[str, Any], tenant_id: str, host: str | None) -> _Response:
        clean = self._validated(fields, creating=True)
        with self._lock:
            tenant = self._tenant(tenant_id)
            number = clean.pop("CustomerNumber", "") or ""
            if number:
                if number in tenant.used_numbers:
                    raise _ApiError(
                        400,
                        "customer_number_used",
                        f"Customer number {number} is already in use (also after its customer is deleted)",
                    )
            else:
                while str(tenant.next_number) in tenant.used_numbers:
                    tenant.next_number += 1
                number = str(tenant.next_number)
                tenant.next_number += 1
            tenant.used_numbers.add(number)
            customer: dict[str, Any] = {name: None for name in _FIELDS}
            customer.update({k: None for k in _READ_ONLY if k != "@url"})
            for name, value in _DEFAULTS.items():
                customer[name] = dict(value) if isinstance(value, dict) else value
            customer["CustomerNumber"] = number
            self._apply(customer, clean)
            tenant.customers[number] = dict(sorted(customer.items()))
            tenant.modified_at[number] = self._wall()
            return _Response(201, {"Customer": self._render(tenant.customers[number], host)})

    def _update(self, number: str, fields: Mapping[str, Any], tenant_id: str, host: str | None) -> _Response:
        clean = self._validated(fields, creating=False)
        given = clean.pop("CustomerNumber", None)
        if given not in (None, "", number):
            raise _ApiError(400, "customer_number_immutable", "CustomerNumber cannot be changed")
        with self._lock:
            customer = self._find(tenant_id, number)
            self._apply(customer, clean)
            self._tenant(tenant_id).modified_at[number] = self._wall()
            return _Response(200, {"Customer": self._render(customer, host)})


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    host: str = "127.0.0.1",
    port: int = 8090,
    *,
    client_id: str = DEV_CLIENT_ID,
    client_secret: str = DEV_CLIENT_SECRET,
    tenant_id: str = DEV_TENANT_ID,
    **kwargs: Any,
) -> None:
    """Run a simulator in the foreground until Ctrl-C, with one dev client registered."""
    sim = FortnoxSimulator(**kwargs)
    sim.register_client(client_id, client_secret)
    sim.start(host, port)
    refresh_token = sim.issue_refresh_token(client_id, tenant_id)
    lines = [
        f"Fortnox simulator listening on {sim.base_url}",
        f"  FORTNOX_API_URL={sim.api_url}",
        f"  FORTNOX_AUTH_URL={sim.auth_url}",
        f"  client_id={client_id}",
        f"  client_secret={client_secret}",
        f"  tenant_id={tenant_id}  (service account: grant_type=client_credentials, header TenantId)",
        f"  refresh_token={refresh_token}  (authorization-code flow, single use)",
        f"  knobs: POST {sim.base_url}/_sim/config, stats: GET {sim.base_url}/_sim/stats",
        "Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    if threading.current_thread() is threading.main_thread():
        # As PID 1 in a container SIGTERM has no default action, so `docker stop` would hang
        # for its grace period; treat it like Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
