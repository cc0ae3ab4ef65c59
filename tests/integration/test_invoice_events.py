"""Issue #7's events, signed and sent through the local stack: the real webhook and sync handlers,
SQS and DynamoDB in moto, the Fortnox simulator; with a Stripe API key, the real `StripeApi` against
`tests.stripe_api_fake`. Every test asserts the documents the simulator ends up holding, with totals
equal to Stripe's to the öre.

The same invoice.paid delivered three times is test_triggers'
`test_invoice_paid_three_times_is_one_booked_paid_invoice`; here a refund's redelivery is covered.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from fortnox_sim import DEFAULT_ACCOUNTS, compute_row
from stripe_fortnox_cli.local import LocalConfig, LocalStack
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from tests.integration.test_pipeline import SECRET, customer, drain, event, outcomes, send
from tests.invoice_factory import PERIOD_END, PERIOD_START, LineSpec, fixture, line_tax, stripe_invoice
from tests.stripe_api_fake import FakeStripeApi

CLEARING = 1580
ROUNDING = 3740
MAY_20 = 1716199200  # 2024-05-20 10:00 UTC: when the refunds are made
TIMES = " \u00d7 "  # "3 x Seat" with the multiplication sign, as Stripe and the rows write it


# ----------------------------------------------------------------------------- the stack


@contextlib.contextmanager
def invoice_stack(
    tmp_path: Path, *, stripe: FakeStripeApi | None = None, env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """A local stack with every event type enabled, no rate limit to wait for, and a failed record
    back on the queue 1 s after it failed (`visibility_timeout`)."""
    config = LocalConfig(
        port=0,
        webhook_secrets=[SECRET],
        state_dir=tmp_path,
        start_worker=False,
        visibility_timeout=1,
        stripe_api_key=stripe.api_key if stripe else None,
        stripe_api_base=stripe.base_url if stripe else None,
        extra_env={
            "ENABLED_EVENT_TYPES": ",".join(SUPPORTED_TYPES),
            "FORTNOX_MAX_REQUESTS": "1000",
            "FORTNOX_WINDOW_SECONDS": "1",
            **(env or {}),
        },
        simulator_options={"max_requests": 100_000},
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    """Without a Stripe API key: every event applies its own payload."""
    with invoice_stack(tmp_path) as running:
        yield running


def drain_until(stack: LocalStack, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Step the queue until `done()`, also through records that wait out their visibility timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.poll_once() == 0:
            if done():
                return
            time.sleep(0.05)
    raise AssertionError(f"not done after {timeout} s; processed: {outcomes(stack)}")


# ----------------------------------------------------------------------------- Fortnox's view


def sim(stack: LocalStack) -> Any:
    assert stack.fortnox and stack.fortnox.simulator
    return stack.fortnox.simulator


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def invoices(stack: LocalStack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim(stack).invoices()
    return found


def by_reference(stack: LocalStack, reference: str) -> dict[str, Any]:
    (found,) = [i for i in invoices(stack) if i["ExternalInvoiceReference1"] == reference]
    return found


def credits_of(stack: LocalStack, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i
        for i in invoices(stack)
        if i["CreditInvoiceReference"] == invoice["DocumentNumber"] and dec(i["Total"]) < 0
    ]


def payments_of(stack: LocalStack, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    number = int(invoice["DocumentNumber"])
    return [p for p in sim(stack).payments() if p["InvoiceNumber"] == number]


def unrounded(invoice: dict[str, Any]) -> Decimal:
    """What the invoice is worth before Fortnox's öresavrundning: Stripe's amount."""
    return dec(invoice["Total"]) - dec(invoice["RoundOff"])


def fortnox_number(stack: LocalStack, stripe_customer: str) -> str:
    (found,) = [c for c in sim(stack).customers() if c["ExternalReference"] == stripe_customer]
    return str(found["CustomerNumber"])


def assert_booked_and_paid(stack: LocalStack, invoice: dict[str, Any], stripe_minor: int) -> dict[str, Any]:
    """Booked, worth exactly Stripe's amount (minor units of a two-decimal currency, negative for a
    credit), settled by one booked payment through the Stripe clearing account (the round-off
    written off); returns that payment."""
    assert invoice["Booked"] is True and invoice["Cancelled"] is False
    assert unrounded(invoice) == Decimal(stripe_minor) / 100
    assert dec(invoice["Balance"]) == 0
    (payment,) = payments_of(stack, invoice)
    assert payment["Booked"] is True and payment["ModeOfPaymentAccount"] == CLEARING
    write_offs = sum((dec(w["Amount"]) for w in payment["WriteOffs"]), Decimal(0))
    assert dec(payment["AmountCurrency"]) == Decimal(stripe_minor) / 100  # what went through Stripe
    assert write_offs == dec(invoice["RoundOff"])
    assert all(w["AccountNumber"] == ROUNDING for w in payment["WriteOffs"])
    return payment


def parked(stack: LocalStack, event_id: str) -> dict[str, str]:
    """The message attributes of the parked event `event_id` (it must be parked exactly once)."""
    (message,) = [m for m in stack.dead_letters() if json.loads(m["Body"])["id"] == event_id]
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}


# ----------------------------------------------------------------------------- Stripe objects


def paid_invoice(
    invoice_id: str,
    payment_intent: str,
    specs: list[LineSpec],
    *,
    customer_id: str = "cus_InvKund",
    currency: str = "sek",
    **overrides: Any,
) -> dict[str, Any]:
    """A paid Stripe invoice (API versions before 2025: it names its PaymentIntent) of a Swedish
    customer whose name and e-mail it carries, with Stripe's totals (tests.invoice_factory)."""
    return stripe_invoice(
        specs,
        currency,
        invoice_id=invoice_id,
        payment_intent=payment_intent,
        customer=customer_id,
        customer_name="Kund AB",
        customer_email=f"{customer_id.lower()}@example.se",
        **overrides,
    )


def refund(
    refund_id: str,
    amount: int,
    payment_intent: str,
    *,
    status: str = "succeeded",
    currency: str = "sek",
    created: int = MAY_20,
    **overrides: Any,
) -> dict[str, Any]:
    obj = fixture("stripe_refund.json")
    obj.update(
        id=refund_id,
        amount=amount,
        currency=currency,
        payment_intent=payment_intent,
        charge=payment_intent.replace("pi_", "ch_"),
        status=status,
        created=created,
        **overrides,
    )
    return obj


def charge_refunded(
    payment_intent: str, amount: int, refunds: list[dict[str, Any]], currency: str = "sek"
) -> dict[str, Any]:
    """The charge of a payment as charge.refunded carries it, listing `refunds`."""
    charge = fixture("stripe_charge.json")
    charge_id = payment_intent.replace("pi_", "ch_")
    charge.update(
        id=charge_id,
        amount=amount,
        amount_captured=amount,
        amount_refunded=sum(r["amount"] for r in refunds),
        captured=True,
        currency=currency,
        payment_intent=payment_intent,
        refunded=False,
        balance_transaction=None,
        refunds={
            "object": "list",
            "data": refunds,
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
    )
    return charge


def stripe_customer(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """A Swedish customer as the API returns it with `tax_ids` expanded."""
    tax_ids = {"object": "list", "data": [], "has_more": False, "url": f"/v1/customers/{customer_id}/tax_ids"}
    return customer(customer_id, tax_ids=tax_ids, **overrides)


def payment_intent(
    intent_id: str, amount: int, *, customer_id: str, currency: str = "sek", settled_sek: int | None = None
) -> dict[str, Any]:
    """A succeeded PaymentIntent as the API returns it with latest_charge.balance_transaction expanded."""
    charge_id = intent_id.replace("pi_", "ch_")
    intent = fixture("stripe_payment_intent.json")
    intent.update(
        id=intent_id,
        amount=amount,
        amount_received=amount,
        currency=currency,
        customer=customer_id,
        status="succeeded",
        created=PERIOD_START,
        canceled_at=None,
        last_payment_error=None,
        next_action=None,
        processing=None,
        latest_charge={
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "currency": currency,
            "payment_intent": intent_id,
            "billing_details": {"email": None, "name": None, "phone": None, "address": None},
            "balance_transaction": {
                "id": intent_id.replace("pi_", "txn_"),
                "object": "balance_transaction",
                "amount": amount if settled_sek is None else settled_sek,
                "currency": "sek",
                "source": charge_id,
                "type": "charge",
            },
        },
    )
    return intent


def checkout_item(
    item_id: str, description: str, quantity: int, unit: int, *, rate: int, discount: int = 0
) -> dict[str, Any]:
    """A Checkout line item as GET /v1/checkout/sessions/{id}/line_items lists it (exclusive tax)."""
    subtotal = unit * quantity
    tax = (subtotal - discount) * rate // 100
    item = fixture("stripe_checkout_line_item.json")
    item.update(
        id=item_id,
        description=description,
        quantity=quantity,
        currency="sek",
        amount_subtotal=subtotal,
        amount_discount=discount,
        amount_tax=tax,
        amount_total=subtotal - discount + tax,
        taxes=[
            {
                "amount": tax,
                "rate": {
                    "id": f"txr_{rate}",
                    "object": "tax_rate",
                    "percentage": float(rate),
                    "inclusive": False,
                },
                "taxability_reason": "standard_rated",
                "taxable_amount": subtotal - discount,
            }
        ],
    )
    item["price"].update(
        currency="sek", unit_amount=unit, unit_amount_decimal=str(unit), tax_behavior="exclusive"
    )
    return item


# ----------------------------------------------------------------------------- sales


def test_subscription_renewal_is_two_booked_paid_invoices(stack: LocalStack) -> None:
    send(stack, event("evt_cust", "customer.created", PERIOD_START - 100, customer("cus_Renew")))
    first = paid_invoice("in_renew_1", "pi_renew_1", [LineSpec(9900)], customer_id="cus_Renew")
    july = PERIOD_END + 30 * 86400  # 2024-07-01 10:00 UTC
    renewal = paid_invoice(
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
    stripe = paid_invoice("in_mixed", "pi_mixed", specs)
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


# ----------------------------------------------------------------------------- refunds


def test_full_refund_credits_the_invoice_through_fortnox(stack: LocalStack) -> None:
    stripe = paid_invoice("in_full", "pi_full", [LineSpec(9900)])
    send(stack, event("evt_full_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)
    send(stack, event("evt_full_refund", "refund.created", MAY_20, refund("re_full", 12375, "pi_full")))
    drain(stack)

    assert outcomes(stack)["evt_full_refund"] == "created"
    sale = by_reference(stack, "in_full")
    (credit,) = credits_of(stack, sale)
    assert sim(stack).stats()["requests"]["PUT /3/invoices/{n}/credit"] == 1  # Fortnox's credit action
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
    stripe = paid_invoice("in_part", "pi_part", [LineSpec(9900), LineSpec(4999, quantity=2, rate=6)])
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
            charge_refunded("pi_part", 22973, [second, first]),
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
    assert "PUT /3/invoices/{n}/credit" not in sim(stack).stats()["requests"]


def test_a_refund_before_its_invoice_waits_and_then_credits(stack: LocalStack) -> None:
    early = refund("re_early", 3000, "pi_late")
    send(stack, event("evt_early_refund", "refund.created", MAY_20, early))
    drain(stack)
    # Failed for now: back on the queue after the visibility timeout, neither lost nor parked.
    assert invoices(stack) == [] and stack.dead_letters() == []
    assert stack.queue_depths() == {"EventQueueUrl": 1, "DeadLetterQueueUrl": 0}
    assert "evt_early_refund" not in outcomes(stack)

    stripe = paid_invoice("in_late", "pi_late", [LineSpec(9900)])
    send(stack, event("evt_late_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain_until(stack, lambda: "evt_early_refund" in outcomes(stack))

    assert outcomes(stack) == {"evt_late_paid": "created", "evt_early_refund": "created"}
    assert stack.redeliveries >= 1
    assert stack.queue_depths() == {"EventQueueUrl": 0, "DeadLetterQueueUrl": 0}
    sale = by_reference(stack, "in_late")
    (credit,) = credits_of(stack, sale)
    assert credit["ExternalInvoiceReference1"] == "re_early"
    assert_booked_and_paid(stack, credit, -3000)


def test_a_redelivered_refund_is_one_credit(stack: LocalStack) -> None:
    stripe = paid_invoice("in_again", "pi_again", [LineSpec(9900)])
    send(stack, event("evt_again_paid", "invoice.paid", PERIOD_START + 60, stripe))
    drain(stack)
    again = event("evt_again_refund", "refund.created", MAY_20, refund("re_again", 4000, "pi_again"))
    for _ in range(3):  # Stripe redelivers within SQS's deduplication window
        assert send(stack, again)[0] == 200
    boto3.client("sqs").send_message(  # and once after it: the idempotency table catches it
        QueueUrl=stack.outputs["EventQueueUrl"],
        MessageBody=json.dumps(again),
        MessageGroupId="pi_again",
        MessageDeduplicationId="after-the-window",
    )
    # Another event about the same refund: only Fortnox's own record can tell it is done.
    send(
        stack, event("evt_again_updated", "refund.updated", MAY_20 + 5, refund("re_again", 4000, "pi_again"))
    )
    drain(stack)

    seen = [(e.event_id, e.outcome) for e in stack.processed if e.event_id != "evt_again_paid"]
    assert seen == [
        ("evt_again_refund", "created"),
        ("evt_again_refund", "ignored"),
        ("evt_again_updated", "unchanged"),
    ]
    sale = by_reference(stack, "in_again")
    (credit,) = credits_of(stack, sale)
    assert credit["ExternalInvoiceReference1"] == "re_again"
    assert_booked_and_paid(stack, credit, -4000)  # one payment back, not three
    assert len(invoices(stack)) == 2 and len(sim(stack).payments()) == 2


# ----------------------------------------------------------------------------- with a Stripe API key


def test_foreign_currency_payment_and_refund_carry_stripes_sek(tmp_path: Path) -> None:
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(stripe_customer("cus_Euro", currency="eur"))
        stripe = paid_invoice("in_eur", "pi_eur", [LineSpec(10000)], customer_id="cus_Euro", currency="eur")
        api.add_invoice(stripe)
        # Stripe settled the 125.00 EUR for 1 438.12 SEK and took 50.00 EUR back for 570.05 SEK.
        api.add_payment_intent(
            payment_intent("pi_eur", 12500, customer_id="cus_Euro", currency="eur", settled_sek=143812)
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
                "evt_eur_charge", "charge.refunded", MAY_20 + 1, charge_refunded("pi_eur", 12500, [], "eur")
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


def test_checkout_payment_is_invoiced_once_and_its_payment_intent_is_ignored(tmp_path: Path) -> None:
    with (
        FakeStripeApi() as api,
        invoice_stack(tmp_path, stripe=api, env={"INVOICE_CHECKOUT_PAYMENTS": "true"}) as stack,
    ):
        api.add_customer(stripe_customer("cus_Shop"))
        items = [
            checkout_item("li_shirt", "T-shirt", 2, 20000, rate=25, discount=4000),
            checkout_item("li_book", "Kokbok", 1, 15000, rate=6),
        ]
        total = sum(i["amount_total"] for i in items)
        session = fixture("stripe_checkout_session.json")
        session.update(
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
        api.add_payment_intent(payment_intent("pi_shop", total, customer_id="cus_Shop"))
        send(stack, event("evt_shop_session", "checkout.session.completed", PERIOD_START + 5, session))
        drain(stack)
        intent = payment_intent("pi_shop", total, customer_id="cus_Shop")
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


def test_current_api_invoice_finds_its_payment_intent_and_charge_refunded_credits_it(tmp_path: Path) -> None:
    """API versions from 2025-03-31 name no PaymentIntent on the invoice: the invoice payments do,
    and a refund finds the sale only through it."""
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(stripe_customer("cus_Clover"))
        stripe = paid_invoice("in_clover", "pi_clover", [LineSpec(9900)], customer_id="cus_Clover")
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
            event("evt_clover_charge", "charge.refunded", MAY_20, charge_refunded("pi_clover", 12375, [])),
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


def test_bare_payment_intent_is_a_one_row_invoice_and_a_pending_refund_waits(tmp_path: Path) -> None:
    with FakeStripeApi() as api, invoice_stack(tmp_path, stripe=api) as stack:
        api.add_customer(stripe_customer("cus_Bare"))
        intent = payment_intent("pi_bare", 49900, customer_id="cus_Bare")
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


# ----------------------------------------------------------------------------- Fortnox refuses


def test_fortnox_refusals_are_parked_with_fortnoxs_message_and_redrive_finishes(stack: LocalStack) -> None:
    # Paid at 00:30 on New Year's Day in Stockholm (23:30 UTC): the payment falls in 2024.
    dec_31 = 1704024000  # 2023-12-31 12:00 UTC
    new_year = paid_invoice(
        "in_new_year",
        "pi_new_year",
        [LineSpec(20000)],
        created=dec_31,
        effective_at=dec_31,
        status_transitions={"finalized_at": dec_31, "paid_at": dec_31 + 11 * 3600 + 1800},
    )
    sim(stack).configure(closed_years=[2024])
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
    sim(stack).configure(closed_years=[])
    message = next(m for m in stack.dead_letters() if json.loads(m["Body"])["id"] == "evt_new_year")
    boto3.client("sqs").send_message(
        QueueUrl=stack.outputs["EventQueueUrl"],
        MessageBody=message["Body"],
        MessageGroupId=message["Attributes"]["MessageGroupId"],
        MessageDeduplicationId="redrive-new-year",
    )
    drain(stack)
    assert outcomes(stack)["evt_new_year"] == "updated"
    (stored,) = invoices(stack)
    payment = assert_booked_and_paid(stack, stored, 25000)
    assert payment["PaymentDate"] == "2024-01-01"

    # An account missing from the chart: refused on create, nothing is left in Fortnox.
    sim(stack).configure(accounts=[a for a in DEFAULT_ACCOUNTS if a != 3002])
    twelve = paid_invoice("in_twelve", "pi_twelve", [LineSpec(10000, rate=12)])
    send(stack, event("evt_twelve", "invoice.paid", PERIOD_START + 60, twelve))
    drain(stack)
    attributes = parked(stack, "evt_twelve")
    assert attributes["failure_reason"] == "validation" and "3002" in attributes["failure_message"]
    assert [i["ExternalInvoiceReference1"] for i in invoices(stack)] == ["in_new_year"]
    assert stack.queue_depths()["EventQueueUrl"] == 0
