"""InvoiceSync against the in-process Fortnox simulator through the real FortnoxClient.

Every step is resumable and Fortnox itself records how far it got: a second delivery only looks,
a refund finds its sale and the credits made before it, a crash between the credit action and its
tagging is picked up, and a refund that comes before its sale waits. Amounts must land to the öre
(to the yen for JPY), and payments go through the Stripe clearing account. What is refused before
Fortnox is asked anything is in tests/unit/test_invoice_steps.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from fortnox_sim import FortnoxSimulator
from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
from stripe_fortnox_sync.adapters.fortnox.invoices import FortnoxInvoiceApi
from stripe_fortnox_sync.core.errors import FortnoxError, PermanentEventError, WaitingForInvoice
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.dates import stripe_date
from stripe_fortnox_sync.mapping.money import minor_to_decimal
from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
from tests import builders
from tests.builders import (
    PERIOD_START,
    LineSpec,
    checkout_tshirts,
    payment_intent,
    stripe_event,
    stripe_invoice,
)
from tests.fakes import RecordingRequester
from tests.support import SIM_TENANT, invoicing_simulator

TENANT = SIM_TENANT
ACCOUNTS = BookkeepingAccounts()
DAY = 86_400


@dataclass
class Fortnox:
    sim: FortnoxSimulator
    client: FortnoxClient
    customer: str

    def sync(self, accounts: BookkeepingAccounts = ACCOUNTS) -> tuple[InvoiceSync, RecordingRequester]:
        recording = RecordingRequester.over(self.client)
        return InvoiceSync(FortnoxInvoiceApi(recording), accounts), recording

    def invoice(self, number: str | None) -> dict[str, Any]:
        assert number
        return FortnoxInvoiceApi(self.client).get_invoice(number)

    def payments(self, number: str | None) -> list[dict[str, Any]]:
        assert number
        return [p for p in self.sim.payments(TENANT) if p["InvoiceNumber"] == int(number)]

    def documents_of(self, payment_id: str) -> list[dict[str, Any]]:
        return FortnoxInvoiceApi(self.client).find_invoices_by_external_reference(payment_id, field=2)


@pytest.fixture(scope="module")
def fortnox() -> Iterator[Fortnox]:
    with invoicing_simulator() as (sim, client, customer):
        yield Fortnox(sim, client, customer)


def event(kind: str, obj: dict[str, Any]) -> StripeEvent:
    return stripe_event(kind, obj, PERIOD_START + 60)


def unrounded(document: Mapping[str, Any]) -> Decimal:
    return Decimal(str(document["Total"])) - Decimal(str(document["RoundOff"]))


def sell(
    fortnox: Fortnox,
    name: str,
    specs: list[LineSpec] | None = None,
    currency: str = "sek",
    *,
    settlement_sek_minor: int | None = None,
    accounts: BookkeepingAccounts = ACCOUNTS,
) -> tuple[dict[str, Any], SyncResult]:
    """invoice.paid for a Stripe invoice in_{name} paid by pi_{name}."""
    invoice = stripe_invoice(
        specs or [LineSpec(9900)], currency, invoice_id=f"in_{name}", payment_intent=f"pi_{name}"
    )
    sync, _ = fortnox.sync(accounts)
    result = sync.paid(
        event("invoice.paid", invoice), invoice, fortnox.customer, settlement_sek_minor=settlement_sek_minor
    )
    return invoice, result


def refund(name: str, refund_id: str, amount: int, currency: str = "sek", **fields: Any) -> dict[str, Any]:
    """A refund of pi_{name} (and ch_{name})."""
    return builders.refund(refund_id, amount, f"pi_{name}", currency=currency, **fields)


def send_refund(
    sync: InvoiceSync, data: dict[str, Any], *, settlement_sek_minor: int | None = None
) -> SyncResult:
    return sync.refund(event("refund.created", data), data, settlement_sek_minor=settlement_sek_minor)


def assert_settled(document: Mapping[str, Any], stripe_minor: int, currency: str) -> None:
    """Fortnox's total before öresavrundning equals Stripe's; booked and fully paid."""
    assert unrounded(document) == minor_to_decimal(stripe_minor, currency)
    assert document["Booked"] is True
    assert document["Balance"] == 0


# Sales ----------------------------------------------------------------------------------------


def checkout_sale(name: str) -> tuple[str, dict[str, Any], list[dict[str, Any]], int]:
    session, items = checkout_tshirts(f"cs_{name}", f"pi_{name}", created=PERIOD_START)
    return f"pi_{name}", session, items, 37500


def intent(name: str, amount: int = 12500) -> dict[str, Any]:
    """pi_{name}, a guest's consulting hour."""
    return payment_intent(
        f"pi_{name}", amount, created=PERIOD_START, description="Konsulttimme", customer=None
    )


Sale = tuple[str, str, int, Callable[[InvoiceSync, StripeEvent], SyncResult], dict[str, Any]]


def sale(kind: str, fortnox: Fortnox) -> Sale:
    """(event type, ExternalInvoiceReference1, Stripe total, the call, the event object)."""
    name = f"sale_{kind}"
    if kind == "invoice":
        invoice = stripe_invoice(
            [LineSpec(9900), LineSpec(4999, quantity=2, rate=6)],
            invoice_id=f"in_{name}",
            payment_intent=f"pi_{name}",
        )
        return (
            "invoice.paid",
            invoice["id"],
            invoice["total"],
            lambda s, e: s.paid(e, invoice, fortnox.customer),
            invoice,
        )
    if kind == "checkout":
        reference, session, items, total = checkout_sale(name)
        return (
            "checkout.session.completed",
            reference,
            total,
            lambda s, e: s.checkout_paid(e, session, items, fortnox.customer),
            session,
        )
    data = intent(name)
    return (
        "payment_intent.succeeded",
        data["id"],
        data["amount"],
        lambda s, e: s.payment_intent_paid(e, data, fortnox.customer, vat_rate=25),
        data,
    )


@pytest.mark.parametrize("kind", ["invoice", "checkout", "payment_intent"])
def test_a_sale_is_created_booked_and_paid_and_a_redelivery_only_looks(fortnox: Fortnox, kind: str) -> None:
    kind_name, reference, total, call, obj = sale(kind, fortnox)
    sync, recording = fortnox.sync()
    first = call(sync, event(kind_name, obj))
    assert first.outcome is Outcome.CREATED
    assert first.detail.endswith(": created, booked, paid")
    document = fortnox.invoice(first.fortnox_number)
    assert_settled(document, total, "sek")
    assert document["ExternalInvoiceReference1"] == reference
    assert document["ExternalInvoiceReference2"].startswith("pi_")  # refunds find the sale by it
    (payment,) = fortnox.payments(first.fortnox_number)
    assert payment["ModeOfPaymentAccount"] == ACCOUNTS.stripe_clearing and payment["Booked"] is True
    assert [m for m, _ in recording.calls].count("POST") == 2  # the invoice and its payment

    recording.clear()
    again = call(sync, event(kind_name, obj))
    assert (again.outcome, again.fortnox_number) == (Outcome.UNCHANGED, first.fortnox_number)
    assert "already booked and paid" in again.detail
    assert recording.writes() == [] and len(recording.calls) == 3  # search, read, its payments
    assert len(fortnox.payments(first.fortnox_number)) == 1


def test_a_payment_intent_that_a_checkout_session_booked_finds_that_invoice(fortnox: Fortnox) -> None:
    reference, session, items, _ = checkout_sale("pi_after_checkout")
    sync, recording = fortnox.sync()
    booked = sync.checkout_paid(
        event("checkout.session.completed", session), session, items, fortnox.customer
    )
    recording.clear()
    data = intent("pi_after_checkout", 37500)
    result = sync.payment_intent_paid(
        event("payment_intent.succeeded", data), data, fortnox.customer, vat_rate=25
    )
    assert (result.outcome, result.fortnox_number) == (Outcome.UNCHANGED, booked.fortnox_number)
    assert recording.writes() == []
    assert data["id"] == reference


def test_without_automatic_bookkeeping_the_invoice_is_left_for_the_bookkeeper(fortnox: Fortnox) -> None:
    manual = BookkeepingAccounts(bookkeep=False)
    _, result = sell(fortnox, "unbooked", accounts=manual)
    # Fortnox takes payments on booked invoices only: nothing is booked, nothing paid.
    assert result.detail.endswith(": created, left unbooked and unpaid for the bookkeeper")
    document = fortnox.invoice(result.fortnox_number)
    assert document["Booked"] is False and document["Balance"] == document["Total"]
    assert fortnox.payments(result.fortnox_number) == []


# Refunds --------------------------------------------------------------------------------------


def test_a_full_refund_is_the_credit_action_tagged_booked_and_paid_back(fortnox: Fortnox) -> None:
    invoice, sold = sell(fortnox, "full")  # 99.00 + 25 % VAT = 123.75 SEK: Fortnox rounds to 124
    number = sold.fortnox_number
    sync, recording = fortnox.sync()
    result = send_refund(sync, refund("full", "re_full", invoice["total"]))
    assert result.outcome is Outcome.CREATED and result.stripe_id == "re_full"
    credit_number = result.fortnox_number
    assert ("PUT", f"/invoices/{number}/credit") in recording.calls
    assert ("PUT", f"/invoices/{credit_number}") in recording.calls  # tagged with the refund
    assert not any(method == "POST" and path == "/invoices" for method, path in recording.calls)
    assert f"credit invoice {credit_number} of invoice {number} (-123.75 SEK)" in result.detail
    assert result.detail.endswith(": credited, booked, paid back")

    credit = fortnox.invoice(credit_number)
    assert_settled(credit, -invoice["total"], "sek")
    assert credit["CreditInvoiceReference"] == number
    assert (credit["ExternalInvoiceReference1"], credit["ExternalInvoiceReference2"]) == (
        "re_full",
        "pi_full",
    )
    (paid_back,) = fortnox.payments(credit_number)
    assert Decimal(str(paid_back["Amount"])) == Decimal("-123.75")
    assert paid_back["ModeOfPaymentAccount"] == ACCOUNTS.stripe_clearing
    # Dated the day the money went back, not the day Fortnox's credit action ran.
    refund_day = stripe_date(PERIOD_START + 19 * DAY).isoformat()
    assert credit["InvoiceDate"] == refund_day and paid_back["PaymentDate"] == refund_day
    assert result.warnings == ()

    recording.clear()
    again = send_refund(sync, refund("full", "re_full", invoice["total"]))
    assert (again.outcome, again.fortnox_number) == (Outcome.UNCHANGED, credit_number)
    assert "already credited and paid back" in again.detail
    assert recording.writes() == []


def test_partial_refunds_each_get_a_credit_and_one_beyond_the_rest_is_refused(fortnox: Fortnox) -> None:
    invoice, sold = sell(fortnox, "partials", [LineSpec(9900), LineSpec(4999, quantity=2, rate=6)])
    total = invoice["total"]
    sync, recording = fortnox.sync()
    credits = []
    for refund_id, amount in (("re_partial_a", 5001), ("re_partial_b", 2499)):
        result = send_refund(sync, refund("partials", refund_id, amount))
        assert result.outcome is Outcome.CREATED
        assert result.detail.endswith(": created credit, booked, paid back")
        credit = fortnox.invoice(result.fortnox_number)
        assert_settled(credit, -amount, "sek")
        assert credit["CreditInvoiceReference"] == sold.fortnox_number
        assert credit["ExternalInvoiceReference1"] == refund_id
        credits.append(result.fortnox_number)
    assert len(set(credits)) == 2
    assert not any(path.endswith("/credit") for _, path in recording.calls)

    before = len(fortnox.documents_of("pi_partials"))
    with pytest.raises(PermanentEventError) as refused:
        send_refund(sync, refund("partials", "re_partial_c", total - 7500 + 1))
    assert refused.value.reason == "invoice_mapping" and "exceed" in str(refused.value)
    assert len(fortnox.documents_of("pi_partials")) == before

    # Redelivered, a partial refund finds its own credit.
    recording.clear()
    again = send_refund(sync, refund("partials", "re_partial_a", 5001))
    assert (again.outcome, again.fortnox_number) == (Outcome.UNCHANGED, credits[0])
    assert recording.writes() == []


def test_a_partial_refund_then_the_remainder_is_a_partial_credit_not_the_credit_action(
    fortnox: Fortnox,
) -> None:
    invoice, _ = sell(fortnox, "remainder")
    sync, recording = fortnox.sync()
    first = send_refund(sync, refund("remainder", "re_remainder_a", 1000))
    rest = send_refund(sync, refund("remainder", "re_remainder_b", invoice["total"] - 1000))
    assert rest.outcome is Outcome.CREATED and "created credit" in rest.detail
    assert not any(path.endswith("/credit") for _, path in recording.calls)
    taken_back = sum(unrounded(fortnox.invoice(r.fortnox_number)) for r in (first, rest))
    assert taken_back == -minor_to_decimal(invoice["total"], "sek")
    assert fortnox.invoice(rest.fortnox_number)["Balance"] == 0


@pytest.mark.parametrize("references_copied", [True, False], ids=["references copied", "references blank"])
def test_a_crash_between_the_credit_action_and_its_tagging_adopts_that_credit(
    fortnox: Fortnox, references_copied: bool
) -> None:
    name = f"crash_{references_copied}"
    invoice, sold = sell(fortnox, name)
    # The first attempt credited the invoice, then died before tagging the credit invoice.
    credited = FortnoxInvoiceApi(fortnox.client).credit_invoice(str(sold.fortnox_number))
    orphan = str(credited["CreditInvoiceReference"])
    if not references_copied:
        FortnoxInvoiceApi(fortnox.client).update_invoice(
            orphan, {"ExternalInvoiceReference1": "", "ExternalInvoiceReference2": ""}
        )
    sync, recording = fortnox.sync()
    result = send_refund(sync, refund(name, f"re_{name}", invoice["total"]))
    assert result.fortnox_number == orphan
    assert result.detail.endswith(": credit adopted, booked, paid back")
    assert not any(path.endswith("/credit") or path == "/invoices" for _, path in recording.writes())
    credit = fortnox.invoice(orphan)
    assert credit["ExternalInvoiceReference1"] == f"re_{name}"
    assert credit["ExternalInvoiceReference2"] == f"pi_{name}"
    assert_settled(credit, -invoice["total"], "sek")
    documents = fortnox.documents_of(f"pi_{name}")
    assert sorted(d["DocumentNumber"] for d in documents) == sorted([str(sold.fortnox_number), orphan])


def test_a_refund_before_its_invoice_waits_then_credits(fortnox: Fortnox) -> None:
    sync, recording = fortnox.sync()
    early = refund("early", "re_early", 2000)
    with pytest.raises(WaitingForInvoice):
        send_refund(sync, early)
    assert recording.writes() == []
    sell(fortnox, "early")
    assert send_refund(sync, early).outcome is Outcome.CREATED


def test_a_refund_in_eur_pays_back_the_sek_stripe_settled(fortnox: Fortnox) -> None:
    _, sold = sell(fortnox, "eur", [LineSpec(10000)], "eur", settlement_sek_minor=140_000)
    (paid,) = fortnox.payments(sold.fortnox_number)
    assert (Decimal(str(paid["AmountCurrency"])), Decimal(str(paid["Amount"]))) == (
        Decimal("125.00"),
        Decimal("1400.00"),
    )
    sync, _ = fortnox.sync()
    result = send_refund(sync, refund("eur", "re_eur", 5000, "eur"), settlement_sek_minor=56_000)
    assert "(-50.00 EUR)" in result.detail
    credit = fortnox.invoice(result.fortnox_number)
    assert credit["Currency"] == "EUR" and credit["Balance"] == 0
    assert unrounded(credit) == Decimal("-50.00")
    (paid_back,) = fortnox.payments(result.fortnox_number)
    assert Decimal(str(paid_back["AmountCurrency"])) == Decimal("-50.00")
    assert Decimal(str(paid_back["Amount"])) == Decimal("-560.00")  # what Stripe settled, not a rate


def test_jpy_refunds_are_exact_to_the_yen(fortnox: Fortnox) -> None:
    invoice, sold = sell(fortnox, "jpy", [LineSpec(1001)], "jpy")
    total = invoice["total"]  # 1001 + 250 VAT
    assert total == 1251
    assert_settled(fortnox.invoice(sold.fortnox_number), total, "jpy")
    sync, _ = fortnox.sync()
    for refund_id, amount in (("re_jpy_a", 333), ("re_jpy_b", total - 333)):
        result = send_refund(sync, refund("jpy", refund_id, amount, "jpy"))
        assert f"(-{amount} JPY)" in result.detail
        credit = fortnox.invoice(result.fortnox_number)
        assert Decimal(str(credit["Total"])) == -amount and credit["RoundOff"] == 0
        assert credit["Balance"] == 0
        (paid_back,) = fortnox.payments(result.fortnox_number)
        assert Decimal(str(paid_back["AmountCurrency"])) == -amount


@pytest.mark.parametrize(
    ("method", "path", "resumed"),
    [
        ("PUT", r"/invoices/\d+/bookkeep", "booked, paid"),
        ("POST", "/invoicepayments", "paid"),
    ],
    ids=["before booking", "before the payment"],
)
def test_a_sale_interrupted_by_fortnox_resumes_where_it_stopped(
    fortnox: Fortnox, method: str, path: str, resumed: str
) -> None:
    name = f"resume_{method}"
    invoice = stripe_invoice([LineSpec(9900)], invoice_id=f"in_{name}", payment_intent=f"pi_{name}")
    with pytest.raises(FortnoxError):
        InvoiceSync(
            FortnoxInvoiceApi(RecordingRequester.over(fortnox.client, fail_once=(method, path))), ACCOUNTS
        ).paid(event("invoice.paid", invoice), invoice, fortnox.customer)
    sync, recording = fortnox.sync()
    result = sync.paid(event("invoice.paid", invoice), invoice, fortnox.customer)
    assert result.outcome is Outcome.UPDATED and result.detail.endswith(f": {resumed}")
    assert ("POST", "/invoices") not in recording.calls
    assert_settled(fortnox.invoice(result.fortnox_number), invoice["total"], "sek")
    (payment,) = fortnox.payments(result.fortnox_number)
    assert payment["Booked"] is True


@pytest.mark.parametrize("kind", ["sale", "refund"])
def test_a_payment_whose_booking_failed_is_booked_on_the_next_delivery(fortnox: Fortnox, kind: str) -> None:
    """Fortnox failed after the payment was registered: the invoice already shows Balance 0."""
    name = f"payment_unbooked_{kind}"
    invoice = stripe_invoice([LineSpec(9900)], invoice_id=f"in_{name}", payment_intent=f"pi_{name}")
    data = refund(name, f"re_{name}", 2000)
    if kind == "refund":
        sell(fortnox, name)

    def deliver(requester: RecordingRequester) -> SyncResult:
        sync = InvoiceSync(FortnoxInvoiceApi(requester), ACCOUNTS)
        if kind == "sale":
            return sync.paid(event("invoice.paid", invoice), invoice, fortnox.customer)
        return send_refund(sync, data)

    with pytest.raises(FortnoxError):
        deliver(RecordingRequester.over(fortnox.client, fail_once=("PUT", r"/invoicepayments/\d+/bookkeep")))
    recording = RecordingRequester.over(fortnox.client)
    result = deliver(recording)
    assert result.outcome is Outcome.UPDATED and result.detail.endswith(": payment booked")
    document = fortnox.invoice(result.fortnox_number)
    assert document["Balance"] == 0
    (payment,) = fortnox.payments(result.fortnox_number)
    assert payment["Booked"] is True
    assert [m for m, _ in recording.writes()] == ["PUT"]
    # And once booked, a further delivery only looks.
    recording.clear()
    assert deliver(recording).outcome is Outcome.UNCHANGED and recording.writes() == []
