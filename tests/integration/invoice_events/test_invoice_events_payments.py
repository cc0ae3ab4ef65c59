"""checkout.session.completed and payment_intent.succeeded as sales, through the local stack with
the real `StripeApi` against the local Stripe API (`stripe_fortnox_cli.local.stripe_fake`,
tests/integration/invoice_events/checks.py): a Checkout payment is invoiced once, a bare
PaymentIntent is a one-row invoice, and its pending refund waits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from tests.builders import (
    PERIOD_START,
    checkout_session,
    event,
    ingrid_integration,
    refund,
    settled_payment_intent,
    tax_id_list,
    taxed_line_item,
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
)
from tests.integration.stack import drain, outcomes, send


def test_checkout_payment_is_invoiced_once_and_its_payment_intent_is_ignored(tmp_path: Path) -> None:
    with (
        FakeStripeApi() as api,
        invoice_stack(tmp_path, stripe=api, env={"INVOICE_CHECKOUT_PAYMENTS": "true"}) as stack,
    ):
        api.add_customer(ingrid_integration("cus_Shop", tax_ids=tax_id_list("cus_Shop")))
        items = [
            taxed_line_item("T-shirt", 2, 20000, rate=25, discount=4000, id="li_shirt"),
            taxed_line_item("Kokbok", 1, 15000, rate=6, id="li_book"),
        ]
        total = sum(i["amount_total"] for i in items)
        session = checkout_session(
            id="cs_shop",
            mode="payment",
            status="complete",
            payment_status="paid",
            customer="cus_Shop",
            currency="sek",
            amount_subtotal=sum(i["amount_subtotal"] for i in items),
            amount_total=total,
            payment_intent="pi_shop",
            created=PERIOD_START,
            shipping_cost=None,
            shipping_address_collection=None,
            total_details={"amount_discount": 4000, "amount_shipping": 0, "amount_tax": 9900},
        )
        api.add_checkout_session(session, items)
        api.add_payment_intent(settled_payment_intent("pi_shop", total, customer_id="cus_Shop"))
        send(stack, event("evt_shop_session", "checkout.session.completed", PERIOD_START + 5, session))
        drain(stack)
        intent = settled_payment_intent("pi_shop", total, customer_id="cus_Shop")
        send(stack, event("evt_shop_intent", "payment_intent.succeeded", PERIOD_START + 6, intent))
        drain(stack)

        assert outcomes(stack) == {"evt_shop_session": "created", "evt_shop_intent": "ignored"}
        (stored,) = invoices(stack)
        assert stored["CustomerNumber"] == fortnox_number(stack, "cus_Shop")
        assert (stored["ExternalInvoiceReference1"], stored["ExternalInvoiceReference2"]) == (
            "pi_shop",
            "pi_shop",
        )
        assert total == 45000 + 15900
        assert_booked_and_paid(stack, stored, total)
        rows = stored["InvoiceRows"]
        assert [(r["Description"], r["VAT"], r["AccountNumber"]) for r in rows] == [
            (f"2{TIMES}T-shirt", 25, 3001),
            ("Kokbok", 6, 3003),
        ]
        assert (dec(rows[0]["Price"]), dec(rows[0]["Discount"])) == (Decimal("400.00"), Decimal("40.00"))
        assert dec(stored["TotalVAT"]) == Decimal("99.00")
        served = api.calls()
        assert "/v1/checkout/sessions/cs_shop/line_items" in [c.path for c in served]
        assert any(
            c.path == "/v1/checkout/sessions" and c.query.get("payment_intent") == ["pi_shop"] for c in served
        )


def test_bare_payment_intent_is_a_one_row_invoice_and_a_pending_refund_waits(tmp_path: Path) -> None:
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(ingrid_integration("cus_Bare", tax_ids=tax_id_list("cus_Bare")))
        intent = settled_payment_intent("pi_bare", 49900, customer_id="cus_Bare")
        intent["description"] = "Konsulttimme"
        api.add_payment_intent(intent)
        send(stack, event("evt_bare", "payment_intent.succeeded", PERIOD_START + 5, intent))
        drain(stack)
        pending = refund("re_bare", 10000, "pi_bare", status="pending")
        api.add_refund(pending)
        send(stack, event("evt_bare_r_created", "refund.created", MAY_20, pending))
        drain(stack)
        assert outcomes(stack) == {"evt_bare": "created", "evt_bare_r_created": "ignored"}
        assert len(invoices(stack)) == 1  # nothing credited while Stripe says pending

        succeeded = {**pending, "status": "succeeded"}
        api.add_refund(succeeded)
        send(stack, event("evt_bare_r_updated", "refund.updated", MAY_20 + 30, succeeded))
        drain(stack)

        assert outcomes(stack)["evt_bare_r_updated"] == "created"
        sale = by_reference(stack, "pi_bare")
        assert sale["CustomerNumber"] == fortnox_number(stack, "cus_Bare")
        assert sale["VATIncluded"] is True and sale["ExternalInvoiceReference2"] == "pi_bare"
        (row,) = sale["InvoiceRows"]
        assert (row["Description"], dec(row["Price"]), row["VAT"], row["AccountNumber"]) == (
            "Konsulttimme",
            Decimal("499.00"),
            25,
            3001,
        )
        assert dec(sale["TotalVAT"]) == Decimal("99.80")  # 25 % VAT included in 499.00
        assert_booked_and_paid(stack, sale, 49900)
        (credit,) = credits_of(stack, sale)
        assert credit["ExternalInvoiceReference1"] == "re_bare"
        assert dec(credit["TotalVAT"]) == Decimal("-20.00")
        assert_booked_and_paid(stack, credit, -10000)
        # No Stripe invoice took the payment: the API said so (Checkout payments are not invoiced
        # here, so no session lookup is needed).
        lookups = {c.path for c in api.calls() if "pi_bare" in str(c.query)}
        assert lookups == {"/v1/invoice_payments"}
