"""The `stripe-fortnox` CLI as a user runs it: subprocesses, real HTTP, signed events."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_cli.local.events import sign_payload
from tests.support import CLI, clean_env, free_port, run_demo, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_e2e_secret"


@pytest.fixture
def simulator() -> Iterator[FortnoxSimulator]:
    with FortnoxSimulator() as sim:
        sim.register_client("e2e-client", "e2e-secret")
        yield sim


def fortnox_env(simulator: FortnoxSimulator, tenant: str, secret: str = "e2e-secret") -> dict[str, str]:
    """The environment that points the local stack at `simulator` as a real Fortnox."""
    return {
        "FORTNOX_API_URL": simulator.api_url,
        "FORTNOX_AUTH_URL": simulator.auth_url,
        "FORTNOX_CLIENT_ID": "e2e-client",
        "FORTNOX_CLIENT_SECRET": secret,
        "FORTNOX_TENANT_ID": tenant,
    }


def start_dev(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*CLI, "dev", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(STRIPE_WEBHOOK_SECRET=SECRET, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(lambda: _healthy(port) or proc.poll() is not None, what="the local stack")
    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
    return proc


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # dev prints every thread's stack: why it hangs
        time.sleep(1)
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"dev did not stop within 30 s after Ctrl-C:\n{out}")
    assert proc.returncode == 0, out
    return out


def post(port: int, payload: str, secret: str = SECRET) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{port}/webhook",
        data=payload.encode(),
        headers={"Stripe-Signature": sign_payload(payload, secret), "Content-Type": "application/json"},
        timeout=10,
    )


def test_demo_exits_zero_and_shows_the_customers(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo OK" in result.stdout and "Berliner Bäckerei GmbH" in result.stdout
    # The second week ends with the payout's voucher and the clearing account at zero.
    assert "Stripe utbetalning po_DemoWeekly00001" in result.stdout
    assert "  1580        0.00 SEK" in result.stdout


def test_dev_stack_against_a_fortnox_compatible_server(tmp_path: Path, simulator: FortnoxSimulator) -> None:
    port = free_port()
    proc = start_dev(tmp_path, port, **fortnox_env(simulator, "e2e-tenant"))
    try:
        for name in (
            "01-customer.created.json",
            "02-customer.created-eu-business.json",
            "05-customer.updated.json",
        ):
            response = post(port, (ROOT / "events/stripe" / name).read_text(encoding="utf-8"))
            assert response.status_code == 200, response.text
        forged = post(port, (ROOT / "events/stripe/01-customer.created.json").read_text(), "whsec_forged")
        assert forged.status_code == 400 and forged.json() == {"error": "signature does not match"}
        wait_for(lambda: len(simulator.customers("e2e-tenant")) == 2, what="two Fortnox customers")
        wait_for(
            lambda: any(c.get("Phone1") == "+46 8 555 123 00" for c in simulator.customers("e2e-tenant")),
            what="the update",
        )
    finally:
        out = stop(proc)
    assert "customer.updated" in out and "updated" in out and simulator.api_url in out
    assert "anna.andersson@example.se" not in out  # no personal data in the event lines


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*CLI, "dev", "--port", str(port)],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 3 and "--port" in result.stderr


def test_bad_fortnox_credentials_show_fortnox_error(tmp_path: Path, simulator: FortnoxSimulator) -> None:
    result = subprocess.run(
        [*CLI, "dev", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(**fortnox_env(simulator, "t", secret="wrong")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4 and "Fortnox refused the credentials" in result.stderr
    assert "invalid_client" in result.stderr or "client" in result.stderr.lower()


def test_malformed_environment_value_is_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "dev", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(STRIPE_LIVEMODE="maybe"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "STRIPE_LIVEMODE" in result.stderr


def test_sign_apigw_event_is_accepted_by_the_handler_shape(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "sign", str(ROOT / "events/stripe/01-customer.created.json"), "--secret", SECRET, "--apigw"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    event: dict[str, Any] = json.loads(result.stdout)
    assert event["version"] == "2.0" and event["isBase64Encoded"] is True
    assert event["headers"]["stripe-signature"].startswith("t=")


def test_real_stripe_client_through_localstripe(
    tmp_path: Path, simulator: FortnoxSimulator, localstripe: str
) -> None:
    """Customers made with stripe-python in localstripe arrive as signed webhooks and land in Fortnox."""
    import stripe

    port = free_port()
    proc = start_dev(tmp_path, port, **fortnox_env(simulator, "stripe-tenant"))
    client = stripe.StripeClient("sk_test_e2e", base_addresses={"api": localstripe})
    try:
        base = localstripe
        requests.post(
            f"{base}/_config/webhooks/local-stack",
            data={
                "url": f"http://127.0.0.1:{port}/webhook",
                "secret": SECRET,
                "events[]": ["customer.created", "customer.updated", "customer.deleted"],
            },
            timeout=10,
        ).raise_for_status()
        kept = client.v1.customers.create(
            params={
                "name": "Sven Svensson",
                "email": "sven@example.se",
                "phone": "+46 70 111 22 33",
                "address": {"line1": "Vägen 2", "postal_code": "222 22", "city": "Lund", "country": "SE"},
            }
        )
        gone = client.v1.customers.create(params={"name": "Tillfällig Kund", "email": "temp@example.se"})
        wait_for(lambda: len(simulator.customers("stripe-tenant")) == 2, what="two customers from Stripe")
        client.v1.customers.update(kept.id, params={"phone": "+46 46 12 34 56"})
        client.v1.customers.delete(gone.id)

        def settled() -> bool:
            by_ref = {c["ExternalReference"]: c for c in simulator.customers("stripe-tenant")}
            return by_ref[kept.id]["Phone1"] == "+46 46 12 34 56" and by_ref[gone.id]["Active"] is False

        wait_for(settled, what="update and delete from Stripe")
        by_ref = {c["ExternalReference"]: c for c in simulator.customers("stripe-tenant")}
        assert by_ref[kept.id]["Name"] == "Sven Svensson" and by_ref[kept.id]["ZipCode"] == "222 22"
        assert len(by_ref) == 2
    finally:
        stop(proc)
