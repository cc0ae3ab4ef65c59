"""Sync decisions: what one Stripe event does to Fortnox and to the stored mapping.

Costs, in Fortnox requests: a new customer 2 (search, create; 1 with match rule none), a changed
customer 1, an unchanged one 0, a deletion 1. A customer matched to a Fortnox customer another
live Stripe customer is linked to is linked as a sharer and writes nothing (`shared_links.py`).
Knows nothing of SQS, HTTP or DynamoDB: it talks to the `FortnoxCustomers` and `MappingStore` ports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from stripe_fortnox_sync.core.errors import FortnoxError, PermanentEventError
from stripe_fortnox_sync.core.models import (
    CustomerLink,
    LinkStatus,
    MappedCustomer,
    Outcome,
    Sharing,
    StripeEvent,
    SyncResult,
)
from stripe_fortnox_sync.core.ports import FortnoxCustomers, MappingStore
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.identity import guest_key
from stripe_fortnox_sync.sync.customer_fields import CLEARABLE_FIELDS, customer_result, field_hashes
from stripe_fortnox_sync.sync.customer_lookup import match_existing, recover_created
from stripe_fortnox_sync.sync.shared_links import (
    SharedLinks,
    kept_detail,
    new_share_detail,
    owner_detail,
    sharer_detail,
)
from stripe_fortnox_sync.sync.tax_id_sync import apply_tax_id

# The operator commands plan with the same hashes and clearable fields the sync compares.
__all__ = ["CLEARABLE_FIELDS", "CUSTOMER_EVENTS", "CustomerSync", "field_hashes"]

CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})

# A Fortnox customer found for a new link: (number, how it was found, whether we created it).
Found = tuple[str | None, str, bool]


def _duplicate(event: StripeEvent, link: CustomerLink) -> SyncResult:
    """The event this link last applied, delivered again: every step of it is done. The mapping's
    last event id is what makes a customer event's repeat a no-op without an idempotency record."""
    detail = "duplicate delivery (already applied to the mapping)"
    return customer_result(event, link.stripe_id, Outcome.IGNORED, link.fortnox_number, detail)


class CustomerSync:
    def __init__(
        self,
        settings: Settings,
        fortnox: FortnoxCustomers,
        links: MappingStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._fortnox = fortnox
        self._links = links
        self._shares = SharedLinks(links)
        self._clock = clock

    def apply(self, event: StripeEvent) -> SyncResult:
        """A `customer.*` event, applied from its own payload."""
        if event.type in CUSTOMER_EVENTS:
            return self.upsert(event, event.object)
        if event.type == "customer.deleted":
            return self.deactivate(event, str(event.object.get("id", "")))
        stripe_id = str(event.object.get("id", ""))
        return customer_result(event, stripe_id, Outcome.IGNORED, None, "type not handled")

    def linked_number(self, key: str) -> str | None:
        """The Fortnox customer number `key` is mapped to, if it is mapped and active."""
        link = self._links.get(key)
        return link.fortnox_number if link and link.status is LinkStatus.ACTIVE else None

    def apply_tax_id(self, event: StripeEvent, tax_id: Mapping[str, Any], deleted: bool) -> SyncResult:
        """A tax id change applied from its own payload (no Stripe API key): `tax_id_sync.py`."""
        return apply_tax_id(self._settings, self._fortnox, self._links, event, tax_id, deleted)

    # Create or update -------------------------------------------------------------------------

    def upsert(
        self,
        event: StripeEvent,
        customer: Mapping[str, Any],
        *,
        link_key: str | None = None,
        partial: bool = False,
        tax_ids: Sequence[Mapping[str, Any]] | None = None,
    ) -> SyncResult:
        """Create or update the Fortnox customer for `customer` (a Stripe Customer, or the
        customer details a checkout or invoice carries).

        `partial`: the source is a snapshot with some fields only, so nothing absent from it is
        blanked. `link_key`: the mapping key when it is not the Stripe customer id (guests).
        """
        source_id = str(customer.get("id") or "")
        key = link_key or source_id
        if not key or (link_key is None and not source_id.startswith("cus_")):
            raise PermanentEventError("bad_payload", f"event {event.id} carries no Stripe customer id")
        link = self._links.get(key)
        if link and link.last_event_id == event.id:
            return _duplicate(event, link)
        if link and link.last_event_created > event.created:
            return customer_result(
                event, key, Outcome.STALE, link.fortnox_number, "a newer event was applied"
            )
        if link and link.status is LinkStatus.DELETED:
            return customer_result(event, key, Outcome.IGNORED, link.fortnox_number, "customer was deleted")

        try:
            mapped = map_customer(customer, self._settings, tax_ids)
        except ValueError as exc:
            raise PermanentEventError("bad_payload", f"event {event.id}: {exc}") from None
        if partial and tax_ids is None and link and link.status is LinkStatus.ACTIVE:
            # A snapshot without tax ids cannot tell a company from a person: keep what is there.
            mapped = replace(mapped, fields={k: v for k, v in mapped.fields.items() if k != "Type"})
        hashes = field_hashes(mapped.fields)
        if link and link.status is LinkStatus.ACTIVE and link.fortnox_number:
            result = self._update_linked(event, link, mapped, hashes, partial)
            if result is not None:
                return result
            # The Fortnox customer was removed by hand: create it again, keeping our record.
            link.status, link.intent_started_at = LinkStatus.PENDING, None
        return self._create_or_adopt(event, key, link, mapped, hashes)

    def _update_linked(
        self,
        event: StripeEvent,
        link: CustomerLink,
        mapped: MappedCustomer,
        hashes: dict[str, str],
        partial: bool = False,
    ) -> SyncResult | None:
        number = link.fortnox_number
        assert number is not None
        link.sharing, others = self._shares.standing(link)
        if link.sharing is Sharing.SHARER:
            # Nothing of ours is known to be in Fortnox: should this link ever stand alone, its
            # next event sends every field.
            self._remember(link, event, LinkStatus.ACTIVE, number, {})
            detail = sharer_detail(number, others)
            return customer_result(event, link.stripe_id, Outcome.UNCHANGED, number, detail, mapped)
        force = bool(event.hint and event.hint.force)
        changes = {k: v for k, v in mapped.fields.items() if force or link.field_hashes.get(k) != hashes[k]}
        if not partial:
            changes.update({k: "" for k in link.field_hashes if k not in hashes and k in CLEARABLE_FIELDS})
        outcome = Outcome.UNCHANGED
        if changes:
            try:
                self._fortnox.update_customer(number, changes)
            except FortnoxError as exc:
                if exc.status == 404:
                    return None
                raise
            outcome = Outcome.UPDATED
        kept = {
            k: v
            for k, v in link.field_hashes.items()
            if k not in hashes and (partial or k not in CLEARABLE_FIELDS)
        }
        self._remember(link, event, LinkStatus.ACTIVE, number, {**kept, **hashes})
        detail = owner_detail(number, others) if others else ""
        return customer_result(event, link.stripe_id, outcome, number, detail, mapped)

    def _create_or_adopt(
        self,
        event: StripeEvent,
        stripe_id: str,
        link: CustomerLink | None,
        mapped: MappedCustomer,
        hashes: dict[str, str],
    ) -> SyncResult:
        number, detail, ours = self._existing(event, stripe_id, link, mapped)
        link = link or CustomerLink(stripe_id=stripe_id, status=LinkStatus.PENDING)
        if number is None:
            number, outcome = self._create(link, mapped, hashes), Outcome.CREATED
        else:
            also = event.hint.shared_with if event.hint else ()
            others = [] if ours else self._shares.others(number, stripe_id, also)
            if others:
                return self._link_shared(event, link, number, detail, others, mapped)
            self._fortnox.update_customer(number, mapped.fields)
            outcome = Outcome.UPDATED
        link.sharing = Sharing.ALONE
        self._remember(link, event, LinkStatus.ACTIVE, number, hashes)
        return customer_result(event, stripe_id, outcome, number, detail, mapped)

    def _existing(
        self, event: StripeEvent, stripe_id: str, link: CustomerLink | None, mapped: MappedCustomer
    ) -> Found:
        """The Fortnox customer this one already is: one an interrupted create of ours made, a
        guest checkout's, the tool's match, or the configured rule's match."""
        if link and link.status is LinkStatus.PENDING and link.intent_started_at is not None:
            reference = str(mapped.fields.get("ExternalReference") or stripe_id)
            recovered = recover_created(self._fortnox, reference, link)
            if recovered:
                return recovered, "recovered an interrupted create", True
        if not stripe_id.startswith("guest#") and mapped.fields.get("Email"):
            # A guest checkout with this e-mail came first: that Fortnox customer is this one.
            guest = self._links.get(guest_key(str(mapped.fields["Email"])))
            if guest and guest.status is LinkStatus.ACTIVE and guest.fortnox_number:
                return guest.fortnox_number, "matched an earlier guest checkout", False
        hint = event.hint
        if hint is not None and hint.match_checked:
            # Backfill matched against one full Fortnox listing: no per-customer search.
            number = hint.fortnox_number
            return number, f"matched by {hint.source or 'hint'}" if number else "", False
        if self._settings.match_rule is not MatchRule.NONE:
            # The search and then the create (or the update of a match): their slots in one write.
            self._fortnox.reserve(2)
        number = match_existing(self._fortnox, mapped.fields, self._settings.match_rule)
        return number, f"matched by {self._settings.match_rule.value}" if number else "", False

    def _create(self, link: CustomerLink, mapped: MappedCustomer, hashes: dict[str, str]) -> str:
        # Record the intent before creating, so a crash after the create is recoverable:
        # Fortnox cannot be searched by ExternalReference.
        link.status, link.intent_started_at = LinkStatus.PENDING, self._clock()
        link.field_hashes = hashes  # the recovery recognises the created customer by these
        self._links.save(link)
        try:
            created = self._fortnox.create_customer(mapped.fields)
        except FortnoxError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 429):
                # Refused before anything was created: nothing to recover on the retry or redrive
                # (recovery reads every recently modified customer, which can be many).
                link.intent_started_at = None
                self._links.save(link)
            raise
        number = str(created.get("CustomerNumber") or "")
        if not number:
            raise FortnoxError("create answered without a CustomerNumber", method="POST", path="/customers")
        return number

    def _link_shared(
        self,
        event: StripeEvent,
        link: CustomerLink,
        number: str,
        how: str,
        others: list[str],
        mapped: MappedCustomer,
    ) -> SyncResult:
        """Link to a Fortnox customer another live Stripe customer owns, writing nothing to it."""
        self._shares.mark_owner(others)
        link.sharing = Sharing.SHARER
        self._remember(link, event, LinkStatus.ACTIVE, number, {})
        detail = new_share_detail(number, how or "matched", others)
        return customer_result(event, link.stripe_id, Outcome.UNCHANGED, number, detail, mapped)

    # Delete -----------------------------------------------------------------------------------

    def deactivate(self, event: StripeEvent, stripe_id: str) -> SyncResult:
        link = self._links.get(stripe_id)
        if link is None:
            # Remember the deletion: its older create or update may still be on its way (Stripe
            # does not keep order) and must not bring the customer back.
            tombstone = CustomerLink(stripe_id=stripe_id, status=LinkStatus.DELETED)
            self._remember(tombstone, event, LinkStatus.DELETED, None, {})
            return customer_result(event, stripe_id, Outcome.IGNORED, None, "never synced to Fortnox")
        if link.last_event_id == event.id:
            return _duplicate(event, link)
        if link.last_event_created > event.created:
            return customer_result(
                event, stripe_id, Outcome.STALE, link.fortnox_number, "a newer event was applied"
            )
        if link.status is LinkStatus.DELETED:
            return customer_result(
                event, stripe_id, Outcome.UNCHANGED, link.fortnox_number, "already inactive"
            )
        number = link.fortnox_number
        if link.status is LinkStatus.PENDING and link.intent_started_at is not None:
            number = recover_created(self._fortnox, stripe_id, link)
        # Always asked (one index query, no Fortnox request): links stored before sharing was
        # tracked carry no flag, and a share may be made while this deletion is under way.
        others = self._shares.others(number, stripe_id) if number else []
        if others:
            self._remember(link, event, LinkStatus.DELETED, number, link.field_hashes)
            detail = kept_detail(str(number), others)
            return customer_result(event, stripe_id, Outcome.UNCHANGED, number, detail)
        if number:
            try:
                # Bookkeeping keeps the customer: it only becomes inactive.
                self._fortnox.update_customer(number, {"Active": False})
            except FortnoxError as exc:
                if exc.status != 404:
                    raise
        self._remember(link, event, LinkStatus.DELETED, number, link.field_hashes)
        return customer_result(event, stripe_id, Outcome.DEACTIVATED, number)

    # Helpers ----------------------------------------------------------------------------------

    def _remember(
        self,
        link: CustomerLink,
        event: StripeEvent,
        status: LinkStatus,
        number: str | None,
        hashes: dict[str, str],
    ) -> None:
        link.status = status
        link.fortnox_number = number
        link.field_hashes = hashes
        link.last_event_id = event.id
        link.last_event_created = max(link.last_event_created, event.created)
        link.intent_started_at = None
        self._links.save(link)
