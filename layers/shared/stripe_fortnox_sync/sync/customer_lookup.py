"""Finding a Fortnox customer that already is this Stripe customer: by the match rule, or the one
an interrupted create made (the crash between the Fortnox write and the mapping write)."""

from __future__ import annotations

from datetime import datetime, timedelta

from stripe_fortnox_sync.core.calendar import FORTNOX_ZONE
from stripe_fortnox_sync.core.models import CustomerLink, FortnoxFields
from stripe_fortnox_sync.core.ports import FortnoxCustomers
from stripe_fortnox_sync.core.settings import MatchRule
from stripe_fortnox_sync.mapping.matching import lowest_number, match_key, number_order
from stripe_fortnox_sync.sync.customer_fields import field_hashes

# How far back a crash-recovery search looks before the create was attempted: Fortnox's
# lastmodified filter has minute resolution, and its clock and ours may differ a little.
RECOVERY_LOOKBACK = timedelta(minutes=2)
# What a Fortnox customer list item shows of the fields we sent: enough to pick the customer an
# interrupted create made (by the stored hashes) without reading every recent customer.
RECOVERY_FIELDS = ("Name", "Email")


def recover_created(fortnox: FortnoxCustomers, reference: str, link: CustomerLink) -> str | None:
    """The customer an interrupted attempt created, found by its ExternalReference.

    Fortnox cannot be searched by ExternalReference, so recently modified customers are listed:
    only customers modified since the attempt whose name or e-mail hash matches what the attempt
    sent are read; all of them only for an intent stored without hashes.
    """
    assert link.intent_started_at is not None
    since = datetime.fromtimestamp(link.intent_started_at, FORTNOX_ZONE) - RECOVERY_LOOKBACK
    candidates = fortnox.list_customers({"lastmodified": since.strftime("%Y-%m-%d %H:%M")})
    sent = {k: v for k, v in link.field_hashes.items() if k in RECOVERY_FIELDS}
    if sent:
        candidates = [
            c
            for c in candidates
            if any(field_hashes({k: c.get(k)}).get(k) == v for k, v in sent.items() if c.get(k))
        ]
    for candidate in sorted(candidates, key=lambda c: number_order(c.get("CustomerNumber"))):
        number = str(candidate.get("CustomerNumber") or "")
        if number and fortnox.get_customer(number).get("ExternalReference") == reference:
            return number
    return None


def match_existing(fortnox: FortnoxCustomers, fields: FortnoxFields, rule: MatchRule) -> str | None:
    """An existing Fortnox customer for this one, by the configured rule (one search).

    Fortnox filters are substring matches, so every hit is checked for an exact match.
    """
    wanted = match_key(fields, rule)
    if wanted is None:
        return None
    search = (
        {"email": wanted}
        if rule is MatchRule.EMAIL
        else {"organisationnumber": str(fields["OrganisationNumber"])}
    )
    hits = fortnox.list_customers(search)
    return lowest_number(h for h in hits if match_key(h, rule) == wanted)
