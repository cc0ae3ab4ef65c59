"""The local stack's HTTP server (`stripe-fortnox dev`'s webhook URL) on requests API Gateway refuses.

Raw sockets, because an HTTP client will not send a Content-Length that is wrong.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_cli.local.http import WebhookServer

TIMEOUT = 0.5


class App:
    """Stands in for the local stack: ready, and answers 200 with what it was given."""

    ready = True

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def invoke_webhook(self, body: bytes, headers: dict[str, str], path: str = "/webhook") -> tuple[int, str]:
        self.bodies.append(body)
        return 200, '{"received": "evt_1"}'


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def port(app: App) -> Iterator[int]:
    server = WebhookServer(app, "127.0.0.1", 0, timeout=TIMEOUT)
    server.start()
    try:
        yield int(server.url.split(":")[2].split("/")[0])
    finally:
        server.stop()


def head(content_length: str | None) -> bytes:
    lines = ["POST /webhook HTTP/1.1", "Host: localhost", "Content-Type: application/json"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(connection: socket.socket) -> tuple[int, bytes]:
    """The status and the whole answer, read until the server closes the connection."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def send(port: int, request: bytes) -> tuple[int, bytes, float]:
    """Status, answer and seconds taken for `request`, the connection left open for writing."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(request)
        status, data = answer(connection)
        return status, data, time.monotonic() - started


def test_a_whole_body_reaches_the_function(port: int, app: App) -> None:
    status, data, _ = send(port, head("2") + b"{}")
    assert status == 200 and data.endswith(b'{"received": "evt_1"}')
    assert app.bodies == [b"{}"]


@pytest.mark.parametrize("content_length", ["abc", "-1", "+2", "2, 2", "1e3", "\u00b2"])
def test_a_content_length_that_is_not_a_length_is_400(port: int, app: App, content_length: str) -> None:
    request = head(content_length) + b"{}"
    status, data, _ = send(port, request)
    assert status == 400 and b"Content-Length" in data
    assert app.bodies == []


def test_two_different_content_lengths_are_400(port: int, app: App) -> None:
    request = head("2").replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n") + b"{}"
    status, _, _ = send(port, request)
    assert status == 400 and app.bodies == []


def test_a_body_shorter_than_its_content_length_times_out_with_408(port: int, app: App) -> None:
    status, data, seconds = send(port, head("100") + b"{}")
    assert status == 408 and b"in time" in data
    assert TIMEOUT * 0.8 <= seconds < TIMEOUT + 5
    assert app.bodies == []


def test_a_body_that_trickles_in_is_cut_off_with_408(port: int, app: App) -> None:
    """Each byte arrives well within the timeout; the body as a whole does not."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head("1000"))
        stop = threading.Event()

        def trickle() -> None:
            with contextlib.suppress(OSError):
                while not stop.wait(TIMEOUT / 5):
                    connection.sendall(b" ")

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        started = time.monotonic()
        try:
            status, _ = answer(connection)
        finally:
            stop.set()
            sender.join()
    assert status == 408 and time.monotonic() - started < TIMEOUT + 5
    assert app.bodies == []


def test_a_body_cut_short_by_the_client_is_400(port: int, app: App) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head("100") + b"{}")
        connection.shutdown(socket.SHUT_WR)
        status, data = answer(connection)
    assert status == 400 and b"shorter" in data
    assert app.bodies == []


def test_the_local_stack_answers_them_too(tmp_path: Path) -> None:
    config = LocalConfig(port=0, state_dir=tmp_path, start_worker=False, request_timeout=TIMEOUT)
    with LocalStack(config) as stack:
        port = int(stack.webhook_url.split(":")[2].split("/")[0])
        assert send(port, head("abc") + b"{}")[0] == 400
        assert send(port, head("100") + b"{}")[0] == 408
        assert send(port, head(None))[0] == 400  # no body: no signature to check
        assert stack.published == []
