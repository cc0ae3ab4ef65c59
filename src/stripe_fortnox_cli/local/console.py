"""What the local stack's commands print: a line per request and per processed event, the
banner, tables. Ids, types, outcomes and reasons only: never a customer's name or e-mail."""

from __future__ import annotations

import shlex
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answers import WebhookRequest
from .function_logs import ProcessedEvent
from .functions import repo_root

if TYPE_CHECKING:
    from .stack import LocalStack

SAMPLE_EVENT = Path("events/stripe/01-customer.created.json")
LABEL_WIDTH = 13  # "Not enabled: "


def print_event_line(event: ProcessedEvent) -> None:
    """Time, type, Stripe id, outcome, Fortnox number and duration: no personal data."""
    number = event.fortnox_number or "-"
    detail = f"  ({event.detail})" if event.detail else ""
    rest = f"fortnox={number:<6} {event.duration_ms:7.1f} ms{detail}"
    _print_line(event.tenant, event.event_type, event.stripe_id, event.outcome, rest)


def print_request_line(request: WebhookRequest) -> None:
    """One webhook request, in the event lines' columns: accepted, ignored or refused, and why."""
    event = f" {request.event_id}" if request.event_id else ""
    why = f"  ({request.message})" if request.message else ""
    rest = f"webhook {request.status}{event}{why}"
    _print_line(request.tenant, request.event_type, request.customer, request.verdict, rest)


def _print_line(tenant: str, event_type: str | None, stripe_id: str | None, verdict: str, rest: str) -> None:
    """The console's columns: time, event type, Stripe id, what became of it, then the rest. A
    tenant's lines start with `[tenant]`; tenant `default`'s are as before tenants."""
    label = f"[{tenant}] " if tenant else ""
    columns = f"{event_type or '-':<29} {stripe_id or '-':<22} {verdict:<11}"
    print(f"{time.strftime('%H:%M:%S')}  {label}{columns} {rest}", flush=True)


def _shown(path: Path) -> str:
    """`path` as short as it can be written from here: relative to the working directory if inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def cli_command() -> str:
    """How to run this same `stripe-fortnox` from the directory it was started in."""
    script = Path(sys.argv[0])
    if script.name == "stripe-fortnox" and script.exists():
        return shlex.quote(_shown(script))
    return f"{shlex.quote(sys.executable)} -m stripe_fortnox_cli.cli"


def try_it_lines(url: str, secret: str) -> list[str]:
    """A `sign` and `curl` line to paste: the sample customer, signed with `secret`."""
    sample = shlex.quote(_shown(repo_root() / SAMPLE_EVENT))
    sign = f"{cli_command()} sign {sample} --secret {secret}"
    return [
        f"  curl -sS -X POST {url} -H 'Content-Type: application/json' \\",
        f'    -H "Stripe-Signature: $({sign})" \\',
        f"    --data-binary @{sample}",
    ]


def _event_types(stack: LocalStack) -> tuple[list[str], list[str]]:
    """The event types the stack handles, and the supported ones it does not."""
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    chosen = stack.parameters.get("EnabledEventTypes", "")
    enabled = {t.strip() for t in chosen.split(",") if t.strip()}
    return [t for t in SUPPORTED_TYPES if t in enabled], [t for t in SUPPORTED_TYPES if t not in enabled]


def _labelled(label: str, text: str) -> str:
    """`text` after `label`, wrapped under itself."""
    indent = " " * LABEL_WIDTH
    return textwrap.fill(text, width=100, initial_indent=label.ljust(LABEL_WIDTH), subsequent_indent=indent)


def print_dev_banner(stack: LocalStack) -> None:
    """Where `stripe-fortnox dev` listens, with what, and how to feed it."""
    config = stack.config
    assert stack.fortnox is not None
    print(f"Webhook:     POST {stack.webhook_url}")
    if config.webhook_secrets:
        secret = '"$STRIPE_WEBHOOK_SECRET"'
        print("Secret:      from STRIPE_WEBHOOK_SECRET (export it where you paste the lines below)")
    else:
        secret = stack.webhook_secrets[0]
        print(f"Secret:      {secret}  (generated; set STRIPE_WEBHOOK_SECRET to choose)")
    enabled, others = _event_types(stack)
    print(_labelled("Events:", ", ".join(enabled)))
    if others:
        print(_labelled("Not enabled:", f"{', '.join(others)} (add them to ENABLED_EVENT_TYPES)"))
    if stack.fortnox.simulator:
        print(f"Fortnox:     embedded simulator at {stack.fortnox.api_url} (no Fortnox credentials given)")
    else:
        print(f"Fortnox:     {stack.fortnox.api_url}")
    print(f"Mode:        {'live' if config.livemode else 'test'}")
    print(f"State:       {_shown(stack.state_dir)}/ (function logs; `--local` commands read its outputs)")
    print("Stripe CLI:  stripe listen --forward-to " + stack.webhook_url.replace("127.0.0.1", "localhost"))
    print("Try it:")
    print("\n".join(try_it_lines(stack.webhook_url, secret)))
    print("One line per request and per processed event below. Ctrl-C to stop.", flush=True)


def render_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """`rows` as aligned text columns, blank where a value is missing."""
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body])
