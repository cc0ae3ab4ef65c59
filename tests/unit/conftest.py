"""Unit tests touch nothing outside the process (tests/sockets.py).

The block wraps every phase of every test under tests/unit (setup, call and teardown), not only
the test function: a module-scoped fixture that starts a server is set up before any function-scoped
autouse fixture would run, and is refused too.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.sockets import sockets_blocked


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with sockets_blocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with sockets_blocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    with sockets_blocked():
        return (yield)
