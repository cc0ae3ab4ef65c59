"""Request counters and server-side durations, as GET /_sim/stats reports them."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["Stats"]

_MAX_DURATIONS: Final[int] = 100_000


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    status_codes: Counter[str] = field(default_factory=Counter)
    api_requests: int = 0
    rate_limited: int = 0
    forced_429: int = 0
    unauthorized: int = 0
    invalid_client: int = 0
    injected_5xx: int = 0
    injected_timeouts: int = 0
    token_grants: Counter[str] = field(default_factory=Counter)
    invalid_grant: int = 0
    # Per TenantId: /3 requests that got past authentication, and those answered 429.
    requests_by_tenant: Counter[str] = field(default_factory=Counter)
    rate_limited_by_tenant: Counter[str] = field(default_factory=Counter)
    durations: dict[str, deque[float]] = field(default_factory=dict)

    def record_duration(self, route: str, millis: float) -> None:
        values = self.durations.get(route)
        if values is None:
            # Bounded, so that a long benchmark does not grow the samples without end.
            values = self.durations[route] = deque(maxlen=_MAX_DURATIONS)
        values.append(millis)

    def report(self, data_counts: Mapping[str, Any], include_durations: bool) -> dict[str, Any]:
        """The counters, the given counts of stored data, and duration summaries."""
        api_durations = [d for route, values in self.durations.items() if " /3/" in route for d in values]
        result: dict[str, Any] = {
            "requests": dict(sorted(self.requests.items())),
            "status_codes": dict(sorted(self.status_codes.items())),
            "api_requests": self.api_requests,
            "rate_limited": self.rate_limited,
            "forced_429": self.forced_429,
            "unauthorized": self.unauthorized,
            "invalid_client": self.invalid_client,
            "injected_5xx": self.injected_5xx,
            "injected_timeouts": self.injected_timeouts,
            "token_grants": dict(sorted(self.token_grants.items())),
            "invalid_grant": self.invalid_grant,
            "requests_by_tenant": dict(sorted(self.requests_by_tenant.items())),
            "rate_limited_by_tenant": dict(sorted(self.rate_limited_by_tenant.items())),
            **data_counts,
            "durations_ms": _summary(api_durations),
            "durations_ms_by_route": {r: _summary(v) for r, v in sorted(self.durations.items())},
        }
        if include_durations:
            result["durations_ms_raw"] = {r: [round(d, 3) for d in v] for r, v in self.durations.items()}
        return result


def _summary(values: Iterable[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def rank(p: float) -> float:
        # Nearest-rank percentile: always an observed value, no interpolation surprises.
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 3)

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 3),
        "min": round(ordered[0], 3),
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 3),
    }
