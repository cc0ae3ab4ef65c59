"""invoice.paid through the local stack (tests/integration/invoice_events/checks.py): renewals, mixed VAT
rates, an invoice of the current API that names no PaymentIntent, and Fortnox refusing; the same
invoice.paid delivered three times is test_triggers'
`test_invoice_paid_three_times_is_one_booked_paid_invoice`."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from fortnox_sim import DEFAULT_ACCOUNTS, compute_row
from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from tests.builders import (
    PERIOD_END,
    PERIOD_START,
    LineSpec,
    customer_invoice,
    event,
    ingrid_integration,
    line_tax,
    refund,
    refunded_charge,
    tax_id_list,
)
from tests.integration.invoice_events.checks import (
    MAY_20,
    TIMES,
    assert_booked_and_paid,
    by_reference,
    credits_of,
    dec,
    fortnox_number,
    invoice_stack,
    invoices,
    payments_of,
)
from tests.integration.stack import drain, enqueue, outcomes, parked, send, simulator


def test_subscription_renewal_is_two_booked_paid_invoices(stack: LocalStack) -> None:
    send(stack, event("evt_cust", "customer.created", PERIOD_START - 100, ingrid_integration("cus_Renew")))
    first = customer_invoice("in_renew_1", "pi_renew_1", [LineSpec(9900)], customer_id="cus_Renew")
    july = PERIOD_END + 30 * 86400  # 2024-07-01 10:00 UTC
    renewal = customer_invoice(
        "in_renew_2",
        "pi_renew_2",
        [LineSpec(9900)],
        customer_id="cus_Renew",
        created=PERIOD_END,
        effective_at=PERIOD_END,
        status_transitions={"finalized_at": PERIOD_END, "paid_at": PERIOD_END + 60},
    )
    for line in renewal["lines"]["data"]:
        line["period"] = {"start": PERIOD_END, "end": july}
    send(stack, event("evt_paid_1", "invoice.paid", PERIOD_START + 60, first))
    drain(stack)
    send(stack, event("evt_paid_2", "invoice.paid", PERIOD_END + 60, renewal))
    drain(stack)

    assert outcomes(stack) == {"evt_cust": "created", "evt_paid_1": "created", "evt_paid_2": "created"}
    number = fortnox_number(stack, "cus_Renew")
    one, two = invoices(stack)
    for stored, stripe, day, period in (
        (one, first, "2024-05-01", "(2024-05-01 - 2024-06-01)"),
        (two, renewal, "2024-06-01", "(2024-06-01 - 2024-07-01)"),
    ):
        assert stored["CustomerNumber"] == number and stored["Currency"] == "SEK"
        assert stored["ExternalInvoiceReference1"] == stripe["id"]
        assert stored["ExternalInvoiceReference2"] == stripe["payment_intent"]
        assert stored["InvoiceDate"] == day
        (row,) = stored["InvoiceRows"]
        assert row["Description"] == f"Pro plan {period}" and row["AccountNumber"] == 3001
        # Stripe: 99.00 + 25 % = 123.75 SEK; Fortnox shows 124 with a round-off of 0.25.
        assert (dec(stored["Net"]), dec(stored["TotalVAT"]), dec(stored["RoundOff"])) == (
            Decimal("99.00"),
            Decimal("24.75"),
            Decimal("0.25"),
        )
        payment = assert_booked_and_paid(stack, stored, 12375)
        assert payment["PaymentDate"] == day and dec(payment["Amount"]) == Decimal("123.75")


def test_mixed_vat_rates_and_a_discount_land_row_by_row(stack: LocalStack) -> None:
    specs = [
        LineSpec(9900, description="Pro plan"),
        LineSpec(Decimal("3333.3333"), quantity=3, rate=12, discount=500, description="Seat"),
        LineSpec(4999, quantity=2, rate=6, description="Handbok"),
    ]
    stripe = customer_invoice("in_mixed", "pi_mixed", specs)
    assert stripe["total"] == 12375 + 10640 + 10598  # Stripe's own arithmetic, per line
    send(stack, event("evt_mixed", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)

    stored = by_reference(stack, "in_mixed")
    assert_booked_and_paid(stack, stored, stripe["total"])
    rows = stored["InvoiceRows"]
    assert [(r["VAT"], r["AccountNumber"]) for r in rows] == [(25, 3001), (12, 3002), (6, 3003)]
    assert [r["Description"].split(" (")[0] for r in rows] == ["Pro plan", f"3{TIMES}Seat", "Handbok"]
    # The seat line does not divide into a two-decimal unit price: one row of 100.00 less 5.00.
    assert (dec(rows[1]["Price"]), rows[1]["DeliveredQuantity"]) == (Decimal("100.00"), "1.00")
    assert (dec(rows[1]["Discount"]), rows[1]["DiscountType"]) == (Decimal("5.00"), "AMOUNT")
    assert (dec(rows[2]["Price"]), rows[2]["DeliveredQuantity"]) == (Decimal("49.99"), "2.00")
    # VAT per rate as Fortnox computes it from the rows equals Stripe's tax per rate.
    fortnox_vat: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        fortnox_vat[row["VAT"]] += compute_row(row, bool(stored["VATIncluded"])).vat
    stripe_vat = {
        spec.rate: Decimal(line_tax(line)) / 100
        for spec, line in zip(specs, stripe["lines"]["data"], strict=True)
    }
    assert fortnox_vat == stripe_vat == {25: Decimal("24.75"), 12: Decimal("11.40"), 6: Decimal("6.00")}
    assert dec(stored["TotalVAT"]) == sum(stripe_vat.values())


def test_current_api_invoice_finds_its_payment_intent_and_charge_refunded_credits_it(tmp_path: Path) -> None:
    """API versions from 2025-03-31 name no PaymentIntent on the invoice: the invoice payments do,
    and a refund finds the sale only through it."""
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(ingrid_integration("cus_Clover", tax_ids=tax_id_list("cus_Clover")))
        stripe = customer_invoice("in_clover", "pi_clover", [LineSpec(9900)], customer_id="cus_Clover")
        del stripe["payment_intent"]
        api.add_invoice(stripe)
        api.add_invoice_payment("in_clover", "pi_clover")
        back = refund("re_clover", 2375, "pi_clover")
        api.add_refund(back)
        send(stack, event("evt_clover_paid", "invoice.paid", PERIOD_START + 60, stripe))
        drain(stack)
        # Only charge.refunded is subscribed to: its refunds come from the API (every page).
        send(
            stack,
            event("evt_clover_charge", "charge.refunded", MAY_20, refunded_charge("pi_clover", 12375, [])),
        )
        drain(stack)

        assert outcomes(stack) == {"evt_clover_paid": "created", "evt_clover_charge": "created"}
        sale = by_reference(stack, "in_clover")
        assert sale["ExternalInvoiceReference2"] == "pi_clover"
        assert_booked_and_paid(stack, sale, 12375)
        (credit,) = credits_of(stack, sale)
        assert (credit["ExternalInvoiceReference1"], credit["ExternalInvoiceReference2"]) == (
            "re_clover",
            "pi_clover",
        )
        assert_booked_and_paid(stack, credit, -2375)
        assert any(
            c.path == "/v1/invoice_payments" and c.query.get("invoice") == ["in_clover"] for c in api.calls()
        )


def test_fortnox_refusals_are_parked_with_fortnoxs_message_and_redrive_finishes(stack: LocalStack) -> None:
    # Paid at 00:30 on New Year's Day in Stockholm (23:30 UTC): the payment falls in 2024.
    dec_31 = 1704024000  # 2023-12-31 12:00 UTC
    new_year = customer_invoice(
        "in_new_year",
        "pi_new_year",
        [LineSpec(20000)],
        created=dec_31,
        effective_at=dec_31,
        status_transitions={"finalized_at": dec_31, "paid_at": dec_31 + 11 * 3600 + 1800},
    )
    simulator(stack).configure(closed_years=[2024])
    send(stack, event("evt_new_year", "invoice.paid", dec_31 + 11 * 3600 + 1800, new_year))
    drain(stack)

    assert outcomes(stack)["evt_new_year"] == "failed"
    attributes = parked(stack, "evt_new_year")
    assert attributes["failure_reason"] == "validation" and attributes["event_type"] == "invoice.paid"
    assert "2024-01-01" in attributes["failure_message"] and "closed" in attributes["failure_message"]
    # As far as Fortnox allowed: created and booked in 2023, the payment not registered.
    stored = by_reference(stack, "in_new_year")
    assert stored["Booked"] is True and payments_of(stack, stored) == []
    assert dec(stored["Balance"]) == dec(stored["Total"]) == Decimal("250.00")

    # The bookkeeper reopens the year; the parked event, redriven, finishes the same invoice.
    simulator(stack).configure(closed_years=[])
    message = next(m for m in stack.dead_letters() if json.loads(m["Body"])["id"] == "evt_new_year")
    enqueue(stack, message["Body"], message["Attributes"]["MessageGroupId"], "redrive-new-year")
    drain(stack)
    assert outcomes(stack)["evt_new_year"] == "updated"
    (stored,) = invoices(stack)
    payment = assert_booked_and_paid(stack, stored, 25000)
    assert payment["PaymentDate"] == "2024-01-01"

    # An account missing from the chart: refused on create, nothing is left in Fortnox.
    simulator(stack).configure(accounts=[a for a in DEFAULT_ACCOUNTS if a != 3002])
    twelve = customer_invoice("in_twelve", "pi_twelve", [LineSpec(10000, rate=12)])
    send(stack, event("evt_twelve", "invoice.paid", PERIOD_START + 60, twelve))
    drain(stack)
    attributes = parked(stack, "evt_twelve")
    assert attributes["failure_reason"] == "validation" and "3002" in attributes["failure_message"]
    assert [i["ExternalInvoiceReference1"] for i in invoices(stack)] == ["in_new_year"]
    assert stack.queue_depths()["EventQueueUrl"] == 0
