"""refund.created, refund.updated and charge.refunded through the local stack
(tests/integration/invoice_events/checks.py): a full refund is Fortnox's credit action, partial refunds are
credit invoices, a refund before its sale waits, a redelivered one is one credit, and with a Stripe
API key a foreign-currency refund pays back the SEK Stripe settled."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from tests.builders import (
    PERIOD_START,
    LineSpec,
    customer_invoice,
    event,
    ingrid_integration,
    refund,
    refunded_charge,
    settled_payment_intent,
    tax_id_list,
)
from tests.integration.invoice_events.checks import (
    MAY_20,
    assert_booked_and_paid,
    by_reference,
    credits_of,
    dec,
    invoice_stack,
    invoices,
    payments_of,
)
from tests.integration.stack import drain, drain_until, enqueue, outcomes, send, simulator


def test_full_refund_credits_the_invoice_through_fortnox(stack: LocalStack) -> None:
    stripe = customer_invoice("in_full", "pi_full", [LineSpec(9900)])
    send(stack, event("evt_full_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)
    send(stack, event("evt_full_refund", "refund.created", MAY_20, refund("re_full", 12375, "pi_full")))
    drain(stack)

    assert outcomes(stack)["evt_full_refund"] == "created"
    sale = by_reference(stack, "in_full")
    (credit,) = credits_of(stack, sale)
    assert simulator(stack).stats()["requests"]["PUT /3/invoices/{n}/credit"] == 1  # Fortnox's credit action
    assert sale["CreditInvoiceReference"] == credit["DocumentNumber"]
    assert (credit["ExternalInvoiceReference1"], credit["ExternalInvoiceReference2"]) == (
        "re_full",
        "pi_full",
    )
    assert [(r["VAT"], r["AccountNumber"]) for r in credit["InvoiceRows"]] == [(25, 3001)]
    assert dec(credit["TotalVAT"]) == -dec(sale["TotalVAT"])
    payment = assert_booked_and_paid(stack, credit, -12375)  # paid back: -123.75 through 1580
    assert dec(payment["Amount"]) == Decimal("-123.75")
    # The sale itself stays booked and paid.
    assert sale["Booked"] is True and dec(sale["Balance"]) == 0 and len(payments_of(stack, sale)) == 1


def test_two_partial_refunds_are_two_credits_and_charge_refunded_adds_nothing(stack: LocalStack) -> None:
    stripe = customer_invoice("in_part", "pi_part", [LineSpec(9900), LineSpec(4999, quantity=2, rate=6)])
    send(stack, event("evt_part_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)
    first, second = (
        refund("re_part_1", 5001, "pi_part"),
        refund("re_part_2", 2499, "pi_part", created=MAY_20 + 60),
    )
    send(stack, event("evt_part_r1", "refund.created", MAY_20, first))
    send(stack, event("evt_part_r2", "refund.created", MAY_20 + 60, second))
    drain(stack)
    documents = len(invoices(stack))
    send(
        stack,
        event(
            "evt_part_charge",
            "charge.refunded",
            MAY_20 + 61,
            refunded_charge("pi_part", 22973, [second, first]),
        ),
    )
    drain(stack)

    assert outcomes(stack) == {
        "evt_part_paid": "created",
        "evt_part_r1": "created",
        "evt_part_r2": "created",
        "evt_part_charge": "unchanged",
    }
    assert len(invoices(stack)) == documents
    sale = by_reference(stack, "in_part")
    assert_booked_and_paid(stack, sale, 22973)
    credits = credits_of(stack, sale)
    assert [c["ExternalInvoiceReference1"] for c in credits] == ["re_part_1", "re_part_2"]
    for credit, amount in zip(credits, (5001, 2499), strict=True):
        assert credit["ExternalInvoiceReference2"] == "pi_part" and credit["InvoiceDate"] == "2024-05-20"
        assert_booked_and_paid(stack, credit, -amount)
        # Spread over the sale's rows (VAT and accounts kept), never the PUT /credit of the whole.
        assert {(r["VAT"], r["AccountNumber"]) for r in credit["InvoiceRows"]} == {(25, 3001), (6, 3003)}
    assert "PUT /3/invoices/{n}/credit" not in simulator(stack).stats()["requests"]


def test_a_refund_before_its_invoice_waits_and_then_credits(stack: LocalStack) -> None:
    early = refund("re_early", 3000, "pi_late")
    send(stack, event("evt_early_refund", "refund.created", MAY_20, early))
    drain(stack)
    # Failed for now: back on the queue after the visibility timeout, neither lost nor parked.
    assert invoices(stack) == [] and stack.dead_letters() == []
    assert stack.queue_depths() == {"EventQueueUrl": 1, "DeadLetterQueueUrl": 0}
    assert "evt_early_refund" not in outcomes(stack)

    stripe = customer_invoice("in_late", "pi_late", [LineSpec(9900)])
    send(stack, event("evt_late_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain_until(stack, lambda: "evt_early_refund" in outcomes(stack))

    assert outcomes(stack) == {"evt_late_paid": "created", "evt_early_refund": "created"}
    assert stack.event_source.redeliveries >= 1
    assert stack.queue_depths() == {"EventQueueUrl": 0, "DeadLetterQueueUrl": 0}
    sale = by_reference(stack, "in_late")
    (credit,) = credits_of(stack, sale)
    assert credit["ExternalInvoiceReference1"] == "re_early"
    assert_booked_and_paid(stack, credit, -3000)


def test_a_redelivered_refund_is_one_credit(stack: LocalStack) -> None:
    stripe = customer_invoice("in_again", "pi_again", [LineSpec(9900)])
    send(stack, event("evt_again_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)
    again = event("evt_again_refund", "refund.created", MAY_20, refund("re_again", 4000, "pi_again"))
    for _ in range(3):  # Stripe redelivers within SQS's deduplication window
        assert send(stack, again)[0] == 200
    # And once after it: Fortnox shows the credit made for this refund, so nothing is done again.
    enqueue(stack, json.dumps(again), "pi_again", "after-the-window")
    # Another event about the same refund: only Fortnox's own record can tell it is done.
    send(
        stack,
        event("evt_again_updated", "refund.updated", MAY_20 + 5, refund("re_again", 4000, "pi_again")),
    )
    drain(stack)

    seen = [(e.event_id, e.outcome) for e in stack.processed if e.event_id != "evt_again_paid"]
    assert seen == [
        ("evt_again_refund", "created"),
        ("evt_again_refund", "unchanged"),
        ("evt_again_updated", "unchanged"),
    ]
    sale = by_reference(stack, "in_again")
    (credit,) = credits_of(stack, sale)
    assert credit["ExternalInvoiceReference1"] == "re_again"
    assert_booked_and_paid(stack, credit, -4000)  # one payment back, not three
    assert len(invoices(stack)) == 2 and len(simulator(stack).payments()) == 2


def test_foreign_currency_payment_and_refund_carry_stripes_sek(tmp_path: Path) -> None:
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(ingrid_integration("cus_Euro", currency="eur", tax_ids=tax_id_list("cus_Euro")))
        stripe = customer_invoice(
            "in_eur", "pi_eur", [LineSpec(10000)], customer_id="cus_Euro", currency="eur"
        )
        api.add_invoice(stripe)
        # Stripe settled the 125.00 EUR for 1 438.12 SEK and took 50.00 EUR back for 570.05 SEK.
        api.add_payment_intent(
            settled_payment_intent(
                "pi_eur", 12500, customer_id="cus_Euro", currency="eur", settled_sek=143812
            )
        )
        back = refund(
            "re_eur",
            5000,
            "pi_eur",
            currency="eur",
            balance_transaction={
                "id": "txn_re_eur",
                "object": "balance_transaction",
                "amount": -57005,
                "currency": "sek",
            },
        )
        api.add_refund(back)
        send(stack, event("evt_eur_paid", "invoice.paid", PERIOD_START + 60, stripe))
        drain(stack)
        send(
            stack,
            event("evt_eur_refund", "refund.created", MAY_20, {**back, "balance_transaction": "txn_re_eur"}),
        )
        drain(stack)
        send(
            stack,
            event(
                "evt_eur_charge",
                "charge.refunded",
                MAY_20 + 1,
                refunded_charge("pi_eur", 12500, [], "eur"),
            ),
        )
        drain(stack)

        assert outcomes(stack) == {
            "evt_eur_paid": "created",
            "evt_eur_refund": "created",
            "evt_eur_charge": "unchanged",  # the API lists re_eur (the payload's list is empty): done
        }
        sale = by_reference(stack, "in_eur")
        assert sale["Currency"] == "EUR" and dec(sale["RoundOff"]) == 0
        payment = assert_booked_and_paid(stack, sale, 12500)
        assert (dec(payment["AmountCurrency"]), dec(payment["Amount"])) == (
            Decimal("125.00"),
            Decimal("1438.12"),
        )
        (credit,) = credits_of(stack, sale)
        assert credit["Currency"] == "EUR" and credit["ExternalInvoiceReference1"] == "re_eur"
        paid_back = assert_booked_and_paid(stack, credit, -5000)
        assert (dec(paid_back["AmountCurrency"]), dec(paid_back["Amount"])) == (
            Decimal("-50.00"),
            Decimal("-570.05"),
        )
        paths = [c.path for c in api.calls()]
        assert "/v1/payment_intents/pi_eur" in paths and "/v1/refunds/re_eur" in paths
        assert any(c.path == "/v1/refunds" and c.query.get("charge") == ["ch_eur"] for c in api.calls())
