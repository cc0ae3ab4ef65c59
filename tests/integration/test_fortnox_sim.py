"""The Fortnox simulator over real HTTP: auth, rate limit, validation, search, faults, stats."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from fortnox_sim import ERROR_CODES, FortnoxSimulator
from tests.integration.simulator_api import CLIENT_ID, CLIENT_SECRET, TENANT, SimulatorApi, grant, token


class Api(SimulatorApi):
    """A thin client for the customer tests."""

    def create(self, **fields: Any) -> requests.Response:
        return self.call("POST", "/customers", json={"Customer": fields})

    def update(self, number: str, **fields: Any) -> requests.Response:
        return self.call("PUT", f"/customers/{number}", json={"Customer": fields})

    def search(self, **params: Any) -> list[dict[str, Any]]:
        response = self.call("GET", "/customers", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["Customers"])


@pytest.fixture
def api(sim: FortnoxSimulator, http: requests.Session) -> Api:
    return Api(sim, http)


def error_code(response: requests.Response) -> int:
    return int(response.json()["ErrorInformation"]["code"])


# ----------------------------------------------------------------------------- OAuth


def test_client_credentials_grant(sim: FortnoxSimulator, http: requests.Session) -> None:
    response = grant(sim, http)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "customer"
    assert "refresh_token" not in body


def test_client_credentials_needs_tenant_header(sim: FortnoxSimulator, http: requests.Session) -> None:
    response = http.post(
        sim.auth_url + "/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("auth", [None, (CLIENT_ID, "wrong"), ("nobody", CLIENT_SECRET)])
def test_bad_client_credentials(
    sim: FortnoxSimulator, http: requests.Session, auth: tuple[str, str] | None
) -> None:
    response = http.post(
        sim.auth_url + "/token",
        data={"grant_type": "client_credentials"},
        headers={"TenantId": TENANT},
        auth=auth,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert sim.stats()["invalid_client"] == 1


def test_refresh_token_rotates_and_reuse_fails(sim: FortnoxSimulator, http: requests.Session) -> None:
    first = sim.issue_refresh_token(CLIENT_ID, TENANT)
    response = grant(sim, http, grant_type="refresh_token", refresh_token=first)
    assert response.status_code == 200, response.text
    body = response.json()
    second = body["refresh_token"]
    assert second != first
    assert body["expires_in"] == 3600
    # The new access token works against the tenant the refresh token belongs to.
    created = http.post(
        sim.api_url + "/customers",
        json={"Customer": {"Name": "Via refresh"}},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert created.status_code == 201
    assert [c["Name"] for c in sim.customers(TENANT)] == ["Via refresh"]

    reused = grant(sim, http, grant_type="refresh_token", refresh_token=first)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # The reuse does not poison the chain: the newest token still works, once.
    assert grant(sim, http, grant_type="refresh_token", refresh_token=second).status_code == 200
    assert grant(sim, http, grant_type="refresh_token", refresh_token=second).status_code == 400
    stats = sim.stats()
    assert stats["token_grants"] == {"refresh_token": 2}
    assert stats["invalid_grant"] == 2


def test_refresh_token_expires_after_45_days(sim: FortnoxSimulator, http: requests.Session) -> None:
    refresh = sim.issue_refresh_token(CLIENT_ID, TENANT)
    sim.advance_clock(45 * 24 * 3600 + 1)
    response = grant(sim, http, grant_type="refresh_token", refresh_token=refresh)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unknown_grant_type(sim: FortnoxSimulator, http: requests.Session) -> None:
    response = grant(sim, http, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_invalid_and_expired_access_tokens(sim: FortnoxSimulator, api: Api) -> None:
    assert api.call("GET", "/customers").status_code == 200
    missing = api.http.get(sim.api_url + "/customers")
    assert missing.status_code == 401
    assert error_code(missing) == ERROR_CODES["unauthorized"]
    invalid = api.http.get(sim.api_url + "/customers", headers={"Authorization": "Bearer nope"})
    assert invalid.status_code == 401

    sim.advance_clock(3601)
    assert api.call("GET", "/customers").status_code == 401

    api.token = token(sim, api.http)
    assert api.call("GET", "/customers").status_code == 200
    sim.expire_access_tokens()
    assert api.call("GET", "/customers").status_code == 401
    assert sim.stats()["unauthorized"] == 4


def test_token_lifetime_is_configurable(http: requests.Session) -> None:
    with FortnoxSimulator(token_lifetime=0.2) as sim:
        sim.register_client(CLIENT_ID, CLIENT_SECRET)
        api = Api(sim, http)
        assert grant(sim, http).json()["expires_in"] == 1
        assert api.call("GET", "/customers").status_code == 200
        time.sleep(0.25)
        assert api.call("GET", "/customers").status_code == 401


def test_tenants_are_isolated(sim: FortnoxSimulator, http: requests.Session) -> None:
    one, two = Api(sim, http, "tenant-1"), Api(sim, http, "tenant-2")
    assert one.create(Name="Only in one").status_code == 201
    assert two.search() == []
    assert two.create(Name="Only in two").json()["Customer"]["CustomerNumber"] == "1"
    assert {k: len(v) for k, v in http.get(sim.base_url + "/_sim/customers").json()["tenants"].items()} == {
        "tenant-1": 1,
        "tenant-2": 1,
    }


# ----------------------------------------------------------------------------- rate limit


def test_rate_limit_sliding_window(http: requests.Session) -> None:
    with FortnoxSimulator(max_requests=5, window_seconds=1.0) as sim:
        sim.register_client(CLIENT_ID, CLIENT_SECRET)
        api = Api(sim, http)
        other_tenant = Api(sim, http, "tenant-2")
        statuses = [api.call("GET", "/customers").status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = api.call("GET", "/customers")
        assert limited.status_code == 429
        assert error_code(limited) == ERROR_CODES["rate_limited"]
        # The window is per client and tenant.
        assert other_tenant.call("GET", "/customers").status_code == 200
        # 429s do not count: once the first five leave the window, five more go through.
        time.sleep(1.05)
        assert [api.call("GET", "/customers").status_code for _ in range(6)] == [200] * 5 + [429]
        stats = sim.stats()
        assert stats["rate_limited"] == 4
        assert stats["api_requests"] == 15
        # Counted per TenantId too (the many-tenant bench reads them).
        assert stats["requests_by_tenant"] == {TENANT: 14, "tenant-2": 1}
        assert stats["rate_limited_by_tenant"] == {TENANT: 4}


def test_rate_limit_can_be_disabled(http: requests.Session) -> None:
    with FortnoxSimulator(max_requests=2, window_seconds=5.0) as sim:
        sim.register_client(CLIENT_ID, CLIENT_SECRET)
        api = Api(sim, http)
        sim.configure(rate_limit_enabled=False)
        assert {api.call("GET", "/customers").status_code for _ in range(5)} == {200}


# ----------------------------------------------------------------------------- customers


def test_create_assigns_numbers_and_defaults(api: Api) -> None:
    response = api.create(Name="Anna Andersson", CountryCode="SE", Email="anna@example.com")
    assert response.status_code == 201
    customer = response.json()["Customer"]
    assert customer["CustomerNumber"] == "1"
    assert customer["Active"] is True
    assert customer["Country"] == "Sweden"
    assert customer["Currency"] == "SEK"
    assert customer["Address1"] is None
    assert customer["@url"].endswith("/3/customers/1")
    assert api.create(Name="Second").json()["Customer"]["CustomerNumber"] == "2"
    fetched = api.call("GET", "/customers/1")
    assert fetched.status_code == 200
    assert fetched.json()["Customer"] == customer
    assert api.sim.customers(TENANT)[0] == {k: v for k, v in customer.items() if k != "@url"} | {
        "@url": api.sim.api_url + "/customers/1"
    }


def test_given_customer_number_and_reservation_after_delete(api: Api) -> None:
    assert api.create(Name="Explicit", CustomerNumber="2").status_code == 201
    assert api.create(Name="Auto").json()["Customer"]["CustomerNumber"] == "1"
    # The series skips a number that was taken explicitly.
    assert api.create(Name="Auto 2").json()["Customer"]["CustomerNumber"] == "3"
    taken = api.create(Name="Dup", CustomerNumber="2")
    assert taken.status_code == 400
    assert error_code(taken) == 2000637

    deleted = api.call("DELETE", "/customers/3")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.call("GET", "/customers/3").status_code == 404
    assert error_code(api.call("GET", "/customers/3")) == ERROR_CODES["not_found"]
    assert api.call("DELETE", "/customers/3").status_code == 404
    again = api.create(Name="Reuse", CustomerNumber="3")
    assert again.status_code == 400
    assert error_code(again) == 2000637
    assert api.create(Name="Next").json()["Customer"]["CustomerNumber"] == "4"


def test_partial_put(api: Api) -> None:
    api.create(Name="Before", Email="a@example.com", City="Lund", CountryCode="SE")
    response = api.update("1", City="Malmö", CountryCode="NO", DefaultDeliveryTypes={"Invoice": "EMAIL"})
    assert response.status_code == 200
    customer = response.json()["Customer"]
    assert customer["Name"] == "Before"
    assert customer["Email"] == "a@example.com"
    assert customer["City"] == "Malmö"
    assert customer["Country"] == "Norway"
    assert customer["DefaultDeliveryTypes"] == {"Invoice": "EMAIL", "Offer": "PRINT", "Order": "PRINT"}
    # Read-only fields are ignored, "" clears a field, and the number cannot change.
    cleared = api.update("1", Country="Narnia", City="", **{"@url": "x"})
    assert cleared.status_code == 200
    assert cleared.json()["Customer"]["City"] == ""
    assert cleared.json()["Customer"]["Country"] == "Norway"
    moved = api.update("1", CustomerNumber="9")
    assert error_code(moved) == ERROR_CODES["customer_number_immutable"]
    assert api.update("404", Name="x").status_code == 404


def test_inactive_customer_and_active_filter(api: Api) -> None:
    api.create(Name="Active one")
    api.create(Name="Gone", Active=False)
    assert [c["Name"] for c in api.search(filter="inactive")] == ["Gone"]
    assert [c["Name"] for c in api.search(filter="active")] == ["Active one"]
    assert api.call("GET", "/customers", params={"filter": "all"}).status_code == 400


@pytest.mark.parametrize(
    ("fields", "code_name"),
    [
        ({"Name": "x" * 1025}, "too_long"),
        ({"Name": "ok", "ZipCode": "12345678901"}, "too_long"),
        ({"Name": "ok", "OurReference": "r" * 51}, "too_long"),
        ({"Name": "ok", "CountryCode": "S"}, "too_short"),
        ({"Name": "ok", "Type": "PERSON"}, "invalid_enum"),
        ({"Name": "ok", "VATType": "vat"}, "invalid_enum"),
        ({"Name": "ok", "DefaultDeliveryTypes": {"Invoice": "FAX"}}, "invalid_enum"),
        ({"Name": "ok", "Email": "not-an-address"}, "invalid_email"),
        ({"Name": "ok", "Email": "anna@example"}, "invalid_email"),
        ({"Name": "ok", "Email": "anna svensson@example.com"}, "invalid_email"),
        ({"Name": "ok", "CountryCode": "XX"}, "invalid_country_code"),
        ({"Name": "ok", "CountryCode": "se"}, "invalid_country_code"),
        ({"Name": "ok", "DeliveryCountryCode": "UK"}, "invalid_country_code"),
        ({"Name": "ok", "Currency": "XYZ"}, "invalid_currency"),
        ({"Name": "ok", "Currency": "JPY"}, "invalid_currency"),
        ({"Name": "ok", "Currency": "sek"}, "invalid_currency"),
        ({"Name": "Cafe \U0001f600"}, "invalid_characters"),
        ({"Name": "ok", "Address1": "Line\nbreak"}, "invalid_characters"),
        ({"Name": "ok", "City": "Bad\x00byte"}, "invalid_characters"),
        ({"Name": ""}, "customer_number_used"),
        ({"Name": "   "}, "customer_number_used"),
        ({"Email": "a@example.com"}, "customer_number_used"),
        ({"Name": "ok", "Nickname": "x"}, "unknown_field"),
        ({"Name": "ok", "DefaultTemplates": {"Receipt": "x"}}, "unknown_field"),
        ({"Name": "ok", "Active": "yes"}, "wrong_type"),
        ({"Name": "ok", "ZipCode": 12345}, "wrong_type"),
        ({"Name": "ok", "InvoiceDiscount": "10"}, "wrong_type"),
        ({"Name": "ok", "CustomerNumber": "A 1"}, "invalid_customer_number"),
    ],
)
def test_validation(api: Api, fields: dict[str, Any], code_name: str) -> None:
    response = api.create(**fields)
    assert response.status_code == 400, response.text
    info = response.json()["ErrorInformation"]
    assert info["error"] == 1
    assert info["code"] == ERROR_CODES[code_name]
    assert info["message"]
    assert api.sim.customers() == []


def test_validation_applies_to_put(api: Api) -> None:
    api.create(Name="Valid")
    assert error_code(api.update("1", Email="nope")) == ERROR_CODES["invalid_email"]
    assert error_code(api.update("1", Name="")) == 2000637
    assert api.sim.customers()[0]["Email"] is None


def test_accepted_edge_values(api: Api) -> None:
    response = api.create(
        Name="Å" * 1024,
        ZipCode="1234567890",
        Email="first.last+tag@sub.example.co.uk",
        Currency="EUR",
        CountryCode="GR",
        Address1="",
        Phone1=None,
        InvoiceDiscount=5,
        Comments="BMP only: \u00e9\u4e2d\uffee",
    )
    assert response.status_code == 201, response.text
    customer = response.json()["Customer"]
    assert customer["Country"] == "GR"
    assert customer["InvoiceDiscount"] == 5.0


def test_strict_min_length_rejects_empty_address(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(strict_min_length=True)
    assert error_code(api.create(Name="ok", Address1="")) == ERROR_CODES["too_short"]


def test_enabled_currencies_are_configurable(http: requests.Session) -> None:
    with FortnoxSimulator(currencies=["SEK", "JPY"]) as sim:
        sim.register_client(CLIENT_ID, CLIENT_SECRET)
        api = Api(sim, http)
        assert api.create(Name="Yen", Currency="JPY").status_code == 201
        assert error_code(api.create(Name="Euro", Currency="EUR")) == ERROR_CODES["invalid_currency"]


def test_wrong_content_type_and_bad_body(api: Api) -> None:
    response = api.call(
        "POST", "/customers", data='{"Customer": {"Name": "x"}}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert error_code(response) == 1000031
    form = api.call("PUT", "/customers/1", data={"Name": "x"})
    assert error_code(form) == 1000031
    not_json = api.call(
        "POST", "/customers", data="{", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert error_code(not_json) == ERROR_CODES["invalid_body"]
    unwrapped = api.call("POST", "/customers", json={"Name": "x"})
    assert error_code(unwrapped) == ERROR_CODES["invalid_body"]


# ----------------------------------------------------------------------------- list and search


def test_substring_search_is_case_insensitive(api: Api) -> None:
    api.create(Name="Hanna", Email="hanna@example.com")
    api.create(Name="Anna", Email="ANNA@EXAMPLE.COM")
    api.create(Name="Bob", Email="bob@example.org")
    found = api.search(email="anna@ex")
    assert sorted(c["Email"] for c in found) == ["ANNA@EXAMPLE.COM", "hanna@example.com"]
    assert set(found[0]) == {
        "@url",
        "Address1",
        "Address2",
        "City",
        "CustomerNumber",
        "Email",
        "Name",
        "OrganisationNumber",
        "Phone",
        "ZipCode",
    }
    assert found[0]["Address1"] == ""
    assert [c["Name"] for c in api.search(name="ANN")] == ["Hanna", "Anna"]
    assert api.search(email="nobody") == []


def test_search_wildcards_like_ilike(sim: FortnoxSimulator, api: Api) -> None:
    api.create(Name="Underscore", Email="a_b@example.com")
    api.create(Name="Other", Email="axb@example.com")
    assert len(api.search(email="a_b@")) == 2
    sim.configure(search_wildcards=False)
    assert [c["Name"] for c in api.search(email="a_b@")] == ["Underscore"]


def test_other_search_fields(api: Api) -> None:
    api.create(Name="A", OrganisationNumber="556677-8899", Phone1="+46 70 123", ZipCode="22100", City="Lund")
    api.create(Name="B", CustomerNumber="X-12")
    assert [c["Phone"] for c in api.search(phone="70 1")] == ["+46 70 123"]
    assert len(api.search(organisationnumber="7-88")) == 1
    assert len(api.search(zipcode="210")) == 1
    assert len(api.search(city="lun")) == 1
    assert [c["CustomerNumber"] for c in api.search(customernumber="x-1")] == ["X-12"]


def test_only_one_search_filter_at_a_time(api: Api) -> None:
    response = api.call("GET", "/customers", params={"email": "a", "name": "b"})
    assert response.status_code == 400
    assert error_code(response) == ERROR_CODES["multiple_filters"]
    # filter= and lastmodified are not search filters and combine with one.
    assert api.call("GET", "/customers", params={"email": "a", "filter": "active"}).status_code == 200


def test_pagination(api: Api) -> None:
    for i in range(12):
        api.create(Name=f"Customer {i}")
    page = api.call("GET", "/customers", params={"limit": 5, "page": 3}).json()
    assert page["MetaInformation"] == {"@TotalResources": 12, "@TotalPages": 3, "@CurrentPage": 3}
    assert [c["CustomerNumber"] for c in page["Customers"]] == ["11", "12"]
    # Ordered numerically by customer number.
    first = api.call("GET", "/customers", params={"limit": 10}).json()["Customers"]
    assert [c["CustomerNumber"] for c in first] == [str(n) for n in range(1, 11)]
    default = api.call("GET", "/customers").json()["MetaInformation"]
    assert default == {"@TotalResources": 12, "@TotalPages": 1, "@CurrentPage": 1}
    for bad in ({"limit": 0}, {"limit": 501}, {"page": 0}, {"limit": "many"}):
        response = api.call("GET", "/customers", params=bad)
        assert response.status_code == 400, bad
        assert error_code(response) == ERROR_CODES["invalid_parameter"]


def test_lastmodified_filter(sim: FortnoxSimulator, api: Api) -> None:
    api.create(Name="Old")
    sim.advance_clock(120)
    api.create(Name="New")
    modified = sim.last_modified(TENANT, "2")
    assert modified is not None
    since = modified.strftime("%Y-%m-%d %H:%M")
    assert [c["Name"] for c in api.search(lastmodified=since)] == ["New"]
    sim.advance_clock(120)
    api.update("1", City="Lund")
    assert [c["Name"] for c in api.search(lastmodified=since)] == ["Old", "New"]
    bad = api.call("GET", "/customers", params={"lastmodified": "yesterday"})
    assert error_code(bad) == ERROR_CODES["invalid_parameter"]


# ----------------------------------------------------------------------------- faults


def test_error_rate_answers_500_without_writing(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(error_rate=1.0)
    response = api.create(Name="Never")
    assert response.status_code == 500
    assert error_code(response) == ERROR_CODES["internal_error"]
    sim.configure(error_rate=0.0)
    assert sim.customers() == []
    assert sim.stats()["injected_5xx"] == 1


def test_force_429(sim: FortnoxSimulator, api: Api) -> None:
    sim.force_429(2)
    assert [api.call("GET", "/customers").status_code for _ in range(3)] == [429, 429, 200]
    stats = sim.stats()
    assert stats["forced_429"] == 2
    assert stats["rate_limited"] == 2


def test_timeout_without_write_loses_the_request(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(timeout_rate=1.0, timeout_seconds=0.4, timeout_applies_write=False)
    with pytest.raises(requests.Timeout):
        api.call("POST", "/customers", json={"Customer": {"Name": "Lost"}}, timeout=0.15)
    time.sleep(0.35)
    sim.configure(timeout_rate=0.0)
    assert sim.customers() == []
    assert sim.stats()["injected_timeouts"] == 1


def test_timeout_with_write_loses_only_the_response(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(timeout_rate=1.0, timeout_seconds=0.4, timeout_applies_write=True)
    with pytest.raises(requests.Timeout):
        api.call("POST", "/customers", json={"Customer": {"Name": "Written"}}, timeout=0.15)
    sim.configure(timeout_rate=0.0)
    assert [c["Name"] for c in sim.customers()] == ["Written"]


def test_hang_then_answer_when_client_waits(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(timeout_rate=1.0, timeout_seconds=0.1, timeout_applies_write=False)
    response = api.create(Name="Slow")
    assert response.status_code == 504
    sim.configure(timeout_applies_write=True)
    assert api.create(Name="Slow").status_code == 201


def test_latency(sim: FortnoxSimulator, api: Api) -> None:
    sim.configure(latency_ms=100)
    started = time.perf_counter()
    assert api.call("GET", "/customers").status_code == 200
    assert time.perf_counter() - started >= 0.1
    assert sim.stats()["durations_ms_by_route"]["GET /3/customers"]["max"] >= 100


def test_knobs_over_http(sim: FortnoxSimulator, api: Api) -> None:
    base = sim.base_url + "/_sim"
    config = api.http.post(base + "/config", json={"error_rate": 1.0, "latency_ms": 0}).json()
    assert config["error_rate"] == 1.0
    assert api.call("GET", "/customers").status_code == 500
    api.http.post(base + "/config", json={"error_rate": 0, "force_429": 1})
    assert api.call("GET", "/customers").status_code == 429
    api.http.post(base + "/config", json={"expire_access_tokens": True})
    assert api.call("GET", "/customers").status_code == 401
    bad = api.http.post(base + "/config", json={"error_rate": 2})
    assert bad.status_code == 400
    unknown = api.http.post(base + "/config", json={"colour": "red"})
    assert unknown.status_code == 400
    assert api.http.get(base + "/config").json()["rate_limit_enabled"] is True


def test_stats_and_reset_over_http(sim: FortnoxSimulator, api: Api) -> None:
    api.create(Name="One")
    api.update("1", City="Lund")
    api.call("GET", "/customers/1")
    api.call("GET", "/customers", params={"name": "one"})
    stats = api.http.get(sim.base_url + "/_sim/stats").json()
    assert stats["requests"] == {
        "GET /3/customers": 1,
        "GET /3/customers/{n}": 1,
        "POST /3/customers": 1,
        "POST /oauth-v1/token": 1,
        "PUT /3/customers/{n}": 1,
    }
    assert stats["api_requests"] == 4
    assert stats["token_grants"] == {"client_credentials": 1}
    assert stats["customers"] == 1
    assert stats["status_codes"] == {"200": 4, "201": 1}
    assert stats["durations_ms"]["count"] == 4
    raw = api.http.get(sim.base_url + "/_sim/stats", params={"durations": "1"}).json()
    assert len(raw["durations_ms_raw"]["PUT /3/customers/{n}"]) == 1

    customers = api.http.get(sim.base_url + "/_sim/customers").json()
    assert customers["tenants"][TENANT][0]["City"] == "Lund"

    api.http.post(sim.base_url + "/_sim/reset", json={})
    after = sim.stats()
    assert after["requests"] == {}
    assert after["customers"] == 1
    api.http.post(sim.base_url + "/_sim/reset", json={"customers": True})
    assert sim.stats()["customers"] == 0
    # Data reset also restarts the number series.
    assert api.create(Name="Fresh").json()["Customer"]["CustomerNumber"] == "1"


def test_sim_endpoints_register_clients_and_issue_refresh_tokens(
    sim: FortnoxSimulator, http: requests.Session
) -> None:
    base = sim.base_url + "/_sim"
    http.post(base + "/clients", json={"client_id": "c2", "client_secret": "s2"}).raise_for_status()
    refresh = http.post(base + "/refresh-token", json={"client_id": "c2", "tenant_id": "t2"}).json()
    response = http.post(
        sim.auth_url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh["refresh_token"]},
        auth=("c2", "s2"),
    )
    assert response.status_code == 200
    # A refresh token only works for the client it was issued to.
    stolen = sim.issue_refresh_token("c2", "t2")
    assert grant(sim, http, grant_type="refresh_token", refresh_token=stolen).status_code == 400


def test_unknown_paths_and_methods(api: Api) -> None:
    assert api.call("GET", "/articles").status_code == 404
    assert api.call("PATCH", "/customers/1", json={}).status_code == 405
    assert api.http.get(api.sim.base_url + "/elsewhere").status_code == 404


def test_concurrent_creates_get_distinct_numbers(api: Api) -> None:
    import concurrent.futures

    def create(i: int) -> str:
        with requests.Session() as session:
            response = session.post(
                api.sim.api_url + "/customers",
                json={"Customer": {"Name": f"C{i}"}},
                headers={"Authorization": f"Bearer {api.token}"},
                timeout=5,
            )
            return str(response.json()["Customer"]["CustomerNumber"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert sorted(numbers, key=int) == [str(n) for n in range(1, 41)]
