"""How an unmapped Stripe customer is matched to a Fortnox customer that already exists.

One definition for the sync (which searches Fortnox per customer) and the operator commands
(which match against one full listing), so both link a customer to the same Fortnox customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from stripe_fortnox_sync.core.settings import MatchRule


def digits(value: object) -> str:
    """Only the digits: organisation numbers are typed with and without their dash."""
    return re.sub(r"\D", "", str(value or ""))


def match_key(fields: Mapping[str, Any], rule: MatchRule) -> str | None:
    """What the match rule compares, normalised; None when the customer has nothing to match by.

    Fortnox's own search filters match substrings, so a hit counts only when its key is equal.
    """
    if rule is MatchRule.EMAIL:
        email = str(fields.get("Email") or "").strip().lower()
        return email or None
    if rule is MatchRule.ORGANISATION_NUMBER:
        return digits(fields.get("OrganisationNumber")) or None
    return None


def number_order(number: object) -> tuple[int, str]:
    """Sorts Fortnox customer numbers numerically (the oldest first), others after them."""
    text = str(number or "")
    return (int(text) if text.isdigit() else 1 << 62, text)


def lowest_number(customers: Iterable[Mapping[str, Any]]) -> str | None:
    """Among several exact matches (duplicates made by hand) the oldest customer: the one its
    invoices most likely point at."""
    numbers = [str(c.get("CustomerNumber") or "") for c in customers]
    return min((n for n in numbers if n), key=number_order, default=None)
