"""Matching Stripe customers against one Fortnox listing, as backfill and reconcile do."""

from __future__ import annotations

import io
from typing import Any

from stripe_fortnox_cli.ops.fortnox_index import FortnoxIndex, list_fortnox_customers
from stripe_fortnox_sync.core.settings import MatchRule
from stripe_fortnox_sync.mapping.matching import lowest_number
from tests.fakes import RecordingRequester, Request


def test_local_match_follows_the_stack_rule() -> None:
    items = [
        {"CustomerNumber": "12", "Email": "Anna@Example.se", "OrganisationNumber": "556677-8899"},
        {"CustomerNumber": "7", "Email": "anna@example.se ", "OrganisationNumber": ""},
    ]
    by_email = FortnoxIndex(items, MatchRule.EMAIL)
    assert by_email.match({"Email": "ANNA@example.se"}) == "7"  # exact but case-blind; lowest number
    assert by_email.match({"Email": "ann@example.se"}) is None  # no substring matches
    by_org = FortnoxIndex(items, MatchRule.ORGANISATION_NUMBER)
    assert by_org.match({"OrganisationNumber": "5566778899"}) == "12"
    assert FortnoxIndex(items, MatchRule.NONE).match({"Email": "anna@example.se"}) is None


def test_the_lowest_customer_number_is_numeric_not_alphabetical() -> None:
    assert lowest_number([{"CustomerNumber": "10"}, {"CustomerNumber": "9"}, {"CustomerNumber": "A1"}]) == "9"
    assert lowest_number([]) is None


def two_pages(request: Request) -> dict[str, Any]:
    """Three customers on two pages, as Fortnox's list endpoint returns them."""
    page = int((request.params or {}).get("page", 1))
    customers = [{"CustomerNumber": "1"}, {"CustomerNumber": "2"}] if page == 1 else [{"CustomerNumber": "3"}]
    meta = {"@TotalResources": 3, "@TotalPages": 2, "@CurrentPage": page}
    return {"Customers": customers, "MetaInformation": meta}


def test_a_listing_pages_through_fortnox_and_counts_its_requests() -> None:
    fortnox, stream = RecordingRequester(two_pages), io.StringIO()
    listing = list_fortnox_customers(fortnox, stream)
    assert [c["CustomerNumber"] for c in listing.customers] == ["1", "2", "3"]
    assert listing.requests == 2 and [r.params and r.params["page"] for r in fortnox.requests] == [1, 2]
    assert stream.getvalue().endswith("Fortnox: 3 customers (2 requests)\n")
