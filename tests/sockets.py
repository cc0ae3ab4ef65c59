"""No network for unit tests: `sockets_blocked()` refuses every socket connect, bind, send and DNS
lookup with `SocketBlocked` (tests/unit/conftest.py applies it to every test phase there).

asyncio, urllib3, requests, boto3, stripe-python and http.server all open their connections through
`socket.socket.connect`/`bind` and `socket.getaddrinfo`, so whatever a unit test reaches for, it
fails loudly instead of quietly talking to something.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import NoReturn

import pytest

_GUARDED = ("connect", "connect_ex", "bind", "sendto", "sendmsg")


class SocketBlocked(RuntimeError):
    """A unit test tried to use the network."""


def _refusal(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise SocketBlocked(f"unit tests may not use sockets ({what}); move the test to tests/integration")

    return refuse


@contextlib.contextmanager
def sockets_blocked() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in _GUARDED:
            patch.setattr(socket.socket, name, _refusal(f"socket.{name}"))
        patch.setattr(socket, "getaddrinfo", _refusal("socket.getaddrinfo"))
        yield
