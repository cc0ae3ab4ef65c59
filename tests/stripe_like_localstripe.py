"""localstripe with two answers real Stripe gives and it does not, for the operator commands' tests.

- `GET /v1/account`: the account the key belongs to (`--account`). Two of these servers with
  different ids are two Stripe accounts; stock localstripe answers 404, which the commands note.
- `GET /v1/customers/{id}` of a deleted customer: `{"id": ..., "deleted": true}`, as Stripe keeps
  answering; stock localstripe forgets it (404), which reads as "not found in this account".

Run as `python -m tests.stripe_like_localstripe --port N --account acct_...` from the repository
(`start_stripe_like_localstripe`). On 127.0.0.1 only, empty, and nothing written to disk.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CUSTOMER_PATH = re.compile(r"/v1/customers/(cus_\w+)")


def start_stripe_like_localstripe(port: int, account: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.stripe_like_localstripe", "--port", str(port), "--account", account],
        cwd=ROOT,
        # Not a pipe: its access log would fill one nobody reads, and the server would stall.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    args = parser.parse_args()

    import localstripe.resources as resources
    from aiohttp import web
    from localstripe.server import app

    # It pickles its whole store to one shared file after every write: not wanted in tests.
    resources.Store.dump_to_disk = lambda self: None
    deleted: set[str] = set()

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    @web.middleware
    async def like_stripe(request: web.Request, handler: Handler) -> web.StreamResponse:
        customer = CUSTOMER_PATH.fullmatch(request.path)
        if request.method == "GET" and request.path == "/v1/account":
            return web.json_response({"id": args.account, "object": "account"})
        if request.method == "GET" and customer and customer[1] in deleted:
            return web.json_response({"id": customer[1], "object": "customer", "deleted": True})
        response = await handler(request)
        if request.method == "DELETE" and customer and response.status == 200:
            deleted.add(customer[1])
        return response

    # After localstripe's own (errors, authentication): a request without a key is still refused.
    app.middlewares.append(like_stripe)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
