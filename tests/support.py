"""Helpers the integration and e2e suites share: ports, waiting, a clean environment, localstripe."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fortnox_sim import FortnoxSimulator
    from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient

CLI = [sys.executable, "-m", "stripe_fortnox_cli.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], bool], timeout: float = 30.0, what: str = "condition", interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without our settings, so a subprocess sees only `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORTNOX_", "STRIPE_", "AWS_"))}
    env.update(extra)
    return env


def start_localstripe(port: int) -> subprocess.Popen[str]:
    """localstripe on `port`, empty, and not writing its store to disk.

    It pickles its whole store to one shared file in /tmp after every write: quadratic for a
    thousand customers, and shared with any other localstripe. Neither is wanted in tests.
    """
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
            "from localstripe.server import start; start()",
            "--port",
            str(port),
            "--from-scratch",
        ],
        # Not a pipe: its access log would fill one nobody reads, and the server would stall.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


SIM_CLIENT_ID = "invoice-tests"
SIM_CLIENT_SECRET = "invoice-tests-secret"
SIM_TENANT = "invoice-tests-tenant"


class SimulatorTokens:
    """Service-account tokens from the simulator, for a FortnoxClient used without the stack."""

    def __init__(self, auth_url: str) -> None:
        self._auth_url = auth_url
        self._token: str | None = None

    def access_token(self) -> str:
        import requests

        if self._token is None:
            response = requests.post(
                self._auth_url + "/token",
                data={"grant_type": "client_credentials"},
                auth=(SIM_CLIENT_ID, SIM_CLIENT_SECRET),
                headers={"TenantId": SIM_TENANT},
                timeout=5,
            )
            self._token = str(response.json()["access_token"])
        return self._token

    def invalidate(self, token: str) -> None:
        self._token = None


@contextlib.contextmanager
def invoicing_simulator() -> Iterator[tuple[FortnoxSimulator, FortnoxClient, str]]:
    """A simulator with SEK, EUR, USD and JPY at fixed rates, the real client, and one customer."""
    from fortnox_sim import FortnoxSimulator
    from stripe_fortnox_sync.adapters.fortnox.customers import FortnoxCustomerApi
    from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
    from tests.fakes import CountingLimiter

    with FortnoxSimulator(max_requests=1_000_000, currencies=("SEK", "EUR", "USD", "JPY")) as sim:
        sim.configure(currency_rates={"EUR": 11.5, "USD": 10.5, "JPY": 0.07})
        sim.register_client(SIM_CLIENT_ID, SIM_CLIENT_SECRET)
        client = FortnoxClient(
            sim.api_url, SimulatorTokens(sim.auth_url), CountingLimiter(), sleep=lambda _: None
        )
        customer = str(
            FortnoxCustomerApi(client).create_customer({"Name": "Stripe Kund AB"})["CustomerNumber"]
        )
        yield sim, client, customer


def run_demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`stripe-fortnox demo` with `args`, in `cwd`, as a newcomer runs it (no AWS or Stripe settings)."""
    return subprocess.run(
        [*CLI, "demo", *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=180
    )
