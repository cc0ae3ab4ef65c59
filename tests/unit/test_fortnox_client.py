from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from stripe_fortnox_sync.adapters.fortnox.customers import FortnoxCustomerApi
from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient, error_from_response
from stripe_fortnox_sync.core.errors import FortnoxError
from tests.fakes import CountingLimiter, FakeTokens, ScriptedAdapter, scripted_session


def make(
    script: list[tuple[int, Any] | Exception],
) -> tuple[FortnoxClient, FakeTokens, CountingLimiter, list[float], ScriptedAdapter]:
    session, adapter = scripted_session(script)
    tokens, limiter, sleeps = FakeTokens(), CountingLimiter(), list[float]()
    client = FortnoxClient(
        "https://fortnox.test/3", tokens, limiter, session=session, sleep=sleeps.append, max_attempts=4
    )
    return client, tokens, limiter, sleeps, adapter


CUSTOMER = {"Customer": {"CustomerNumber": "7", "Name": "Ada"}}


def test_get_sends_bearer_and_unwraps_envelope() -> None:
    client, _, limiter, _, adapter = make([(200, CUSTOMER)])
    assert FortnoxCustomerApi(client).get_customer("7") == {"CustomerNumber": "7", "Name": "Ada"}
    sent = adapter.requests[0]
    assert sent.headers["Authorization"] == "Bearer token-0"
    assert sent.url == "https://fortnox.test/3/customers/7"
    assert limiter.acquired == 1 and client.calls == 1


def test_401_refreshes_once_and_retries_with_the_new_token() -> None:
    client, tokens, _, _, adapter = make([(401, {"message": "expired"}), (200, CUSTOMER)])
    FortnoxCustomerApi(client).get_customer("7")
    assert tokens.invalidated == ["token-0"]
    assert adapter.requests[1].headers["Authorization"] == "Bearer token-1"


def test_401_twice_is_an_error_not_a_loop() -> None:
    client, _, _, _, _ = make([(401, {}), (401, {"ErrorInformation": {"message": "no", "code": 2000311}})])
    with pytest.raises(FortnoxError) as caught:
        FortnoxCustomerApi(client).get_customer("7")
    assert caught.value.status == 401 and caught.value.code == 2000311


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_statuses_are_retried_with_backoff(status: int) -> None:
    client, _, limiter, sleeps, _ = make([(status, {}), (status, {}), (200, CUSTOMER)])
    assert FortnoxCustomerApi(client).get_customer("7")["Name"] == "Ada"
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)
    assert limiter.acquired == 3  # every attempt waits for a rate-limit slot


def test_retries_give_up_after_max_attempts() -> None:
    client, _, _, sleeps, _ = make([(500, {})] * 4)
    with pytest.raises(FortnoxError) as caught:
        FortnoxCustomerApi(client).get_customer("7")
    assert caught.value.status == 500 and len(sleeps) == 3


def test_validation_error_is_permanent_and_not_retried() -> None:
    body = {"ErrorInformation": {"error": 1, "message": "Ogiltig e-post", "code": 2000359}}
    client, _, _, sleeps, _ = make([(400, body)])
    with pytest.raises(FortnoxError) as caught:
        FortnoxCustomerApi(client).create_customer({"Name": "x"})
    err = caught.value
    assert (err.status, err.code, err.message, err.transient, err.reason) == (
        400,
        2000359,
        "Ogiltig e-post",
        False,
        "validation",
    )
    assert sleeps == []


def test_post_timeout_is_not_repeated_in_place() -> None:
    # The create may have happened: the sync's recovery must look before creating again.
    client, _, _, sleeps, _ = make([requests.ReadTimeout("slow"), (201, CUSTOMER)])
    with pytest.raises(FortnoxError) as caught:
        FortnoxCustomerApi(client).create_customer({"Name": "x"})
    assert caught.value.ambiguous and caught.value.transient and sleeps == []


def test_post_429_is_repeated_because_fortnox_refused_it_unprocessed() -> None:
    client, _, _, sleeps, _ = make([(429, {}), (201, CUSTOMER)])
    assert FortnoxCustomerApi(client).create_customer({"Name": "x"})["CustomerNumber"] == "7"
    assert len(sleeps) == 1


def test_get_timeout_is_retried() -> None:
    client, _, _, _, _ = make([requests.ReadTimeout("slow"), (200, CUSTOMER)])
    assert FortnoxCustomerApi(client).get_customer("7")["Name"] == "Ada"


def test_list_customers_follows_pages() -> None:
    page1 = {"Customers": [{"CustomerNumber": "1"}], "MetaInformation": {"@TotalPages": 2, "@CurrentPage": 1}}
    page2 = {"Customers": [{"CustomerNumber": "2"}], "MetaInformation": {"@TotalPages": 2, "@CurrentPage": 2}}
    client, _, _, _, adapter = make([(200, page1), (200, page2)])
    assert [c["CustomerNumber"] for c in FortnoxCustomerApi(client).list_customers({"email": "a@b.se"})] == [
        "1",
        "2",
    ]
    assert "page=2" in str(adapter.requests[1].url)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"ErrorInformation": {"error": 1, "message": "m1", "code": 2000637}}, 2000637, "m1"),
        ({"ErrorInformation": {"Error": 1, "Message": "m2", "Code": "2001103"}}, 2001103, "m2"),
        ({"errorinformation": {"MESSAGE": "m3", "code": None}}, None, "m3"),
        ({"error": "invalid_grant", "error_description": "used"}, None, "used"),
        ({"error": "invalid_client"}, None, "invalid_client"),
    ],
)
def test_error_envelope_is_parsed_case_insensitively(
    body: dict[str, Any], code: int | None, message: str
) -> None:
    response = requests.Response()
    response.status_code = 400
    response._content = json.dumps(body).encode()
    err = error_from_response(response)
    assert (err.code, err.message) == (code, message)


def test_non_json_error_body_still_gives_a_message() -> None:
    response = requests.Response()
    response.status_code = 502
    response._content = b"<html>Bad gateway</html>"
    err = error_from_response(response, "GET", "/customers")
    assert err.message.startswith("<html>") and err.transient and "HTTP 502" in str(err)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/customers/17", "/customers/{n}"),
        ("/invoices/1001/bookkeep", "/invoices/{n}/bookkeep"),
        ("/invoicepayments/5", "/invoicepayments/{n}"),
        ("/customers", "/customers"),
    ],
)
def test_routes_in_metrics_carry_no_document_numbers(path: str, route: str) -> None:
    from stripe_fortnox_sync.adapters.fortnox.http import _template

    assert _template(path) == route
