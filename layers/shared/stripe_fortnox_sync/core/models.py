"""Domain types shared by the webhook, the sync logic and the stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# A Fortnox customer as we send it: Fortnox field name to value (str or bool).
FortnoxFields = dict[str, Any]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DEACTIVATED = "deactivated"
    IGNORED = "ignored"
    STALE = "stale"
    FAILED = "failed"


class LinkStatus(StrEnum):
    # A Fortnox create is in flight: a crash after it must be recovered, not repeated.
    PENDING = "pending"
    ACTIVE = "active"
    DELETED = "deleted"


class Sharing(StrEnum):
    """How a link stands towards the other live Stripe customers linked to its Fortnox customer.

    Two Stripe customers can match one Fortnox customer (one e-mail in two cases, one
    organisation number). The one linked first owns it and keeps it up to date; the others are
    sharers and never write a field, so one of them alone can neither rename nor deactivate it.
    """

    ALONE = "alone"
    OWNER = "owner"
    SHARER = "sharer"


@dataclass(frozen=True)
class FieldWarning:
    """A Stripe value that could not be sent to Fortnox as it was."""

    field: str
    reason: str  # e.g. "cut to 1024 characters", "dropped: not a valid e-mail address"


@dataclass(frozen=True)
class MappedCustomer:
    """The Fortnox fields a Stripe customer maps to, and what had to be changed to fit."""

    fields: FortnoxFields
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True)
class SyncHint:
    """What our own tools (backfill, reconcile) add to an event they queue.

    `match_checked`: the tool already looked the customer up in a full Fortnox listing, so the
    sync skips its search and uses `fortnox_number` (None: create). `force`: send every field,
    even those whose hashes say unchanged (Fortnox was edited by hand).
    """

    source: str = ""
    match_checked: bool = False
    fortnox_number: str | None = None
    force: bool = False
    # Stripe customers the tool saw linked to the Fortnox customer this one matches: the sync
    # reads their links itself (consistently), not only through the eventually consistent index.
    shared_with: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: Any) -> SyncHint | None:
        if not isinstance(raw, dict):
            return None
        number = raw.get("fortnox_number")
        shared = raw.get("shared_with")
        return cls(
            source=str(raw.get("source") or ""),
            match_checked=bool(raw.get("match_checked")),
            fortnox_number=str(number) if number else None,
            force=bool(raw.get("force")),
            shared_with=tuple(str(s) for s in shared if s) if isinstance(shared, list) else (),
        )


# The key under which our tools put a `SyncHint` into an event body; Stripe never sends it.
HINT_KEY = "stripe_fortnox_sync"


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: int
    livemode: bool
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None
    hint: SyncHint | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StripeEvent:
        data = raw["data"]
        return cls(
            id=raw["id"],
            type=raw["type"],
            created=int(raw["created"]),
            livemode=bool(raw["livemode"]),
            object=data["object"],
            previous_attributes=data.get("previous_attributes"),
            hint=SyncHint.from_dict(raw.get(HINT_KEY)),
        )


@dataclass
class CustomerLink:
    """The stored Stripe-to-Fortnox mapping of one Stripe customer.

    Holds hashes of the fields last sent, not the values, so the table keeps no personal data
    while still telling which fields changed.
    """

    stripe_id: str
    status: LinkStatus
    fortnox_number: str | None = None
    last_event_id: str | None = None
    last_event_created: int = 0
    field_hashes: dict[str, str] = field(default_factory=dict)
    intent_started_at: float | None = None
    updated_at: float = 0.0
    # Optimistic-concurrency counter: a write succeeds only over the version it read.
    version: int = 0
    # Tax id events are ordered on their own: without a Stripe API key they carry the only news
    # of a VAT number, and must not be skipped as older than an unrelated customer update.
    tax_id_event_created: int = 0
    # None: stored before sharing was tracked; the sync looks it up once and stores the answer.
    sharing: Sharing | None = None


@dataclass(frozen=True)
class SyncResult:
    event_id: str
    event_type: str
    stripe_id: str
    outcome: Outcome
    fortnox_number: str | None = None
    detail: str = ""
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True)
class TokenState:
    """A Fortnox access token as every invocation shares it, with the refresh chain behind it."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None
    # The refresh token from the secret that this chain started from: when an operator puts a
    # new one in the secret (re-authorisation), it differs and the chain restarts from it.
    seed_refresh_token: str | None = None
    version: int = 0


@dataclass
class VoucherRecord:
    """A voucher the sync posts, keyed by what it books (a payout, its reversal).

    Written with `body_hash` before the POST and with the voucher's series, number and financial
    year after it: a record with a hash and no number means a POST may have happened, so Fortnox is
    searched for it before posting again. `attached`: the itemised report is connected to it.
    """

    key: str
    body_hash: str
    series: str | None = None
    number: int | None = None
    year: int | None = None
    attached: bool = False

    @property
    def posted(self) -> bool:
        return self.number is not None
