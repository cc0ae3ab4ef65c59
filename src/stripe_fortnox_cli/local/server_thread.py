"""An HTTP server answering on a daemon thread: how the local webhook endpoint and the fake Stripe
API run (http.py, stripe_fake.py)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

__all__ = ["ServerThread"]


class ServerThread:
    """Serves `server` until `stop()`; each request on a thread of its own."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._thread.start()

    def url(self, path: str = "") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def stop(self, timeout: float) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=timeout)
