"""Sync decisions: what one Stripe event does to Fortnox and to the stored mapping.

Costs, in Fortnox requests: a new customer 2 (search, create; 1 with match rule none), a changed
customer 1, an unchanged one 0, a deletion 1. Knows nothing of SQS, HTTP or DynamoDB: it talks
to the `FortnoxCustomers` and `MappingStore` ports.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.core.errors import FortnoxError, PermanentEventError
from stripe_fortnox_sync.core.models import (
    CustomerLink,
    FortnoxFields,
    LinkStatus,
    MappedCustomer,
    Outcome,
    StripeEvent,
    SyncResult,
)
from stripe_fortnox_sync.core.ports import FortnoxCustomers, MappingStore
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.mapping.customer import map_customer
from stripe_fortnox_sync.mapping.identity import guest_key
from stripe_fortnox_sync.mapping.matching import lowest_number, match_key, number_order

# Fields we may blank when Stripe loses a value. Coded fields (country, currency, VAT type) and
# fields Fortnox requires to be non-empty (Name, Address1) are left as they were.
CLEARABLE_FIELDS = frozenset(
    {
        "Email",
        "Phone1",
        "Address2",
        "ZipCode",
        "City",
        "DeliveryName",
        "DeliveryAddress1",
        "DeliveryAddress2",
        "DeliveryZipCode",
        "DeliveryCity",
        "DeliveryPhone1",
        "VATNumber",
        "OrganisationNumber",
    }
)

CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})

# How far back a crash-recovery search looks before the create was attempted: Fortnox's
# lastmodified filter has minute resolution, and its clock and ours may differ a little.
RECOVERY_LOOKBACK = timedelta(minutes=2)
# What a Fortnox customer list item shows of the fields we sent: enough to pick the customer an
# interrupted create made (by the stored hashes) without reading every recent customer.
RECOVERY_FIELDS = ("Name", "Email")


def field_hashes(fields: FortnoxFields) -> dict[str, str]:
    """Short per-field digests: enough to see what changed without storing personal data."""
    return {
        key: hashlib.sha256(f"{key}\x1f{json.dumps(value, ensure_ascii=False)}".encode()).hexdigest()[:16]
        for key, value in fields.items()
    }


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
        self._clock = clock

    def apply(self, event: StripeEvent) -> SyncResult:
        """A `customer.*` event, applied from its own payload."""
        if event.type in CUSTOMER_EVENTS:
            return self.upsert(event, event.object)
        if event.type == "customer.deleted":
            return self.deactivate(event, str(event.object.get("id", "")))
        return self._result(event, str(event.object.get("id", "")), Outcome.IGNORED, None, "type not handled")

    def linked_number(self, key: str) -> str | None:
        """The Fortnox customer number `key` is mapped to, if it is mapped and active."""
        link = self._links.get(key)
        return link.fortnox_number if link and link.status is LinkStatus.ACTIVE else None

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
        if link and link.last_event_created > event.created:
            return self._result(event, key, Outcome.STALE, link.fortnox_number, "a newer event was applied")
        if link and link.status is LinkStatus.DELETED:
            return self._result(event, key, Outcome.IGNORED, link.fortnox_number, "customer was deleted")

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
        assert link.fortnox_number is not None
        force = bool(event.hint and event.hint.force)
        changes: FortnoxFields = {
            k: v for k, v in mapped.fields.items() if force or link.field_hashes.get(k) != hashes[k]
        }
        if not partial:
            changes.update({k: "" for k in link.field_hashes if k not in hashes and k in CLEARABLE_FIELDS})
        outcome = Outcome.UNCHANGED
        if changes:
            try:
                self._fortnox.update_customer(link.fortnox_number, changes)
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
        self._remember(link, event, LinkStatus.ACTIVE, link.fortnox_number, {**kept, **hashes})
        return self._result(event, link.stripe_id, outcome, link.fortnox_number, mapped=mapped)

    def apply_tax_id(self, event: StripeEvent, tax_id: Mapping[str, Any], deleted: bool) -> SyncResult:
        """A tax id change applied from its own payload, when the current customer cannot be
        fetched from Stripe: VATNumber, OrganisationNumber, Type and VATType follow the tax id;
        on deletion only what we know came from it is blanked."""
        customer_id = str(tax_id.get("customer") or "")
        link = self._links.get(customer_id) if customer_id else None
        if link is None or link.status is not LinkStatus.ACTIVE or not link.fortnox_number:
            return self._result(
                event,
                customer_id,
                Outcome.IGNORED,
                None,
                "customer not in Fortnox yet; a Stripe API key lets tax ids that arrive first apply",
            )
        if link.tax_id_event_created > event.created:
            return self._result(
                event, customer_id, Outcome.STALE, link.fortnox_number, "a newer tax id event"
            )
        pseudo = {"id": customer_id, "address": {"country": tax_id.get("country")}}
        derived = map_customer(pseudo, self._settings, [tax_id]).fields
        fields: FortnoxFields = {
            k: derived[k] for k in ("VATNumber", "OrganisationNumber", "Type", "VATType") if k in derived
        }
        detail = ""
        if deleted:
            gone = field_hashes(fields)
            changes: FortnoxFields = {
                k: ""
                for k in ("VATNumber", "OrganisationNumber")
                if k in gone and link.field_hashes.get(k) == gone[k]
            }
            hashes = {k: v for k, v in link.field_hashes.items() if k not in changes}
            detail = "Type and VATType left as they are (no Stripe API key to read the other tax ids)"
        else:
            new = field_hashes(fields)
            changes = {k: v for k, v in fields.items() if link.field_hashes.get(k) != new[k]}
            hashes = {**link.field_hashes, **new}
        if changes:
            self._fortnox.update_customer(link.fortnox_number, changes)
        link.tax_id_event_created = max(link.tax_id_event_created, event.created)
        link.field_hashes = hashes
        link.last_event_id = event.id
        self._links.save(link)
        outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED
        return self._result(event, customer_id, outcome, link.fortnox_number, detail)

    def _create_or_adopt(
        self,
        event: StripeEvent,
        stripe_id: str,
        link: CustomerLink | None,
        mapped: MappedCustomer,
        hashes: dict[str, str],
    ) -> SyncResult:
        number: str | None = None
        detail = ""
        reference = str(mapped.fields.get("ExternalReference") or stripe_id)
        if link and link.status is LinkStatus.PENDING and link.intent_started_at is not None:
            number = self._recover(reference, link)
            detail = "recovered an interrupted create" if number else ""
        hint = event.hint
        if number is None and not stripe_id.startswith("guest#") and mapped.fields.get("Email"):
            # A guest checkout with this e-mail came first: that Fortnox customer is this one.
            guest = self._links.get(guest_key(str(mapped.fields["Email"])))
            if guest and guest.status is LinkStatus.ACTIVE and guest.fortnox_number:
                number, detail = guest.fortnox_number, "matched an earlier guest checkout"
        if number is None and hint is not None and hint.match_checked:
            # Backfill matched against one full Fortnox listing: no per-customer search.
            number = hint.fortnox_number
            detail = f"matched by {hint.source or 'hint'}" if number else ""
        elif number is None:
            number = self._match(mapped.fields)
            detail = f"matched by {self._settings.match_rule.value}" if number else ""
        if number is not None:
            self._fortnox.update_customer(number, mapped.fields)
            outcome = Outcome.UPDATED
        else:
            # Record the intent before creating, so a crash after the create is recoverable:
            # Fortnox cannot be searched by ExternalReference.
            link = link or CustomerLink(stripe_id=stripe_id, status=LinkStatus.PENDING)
            link.status, link.intent_started_at = LinkStatus.PENDING, self._clock()
            link.field_hashes = hashes  # the recovery recognises the created customer by these
            link = self._links.save(link)
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
                raise FortnoxError(
                    "create answered without a CustomerNumber", method="POST", path="/customers"
                )
            outcome = Outcome.CREATED
        if link is None:
            link = CustomerLink(stripe_id=stripe_id, status=LinkStatus.ACTIVE)
        self._remember(link, event, LinkStatus.ACTIVE, number, hashes)
        return self._result(event, stripe_id, outcome, number, detail, mapped)

    def _match(self, fields: FortnoxFields) -> str | None:
        """An existing Fortnox customer for this one, by the configured rule.

        Fortnox filters are substring matches, so every hit is checked for an exact match.
        """
        rule = self._settings.match_rule
        wanted = match_key(fields, rule)
        if wanted is None:
            return None
        search = (
            {"email": wanted}
            if rule is MatchRule.EMAIL
            else {"organisationnumber": str(fields["OrganisationNumber"])}
        )
        hits = self._fortnox.list_customers(search)
        return lowest_number(h for h in hits if match_key(h, rule) == wanted)

    def _recover(self, reference: str, link: CustomerLink) -> str | None:
        """Find the customer an interrupted attempt created, by its ExternalReference.

        Only customers modified since the attempt whose name or e-mail hash matches what the
        attempt sent are read; all of them only for an intent stored without hashes.
        """
        assert link.intent_started_at is not None
        since = datetime.fromtimestamp(link.intent_started_at, FORTNOX_ZONE) - RECOVERY_LOOKBACK
        candidates = self._fortnox.list_customers({"lastmodified": since.strftime("%Y-%m-%d %H:%M")})
        sent = {k: v for k, v in link.field_hashes.items() if k in RECOVERY_FIELDS}
        if sent:
            candidates = [
                c
                for c in candidates
                if any(field_hashes({k: c.get(k)}).get(k) == v for k, v in sent.items() if c.get(k))
            ]
        for candidate in sorted(candidates, key=lambda c: number_order(c.get("CustomerNumber"))):
            number = str(candidate.get("CustomerNumber") or "")
            if number and self._fortnox.get_customer(number).get("ExternalReference") == reference:
                return number
        return None

    # Delete -----------------------------------------------------------------------------------

    def deactivate(self, event: StripeEvent, stripe_id: str) -> SyncResult:
        link = self._links.get(stripe_id)
        if link is None:
            # Remember the deletion: its older create or update may still be on its way (Stripe
            # does not keep order) and must not bring the customer back.
            tombstone = CustomerLink(stripe_id=stripe_id, status=LinkStatus.DELETED)
            self._remember(tombstone, event, LinkStatus.DELETED, None, {})
            return self._result(event, stripe_id, Outcome.IGNORED, None, "never synced to Fortnox")
        if link.last_event_created > event.created:
            return self._result(
                event, stripe_id, Outcome.STALE, link.fortnox_number, "a newer event was applied"
            )
        if link.status is LinkStatus.DELETED:
            return self._result(event, stripe_id, Outcome.UNCHANGED, link.fortnox_number, "already inactive")
        number = link.fortnox_number
        if link.status is LinkStatus.PENDING and link.intent_started_at is not None:
            number = self._recover(stripe_id, link)
        if number:
            try:
                # Bookkeeping keeps the customer: it only becomes inactive.
                self._fortnox.update_customer(number, {"Active": False})
            except FortnoxError as exc:
                if exc.status != 404:
                    raise
        self._remember(link, event, LinkStatus.DELETED, number, link.field_hashes)
        return self._result(event, stripe_id, Outcome.DEACTIVATED, number)

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

    @staticmethod
    def _result(
        event: StripeEvent,
        stripe_id: str,
        outcome: Outcome,
        number: str | None,
        detail: str = "",
        mapped: MappedCustomer | None = None,
    ) -> SyncResult:
        return SyncResult(
            event_id=event.id,
            event_type=event.type,
            stripe_id=stripe_id,
            outcome=outcome,
            fortnox_number=number,
            detail=detail,
            warnings=mapped.warnings if mapped else (),
        )
