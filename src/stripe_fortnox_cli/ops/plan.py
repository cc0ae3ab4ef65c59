"""What the sync will do with one Stripe customer, decided up front: the backfill's plan (and the
reconcile's fix for a customer that is not mapped), with the event that does it, if any.

A plan never renames a Fortnox customer another Stripe customer is linked to: a match on one is
queued as a share (the sync links it and writes nothing, `sync/shared_links.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.store import MappingRow, OutgoingMessage
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer, queue_message, synthetic_event
from stripe_fortnox_sync.core.models import FortnoxFields, LinkStatus, Sharing
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.matching import match_key
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS, field_hashes
from stripe_fortnox_sync.sync.routes import message_group_id
from stripe_fortnox_sync.sync.shared_links import names


class Action(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"
    SHARE = "share"
    AFTER_TWIN = "after-twin"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SHARED = "shared"
    RECOVER = "recover"
    SKIP = "skip"
    INVALID = "invalid"


# Fortnox requests the sync will spend per action (the listing is counted separately).
ACTION_REQUESTS = {
    Action.CREATE: 1,
    Action.ADOPT: 1,
    Action.SHARE: 0,
    # The sync's own search finds the customer the first created; it is linked as a sharer.
    Action.AFTER_TWIN: 1,
    Action.UPDATE: 1,
    Action.UNCHANGED: 0,
    Action.SHARED: 0,
    Action.RECOVER: 2,
    Action.SKIP: 0,
    Action.INVALID: 0,
}
ACTION_TEXT = {
    Action.CREATE: "create in Fortnox",
    Action.ADOPT: "link to an existing Fortnox customer and update it",
    Action.SHARE: "link to a Fortnox customer another Stripe customer is linked to, writing nothing to it",
    Action.AFTER_TWIN: "shares its match key with a customer created in this backfill: linked after it, "
    "writing nothing",
    Action.UPDATE: "update (changed since the last sync)",
    Action.UNCHANGED: "leave alone (unchanged)",
    Action.SHARED: "leave alone (shares its Fortnox customer; the customer linked first updates it)",
    Action.RECOVER: "finish an interrupted create",
    Action.SKIP: "skip (deleted in our mapping)",
    Action.INVALID: "skip (cannot be mapped)",
}


@dataclass
class Planned:
    customer_id: str
    action: Action
    fortnox_number: str | None = None
    message: OutgoingMessage | None = None
    detail: str = ""


# The synthetic event for this customer, with or without a hint for the sync.
EventFor = Callable[[Mapping[str, Any] | None], dict[str, Any]]
# Fortnox customer number -> the live Stripe customers linked to it (the mapping, reversed).
Linked = Mapping[str, Sequence[str]]


def linked_by_number(links: Mapping[str, MappingRow]) -> dict[str, list[str]]:
    """The mapping reversed: who is linked to each Fortnox customer. Guest checkouts do not count
    (as in the sync): a Stripe customer taking over a guest's Fortnox customer is no share."""
    linked: dict[str, list[str]] = {}
    for row in sorted(links.values(), key=lambda r: r.stripe_id):
        if row.fortnox_number and row.status is LinkStatus.ACTIVE and not row.is_guest:
            linked.setdefault(row.fortnox_number, []).append(row.stripe_id)
    return linked


def adopted_key(number: str) -> str:
    # In the cursor's created_keys next to the hashed match keys: a Fortnox number adopted in
    # this backfill, so a second match on it is queued after the first, as a share.
    return f"fortnox#{number}"


def key_digest(rule: MatchRule, key: str) -> str:
    # The cursor file remembers match keys across runs; hashed, so it holds no e-mail addresses.
    return hashlib.sha256(f"{rule.value}\x1f{key}".encode()).hexdigest()[:24]


def _changed(link: MappingRow, fields: FortnoxFields) -> bool:
    hashes = field_hashes(fields)
    if any(link.field_hashes.get(k) != v for k, v in hashes.items()):
        return True
    return any(k not in hashes and k in CLEARABLE_FIELDS for k in link.field_hashes)


def _plan_linked(
    customer_id: str, link: MappingRow, fields: FortnoxFields, event: EventFor, source: str, linked: Linked
) -> Planned:
    if link.status is LinkStatus.DELETED:
        return Planned(customer_id, Action.SKIP, link.fortnox_number)
    # Mapped: the normal path, without a hint (no Fortnox call at all when unchanged).
    if link.status is LinkStatus.PENDING or not link.fortnox_number:
        return Planned(customer_id, Action.RECOVER, None, queue_message(event(None), source=source))
    number = link.fortnox_number
    others = [s for s in linked.get(number, ()) if s != customer_id]
    if others and link.sharing is not Sharing.OWNER:
        detail = f"shares Fortnox customer {number} with {names(others)}"
        return Planned(customer_id, Action.SHARED, number, detail=detail)
    if not _changed(link, fields):
        # Nothing to queue: the sync would find it unchanged.
        return Planned(customer_id, Action.UNCHANGED, number)
    return Planned(customer_id, Action.UPDATE, number, queue_message(event(None), source=source))


def _plan_unlinked(
    customer_id: str,
    fields: FortnoxFields,
    index: FortnoxIndex | None,
    rule: MatchRule,
    created_keys: dict[str, str],
    event: EventFor,
    source: str,
    linked: Linked,
) -> Planned:
    number = index.match(fields) if index is not None else None
    if number is not None:
        return _plan_match(customer_id, number, created_keys, event, source, linked)
    key = match_key(fields, rule)
    if key is not None:
        digest = key_digest(rule, key)
        first = created_keys.get(digest)
        if first is not None:
            # Another customer of this backfill creates the Fortnox customer this one matches.
            # Queued in that customer's message group: it is processed after the create, the
            # sync's own search finds that customer, and the hint names who it shares it with.
            message = queue_message(event({"shared_with": [first]}), source=source, group_id=first)
            return Planned(customer_id, Action.AFTER_TWIN, None, message, detail=f"after {first}")
        created_keys[digest] = message_group_id(event(None))
    hint = {"match_checked": True, "fortnox_number": None}
    return Planned(customer_id, Action.CREATE, None, queue_message(event(hint), source=source))


def _plan_match(
    customer_id: str,
    number: str,
    created_keys: dict[str, str],
    event: EventFor,
    source: str,
    linked: Linked,
) -> Planned:
    """An unmapped customer whose match key finds Fortnox customer `number`."""
    others = [s for s in linked.get(number, ()) if s != customer_id]
    first = created_keys.get(adopted_key(number))
    hint: dict[str, Any] = {"match_checked": True, "fortnox_number": number}
    if not others and first is None:
        created_keys[adopted_key(number)] = message_group_id(event(None))
        return Planned(customer_id, Action.ADOPT, number, queue_message(event(hint), source=source))
    # Linked already, or adopted earlier in this backfill (queued in that one's group, so it is
    # processed after it): a share. The hint names the others so the sync reads their links
    # itself, before the index has caught up.
    sharers = others or [first or ""]
    message = queue_message(
        event({**hint, "shared_with": sharers}), source=source, group_id=None if others else first
    )
    detail = f"shares Fortnox customer {number} with {names(sharers)}"
    return Planned(customer_id, Action.SHARE, number, message, detail=detail)


def plan_customer(
    fetched: FetchedCustomer,
    link: MappingRow | None,
    index: FortnoxIndex | None,
    settings: Settings,
    created_keys: dict[str, str],
    *,
    source: str = "backfill",
    linked: Linked | None = None,
) -> Planned:
    """What a backfill does with one Stripe customer, and the event that does it.

    `linked`: the mapping reversed (`linked_by_number`), to see who shares what.
    """
    try:
        mapped = map_customer(fetched.data, settings)
    except ValueError as exc:
        return Planned(fetched.id, Action.INVALID, detail=str(exc))

    def event(hint: Mapping[str, Any] | None) -> dict[str, Any]:
        return synthetic_event(
            fetched.data,
            created=fetched.fetched_at,
            livemode=settings.stripe_livemode,
            source=source,
            hint=hint,
        )

    linked = linked or {}
    if link is not None:
        return _plan_linked(fetched.id, link, mapped.fields, event, source, linked)
    rule = settings.match_rule
    return _plan_unlinked(fetched.id, mapped.fields, index, rule, created_keys, event, source, linked)
