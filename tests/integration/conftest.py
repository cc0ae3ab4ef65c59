"""Fixtures of the simulator's own tests (test_fortnox_sim*.py) and of the DynamoDB adapters' tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

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


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A DynamoDB client on moto, nothing of this machine's AWS configuration in reach."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("dynamodb")
