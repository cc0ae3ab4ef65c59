"""The Fortnox the local stack talks to: a real one (or any compatible server), else the simulator.

With a real Fortnox's refresh-token flow, a refresh token works once: the chain is kept in
`fortnox-token.json` in the state directory, so the next start does not present a refresh token
Fortnox has already retired.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import boto3

from fortnox_sim import FortnoxSimulator

from .config import LocalConfig, LocalStackError

FORTNOX_API_URL = "https://api.fortnox.se/3"
FORTNOX_AUTH_URL = "https://apps.fortnox.se/oauth-v1"
TOKEN_FILE = "fortnox-token.json"


@dataclass
class FortnoxTarget:
    api_url: str
    auth_url: str
    credentials: dict[str, str]
    simulator: FortnoxSimulator | None = None

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()


def start_fortnox(config: LocalConfig) -> FortnoxTarget:
    """The configured Fortnox, or a simulator started on a free port when none is configured."""
    if config.fortnox_api_url or config.fortnox_credentials:
        credentials = dict(config.fortnox_credentials)
        if not credentials.get("client_id") or not credentials.get("client_secret"):
            raise LocalStackError("FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET are needed for a real Fortnox")
        if not credentials.get("tenant_id") and not credentials.get("refresh_token"):
            raise LocalStackError("set FORTNOX_TENANT_ID (service account) or FORTNOX_REFRESH_TOKEN")
        return FortnoxTarget(
            config.fortnox_api_url or FORTNOX_API_URL,
            config.fortnox_auth_url or FORTNOX_AUTH_URL,
            credentials,
        )
    simulator = FortnoxSimulator(**config.simulator_options)
    simulator.start(host="127.0.0.1", port=0)
    client_id, client_secret = "local-client", secrets.token_hex(16)
    simulator.register_client(client_id, client_secret)
    return FortnoxTarget(
        simulator.api_url,
        simulator.auth_url,
        {"client_id": client_id, "client_secret": client_secret, "tenant_id": "local-tenant"},
        simulator,
    )


def check_credentials(target: FortnoxTarget, state_table: str, state_dir: Path) -> None:
    """Get an access token as the sync function would, after restoring a saved refresh-token chain;
    LocalStackError (exit 4) when Fortnox refuses the credentials."""
    from stripe_fortnox_sync.adapters.aws.state import DynamoStateStore
    from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials, OAuthTokenProvider
    from stripe_fortnox_sync.core.errors import FortnoxError

    _restore_token_state(target, state_table, state_dir)
    try:
        credentials = FortnoxCredentials.from_secret(target.credentials)
        OAuthTokenProvider(credentials, target.auth_url, DynamoStateStore(state_table)).access_token()
    except FortnoxError as exc:
        raise LocalStackError(f"Fortnox refused the credentials: {exc}", exit_code=4) from None


def _restore_token_state(target: FortnoxTarget, state_table: str, state_dir: Path) -> None:
    path = state_dir / TOKEN_FILE
    if target.simulator or not path.exists():
        return
    item = json.loads(path.read_text())
    boto3.client("dynamodb").put_item(TableName=state_table, Item=item)


def save_token_state(target: FortnoxTarget, state_table: str, state_dir: Path) -> None:
    """Keep a real Fortnox's token state (the refresh-token chain) for the next start; best effort."""
    if target.simulator:
        return
    with contextlib.suppress(Exception):
        from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials

        key = FortnoxCredentials.from_secret(target.credentials).store_key
        item = boto3.client("dynamodb").get_item(TableName=state_table, Key={"pk": {"S": key}}).get("Item")
        if item:
            state_dir.mkdir(parents=True, exist_ok=True)
            path = state_dir / TOKEN_FILE
            path.write_text(json.dumps(item))
            path.chmod(0o600)
