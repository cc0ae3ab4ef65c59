"""The local API Gateway: `POST /webhook` (and the tenants' `/webhook/t/{slug}` and
`/webhook/connect`) to the webhook function, `GET /health`.

Like API Gateway it answers by itself what never reaches the function: 404 off the route; 400 on
a Content-Length that is not one number of bytes, or a body the client ended before it; 408 when
the body has not all arrived within the request timeout (a Content-Length larger than the body,
or a body that trickles in); 500 when the function fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .config import LocalStackError
from .server_thread import ServerThread


class WebhookApp(Protocol):
    """What the server serves: the local stack."""

    @property
    def ready(self) -> bool: ...

    def invoke_webhook(
        self, body: bytes, headers: dict[str, str], path: str = "/webhook"
    ) -> tuple[int, str]: ...


# Told of every POST once it is answered: status, the body as sent (None if never read), the answer.
# (status, body as sent or None, answer, path)
AnswerListener = Callable[[int, bytes | None, str, str], None]


def _ignore_answer(status: int, body: bytes | None, answer: str, path: str) -> None:
    pass


def _routed(path: str) -> bool:
    """template.yaml's routes: `/webhook`, `/webhook/connect` and `/webhook/t/{slug}`."""
    if path in ("/webhook", "/webhook/connect"):
        return True
    slug = path.removeprefix("/webhook/t/")
    return slug != path and bool(slug) and "/" not in slug


def _error(message: str) -> str:
    return json.dumps({"error": message})


class _Handler(BaseHTTPRequestHandler):
    server_version = "stripe-fortnox-local"
    # Set on the subclass each server makes.
    app: WebhookApp
    on_answer: AnswerListener

    def do_POST(self) -> None:
        body: bytes | None = None
        if not self.app.ready:
            status, text = 503, _error("the local stack is still starting")
        elif not _routed(self.path.split("?")[0]):
            status, text = 404, _error("not found; POST /webhook")
        else:
            body, refusal = self._read_body()
            if refusal is not None:
                self.on_answer(refusal[0], None, refusal[1], self.path.split("?")[0])
                return
            try:
                path = self.path.split("?")[0]
                status, text = self.app.invoke_webhook(body or b"", dict(self.headers.items()), path)
            except Exception as exc:  # what API Gateway answers when the function fails
                status, text = 500, json.dumps({"message": f"Internal Server Error: {type(exc).__name__}"})
        self._send(status, text)
        # After the answer: the console never holds up the sender.
        self.on_answer(status, body, text, self.path.split("?")[0])

    def do_GET(self) -> None:
        if self.path != "/health":
            self._send(404, _error("not found; POST /webhook"))
        else:
            self._send(200 if self.app.ready else 503, json.dumps({"ready": self.app.ready}))

    def _read_body(self) -> tuple[bytes | None, tuple[int, str] | None]:
        """The request's body, or the 400 or 408 already answered instead."""
        values = {v.strip() for v in self.headers.get_all("Content-Length") or ["0"]}
        raw = values.pop() if len(values) == 1 else ""
        if not (raw.isascii() and raw.isdigit()):  # a sign, a word, two different lengths
            return None, self._refuse(400, "Content-Length must be one number of bytes")
        try:
            body = self._read(int(raw))
        except TimeoutError:
            return None, self._refuse(408, "the request body did not arrive in time")
        if len(body) < int(raw):  # the client closed its side early
            return None, self._refuse(400, "the request body is shorter than its Content-Length")
        return body, None

    def _refuse(self, status: int, message: str) -> tuple[int, str]:
        text = _error(message)
        self._send(status, text, close=True)
        return status, text

    def _read(self, length: int) -> bytes:
        """Up to `length` bytes, within `timeout` seconds in all however slowly they come."""
        deadline = time.monotonic() + (self.timeout or 0.0)
        chunks: list[bytes] = []
        missing = length
        while missing > 0:
            if self.timeout is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                self.connection.settimeout(left)
            chunk = self.rfile.read1(min(missing, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            missing -= len(chunk)
        self.connection.settimeout(self.timeout)
        return b"".join(chunks)

    def _send(self, status: int, text: str, close: bool = False) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:  # the rest of the request is unread: the connection cannot be reused
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebhookServer:
    """A threading HTTP server for `app` on `host:port` (0: any free port), in a thread of its own."""

    def __init__(
        self, app: WebhookApp, host: str, port: int, timeout: float, on_answer: AnswerListener | None = None
    ) -> None:
        self._app = app
        self._on_answer = on_answer or _ignore_answer
        self._address = (host, port)
        # Seconds a connection may sit idle while a request (line, headers, body) is read.
        self._timeout = timeout
        self._running: ServerThread | None = None

    def start(self) -> None:
        # staticmethod: a plain function set on a class would be bound to the handler instance.
        members = {"app": self._app, "timeout": self._timeout, "on_answer": staticmethod(self._on_answer)}
        handler = type("WebhookHandler", (_Handler,), members)
        try:
            server = ThreadingHTTPServer(self._address, handler)
        except OSError as exc:
            host, port = self._address
            raise LocalStackError(
                f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port", exit_code=3
            ) from None
        self._running = ServerThread(server, "webhook-http")

    @property
    def url(self) -> str:
        assert self._running is not None
        return self._running.url("/webhook")

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop(timeout=10)
            self._running = None
