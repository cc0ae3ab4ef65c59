"""`stripe-fortnox reconcile`: report missing, orphaned, not-found and drifted customers, and
shared Fortnox customers; with --fix queue the events that fix them (asking first when they would
mark many Fortnox customers inactive). Exit 1 when differences were not queued for fixing."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from stripe_fortnox_cli.exits import EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.confirm import Ask, confirm_deactivations, terminal_ask
from stripe_fortnox_cli.ops.findings import INFORMATIONAL, Category, Finding, reconcile_findings
from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex, fortnox_client, list_fortnox_customers
from stripe_fortnox_cli.ops.plan import linked_by_number
from stripe_fortnox_cli.ops.progress import estimate_seconds
from stripe_fortnox_cli.ops.queues import EventQueues, follow, read_links
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import MappingRow
from stripe_fortnox_cli.ops.stripe_source import (
    FetchedCustomer,
    iter_stripe_customers,
    retrieve_stripe_customer,
    stripe_client,
    stripe_errors,
)

# What one fix costs the sync at most, for the time estimate: a search or read, then the write.
REQUESTS_PER_FIX = 2


@dataclass
class ReconcileOptions:
    stripe_key: str | None = None
    csv_path: Path | None = None
    fix: bool = False
    show_values: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    # --yes: queue fixes that mark many Fortnox customers inactive without asking.
    yes: bool = False
    ask: Ask | None = field(default_factory=terminal_ask)


def _describe(finding: Finding, show_values: bool) -> str:
    if finding.category is Category.DRIFTED and show_values:
        return "; ".join(
            f"{name}: {finding.stripe_values[name]!r} in Stripe, {finding.fortnox_values[name]!r} in Fortnox"
            for name in finding.fields
        )
    return finding.detail


def write_csv(path: Path, findings: Sequence[Finding], show_values: bool) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = ["category", "stripe_id", "fortnox_number", "fields", "detail"]
        if show_values:
            header += ["stripe_values", "fortnox_values"]
        writer.writerow(header)
        for f in findings:
            row = [f.category.value, f.stripe_id, f.fortnox_number or "", " ".join(f.fields), f.detail]
            if show_values:
                row += [
                    json.dumps(f.stripe_values, ensure_ascii=False) if f.stripe_values else "",
                    json.dumps(f.fortnox_values, ensure_ascii=False) if f.fortnox_values else "",
                ]
            writer.writerow(row)


def _print_findings(findings: Sequence[Finding], show_values: bool, out: TextIO) -> None:
    if not findings:
        return
    print(f"{'STATUS':<9} {'STRIPE ID':<28} {'FORTNOX':<9} DETAIL", file=out)
    for f in findings:
        number = f.fortnox_number or "-"
        print(f"{f.category.value:<9} {f.stripe_id:<28} {number:<9} {_describe(f, show_values)}", file=out)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _print_summary(
    stack: Stack,
    customers: Sequence[FetchedCustomer],
    links: Mapping[str, MappingRow],
    index: FortnoxIndex,
    findings: Sequence[Finding],
    out: TextIO,
) -> None:
    counts = Counter(f.category for f in findings)
    linked = {row.fortnox_number for row in links.values() if row.fortnox_number}
    unlinked = sum(1 for number in index.by_number if number not in linked)
    flagged = {f.stripe_id for f in findings if f.category not in INFORMATIONAL}
    in_sync = sum(1 for c in customers if c.id not in flagged)
    print(
        f"Stripe {_count(len(customers), 'customer', 'customers')}, "
        f"mapping {_count(len(links), 'entry', 'entries')}, "
        f"Fortnox {_count(len(index.by_number), 'customer', 'customers')}: "
        f"{counts[Category.MISSING]:,} missing, {counts[Category.ORPHANED]:,} orphaned, "
        f"{counts[Category.DRIFTED]:,} drifted, {counts[Category.NOT_FOUND]:,} not found in Stripe, "
        f"{in_sync:,} in sync. {_count(unlinked, 'Fortnox customer is', 'Fortnox customers are')} "
        "not linked to Stripe (left alone).",
        file=out,
    )
    shared = {f.fortnox_number for f in findings if f.category is Category.SHARED}
    if shared:
        rule = stack.settings.match_rule.value
        print(
            f"{_count(counts[Category.SHARED], 'Stripe customer shares', 'Stripe customers share')} "
            f"{_count(len(shared), 'Fortnox customer', 'Fortnox customers')} (matched by {rule}): the one "
            "linked first keeps each up to date, the others write nothing to it "
            "(docs/runbook.md: a shared Fortnox customer).",
            file=out,
        )
    if counts[Category.NOT_FOUND]:
        print(
            f"{_count(counts[Category.NOT_FOUND], 'mapped customer is', 'mapped customers are')} not in "
            "this Stripe account: if they should be, the Stripe key is for another account. Nothing is "
            "fixed or deactivated for them.",
            file=out,
        )


def _queue_fixes(
    stack: Stack,
    findings: Sequence[Finding],
    links: Mapping[str, MappingRow],
    options: ReconcileOptions,
    out: TextIO,
    err: TextIO,
) -> int:
    fixes = [f.fix for f in findings if f.fix is not None]
    if not fixes:
        print("Nothing to queue: none of these differences has an automatic fix.", file=out)
        return EXIT_FAILED
    deactivating = {f.deactivates for f in findings if f.deactivates}
    mapped = len(linked_by_number(links))
    if not confirm_deactivations(deactivating, mapped, yes=options.yes, ask=options.ask, out=out):
        print("Nothing was queued.", file=out)
        return EXIT_FAILED
    queues = EventQueues.open(stack)
    queues.queue.send_many(fixes)
    print(f"Queued {_count(len(fixes), 'fix', 'fixes')}.", file=out)
    unfixable = len(findings) - len(fixes)
    code = EXIT_OK
    if unfixable:
        print(
            f"{_count(unfixable, 'difference has', 'differences have')} no automatic fix (see above).",
            file=out,
        )
        code = EXIT_FAILED
    if options.wait:
        estimate = estimate_seconds(len(fixes) * REQUESTS_PER_FIX, stack.settings)
        code = max(code, follow(stack, queues, len(fixes), estimate, options.wait_timeout, out, err))
    return code


def reconcile(stack: Stack, options: ReconcileOptions, out: TextIO, err: TextIO) -> int:
    stack.require_event_types("customer.updated", "customer.deleted")
    client = stripe_client(stack, options.stripe_key, err)
    links = read_links(stack, err)
    customers = list(iter_stripe_customers(client, stream=err))
    listing = list_fortnox_customers(fortnox_client(stack.settings, stack.tenant), err)
    index = FortnoxIndex(listing.customers, stack.settings.match_rule)

    def lookup(customer_id: str) -> dict[str, Any] | None:
        with stripe_errors():
            return retrieve_stripe_customer(client, customer_id)

    findings = reconcile_findings(stack, customers, links, index, lookup)
    _print_findings(findings, options.show_values, out)
    _print_summary(stack, customers, links, index, findings, out)
    if options.csv_path:
        write_csv(options.csv_path, findings, options.show_values)
        print(f"Wrote {len(findings):,} rows to {options.csv_path}", file=out)
    differences = [f for f in findings if f.category not in INFORMATIONAL]
    if not differences:
        return EXIT_OK
    if not options.fix:
        if any(f.fix for f in differences):
            print("Queue the fixes with --fix.", file=out)
        return EXIT_FAILED
    return _queue_fixes(stack, differences, links, options, out, err)
