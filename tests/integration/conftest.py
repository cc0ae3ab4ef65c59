"""Fixtures of the simulator's own tests (test_fortnox_sim*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from fortnox_sim import FortnoxSimulator
from tests.integration.simulator_api import CLIENT_ID, CLIENT_SECRET
from tests.integration.simulator_books import BooksApi


@pytest.fixture
def sim() -> Iterator[FortnoxSimulator]:
    # A generous window so that only the rate-limit tests meet the limit.
    with FortnoxSimulator(max_requests=1000, window_seconds=5.0) as simulator:
        simulator.register_client(CLIENT_ID, CLIENT_SECRET)
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def books(sim: FortnoxSimulator, http: requests.Session) -> BooksApi:
    """The bookkeeping tests' client (simulator_books.py), with the customer their invoices are for."""
    client = BooksApi(sim, http)
    client.customer()
    return client
