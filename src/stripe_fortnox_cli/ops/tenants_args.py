"""The arguments of `stripe-fortnox tenants` (ops/tenants.py runs it): argparse only, so the CLI
starts quickly."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

CommandParser = Callable[[Any, str, argparse.ArgumentParser, str, str], Any]


def add_parser(sub: Any, target: argparse.ArgumentParser, command: CommandParser, run: Any) -> None:
    # The stack options go after the action (`tenants list --local`): on both levels argparse
    # would let the action's defaults overwrite what was given before it.
    tenants = command(
        sub,
        "tenants",
        argparse.ArgumentParser(add_help=False),
        "the stack's tenants: one Fortnox company each (add, consent, set-stripe, verify, list, status, ...)",
        "Add a tenant (a Fortnox company with its Stripe source: its own webhook URL, or its "
        "connected account on the Connect endpoint), record its Fortnox consent, list them, show their "
        "health, suspend or resume one. Tenant `default` is the stack's own (docs/tenants.md).",
    )
    actions = tenants.add_subparsers(
        dest="tenants_command",
        required=True,
        metavar="ACTION",
        help="add, consent, set-stripe, verify, config, list, status, suspend, resume, export, remove, migrate",  # noqa: E501,
    )
    add = actions.add_parser(
        "add", parents=[target], help="add a tenant; prints its webhook URL and the Fortnox consent link"
    )
    add.add_argument("tenant_id", metavar="ID", help="2 to 32 lower-case letters, digits, hyphens")
    add.add_argument("--name", required=True, help="the company's name, for the operator")
    add.add_argument("--org-number", default="", help="the company's organisation number")
    add.add_argument("--fortnox-tenant-id", default="", help="its Fortnox TenantId, when consent is given")
    add.add_argument("--stripe-account", default="", help="Connect: the connected account (acct_...)")
    add.add_argument("--live", action="store_true", help="its Stripe events are live-mode (default: test)")
    add.add_argument(
        "--webhook-secret", action="append", default=[], metavar="WHSEC", help="its endpoint's signing secret"
    )
    add.add_argument("--stripe-key", default="", help="a restricted Stripe key (rk_...) of its account")
    add.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a per-tenant setting (repeatable)"
    )
    add.add_argument(
        "--redirect-uri", default="", help="the integration's redirect URI, for the consent link"
    )
    consent = actions.add_parser(
        "consent",
        parents=[target],
        help="check the TenantId's company in Fortnox, then record it and activate",
        description="Ask Fortnox which company the TenantId is (GET /3/companyinformation with a "
        "token for it); record it and make the tenant active only when its organisation number is "
        "the one given (--org-number, else the tenant's). Exit 1: another company, or Fortnox not "
        "reachable; 4: Fortnox refused the token; nothing is recorded then.",
    )
    consent.add_argument("tenant_id", metavar="ID", help="the tenant")
    consent.add_argument("--fortnox-tenant-id", required=True, help="the TenantId Fortnox's consent gave")
    consent.add_argument(
        "--org-number", default="", help="the organisation number expected (default: the tenant's)"
    )
    consent.add_argument(
        "--no-check",
        action="store_true",
        help="record it without asking Fortnox (unreachable from here): run `tenants verify` later",
    )
    actions.add_parser("list", parents=[target], help="one line per tenant")
    status = actions.add_parser(
        "status", parents=[target], help="each tenant's health; exit 1 when one needs attention"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for name, summary in (("suspend", "stop syncing a tenant"), ("resume", "sync a suspended tenant again")):
        action = actions.add_parser(name, parents=[target], help=summary)
        action.add_argument("tenant_id", metavar="ID", help="the tenant")
    _add_manage(actions, target)
    tenants.set_defaults(func=run)


def _add_manage(actions: Any, target: argparse.ArgumentParser) -> None:
    """set-stripe, verify, config, export, remove, migrate (ops/tenants_manage.py, tenants_verify.py)."""
    stripe = actions.add_parser(
        "set-stripe", parents=[target], help="store a tenant's signing secret(s) and/or Stripe key"
    )
    stripe.add_argument("tenant_id", metavar="ID", help="the tenant")
    stripe.add_argument(
        "--webhook-secret",
        action="append",
        default=[],
        metavar="WHSEC",
        help="its endpoint's signing secret (repeat while rolling: both are accepted)",
    )
    stripe.add_argument(
        "--stripe-key", default="", help="its restricted key (rk_...); Connect: the platform's key"
    )
    verify = actions.add_parser(
        "verify",
        parents=[target],
        help="check Fortnox, its company, scopes, the Stripe key, a signed test event",
    )
    verify.add_argument("tenant_id", metavar="ID", help="the tenant")
    verify.add_argument(
        "--org-number", default="", help="the organisation number expected (default: the tenant's)"
    )
    verify.add_argument("--skip-event", action="store_true", help="do not post the signed test event")
    config = actions.add_parser("config", parents=[target], help="show or set a tenant's settings")
    config.add_argument("tenant_id", metavar="ID", help="the tenant")
    config.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="set one (empty VALUE: the stack's)"
    )
    config.add_argument("--json", action="store_true", help="machine-readable output")
    export = actions.add_parser("export", parents=[target], help="a tenant's mapping as JSON lines")
    export.add_argument("tenant_id", metavar="ID", help="the tenant (default: the stack's own)")
    export.add_argument("--require", action="store_true", help="exit 1 when it has no mapping")
    remove = actions.add_parser(
        "remove", parents=[target], help="disconnect a tenant; with --purge delete its data and secrets"
    )
    remove.add_argument("tenant_id", metavar="ID", help="the tenant")
    remove.add_argument("--purge", action="store_true", help="delete its items, registry items and secrets")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    actions.add_parser(
        "migrate", parents=[target], help="check tenant default's keys (nothing to move; docs/tenants.md)"
    )
