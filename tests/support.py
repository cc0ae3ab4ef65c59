"""Helpers the integration and e2e suites share: ports, waiting, a clean environment, localstripe."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

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
