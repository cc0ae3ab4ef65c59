"""What reconcile finds: Stripe, the mapping and Fortnox compared, each difference with the
synthetic event that fixes it (queued only with --fix)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.plan import plan_customer
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.store import MappingRow, OutgoingMessage
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer, queue_message, synthetic_event
from stripe_fortnox_sync.core.models import FortnoxFields, LinkStatus
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.matching import digits
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS

# The fields a Fortnox customer list item carries that we also send: what drift can be seen in.
COMPARED_FIELDS = ("Name", "Email", "ZipCode", "City", "Address1", "OrganisationNumber")
SOURCE = "reconcile"


class Category(StrEnum):
    MISSING = "missing"
    ORPHANED = "orphaned"
    DRIFTED = "drifted"


ORDER = {Category.MISSING: 0, Category.ORPHANED: 1, Category.DRIFTED: 2}


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
    """Fortnox customers linked from more than one active mapping entry."""
    counts = Counter(
        row.fortnox_number for row in links.values() if row.fortnox_number and row.status is LinkStatus.ACTIVE
    )
    return {number for number, n in counts.items() if n > 1}


class _Comparison:
    """One pass over Stripe's customers, then over the mapping entries Stripe did not list."""

    def __init__(self, settings: Settings, links: Mapping[str, MappingRow], index: FortnoxIndex) -> None:
        self.settings = settings
        self.links = links
        self.index = index
        self.findings: list[Finding] = []
        self.created_keys: dict[str, str] = {}
        self.seen: set[str] = set()
        self.shared = shared_numbers(links)
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
        item = self.index.by_number.get(number)
        if item is None:
            detail = "gone from Fortnox (the fix creates it again)"
            self.findings.append(
                Finding(Category.ORPHANED, fetched.id, number or None, detail, fix=self._forced(fetched))
            )
            return
        if number in self.shared:
            # Several Stripe customers (one e-mail) share this Fortnox customer: it shows the
            # last one synced, so the others always differ. Not drift, and nothing to fix.
            return
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
        planned = plan_customer(fetched, link, self.index, self.settings, self.created_keys, source=SOURCE)
        if link is not None:
            detail = "a create was interrupted; the sync recovers it"
        elif planned.fortnox_number:
            rule = self.settings.match_rule.value
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
            if current is not None and not current.get("deleted"):
                # Created after the listing began: compare it like the others.
                self.check(FetchedCustomer(current, int(time.time())))
                continue
            self._deleted(stripe_id, link, gone)

    def _deleted(self, stripe_id: str, link: MappingRow, gone_from_fortnox: bool) -> None:
        deleted = synthetic_event(
            {"id": stripe_id, "object": "customer", "deleted": True},
            created=self.now,
            livemode=self.settings.stripe_livemode,
            source=SOURCE,
            event_type="customer.deleted",
        )
        where = "deleted in Stripe" + (" and gone from Fortnox" if gone_from_fortnox else "")
        self.findings.append(
            Finding(
                Category.ORPHANED,
                stripe_id,
                link.fortnox_number,
                f"{where} (the fix marks the Fortnox customer inactive)",
                fix=queue_message(deleted, source=SOURCE),
            )
        )


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
    return sorted(comparison.findings, key=lambda f: (ORDER[f.category], f.stripe_id))
