"""InvoiceSync's decisions against `InMemoryFortnoxInvoices`: which steps run, which are skipped
because Fortnox shows them done, and what is refused before Fortnox is asked anything.

The same flows against the simulator through the real client, with Fortnox's amounts checked to the
öre, are in tests/integration/test_invoice_sync.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from stripe_fortnox_sync.core.errors import FortnoxError, PermanentEventError, WaitingForInvoice
from stripe_fortnox_sync.core.models import Outcome, SyncResult
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
from tests.builders import PERIOD_START, LineSpec, refund, stripe_event, stripe_invoice
from tests.fakes import InMemoryFortnoxInvoices

WRITES = ("create", "update", "bookkeep", "credit", "register_payment", "bookkeep_payment")


def sale(name: str) -> dict[str, Any]:
    """A paid Stripe invoice in_{name} of 99.00 SEK + 25 % VAT, paid by pi_{name}."""
    return stripe_invoice([LineSpec(9900)], invoice_id=f"in_{name}", payment_intent=f"pi_{name}")


def sell(
    fortnox: InMemoryFortnoxInvoices, name: str, accounts: BookkeepingAccounts | None = None
) -> SyncResult:
    invoice = sale(name)
    sync = InvoiceSync(fortnox, accounts or BookkeepingAccounts())
    return sync.paid(stripe_event("invoice.paid", invoice, PERIOD_START + 60), invoice, "42")


def credit(fortnox: InMemoryFortnoxInvoices, data: dict[str, Any]) -> SyncResult:
    return InvoiceSync(fortnox, BookkeepingAccounts()).refund(stripe_event("refund.created", data), data)


def writes(fortnox: InMemoryFortnoxInvoices) -> dict[str, int]:
    return {name: n for name, n in fortnox.calls.items() if name in WRITES}


def test_a_sale_is_created_booked_and_paid_and_a_redelivery_only_looks() -> None:
    fortnox = InMemoryFortnoxInvoices()
    first = sell(fortnox, "once")
    assert (first.outcome, first.detail) == (Outcome.CREATED, "invoice 1 (123.75 SEK): created, booked, paid")
    (document,) = fortnox.invoices.values()
    assert (document["Booked"], document["Balance"]) == (True, 0.0)
    (payment,) = fortnox.payments.values()
    assert payment["Booked"] is True
    fortnox.calls.clear()
    again = sell(fortnox, "once")
    assert (again.outcome, again.fortnox_number) == (Outcome.UNCHANGED, "1")
    assert writes(fortnox) == {} and len(fortnox.payments) == 1


def test_without_automatic_bookkeeping_the_invoice_is_left_for_the_bookkeeper() -> None:
    fortnox = InMemoryFortnoxInvoices()
    result = sell(fortnox, "manual", BookkeepingAccounts(bookkeep=False))
    assert result.detail.endswith(": created, left unbooked and unpaid for the bookkeeper")
    assert writes(fortnox) == {"create": 1} and fortnox.payments == {}


@pytest.mark.parametrize(
    ("failing", "resumed"),
    [("bookkeep", "booked, paid"), ("register_payment", "paid"), ("bookkeep_payment", "payment booked")],
)
def test_a_sale_interrupted_by_fortnox_resumes_where_it_stopped(failing: str, resumed: str) -> None:
    fortnox = InMemoryFortnoxInvoices()
    fortnox.fail_next = failing
    with pytest.raises(FortnoxError):
        sell(fortnox, "resumed")
    fortnox.calls.clear()
    result = sell(fortnox, "resumed")
    assert (result.outcome, result.detail) == (Outcome.UPDATED, f"invoice 1 (123.75 SEK): {resumed}")
    assert "create" not in fortnox.calls and len(fortnox.invoices) == 1


def test_a_refund_of_the_whole_sale_is_fortnoxs_credit_action_and_a_part_is_a_credit_invoice() -> None:
    fortnox = InMemoryFortnoxInvoices()
    sell(fortnox, "whole")
    full = credit(fortnox, refund("re_whole", 12375, "pi_whole"))
    assert full.detail.endswith(": credited, booked, paid back") and fortnox.calls["credit"] == 1
    sell(fortnox, "part")
    part = credit(fortnox, refund("re_part", 5000, "pi_part"))
    assert part.detail.endswith(": created credit, booked, paid back") and fortnox.calls["credit"] == 1
    for result in (full, part):
        document = fortnox.invoices[str(result.fortnox_number)]
        assert document["Total"] < 0 and document["Balance"] == 0.0 and document["Booked"] is True
    fortnox.calls.clear()
    assert credit(fortnox, refund("re_part", 5000, "pi_part")).outcome is Outcome.UNCHANGED
    assert writes(fortnox) == {}


def test_a_refund_before_its_sale_waits_without_writing() -> None:
    fortnox = InMemoryFortnoxInvoices()
    with pytest.raises(WaitingForInvoice):
        credit(fortnox, refund("re_early", 2000, "pi_late"))
    assert writes(fortnox) == {}


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"amount": 0}, "an id and an amount"),
        ({"amount": None}, "an id and an amount"),
        ({"id": None}, "an id and an amount"),
        ({"payment_intent": None, "charge": None}, "names no payment"),
    ],
)
def test_a_refund_without_an_amount_or_a_payment_is_a_bad_payload(fields: dict[str, Any], why: str) -> None:
    fortnox = InMemoryFortnoxInvoices()
    with pytest.raises(PermanentEventError) as bad:
        credit(fortnox, {**refund("re_bad", 100, "pi_bad"), **fields})
    assert bad.value.reason == "bad_payload" and why in str(bad.value)
    assert sum(fortnox.calls.values()) == 0
