"""What reconcile finds: Stripe, the mapping and Fortnox compared, each difference with the
synthetic event that fixes it (queued only with --fix).

A mapped customer Stripe answers `deleted: true` for was deleted in Stripe: its fix is a
`customer.deleted`, which marks the Fortnox customer inactive only when no other live Stripe
customer maps to it. One Stripe does not know at all is "not found in this Stripe account": no
fix, since a key for another account would otherwise deactivate every mapped customer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.plan import Linked, linked_by_number, plan_customer
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import MappingRow, OutgoingMessage
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer, queue_message, synthetic_event
from stripe_fortnox_sync.core.models import FortnoxFields, LinkStatus, Sharing
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.matching import digits
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS
from stripe_fortnox_sync.sync.shared_links import names

# The fields a Fortnox customer list item carries that we also send: what drift can be seen in.
COMPARED_FIELDS = ("Name", "Email", "ZipCode", "City", "Address1", "OrganisationNumber")
SOURCE = "reconcile"


class Category(StrEnum):
    MISSING = "missing"
    ORPHANED = "orphaned"
    NOT_FOUND = "not-found"
    DRIFTED = "drifted"
    SHARED = "shared"


ORDER = {category: n for n, category in enumerate(Category)}
# What an operator is told of that is no difference: nothing to fix, no exit status 1.
INFORMATIONAL = frozenset({Category.SHARED})


@dataclass
class Finding:
    category: Category
    stripe_id: str
    fortnox_number: str | None
    detail: str
    fields: tuple[str, ...] = ()
    stripe_values: dict[str, str] = field(default_factory=dict)
    fortnox_values: dict[str, str] = field(default_factory=dict)
    fix: OutgoingMessage | None = None
    # The Fortnox customer the fix marks inactive, if it does: reconcile asks before many.
    deactivates: str | None = None


def _normalised(name: str, value: object) -> str:
    text = " ".join(str(value or "").split())
    if name == "Email":
        return text.lower()
    if name == "OrganisationNumber":
        return digits(text)
    if name == "ZipCode":
        return text.replace(" ", "")
    return text


def drifted_fields(mapped: FortnoxFields, item: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Fields whose Fortnox value differs from what the sync would send: name -> (Stripe, Fortnox)."""
    drift: dict[str, tuple[str, str]] = {}
    for name in COMPARED_FIELDS:
        ours = mapped.get(name)
        if ours is None and name not in CLEARABLE_FIELDS:
            # The sync keeps what Fortnox has when Stripe lost the value (Name, Address1).
            continue
        theirs = item.get(name)
        if _normalised(name, ours) != _normalised(name, theirs):
            drift[name] = (str(ours or ""), str(theirs or ""))
    return drift


def shared_numbers(links: Mapping[str, MappingRow]) -> set[str]:
    """Fortnox customers linked from more than one live Stripe customer."""
    return {number for number, linked in linked_by_number(links).items() if len(linked) > 1}


class _Comparison:
    """One pass over Stripe's customers, then over the mapping entries Stripe did not list."""

    def __init__(self, settings: Settings, links: Mapping[str, MappingRow], index: FortnoxIndex) -> None:
        self.settings = settings
        self.links = links
        self.index = index
        self.findings: list[Finding] = []
        self.created_keys: dict[str, str] = {}
        self.seen: set[str] = set()
        self.linked: Linked = linked_by_number(links)
        self.deletions: list[Finding] = []
        self.now = int(time.time())

    def check(self, fetched: FetchedCustomer) -> None:
        self.seen.add(fetched.id)
        link = self.links.get(fetched.id)
        if link is None or link.status is LinkStatus.PENDING:
            self._missing(fetched, link)
            return
        if link.status is LinkStatus.DELETED:
            return
        number = link.fortnox_number or ""
        others = [s for s in self.linked.get(number, ()) if s != fetched.id]
        writes = not others or link.sharing is Sharing.OWNER
        if others:
            role = "linked first, it keeps it up to date" if writes else "it writes nothing to it"
            detail = f"shares Fortnox customer {number} with {names(others)}; {role}"
            self.findings.append(Finding(Category.SHARED, fetched.id, number, detail))
        item = self.index.by_number.get(number)
        if item is None:
            # Only a customer that writes can create it again: a sharer's event writes nothing.
            detail = "gone from Fortnox " + ("(the fix creates it again)" if writes else "(shared: no fix)")
            fix = self._forced(fetched) if writes else None
            self.findings.append(Finding(Category.ORPHANED, fetched.id, number or None, detail, fix=fix))
            return
        if writes:
            # A sharer's Fortnox customer shows the owner's data: not drift, nothing to fix.
            self._drift(fetched, number, item)

    def _forced(self, fetched: FetchedCustomer) -> OutgoingMessage:
        """An event the sync applies even when its hashes say nothing changed."""
        event = synthetic_event(
            fetched.data,
            created=fetched.fetched_at,
            livemode=self.settings.stripe_livemode,
            source=SOURCE,
            hint={"force": True},
        )
        return queue_message(event, source=SOURCE)

    def _missing(self, fetched: FetchedCustomer, link: MappingRow | None) -> None:
        planned = plan_customer(
            fetched, link, self.index, self.settings, self.created_keys, source=SOURCE, linked=self.linked
        )
        rule = self.settings.match_rule.value
        if link is not None:
            detail = "a create was interrupted; the sync recovers it"
        elif planned.detail.startswith("shares"):
            detail = f"not mapped; matches by {rule} and {planned.detail}: the fix links it, writing nothing"
        elif planned.fortnox_number:
            detail = f"not mapped; Fortnox customer {planned.fortnox_number} matches by {rule}"
        else:
            detail = "not mapped and not in Fortnox"
        self.findings.append(
            Finding(Category.MISSING, fetched.id, planned.fortnox_number, detail, fix=planned.message)
        )

    def _drift(self, fetched: FetchedCustomer, number: str, item: Mapping[str, Any]) -> None:
        try:
            mapped = map_customer(fetched.data, self.settings)
        except ValueError:
            return
        drift = drifted_fields(mapped.fields, item)
        if drift:
            self.findings.append(
                Finding(
                    Category.DRIFTED,
                    fetched.id,
                    number,
                    ", ".join(drift),
                    fields=tuple(drift),
                    stripe_values={k: v[0] for k, v in drift.items()},
                    fortnox_values={k: v[1] for k, v in drift.items()},
                    fix=self._forced(fetched),
                )
            )

    def check_unlisted(self, lookup: Callable[[str], dict[str, Any] | None]) -> None:
        """Mapping entries Stripe did not list: guests, customers created since, deleted ones."""
        for stripe_id, link in sorted(self.links.items()):
            if stripe_id in self.seen or link.status is LinkStatus.DELETED:
                continue
            gone = not link.fortnox_number or link.fortnox_number not in self.index.by_number
            if link.is_guest:
                if link.status is LinkStatus.ACTIVE and gone:
                    detail = "guest buyer gone from Fortnox (no fix)"
                    self.findings.append(Finding(Category.ORPHANED, stripe_id, link.fortnox_number, detail))
                continue
            current = lookup(stripe_id)
            if current is None:
                # Stripe answers `deleted: true` for a deleted customer; an id it does not know
                # at all belongs to another account, or the key does.
                detail = "not found in this Stripe account (no fix: is the Stripe key for another account?)"
                self.findings.append(Finding(Category.NOT_FOUND, stripe_id, link.fortnox_number, detail))
            elif current.get("deleted"):
                self._deleted(stripe_id, link, gone)
            else:
                # Created after the listing began: compare it like the others.
                self.check(FetchedCustomer(current, int(time.time())))

    def _deleted(self, stripe_id: str, link: MappingRow, gone_from_fortnox: bool) -> None:
        deleted = synthetic_event(
            {"id": stripe_id, "object": "customer", "deleted": True},
            created=self.now,
            livemode=self.settings.stripe_livemode,
            source=SOURCE,
            event_type="customer.deleted",
        )
        detail = "deleted in Stripe" + (
            " and gone from Fortnox (the fix marks the link deleted)" if gone_from_fortnox else ""
        )
        finding = Finding(
            Category.ORPHANED,
            stripe_id,
            link.fortnox_number,
            detail,
            fix=queue_message(deleted, source=SOURCE),
        )
        if not gone_from_fortnox:
            self.deletions.append(finding)
        self.findings.append(finding)

    def settle_deletions(self) -> None:
        """Which deletions deactivate their Fortnox customer: those no other live Stripe customer
        maps to once every deletion found here is applied (the sync decides the same way)."""
        leaving = {f.stripe_id for f in self.deletions}
        for finding in self.deletions:
            number = finding.fortnox_number or ""
            staying = [s for s in self.linked.get(number, ()) if s not in leaving]
            if staying:
                finding.detail += (
                    f"; Fortnox customer {number} stays active ({names(staying)} still maps to it): "
                    "the fix marks only this link deleted"
                )
            else:
                finding.detail += f" (the fix marks Fortnox customer {number} inactive)"
                finding.deactivates = number


def reconcile_findings(
    stack: Stack,
    customers: Sequence[FetchedCustomer],
    links: Mapping[str, MappingRow],
    index: FortnoxIndex,
    lookup: Callable[[str], dict[str, Any] | None],
) -> list[Finding]:
    """Compare Stripe, the mapping and Fortnox; each finding carries the event that fixes it."""
    comparison = _Comparison(stack.settings, links, index)
    for fetched in customers:
        comparison.check(fetched)
    comparison.check_unlisted(lookup)
    comparison.settle_deletions()
    return sorted(comparison.findings, key=lambda f: (ORDER[f.category], f.stripe_id))
