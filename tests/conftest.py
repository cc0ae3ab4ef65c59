"""Fixtures shared by the integration and e2e suites."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.support import free_port, start_localstripe


@pytest.fixture
def localstripe() -> Iterator[str]:
    """A localstripe server (a stateful Stripe API emulator) on a free port; yields its base URL."""
    port = free_port()
    proc = start_localstripe(port)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # its imports are slow on a loaded 2-core machine
    while True:
        try:
            requests.get(f"{base}/v1/customers", auth=("sk_test_x", ""), timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"localstripe did not start (exit code {proc.poll()})") from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
