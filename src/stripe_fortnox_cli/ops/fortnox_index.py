"""Fortnox as the operator commands read it: one full customer listing, matched locally.

Fortnox is reached with the layer's own client, the stack's credentials secret, token state and
rate-limit window: the CLI and the sync share one token chain and one 25-requests-per-5-s
budget, so an operator's listing never makes the sync hit 429s or break a refresh-token chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.progress import Progress, plural
from stripe_fortnox_sync.adapters.fortnox.customers import FortnoxCustomerApi
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.core.tenants import Tenant
from stripe_fortnox_sync.mapping.matching import match_key, number_order

if TYPE_CHECKING:
    from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
    from stripe_fortnox_sync.core.ports import Body, FortnoxRequester, Params


def fortnox_client(settings: Settings, tenant: Tenant | None = None) -> FortnoxClient:
    """The layer's Fortnox client, sharing the sync's token state and rate window; for `tenant`
    (None: `default`), its company's (`--tenant`)."""
    from stripe_fortnox_sync.bootstrap import build_fortnox_client

    try:
        # An operator's listing may wait behind a busy sync longer than one invocation would.
        return build_fortnox_client(
            settings, observed=False, max_wait_seconds=120.0, secrets_max_age=0, tenant=tenant
        )
    except ConfigError as exc:
        raise OperationError(f"Fortnox credentials: {exc}") from None


@dataclass
class FortnoxListing:
    customers: list[dict[str, Any]]
    requests: int


class _CountedPages:
    """The client, counting the listing's requests and showing its progress page by page."""

    def __init__(self, client: FortnoxRequester, progress: Progress) -> None:
        self._client = client
        self._progress = progress
        self.requests = 0

    def reserve(self, count: int) -> None:
        self._client.reserve(count)

    def request(self, method: str, path: str, *, params: Params = None, body: Body = None) -> dict[str, Any]:
        data = self._client.request(method, path, params=params, body=body)
        self.requests += 1
        total = int((data.get("MetaInformation") or {}).get("@TotalResources") or 0)
        self._progress.total = max(total, 1)
        self._progress.advance(len(data.get("Customers") or []))
        return data


def list_fortnox_customers(client: FortnoxRequester, stream: TextIO) -> FortnoxListing:
    """Every Fortnox customer (list items), a full page per request."""
    progress = Progress("Listing Fortnox customers", stream=stream)
    counted = _CountedPages(client, progress)
    customers = FortnoxCustomerApi(counted).list_customers({})
    n = counted.requests
    progress.close(f"Fortnox: {plural(len(customers), 'customer')} ({plural(n, 'request')})")
    return FortnoxListing(customers, n)


class FortnoxIndex:
    """One full Fortnox listing, matched locally by the stack's rule instead of a search each."""

    def __init__(self, customers: Iterable[Mapping[str, Any]], rule: MatchRule) -> None:
        self.rule = rule
        self.by_number: dict[str, Mapping[str, Any]] = {}
        self._by_key: dict[str, str] = {}
        for item in customers:
            number = str(item.get("CustomerNumber") or "")
            if not number:
                continue
            self.by_number[number] = item
            key = match_key(item, rule)
            # Several exact matches are duplicates made by hand: the sync adopts the lowest number.
            if key and (key not in self._by_key or number_order(number) < number_order(self._by_key[key])):
                self._by_key[key] = number

    def match(self, fields: Mapping[str, Any]) -> str | None:
        key = match_key(fields, self.rule)
        return self._by_key.get(key) if key else None
