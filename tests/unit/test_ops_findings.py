"""What reconcile counts as drift between the mapped Stripe customer and its Fortnox customer."""

from __future__ import annotations

from stripe_fortnox_cli.ops.findings import drifted_fields, shared_numbers
from stripe_fortnox_cli.ops.store import MappingRow
from stripe_fortnox_sync.core.models import LinkStatus


def test_drift_ignores_formatting_and_kept_fields() -> None:
    fortnox = {
        "Name": "Anna",
        "Email": "ANNA@example.se",
        "ZipCode": "11122",
        "City": "Lund",
        "Address1": "Väg 1",
    }
    assert (
        drifted_fields(
            {"Name": "Anna", "Email": "anna@example.se", "ZipCode": "111 22", "City": "Lund"}, fortnox
        )
        == {}
    )
    assert drifted_fields(
        {"Name": "Anna", "City": "Malmö", "Email": "anna@example.se", "ZipCode": "111 22"}, fortnox
    ) == {"City": ("Malmö", "Lund")}


def test_a_fortnox_customer_shared_by_active_links_is_not_compared() -> None:
    def row(stripe_id: str, number: str, status: LinkStatus = LinkStatus.ACTIVE) -> MappingRow:
        return MappingRow(stripe_id, status, number, {}, 0, 0.0)

    links = {
        "cus_a": row("cus_a", "5"),
        "cus_b": row("cus_b", "5"),
        "cus_c": row("cus_c", "6"),
        "cus_d": row("cus_d", "6", LinkStatus.DELETED),
    }
    assert shared_numbers(links) == {"5"}
