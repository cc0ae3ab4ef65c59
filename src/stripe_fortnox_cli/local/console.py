"""What the local stack's commands print: one line per processed event, the banner, tables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .functions import ProcessedEvent

if TYPE_CHECKING:
    from .stack import LocalStack


def print_event_line(event: ProcessedEvent) -> None:
    """Time, type, Stripe id, outcome, Fortnox number and duration: no personal data."""
    number = event.fortnox_number or "-"
    detail = f"  ({event.detail})" if event.detail else ""
    print(
        f"{time.strftime('%H:%M:%S')}  {event.event_type:<29} {event.stripe_id or '-':<22} "
        f"{event.outcome:<11} fortnox={number:<6} {event.duration_ms:7.1f} ms{detail}",
        flush=True,
    )


def print_dev_banner(stack: LocalStack) -> None:
    """Where `stripe-fortnox dev` listens, with what, and how to feed it."""
    config = stack.config
    assert stack.fortnox is not None
    print(f"Webhook:   POST {stack.webhook_url}")
    if not config.webhook_secrets:
        print(f"Secret:    {stack.webhook_secrets[0]}  (generated; set STRIPE_WEBHOOK_SECRET to choose)")
    if stack.fortnox.simulator:
        print(f"Fortnox:   embedded simulator at {stack.fortnox.api_url} (no Fortnox credentials given)")
    else:
        print(f"Fortnox:   {stack.fortnox.api_url}")
    print(
        f"Mode:      {'live' if config.livemode else 'test'};",
        f"function logs in {config.state_dir / 'functions.log'}",
    )
    print("Stripe CLI: stripe listen --forward-to " + stack.webhook_url.replace("127.0.0.1", "localhost"))
    print("Ctrl-C to stop.", flush=True)


def render_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """`rows` as aligned text columns, blank where a value is missing."""
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])
