"""Fortnox customers linked to more than one live Stripe customer: who shares, who may write.

A match (e-mail, organisation number, a tool's hint) can land on a Fortnox customer that another
live Stripe customer is already linked to: one e-mail in two cases, a company with two Stripe
customers. The rules, so that one of them alone can neither rename nor deactivate it:

- the Stripe customer linked first is the owner: the Fortnox customer carries its
  ExternalReference and data, and its changes are still written (else its address and VAT
  details would silently go stale in the books);
- every later one is a sharer: linked (its invoices go to that customer) without writing a field;
- a `customer.deleted` marks the Fortnox customer inactive only when no other live Stripe customer
  maps to it; otherwise only that link is marked deleted;
- once a sharer is the only live link left (the others were deleted), it is an ordinary link
  again, and its next event sends every field.

Cost: a link never shared is stored as `Sharing.ALONE` and its events read nothing more. Shared
links, and links stored before sharing was tracked (once), look the others up through the
mapping table's index by Fortnox number; a deletion always does (one query, no Fortnox request).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stripe_fortnox_sync.core.models import CustomerLink, LinkStatus, Sharing
from stripe_fortnox_sync.core.ports import MappingStore

# How many sharers a result's detail names before it only counts the rest.
NAMED = 3


def names(stripe_ids: Sequence[str]) -> str:
    shown = ", ".join(stripe_ids[:NAMED])
    rest = len(stripe_ids) - NAMED
    return f"{shown} and {rest} more" if rest > 0 else shown


def sharer_detail(number: str, others: Sequence[str]) -> str:
    return f"Fortnox customer {number} is shared with {names(others)}: no fields written"


def owner_detail(number: str, others: Sequence[str]) -> str:
    shared = f"Fortnox customer {number} is shared with {names(others)}"
    return f"{shared}; linked first, this customer keeps it up to date"


def new_share_detail(number: str, how: str, others: Sequence[str]) -> str:
    return f"linked to Fortnox customer {number} ({how}), shared with {names(others)}: no fields written"


def kept_detail(number: str, others: Sequence[str]) -> str:
    return (
        f"Fortnox customer {number} stays active: {names(others)} still maps to it; only this link is deleted"
    )


class SharedLinks:
    """The sharing rules over the mapping store."""

    def __init__(self, links: MappingStore) -> None:
        self._links = links

    def others(self, number: str, key: str, also: Iterable[str] = ()) -> list[str]:
        """The live Stripe customers other than `key` linked to Fortnox customer `number`.

        Guest checkouts do not count: they are no Stripe customer, and a Stripe customer taking
        over a guest's Fortnox customer is what the guest match is for. `also`: ids a tool saw
        linked to it, read here consistently in case the index has not caught up yet.
        """
        found = set(self._links.linked_to(number))
        for stripe_id in also:
            if stripe_id in found or stripe_id == key:
                continue
            link = self._links.get(stripe_id)
            if link and link.status is LinkStatus.ACTIVE and link.fortnox_number == number:
                found.add(stripe_id)
        return sorted(k for k in found if k.startswith("cus_") and k != key)

    def standing(self, link: CustomerLink) -> tuple[Sharing, list[str]]:
        """The link's role now, and who else is linked: reads nothing for a link never shared."""
        if link.sharing is Sharing.ALONE or not link.fortnox_number:
            return Sharing.ALONE, []
        others = self.others(link.fortnox_number, link.stripe_id)
        if not others:
            return Sharing.ALONE, []
        if link.sharing is Sharing.OWNER:
            return Sharing.OWNER, others
        # A sharer; or a link stored before sharing was tracked that turns out to be shared: the
        # Fortnox customer may show another's data by now, so nobody writes until an operator
        # decides (docs/runbook.md), or the others are deleted.
        return Sharing.SHARER, others

    def mark_owner(self, others: Sequence[str]) -> None:
        """A first share of a Fortnox customer: its one live link becomes the owner.

        Written before the sharer's own link, so an interrupted share leaves at most an owner
        without sharers, which its next event finds alone again. A concurrent write to the
        owner's link raises ConflictError: the sharer's event is retried.
        """
        if len(others) != 1:
            return
        link = self._links.get(others[0])
        if link is not None and link.sharing in (None, Sharing.ALONE):
            link.sharing = Sharing.OWNER
            self._links.save(link)
