"""Stripe objects and events for the tests: one builder per kind.

Each starts from Stripe's own example object in tests/fixtures (copied into the repo, so the tests
never depend on anything outside it) and sets what a test needs; every builder takes the fields to
change as keyword arguments. Amounts are computed the way Stripe computes them (integer minor units,
tax rounded per line), so an invoice's `total` is what Stripe would say. Stripe's exact tax rounding
is not documented; lines round half up or half to even (`LineSpec.rounding`), so the tests also meet
Stripe amounts that Fortnox's own rounding would not reproduce.

A few named buyers recur through the suites: `anna_andersson` (Stockholm), `per_persson` (Lund),
`ingrid_integration` (Umeå), the guest `gustav_guest_checkout` and `bo_buyer_charge`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from stripe_fortnox_sync.core.models import StripeEvent

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# 2024-05-01 10:00 UTC and a month later: a renewal period. Refunds are made on 2024-05-20.
PERIOD_START = 1714557600
PERIOD_END = 1717236000
REFUND_DAY = PERIOD_START + 19 * 86_400

Obj = dict[str, Any]


@cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def fixture(name: str) -> Obj:
    """A fresh copy of one of Stripe's example objects, e.g. `fixture("stripe_refund.json")`."""
    data: Obj = json.loads(_fixture_text(name))
    return data


# Events ---------------------------------------------------------------------------------------


def event(
    event_id: str = "evt_1",
    kind: str = "customer.created",
    created: int = 1_700_000_000,
    obj: Obj | None = None,
    *,
    livemode: bool = False,
    **fields: Any,
) -> Obj:
    """A Stripe Event envelope as the webhook receives it (`fields` set or replace top-level keys)."""
    envelope: Obj = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "type": kind,
        "created": created,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj if obj is not None else {"id": "cus_1", "object": "customer"}},
    }
    return {**envelope, **fields}


_event_ids = itertools.count(1)


def stripe_event(kind: str, obj: Obj, created: int = 100, event_id: str | None = None) -> StripeEvent:
    """The event as the sync sees it after the queue (a `StripeEvent`), with a fresh id by default."""
    return StripeEvent(event_id or f"evt_b{next(_event_ids)}", kind, created, False, obj)


# Customers and tax ids --------------------------------------------------------------------------


def address(country: str | None = None, **fields: Any) -> Obj:
    """A Stripe address: every field null but `country` and `fields`."""
    return {
        "line1": None,
        "line2": None,
        "postal_code": None,
        "city": None,
        "state": None,
        "country": country,
        **fields,
    }


def shipping(name: str | None = None, phone: str | None = None, **address_fields: Any) -> Obj:
    return {"name": name, "phone": phone, "address": address(**address_fields)}


def customer(customer_id: str | None = None, /, **fields: Any) -> Obj:
    """Stripe's example customer (cus_QXg1o8vcGmoR32, no name, USD), its id and `fields` changed."""
    data = fixture("stripe_customer.json")
    if customer_id is not None:
        data["id"] = customer_id
    data.update(fields)
    return data


def _swedish_buyer(customer_id: str, name: str, email: str, home: Obj, fields: Obj) -> Obj:
    """A private Swedish customer paying in SEK, with `fields` over that."""
    return customer(
        customer_id, **{"name": name, "email": email, "address": home, "currency": "sek", **fields}
    )


def anna_andersson(customer_id: str = "cus_A", **fields: Any) -> Obj:
    """A private Swedish customer in Stockholm with a phone number, paying in SEK."""
    home = address("SE", line1="Storgatan 1", postal_code="111 22", city="Stockholm")
    known = {"phone": "+46 70 123 45 67", "shipping": None}
    return _swedish_buyer(customer_id, "Anna Andersson", "anna@example.se", home, {**known, **fields})


def per_persson(customer_id: str = "cus_P1", **fields: Any) -> Obj:
    """A private Swedish customer in Lund without a phone, paying in SEK."""
    home = address("SE", line1="Gatan 1", postal_code="123 45", city="Lund")
    return _swedish_buyer(customer_id, "Per Persson", "per@example.se", home, fields)


def ingrid_integration(customer_id: str = "cus_Int1", **fields: Any) -> Obj:
    """A private Swedish customer in Umeå whose e-mail is made of the customer id."""
    home = address("SE", line1="Testvägen 1", postal_code="123 45", city="Umeå")
    known = {"phone": "+46 70 000 00 00", "shipping": None}
    email = f"{customer_id.lower()}@example.se"
    return _swedish_buyer(customer_id, "Ingrid Integration", email, home, {**known, **fields})


def tax_id(
    value: str = "SE556677889901",
    country: str | None = "SE",
    *,
    kind: str = "eu_vat",
    customer_id: str | None = None,
    **fields: Any,
) -> Obj:
    """Stripe's example tax id with this value (of `customer_id`, else the example customer's)."""
    data = fixture("stripe_tax_id.json")
    data.update(type=kind, value=value, country=country)
    if customer_id is not None:
        data["customer"] = customer_id
    data.update(fields)
    return data


def tax_id_list(customer_id: str, *tax_ids: Obj) -> Obj:
    """A customer's `tax_ids` as the API expands them."""
    url = f"/v1/customers/{customer_id}/tax_ids"
    return {"object": "list", "data": list(tax_ids), "has_more": False, "url": url}


# Subscriptions ----------------------------------------------------------------------------------


def subscription(customer_id: str = "cus_S", **fields: Any) -> Obj:
    """Stripe's example subscription, of `customer_id`."""
    return {**fixture("stripe_subscription.json"), "customer": customer_id, **fields}


# Checkout -----------------------------------------------------------------------------------------


def checkout_session(**fields: Any) -> Obj:
    """Stripe's example Checkout Session (open, unpaid, payment mode, a guest) with `fields` set."""
    return {**fixture("stripe_checkout_session.json"), **fields}


def paid_checkout(amount_total: int, payment_intent: str = "pi_checkout", **fields: Any) -> Obj:
    """A completed, paid Checkout Session in SEK."""
    paid = {
        "currency": "sek",
        "amount_total": amount_total,
        "payment_intent": payment_intent,
        "payment_status": "paid",
        "status": "complete",
    }
    return checkout_session(**{**paid, **fields})


def gustav_guest_checkout(**fields: Any) -> Obj:
    """A guest's Checkout Session in payment mode (no customer): Gustav in Uppsala, his details."""
    details = {
        "email": "Guest@Example.se",
        "name": "Gustav Guest",
        "phone": "+46 70 999 00 00",
        "address": address("SE", line1="Gästvägen 3", postal_code="753 20", city="Uppsala"),
        "tax_exempt": "none",
        "tax_ids": [],
    }
    return checkout_session(**{"mode": "payment", "customer": None, "customer_details": details, **fields})


def gustav_paid_checkout(**fields: Any) -> Obj:
    """Gustav's session cs_paid, complete and paid: 10.00 SEK through pi_1, no Stripe invoice."""
    paid = {
        "id": "cs_paid",
        "payment_status": "paid",
        "status": "complete",
        "currency": "sek",
        "amount_total": 1000,
        "payment_intent": "pi_1",
        "invoice": None,
    }
    return gustav_guest_checkout(**{**paid, **fields})


def line_item(**fields: Any) -> Obj:
    """Stripe's example Checkout line item (one T-shirt, all amounts 0) with `fields` set."""
    return {**fixture("stripe_checkout_line_item.json"), **fields}


def taxed_line_item(
    description: str,
    quantity: int,
    unit: int,
    *,
    rate: int,
    discount: int = 0,
    inclusive: bool = False,
    **fields: Any,
) -> Obj:
    """A SEK Checkout line item as GET /v1/checkout/sessions/{id}/line_items lists it: `quantity` at
    `unit` minor units less `discount`, with `rate` % VAT on top (or included), Stripe's amounts."""
    subtotal = unit * quantity
    value = subtotal - discount
    tax = value - _round(Decimal(value * 100) / (100 + rate), "half_up") if inclusive else value * rate // 100
    item = line_item(
        description=description,
        quantity=quantity,
        currency="sek",
        amount_subtotal=subtotal,
        amount_discount=discount,
        amount_tax=tax,
        amount_total=value + (0 if inclusive else tax),
        taxes=[
            {
                "amount": tax,
                "rate": {
                    "id": f"txr_{rate}",
                    "object": "tax_rate",
                    "percentage": float(rate),
                    "inclusive": inclusive,
                },
                "taxability_reason": "standard_rated",
                "taxable_amount": value - tax if inclusive else value,
            }
        ],
        **fields,
    )
    behaviour = "inclusive" if inclusive else "exclusive"
    item["price"].update(
        currency="sek", unit_amount=unit, unit_amount_decimal=str(unit), tax_behavior=behaviour
    )
    return item


def checkout_tshirts(session_id: str, payment_intent: str, **fields: Any) -> tuple[Obj, list[Obj]]:
    """A paid Checkout Session for 3 T-shirts at 100 SEK + 25 % VAT (375.00 SEK), and its line item."""
    session = paid_checkout(37500, payment_intent, id=session_id, **fields)
    return session, [taxed_line_item("T-shirt", 3, 10000, rate=25)]


# Invoices -----------------------------------------------------------------------------------------

Rounding = Literal["half_up", "half_even"]


def _round(value: Decimal, rounding: Rounding) -> int:
    return int(
        value.quantize(Decimal(1), rounding=ROUND_HALF_UP if rounding == "half_up" else ROUND_HALF_EVEN)
    )


@dataclass(frozen=True)
class LineSpec:
    """One Stripe invoice line: unit amount in minor units (may have decimals), a VAT rate."""

    unit_amount: Decimal | int
    quantity: int = 1
    rate: int = 25
    inclusive: bool = False
    discount: int = 0
    description: str = "Pro plan"
    rounding: Rounding = "half_up"
    old_api: bool = False  # tax_amounts (API versions before 2025) instead of taxes
    taxed: bool = True


def invoice_line(spec: LineSpec, currency: str, index: int = 0) -> Obj:
    """Stripe's example invoice line item for this spec, in the renewal period."""
    unit = Decimal(spec.unit_amount)
    amount = _round(unit * spec.quantity, "half_up")
    value = amount - spec.discount
    rate = Decimal(spec.rate)
    if spec.inclusive:
        tax = value - _round(value * 100 / (100 + rate), spec.rounding)
        taxable = value - tax
    else:
        taxable = value
        tax = _round(value * rate / 100, spec.rounding)
    line = fixture("stripe_invoice_line_item.json")
    line.update(
        id=f"il_test{index}",
        amount=amount,
        currency=currency,
        description=spec.description,
        quantity=spec.quantity,
        period={"start": PERIOD_START, "end": PERIOD_END},
        discount_amounts=[{"amount": spec.discount, "discount": "di_test"}] if spec.discount else [],
        pricing={"type": "price_details", "unit_amount_decimal": str(unit)},
        subtotal=amount,
        taxes=None,
    )
    if not spec.taxed:
        pass
    elif spec.old_api:
        line.pop("taxes")
        line["tax_amounts"] = [
            {
                "amount": tax,
                "inclusive": spec.inclusive,
                "tax_rate": f"txr_{spec.rate}",
                "taxable_amount": taxable,
            }
        ]
    else:
        line["taxes"] = [
            {
                "amount": tax,
                "tax_behavior": "inclusive" if spec.inclusive else "exclusive",
                "tax_rate_details": {"tax_rate": f"txr_{spec.rate}"},
                "taxability_reason": "standard_rated",
                "taxable_amount": taxable,
                "type": "tax_rate_details",
            }
        ]
    return line


def line_tax(line: Obj) -> int:
    entries = line.get("taxes") or line.get("tax_amounts") or []
    return sum(int(e["amount"]) for e in entries)


def _line_inclusive(line: Obj) -> bool:
    entries = line.get("taxes") or line.get("tax_amounts") or []
    return any(e.get("tax_behavior") == "inclusive" or e.get("inclusive") is True for e in entries)


def stripe_invoice(
    specs: list[LineSpec], currency: str = "sek", *, invoice_id: str = "in_test_renewal", **fields: Any
) -> Obj:
    """Stripe's example invoice with these lines, paid, and its totals computed like Stripe's: a
    renewal of a customer in Stockholm, paid by pi_test_renewal."""
    lines = [invoice_line(spec, currency, i) for i, spec in enumerate(specs)]
    subtotal = sum(line["amount"] for line in lines)
    discounts = sum(d["amount"] for line in lines for d in line["discount_amounts"])
    exclusive_tax = sum(line_tax(line) for line in lines if not _line_inclusive(line))
    total = subtotal - discounts + exclusive_tax
    invoice = fixture("stripe_invoice.json")
    invoice.update(
        id=invoice_id,
        number="ABC123-0001",
        currency=currency,
        lines={"data": lines, "has_more": False, "object": "list", "url": f"/v1/invoices/{invoice_id}/lines"},
        subtotal=subtotal,
        total=total,
        amount_due=total,
        amount_paid=total,
        amount_remaining=0,
        status="paid",
        billing_reason="subscription_cycle",
        created=PERIOD_START,
        effective_at=PERIOD_START,
        due_date=None,
        status_transitions={
            "finalized_at": PERIOD_START,
            "paid_at": PERIOD_START + 60,
            "marked_uncollectible_at": None,
            "voided_at": None,
        },
        customer_address=address("SE", city="Stockholm", line1="Gatan 1", postal_code="111 22"),
        customer_tax_exempt="none",
        customer_tax_ids=[],
        payment_intent="pi_test_renewal",
    )
    invoice.update(fields)
    return invoice


def customer_invoice(
    invoice_id: str,
    payment_intent: str,
    specs: list[LineSpec],
    currency: str = "sek",
    *,
    customer_id: str = "cus_InvKund",
    **fields: Any,
) -> Obj:
    """A paid invoice (API versions before 2025: it names its PaymentIntent) of a Swedish customer
    whose name and e-mail it carries."""
    known = {
        "customer": customer_id,
        "customer_name": "Kund AB",
        "customer_email": f"{customer_id.lower()}@example.se",
        "payment_intent": payment_intent,
    }
    return stripe_invoice(specs, currency, invoice_id=invoice_id, **{**known, **fields})


def per_persson_invoice(**fields: Any) -> Obj:
    """Stripe's example invoice billed to Per Persson (cus_P1): 199.00 SEK due, attempt 2 failed."""
    known = {
        "customer": "cus_P1",
        "customer_name": "Per Persson",
        "customer_email": "per@example.se",
        "amount_due": 19900,
        "currency": "sek",
        "attempt_count": 2,
        "next_payment_attempt": 1_764_000_000,
        "number": "ABC-0001",
    }
    return {**fixture("stripe_invoice.json"), **known, **fields}


# Payments and refunds -----------------------------------------------------------------------------


def balance_transaction(amount: int, currency: str = "sek", **fields: Any) -> Obj:
    """An expanded balance transaction: what Stripe booked, in the account's currency."""
    return {"id": "txn_1", "object": "balance_transaction", "amount": amount, "currency": currency, **fields}


def charge(
    charge_id: str = "ch_1", amount: int = 12500, payment_intent: str | None = "pi_1", **fields: Any
) -> Obj:
    """Stripe's example charge in SEK, of `payment_intent`."""
    return {
        **fixture("stripe_charge.json"),
        "id": charge_id,
        "amount": amount,
        "currency": "sek",
        "payment_intent": payment_intent,
        **fields,
    }


def bo_buyer_charge(**fields: Any) -> Obj:
    """A guest's charge (ch_1 of pi_1, 125.00 SEK, nothing refunded): Bo in Göteborg pays."""
    billing = {
        "email": "Bo@Example.se",
        "name": "Bo Buyer",
        "phone": None,
        "tax_id": None,
        "address": address("SE", line1="Bovägen 2", postal_code="411 01", city="Göteborg"),
    }
    return charge(**{"amount_refunded": 0, "refunds": None, "billing_details": billing, **fields})


def refunded_charge(payment_intent: str, amount: int, refunds: list[Obj], currency: str = "sek") -> Obj:
    """The charge of a payment as charge.refunded carries it, listing `refunds`."""
    charge_id = payment_intent.replace("pi_", "ch_")
    listing = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/charges/{charge_id}/refunds",
    }
    return charge(
        charge_id,
        amount,
        payment_intent,
        amount_captured=amount,
        amount_refunded=sum(r["amount"] for r in refunds),
        captured=True,
        currency=currency,
        refunded=False,
        balance_transaction=None,
        refunds=listing,
    )


def payment_intent(
    intent_id: str | None = None, amount: int = 12500, currency: str = "sek", **fields: Any
) -> Obj:
    """Stripe's example PaymentIntent (its id unless `intent_id`), succeeded for `amount`."""
    data = fixture("stripe_payment_intent.json")
    data.update(
        id=intent_id or data["id"],
        amount=amount,
        amount_received=amount,
        currency=currency,
        status="succeeded",
    )
    data.update(fields)
    return data


def bo_buyer_payment_intent(**fields: Any) -> Obj:
    """A guest's PaymentIntent (pi_1, 125.00 SEK, no customer, no invoice), paid by `bo_buyer_charge`."""
    return payment_intent(
        "pi_1", **{"customer": None, "invoice": None, "latest_charge": bo_buyer_charge(), **fields}
    )


def settled_payment_intent(
    intent_id: str, amount: int, *, customer_id: str, currency: str = "sek", settled_sek: int | None = None
) -> Obj:
    """A succeeded PaymentIntent as the API returns it with latest_charge.balance_transaction
    expanded: what Stripe settled in SEK (`amount` unless `settled_sek` says otherwise)."""
    charge_id = intent_id.replace("pi_", "ch_")
    settled = balance_transaction(
        amount if settled_sek is None else settled_sek,
        id=intent_id.replace("pi_", "txn_"),
        source=charge_id,
        type="charge",
    )
    latest_charge = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "payment_intent": intent_id,
        "billing_details": {"email": None, "name": None, "phone": None, "address": None},
        "balance_transaction": settled,
    }
    return payment_intent(
        intent_id,
        amount,
        currency,
        customer=customer_id,
        created=PERIOD_START,
        canceled_at=None,
        last_payment_error=None,
        next_action=None,
        processing=None,
        latest_charge=latest_charge,
    )


def refund(
    refund_id: str = "re_1", amount: int = 5000, payment_intent: str | None = "pi_1", **fields: Any
) -> Obj:
    """Stripe's example refund, succeeded on 2024-05-20, of `payment_intent` and its charge (ch_ for pi_)."""
    charge_id = payment_intent.replace("pi_", "ch_") if payment_intent else None
    known = {
        "id": refund_id,
        "amount": amount,
        "currency": "sek",
        "payment_intent": payment_intent,
        "charge": charge_id,
        "status": "succeeded",
        "created": REFUND_DAY,
    }
    return {**fixture("stripe_refund.json"), **known, **fields}
