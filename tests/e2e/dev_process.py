"""`stripe-fortnox dev` as a subprocess against a given Fortnox simulator: started, waited for,
stopped. The e2e tests that drive the operator commands share it."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_cli.local.events import sign_payload
from tests.support import CLI, clean_env, free_port, wait_for


@dataclass(frozen=True)
class RunningDev:
    process: subprocess.Popen[str]
    port: int
    outputs: dict[str, Any]


def reachable(url: str, **kwargs: Any) -> bool:
    try:
        requests.get(url, timeout=1, **kwargs)
        return True
    except requests.ConnectionError:
        return False


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def started_simulator(client_id: str, client_secret: str) -> FortnoxSimulator:
    """A running simulator for `dev`, its limits out of the way, that knows this OAuth client."""
    sim = FortnoxSimulator(max_requests=100_000, window_seconds=1.0)
    sim.start()
    sim.register_client(client_id, client_secret)
    return sim


def run_cli(
    directory: Path, stripe_key: str, stripe_base: str, *args: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """An operator command (`stripe-fortnox backfill ...`) in `directory`, against that Stripe API."""
    return subprocess.run(
        [*CLI, *args],
        cwd=directory,
        env=clean_env(STRIPE_API_KEY=stripe_key, STRIPE_API_BASE=stripe_base, FORTNOX_MAX_REQUESTS="100000"),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def post_signed(port: int, secret: str, event: dict[str, Any]) -> None:
    """One Stripe event to `dev`'s webhook, signed with `secret`; it must be accepted."""
    body = json.dumps(event)
    response = requests.post(
        f"http://127.0.0.1:{port}/webhook",
        data=body.encode(),
        headers={"Stripe-Signature": sign_payload(body, secret), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


@contextlib.contextmanager
def running_dev(
    directory: Path, sim: FortnoxSimulator, secret: str, client: tuple[str, str, str]
) -> Iterator[RunningDev]:
    """`dev` in `directory` with webhook `secret`, on `sim` as (client id, client secret, tenant)."""
    client_id, client_secret, tenant = client
    port = free_port()
    # A file, not a pipe: a thousand event lines would fill a pipe nobody reads and stall `dev`.
    log = (directory / "dev.out").open("w")
    dev = subprocess.Popen(
        [*CLI, "dev", "--port", str(port)],
        cwd=directory,
        env=clean_env(
            STRIPE_WEBHOOK_SECRET=secret,
            FORTNOX_API_URL=sim.api_url,
            FORTNOX_AUTH_URL=sim.auth_url,
            FORTNOX_CLIENT_ID=client_id,
            FORTNOX_CLIENT_SECRET=client_secret,
            FORTNOX_TENANT_ID=tenant,
            FORTNOX_MAX_REQUESTS="100000",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    health = f"http://127.0.0.1:{port}/health"
    try:
        wait_for(lambda: dev.poll() is not None or reachable(health), timeout=90, what="the local stack")
        wait_for(
            lambda: dev.poll() is not None or requests.get(health, timeout=1).status_code == 200,
            timeout=90,
            what="the local stack to be ready",
        )
        assert dev.poll() is None, (directory / "dev.out").read_text()
        outputs = json.loads((directory / ".local-stack" / "outputs.json").read_text())
        yield RunningDev(dev, port, outputs)
    finally:
        stop(dev, signal.SIGINT)
        log.close()
