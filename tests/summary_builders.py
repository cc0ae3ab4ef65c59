"""A generated day of Stripe sales for summary booking: paid invoices of six buyers in six countries
(Sweden at 25, 12 and 6 %, one-stop-shop consumers in Denmark and Germany, a French business under
reverse charge, exports to Norway and the US), their tax data in Stripe's current (`total_taxes`) and
older (`total_tax_amounts`) shapes, one paid in EUR, and refunds (in full, or exactly half of a sale
whose amounts are even, so that Stripe's own figures per bucket are exact).

`DaySpec.expected` is Stripe's side, worked out here independently of the sync: net and VAT per
bucket (country, rate, kind) in SEK öre. Deterministic (a seeded random).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.builders import (
    PERIOD_START,
    LineSpec,
    address,
    customer,
    refund,
    settled_payment_intent,
    stripe_invoice,
)

Obj = dict[str, Any]
Key = tuple[str, int, str]

# 2024-05-01 in Stockholm: the sales from 12:00 (10:00 UTC), one a minute.
DAY = "2024-05-01"
FIRST_SALE = PERIOD_START
EUR_TO_SEK = Decimal("11.6543")

# Buyer -> (country, how its sales are taxed, rates)
BUYERS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "cus_SE": ("SE", "domestic", (25, 12, 6)),
    "cus_DK": ("DK", "oss", (25,)),
    "cus_DE": ("DE", "oss", (19, 7)),
    "cus_FR": ("FR", "reverse_charge", (0,)),
    "cus_NO": ("NO", "export", (0,)),
    "cus_US": ("US", "export", (0,)),
}


def _tax(taxable: int, rate: int) -> int:
    return int((Decimal(taxable) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Sale:
    invoice: Obj
    parts: list[tuple[Key, int, int]]  # (bucket, net, vat) in the invoice's currency
    sek: int

    @property
    def intent(self) -> str:
        return str(self.invoice["payment_intent"])

    @property
    def total(self) -> int:
        return int(self.invoice["total"])


@dataclass
class DaySpec:
    customers: list[Obj]
    sales: list[Sale]
    refunds: list[Obj] = field(default_factory=list)
    expected: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def gross(self) -> int:
        return sum(net + vat for net, vat in self.expected.values())

    def foreign_intents(self) -> list[Obj]:
        """The PaymentIntents of the sales not in SEK, with the SEK Stripe settled them at: what
        the sync reads from Stripe for their settled amounts."""
        return [
            settled_payment_intent(
                sale.intent,
                sale.total,
                customer_id=sale.invoice["customer"],
                currency=sale.invoice["currency"],
                settled_sek=sale.sek,
            )
            for sale in self.sales
            if sale.invoice["currency"] != "sek"
        ]


def _buyer(customer_id: str) -> Obj:
    country = BUYERS[customer_id][0]
    return customer(
        customer_id,
        name=f"Köpare {country}",
        email=f"{customer_id.lower()}@example.com",
        address=address(country, city="Stad", line1="Gatan 1", postal_code="12345"),
        shipping=None,
        currency="sek",
        tax_exempt="reverse" if BUYERS[customer_id][1] == "reverse_charge" else "none",
    )


def _entries(buyer: str, rng: random.Random) -> list[tuple[Key, int, int, str]]:
    country, kind, rates = BUYERS[buyer]
    chosen = rng.sample(rates, k=rng.randint(1, len(rates))) if kind == "domestic" else [rng.choice(rates)]
    out = []
    for rate in chosen:
        taxable = 2 * rng.randint(1000, 40000)  # even, 20.00 to 800.00
        reason = {"reverse_charge": "reverse_charge", "export": "not_subject_to_tax"}.get(
            kind, "standard_rated"
        )
        out.append(((country, rate, kind), taxable, _tax(taxable, rate), reason))
    return out


def _invoice(
    number: int, buyer: str, entries: list[tuple[Key, int, int, str]], currency: str, rng: random.Random
) -> Obj:
    total = sum(net + vat for _, net, vat, _ in entries)
    old_shape = rng.random() < 0.3
    taxes = [
        {
            "amount": vat,
            "taxable_amount": net,
            "taxability_reason": reason,
            **(
                {"inclusive": False, "tax_rate": f"txr_{key[0]}{key[1]}"}
                if old_shape
                else {
                    "tax_behavior": "exclusive",
                    "tax_rate_details": {"tax_rate": f"txr_{key[0]}{key[1]}"},
                    "type": "tax_rate_details",
                }
            ),
        }
        for key, net, vat, reason in entries
    ]
    country = BUYERS[buyer][0]
    paid_at = FIRST_SALE + number * 60
    invoice = stripe_invoice(
        [LineSpec(total)],
        currency,
        invoice_id=f"in_day{number}",
        customer=buyer,
        customer_name=f"Köpare {country}",
        customer_email=f"{buyer.lower()}@example.com",
        customer_address=address(country, city="Stad", line1="Gatan 1", postal_code="12345"),
        customer_tax_exempt="reverse" if BUYERS[buyer][1] == "reverse_charge" else "none",
        payment_intent=f"pi_day{number}",
        created=paid_at - 30,
        effective_at=paid_at - 30,
        status_transitions={"finalized_at": paid_at - 30, "paid_at": paid_at},
    )
    invoice.update(total=total, amount_due=total, amount_paid=total, subtotal=total)
    invoice["total_tax_amounts" if old_shape else "total_taxes"] = taxes
    invoice["total_taxes" if old_shape else "total_tax_amounts"] = None
    return invoice


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def generate_day(payments: int = 500, refunds: int = 40, seed: int = 18) -> DaySpec:
    rng = random.Random(seed)
    spec = DaySpec([_buyer(c) for c in BUYERS], [])
    eur_at = payments // 2
    for number in range(payments):
        buyer = "cus_DE" if number == eur_at else rng.choice(list(BUYERS))
        entries = _entries(buyer, rng)
        currency = "eur" if number == eur_at else "sek"
        invoice = _invoice(number, buyer, entries, currency, rng)
        total = int(invoice["total"])
        sek = _half_up(total * EUR_TO_SEK) if currency == "eur" else total
        parts = [(key, net, vat) for key, net, vat, _ in entries]
        spec.sales.append(Sale(invoice, parts, sek))
        if currency == "eur":
            # Stripe's SEK: the gross at the settlement's rate, the tax at the same rate; the
            # remainder of the gross on the largest part.
            grosses = [_half_up((net + vat) * Decimal(sek) / total) for _, net, vat in parts]
            big = max(range(len(parts)), key=lambda i: parts[i][1] + parts[i][2])
            grosses[big] += sek - sum(grosses)
            for (key, _, vat), gross in zip(parts, grosses, strict=True):
                sek_vat = _half_up(vat * Decimal(sek) / total)
                spec.expected[key][0] += gross - sek_vat
                spec.expected[key][1] += sek_vat
        else:
            for key, net, vat in parts:
                spec.expected[key][0] += net
                spec.expected[key][1] += vat
    sek_sales = [s for s in spec.sales if s.invoice["currency"] == "sek"]
    for n, sale in enumerate(rng.sample(sek_sales, k=refunds)):
        # Half of a sale whose parts are all even (so its halves are exact), else in full.
        half = all(net % 2 == 0 and vat % 2 == 0 for _, net, vat in sale.parts) and n % 2 == 0
        amount = sale.total // 2 if half else sale.total
        created = FIRST_SALE + payments * 60 + n * 60
        spec.refunds.append(refund(f"re_day{n}", amount, sale.intent, created=created))
        for key, net, vat in sale.parts:
            spec.expected[key][0] -= net // 2 if half else net
            spec.expected[key][1] -= vat // 2 if half else vat
    return spec
