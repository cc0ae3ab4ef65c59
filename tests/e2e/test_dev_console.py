"""`stripe-fortnox dev` as a new user meets it: the banner's paste-ready commands, a console line for
every request, its own state directory (never taken over by `demo` or a second `dev`), and the
operator commands failing at once, exit 2, once it has stopped or died."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from stripe_fortnox_cli.local.events import sign_payload
from tests.support import CLI, clean_env, free_port, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_COMMANDS = (["status"], ["redrive", "--dry-run"], ["backfill", "--dry-run"], ["reconcile"])


@dataclass
class Dev:
    proc: subprocess.Popen[str]
    directory: Path
    port: int
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    @property
    def outputs_file(self) -> Path:
        return self.directory / ".local-stack" / "outputs.json"

    def post(self, payload: str, secret: str) -> requests.Response:
        headers = {"Stripe-Signature": sign_payload(payload, secret), "Content-Type": "application/json"}
        return requests.post(f"http://127.0.0.1:{self.port}/webhook", data=payload.encode(), headers=headers)


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def start_dev(directory: Path) -> Dev:
    """`dev` with no secret given (it generates one), its output in a file as a terminal would show it."""
    port, log = free_port(), directory / "dev.out"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*CLI, "dev", "--port", str(port)],
            cwd=directory,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    dev = Dev(proc, directory, port, log)
    wait_for(lambda: proc.poll() is not None or "Ctrl-C to stop" in dev.output, what="the banner")
    assert proc.poll() is None and _healthy(port), dev.output
    return dev


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    running = start_dev(tmp_path)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(timeout=30)


def cli(directory: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=directory, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def test_the_banner_s_commands_work_as_pasted_and_every_request_gets_a_line(dev: Dev) -> None:
    banner = dev.output
    secret = re.search(r"Secret:\s+(whsec_dev_\w+)\s+\(generated", banner)
    assert secret, banner
    assert "Events:      customer.created, customer.updated" in banner
    assert re.search(r"Not enabled: invoice\.paid,.*\(add them to ENABLED_EVENT_TYPES\)", banner, re.S)
    start = banner.index("Try it:\n") + len("Try it:\n")
    pasted = "\n".join(banner[start:].splitlines()[:3])
    assert f"--secret {secret.group(1)})" in pasted
    answer = subprocess.run(["bash", "-c", pasted], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(answer.stdout) == {"received": "evt_DemoAnnaCreated01"}

    sample = (ROOT / "events/stripe/05-customer.updated.json").read_text(encoding="utf-8")
    assert dev.post(sample, "whsec_wrong").status_code == 400
    paid = (ROOT / "events/stripe/14-invoice.paid.json").read_text(encoding="utf-8")
    assert (
        dev.post(paid, secret.group(1))
        .json()["ignored"]
        .endswith("is not enabled on this stack (opt-in: add it to EnabledEventTypes)")
    )
    wait_for(lambda: " created     fortnox=1 " in dev.output, what="the processed event's line")
    wait_for(lambda: dev.output.count(" webhook ") == 3, what="a line per request")
    lines = dev.output[len(banner) :].splitlines()
    assert any(
        "customer.created" in x and "accepted    webhook 200 evt_DemoAnnaCreated01" in x for x in lines
    )
    assert any("rejected    webhook 400" in x and "signature does not match" in x for x in lines)
    assert any("invoice.paid" in x and "ignored     webhook 200" in x and "not enabled" in x for x in lines)
    assert '"_aws"' not in dev.output and "anna.andersson@example.se" not in dev.output


def test_demo_and_a_second_dev_leave_a_running_dev_s_state_alone(dev: Dev) -> None:
    recorded = dev.outputs_file.read_text(encoding="utf-8")
    demo = cli(dev.directory, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    second = cli(dev.directory, "dev", "--port", str(free_port()), timeout=60)
    assert second.returncode == 2 and "already running in .local-stack" in second.stderr
    assert dev.outputs_file.read_text(encoding="utf-8") == recorded
    status = cli(dev.directory, "status", "--local")
    assert status.returncode == 0 and "Health:        OK" in status.stdout, status.stdout + status.stderr

    dev.proc.send_signal(signal.SIGTERM)
    assert dev.proc.wait(timeout=60) == 0
    assert not dev.outputs_file.exists() and "Stopped." in dev.output
    started = time.monotonic()
    gone = cli(dev.directory, "status", "--local")
    assert time.monotonic() - started < 2
    assert gone.returncode == 2 and "outputs.json missing" in gone.stderr


def test_ctrl_c_removes_the_outputs_too(dev: Dev) -> None:
    dev.proc.send_signal(signal.SIGINT)
    assert dev.proc.wait(timeout=60) == 0 and not dev.outputs_file.exists()


@pytest.mark.parametrize("command", OPERATOR_COMMANDS, ids=lambda c: c[0])
def test_against_a_dev_that_died_every_local_command_fails_within_two_seconds(
    dead_dev: Path, command: list[str]
) -> None:
    started = time.monotonic()
    result = cli(dead_dev, *command, "--local")
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not running" in result.stderr and "start `stripe-fortnox dev`" in result.stderr
    assert elapsed < 2, f"{command[0]} took {elapsed:.1f} s"


@pytest.fixture(scope="module")
def dead_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `dev` killed without a chance to clean up: its outputs.json names ports nobody holds."""
    running = start_dev(tmp_path_factory.mktemp("dead"))
    running.proc.kill()
    running.proc.wait(timeout=30)
    assert running.outputs_file.exists()
    return running.directory
