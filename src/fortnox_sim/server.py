"""FortnoxSimulator, the object tests and the local stack hold, and `serve` for running one alone.

The simulator composes its parts: the shared state (state.py), the OAuth authority, the rate
window and fault injection, the dispatcher with its resource table, and the HTTP listener.
"""

from __future__ import annotations

import copy
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from types import FrameType, TracebackType
from typing import Any, Final, Unpack

from .admin import handle_admin
from .api import data_counts
from .company import DEFAULT_CURRENCIES
from .customers import CustomerRegister, render_customer
from .dispatch import Dispatcher
from .general_ledger import LedgerWindow, ledger_report
from .inbox import Inbox, render_files
from .journal import Journal, render_voucher
from .knobs import KnobChanges, Knobs, checked_changes
from .ledger import InvoiceBook, render_invoices, render_payments
from .limits import Faults, RateWindow
from .oauth import OAuthAuthority
from .state import FORTNOX_TIMEZONE, SimState, Tenant
from .transport import Listener

__all__ = ["DEV_CLIENT_ID", "DEV_CLIENT_SECRET", "DEV_TENANT_ID", "FortnoxSimulator", "serve"]

DEV_CLIENT_ID: Final[str] = "dev-client"
DEV_CLIENT_SECRET: Final[str] = "dev-secret"
DEV_TENANT_ID: Final[str] = "dev-tenant"

_Render = Callable[[Tenant, str], list[dict[str, Any]]]


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
        initial = {
            "token_lifetime": token_lifetime,
            "max_requests": max_requests,
            "window_seconds": window_seconds,
            "currencies": currencies,
        }
        self._state = SimState(Knobs(**checked_changes(initial)))
        self._authority = OAuthAuthority(self._state)
        self._window = RateWindow(self._state)
        self._faults = Faults(self._state, seed)
        self._dispatcher = Dispatcher(
            self._state,
            self._authority,
            self._faults,
            admin=lambda method, path, query, body: handle_admin(self, method, path, query, body),
            # Looked up on every request: the reliability scenarios wrap _admit to record admissions.
            admit=lambda key: self._admit(key),
            fallback_url=self._api_base,
        )
        self._listener: Listener | None = None
        self.log_requests = log_requests

    # ----------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._listener is not None:
            raise RuntimeError("simulator already started")
        self._dispatcher.stopping.clear()
        self._listener = Listener((host, port), self._dispatcher, lambda: self.log_requests)

    def stop(self) -> None:
        listener = self._listener
        if listener is None:
            return
        self._dispatcher.stopping.set()
        listener.close()
        self._listener = None

    def __enter__(self) -> FortnoxSimulator:
        if self._listener is None:
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
        if self._listener is None:
            raise RuntimeError("simulator not started")
        return self._listener.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "/3"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/oauth-v1"

    # ----------------------------------------------------------------- clients, tokens, clock

    def register_client(self, client_id: str, client_secret: str) -> None:
        self._authority.register_client(client_id, client_secret)

    def issue_refresh_token(self, client_id: str, tenant_id: str) -> str:
        """What the authorization-code flow would hand out: a valid refresh token for tenant_id."""
        return self._authority.issue_refresh_token(client_id, tenant_id)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on; new grants still work."""
        self._authority.expire_access_tokens()

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's clock forward: expires tokens, empties rate windows, ages lastmodified."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._state.lock:
            self._state.clock.offset += seconds

    # ----------------------------------------------------------------- knobs

    def configure(self, **changes: Unpack[KnobChanges]) -> dict[str, Any]:
        """Change any of the knobs (see knobs.Knobs); the others keep their values. Returns the whole set."""
        self._state.configure(changes)
        return self.config()

    def config(self) -> dict[str, Any]:
        with self._state.lock:
            knobs = self._state.knobs
            return {
                **copy.deepcopy(vars(knobs)),  # a copy: changing it must go through configure
                "currencies": list(knobs.currencies),
                "force_429_pending": self._faults.pending_429,
            }

    def force_429(self, n: int) -> None:
        """The next n authenticated /3 requests answer 429, whatever the window says."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._state.lock:
            self._faults.pending_429 = n

    # ----------------------------------------------------------------- inspection

    def stats(self, include_durations: bool = False) -> dict[str, Any]:
        """Counters since the last reset.

        requests / status_codes: counts by "METHOD /path-template" and by status (not /_sim);
        api_requests: all /3 requests; rate_limited: 429s (forced_429 of them from force_429);
        unauthorized: /3 401s; invalid_client: token-endpoint 401s; injected_5xx and
        injected_timeouts; token_grants by grant type; invalid_grant; customers (and per tenant),
        invoices, invoice_payments, vouchers and inbox_files; durations_ms: server-side time of /3
        requests (count, mean, min, p50..p99, max), also per route in durations_ms_by_route, and
        every sample in durations_ms_raw if asked.
        """
        with self._state.lock:
            return self._state.stats.report(data_counts(self._state.tenants), include_durations)

    def tenant_ids(self) -> list[str]:
        """The tenants that have made a request that keeps data, sorted."""
        with self._state.lock:
            return sorted(self._state.tenants)

    def customers(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Full customers of one tenant, or of every tenant when tenant_id is None."""
        return self._inspect(
            tenant_id, lambda t, base: [render_customer(c, base) for c in t.part(CustomerRegister).ordered()]
        )

    def invoices(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Full invoices (with rows and totals) of one tenant, or of every tenant when None."""
        return self._inspect(tenant_id, lambda t, base: render_invoices(t.part(InvoiceBook), base))

    def payments(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Invoice payments of one tenant, or of every tenant when tenant_id is None."""
        return self._inspect(tenant_id, lambda t, base: render_payments(t.part(InvoiceBook), base))

    def vouchers(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Full vouchers (with rows), manual and bookkeeping's alike, of one tenant or of every one."""
        return self._inspect(
            tenant_id, lambda t, base: [render_voucher(v, base) for v in t.part(Journal).ordered()]
        )

    def files(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Inbox files with their bytes (base64) and voucher connections, of one tenant or of every one."""
        return self._inspect(tenant_id, lambda t, base: render_files(t.part(Inbox), base))

    def ledger(self, tenant_id: str, **window: Unpack[LedgerWindow]) -> dict[str, Any]:
        """One tenant's general ledger: balances and entries per account (general_ledger.py)."""
        with self._state.lock:
            tenant = self._state.tenants.get(tenant_id)
            journal = tenant.part(Journal) if tenant else Journal()
            return ledger_report(journal, **window)

    def last_modified(self, tenant_id: str, customer_number: str) -> datetime | None:
        """When a customer last changed, in Fortnox's zone (the one its lastmodified filter reads)."""
        with self._state.lock:
            tenant = self._state.tenants.get(tenant_id)
            stamp = tenant.part(CustomerRegister).modified_at.get(customer_number) if tenant else None
            return datetime.fromtimestamp(stamp, FORTNOX_TIMEZONE) if stamp is not None else None

    def reset(self, customers: bool = False, knobs: bool = False) -> None:
        """Clear counters and rate windows; with customers=True also data and number series."""
        with self._state.lock:
            self._state.reset(customers=customers, knobs=knobs)
            self._window.clear()
            if knobs:
                self._faults.reset()

    # ----------------------------------------------------------------- internals

    def _admit(self, key: tuple[str, str]) -> bool:
        """Fortnox's rate window; caller holds the lock."""
        return self._window.admit(key)

    def _api_base(self) -> str:
        return self.api_url if self._listener is not None else "http://fortnox-sim/3"

    def _inspect(self, tenant_id: str | None, render: _Render) -> list[dict[str, Any]]:
        base = self._api_base()
        with self._state.lock:
            names = [tenant_id] if tenant_id is not None else sorted(self._state.tenants)
            result: list[dict[str, Any]] = []
            for name in names:
                tenant = self._state.tenants.get(name)
                if tenant is not None:
                    result.extend(render(tenant, base))
            return result


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
