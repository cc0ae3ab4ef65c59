"""The template tests' one fixture: template.yaml translated once for the whole session."""

from __future__ import annotations

import pytest

from tests.template.translated import Stack, translate


@pytest.fixture(scope="session")
def stack() -> Stack:
    return translate()


@pytest.fixture(scope="session")
def sync_timeout(stack: Stack) -> int:
    return int(stack.props("SyncFunction")["Timeout"])
