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
        "the stack's tenants: one Fortnox company each (add, consent, list, status, suspend, resume)",
        "Add a tenant (a Fortnox company with its Stripe source: its own webhook URL, or its "
        "connected account on the Connect endpoint), record its Fortnox consent, list them, show their "
        "health, suspend or resume one. Tenant `default` is the stack's own (docs/tenants.md).",
    )
    actions = tenants.add_subparsers(
        dest="tenants_command",
        required=True,
        metavar="ACTION",
        help="add, consent, list, status, suspend or resume (`tenants ACTION --help` says more)",
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
        "consent", parents=[target], help="record the Fortnox TenantId the consent gave; activate"
    )
    consent.add_argument("tenant_id", metavar="ID", help="the tenant")
    consent.add_argument("--fortnox-tenant-id", required=True, help="the TenantId Fortnox's consent gave")
    actions.add_parser("list", parents=[target], help="one line per tenant")
    status = actions.add_parser(
        "status", parents=[target], help="each tenant's health; exit 1 when one needs attention"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for name, summary in (("suspend", "stop syncing a tenant"), ("resume", "sync a suspended tenant again")):
        action = actions.add_parser(name, parents=[target], help=summary)
        action.add_argument("tenant_id", metavar="ID", help="the tenant")
    tenants.set_defaults(func=run)
