"""The Fortnox simulator's own tests talk to it over real HTTP through this thin client: a
service-account token for a tenant, bearer auth, JSON bodies, no retries."""

from __future__ import annotations

from typing import Any

import requests

from fortnox_sim import FortnoxSimulator

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
TENANT = "tenant-1"


def grant(
    sim: FortnoxSimulator, http: requests.Session, tenant: str = TENANT, **form: str
) -> requests.Response:
    """POST /oauth-v1/token as CLIENT_ID: client credentials for `tenant`, or the grant in `form`."""
    data = form or {"grant_type": "client_credentials"}
    headers = {"TenantId": tenant} if data.get("grant_type") == "client_credentials" else {}
    return http.post(
        sim.auth_url + "/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET), headers=headers, timeout=5
    )


def token(sim: FortnoxSimulator, http: requests.Session, tenant: str = TENANT) -> str:
    response = grant(sim, http, tenant)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class SimulatorApi:
    """Bearer token for `tenant`, JSON bodies, no retries."""

    def __init__(self, sim: FortnoxSimulator, http: requests.Session, tenant: str = TENANT) -> None:
        self.sim, self.http = sim, http
        self.token = token(sim, http, tenant)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 5)
        return self.http.request(method, self.sim.api_url + path, headers=headers, **kwargs)
