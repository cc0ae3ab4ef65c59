"""The unit tier's promise (tests/unit/conftest.py): nothing here reaches the network."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.sockets import SocketBlocked


def test_a_socket_cannot_connect_bind_or_resolve() -> None:
    with socket.socket() as s, pytest.raises(SocketBlocked):
        s.connect(("127.0.0.1", 9))
    with socket.socket() as s, pytest.raises(SocketBlocked):
        s.bind(("127.0.0.1", 0))
    with pytest.raises(SocketBlocked):
        socket.getaddrinfo("localhost", 80)


def test_an_http_client_fails_loudly_instead_of_reaching_a_server() -> None:
    with pytest.raises(SocketBlocked):
        requests.get("http://127.0.0.1:9/", timeout=1)
