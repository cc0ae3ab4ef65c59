"""What the sync will do with one Stripe customer, decided up front: the backfill's plan (and the
reconcile's fix for a customer that is not mapped), with the event that does it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex
from stripe_fortnox_cli.ops.store import MappingRow, OutgoingMessage
from stripe_fortnox_cli.ops.stripe_source import FetchedCustomer, queue_message, synthetic_event
from stripe_fortnox_sync.core.models import FortnoxFields, LinkStatus
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.matching import match_key
from stripe_fortnox_sync.sync.customer_sync import CLEARABLE_FIELDS, field_hashes
from stripe_fortnox_sync.sync.routes import message_group_id


class Action(StrEnum):
    CREATE = "create"
    ADOPT = "adopt"
    AFTER_TWIN = "after-twin"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    RECOVER = "recover"
    SKIP = "skip"
    INVALID = "invalid"


# Fortnox requests the sync will spend per action (the listing is counted separately).
ACTION_REQUESTS = {
    Action.CREATE: 1,
    Action.ADOPT: 1,
    Action.AFTER_TWIN: 2,
    Action.UPDATE: 1,
    Action.UNCHANGED: 0,
    Action.RECOVER: 2,
    Action.SKIP: 0,
    Action.INVALID: 0,
}
ACTION_TEXT = {
    Action.CREATE: "create in Fortnox",
    Action.ADOPT: "link to an existing Fortnox customer and update it",
    Action.AFTER_TWIN: "shares its match key with a customer created in this backfill: linked after it",
    Action.UPDATE: "update (changed since the last sync)",
    Action.UNCHANGED: "leave alone (unchanged)",
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


def key_digest(rule: MatchRule, key: str) -> str:
    # The cursor file remembers match keys across runs; hashed, so it holds no e-mail addresses.
    return hashlib.sha256(f"{rule.value}\x1f{key}".encode()).hexdigest()[:24]


def _changed(link: MappingRow, fields: FortnoxFields) -> bool:
    hashes = field_hashes(fields)
    if any(link.field_hashes.get(k) != v for k, v in hashes.items()):
        return True
    return any(k not in hashes and k in CLEARABLE_FIELDS for k in link.field_hashes)


def _plan_linked(
    customer_id: str, link: MappingRow, fields: FortnoxFields, event: EventFor, source: str
) -> Planned:
    if link.status is LinkStatus.DELETED:
        return Planned(customer_id, Action.SKIP, link.fortnox_number)
    # Mapped: the normal path, without a hint (no Fortnox call at all when unchanged).
    message = queue_message(event(None), source=source)
    if link.status is LinkStatus.PENDING or not link.fortnox_number:
        return Planned(customer_id, Action.RECOVER, None, message)
    action = Action.UPDATE if _changed(link, fields) else Action.UNCHANGED
    return Planned(customer_id, action, link.fortnox_number, message)


def _plan_unlinked(
    customer_id: str,
    fields: FortnoxFields,
    index: FortnoxIndex | None,
    rule: MatchRule,
    created_keys: dict[str, str],
    event: EventFor,
    source: str,
) -> Planned:
    number = index.match(fields) if index is not None else None
    if number is not None:
        hint = {"match_checked": True, "fortnox_number": number}
        return Planned(customer_id, Action.ADOPT, number, queue_message(event(hint), source=source))
    key = match_key(fields, rule)
    if key is not None:
        digest = key_digest(rule, key)
        first = created_keys.get(digest)
        if first is not None:
            # Another customer of this backfill creates the Fortnox customer this one matches.
            # Queued in that customer's message group, without a hint: it is processed after the
            # create, and the sync's own search links it, as it would for live traffic.
            message = queue_message(event(None), source=source, group_id=first)
            return Planned(customer_id, Action.AFTER_TWIN, None, message, detail=f"after {first}")
        created_keys[digest] = message_group_id(event(None))
    hint = {"match_checked": True, "fortnox_number": None}
    return Planned(customer_id, Action.CREATE, None, queue_message(event(hint), source=source))


def plan_customer(
    fetched: FetchedCustomer,
    link: MappingRow | None,
    index: FortnoxIndex | None,
    settings: Settings,
    created_keys: dict[str, str],
    *,
    source: str = "backfill",
) -> Planned:
    """What a backfill does with one Stripe customer, and the event that does it."""
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

    if link is not None:
        return _plan_linked(fetched.id, link, mapped.fields, event, source)
    return _plan_unlinked(fetched.id, mapped.fields, index, settings.match_rule, created_keys, event, source)
