"""A local stack's state directory and its `outputs.json`: what `dev` writes, `--local` reads.

One home for that contract, standard library only: `stripe-fortnox status --local` and friends
must find out in well under two seconds whether the stack is there, before they import boto3 or
make a single AWS call (a stopped stack's port refuses at once; botocore would retry for 20 s).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_STATE_DIR = Path(".local-stack")
OUTPUTS_FILE = "outputs.json"
# The outputs that say where a running stack listens: the emulated AWS, the webhook.
ENDPOINT_OUTPUTS = ("AwsEndpointUrl", "WebhookUrl")
CONNECT_TIMEOUT_SECONDS = 0.5


class NotRunning(Exception):
    """No local stack answers for this state directory; the message says why and what to do."""


def read_outputs(state_dir: Path) -> dict[str, Any] | None:
    """The outputs a local stack recorded in `state_dir`, or None when there are none."""
    try:
        data = json.loads((state_dir / OUTPUTS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: no endpoint to ask, so not a live stack
    return data if isinstance(data, dict) else {}


def listening(url: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> bool:
    """Whether something accepts a TCP connection at `url`'s host and port."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def live_endpoint(state_dir: Path) -> str | None:
    """The endpoint of a stack that recorded its outputs in `state_dir` and still answers there."""
    outputs = read_outputs(state_dir) or {}
    for key in ENDPOINT_OUTPUTS:
        url = outputs.get(key)
        if isinstance(url, str) and listening(url):
            return url
    return None


def require_running(state_dir: Path) -> dict[str, Any]:
    """The outputs of the stack running in `state_dir`; NotRunning when none answers there."""
    outputs = read_outputs(state_dir)
    path = state_dir / OUTPUTS_FILE
    if outputs is None:
        raise NotRunning(
            f"no local stack in {state_dir}/ ({OUTPUTS_FILE} missing): start `stripe-fortnox dev`"
        )
    endpoint = outputs.get("AwsEndpointUrl")
    if not isinstance(endpoint, str) or not endpoint:
        raise NotRunning(f"{path} has no AwsEndpointUrl: start `stripe-fortnox dev` again")
    if not listening(endpoint):
        raise NotRunning(
            f"the local stack in {state_dir}/ is not running (nothing answers at {endpoint}; "
            f"{OUTPUTS_FILE} is left from an earlier run): start `stripe-fortnox dev`"
        )
    return outputs
