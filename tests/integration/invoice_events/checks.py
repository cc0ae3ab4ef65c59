"""The invoice event tests' stack (the `stack` fixture is in conftest.py) and what they read back
from Fortnox (the simulator).

Every test asserts the documents the simulator ends up holding, with totals equal to Stripe's to the
öre: `assert_booked_and_paid` checks a sale or a credit and its one payment through the Stripe
clearing account.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from tests.builders import REFUND_DAY
from tests.integration.stack import local_stack, simulator

MAY_20 = REFUND_DAY  # 2024-05-20 10:00 UTC: when the refunds are made
CLEARING = 1580
ROUNDING = 3740
TIMES = " \u00d7 "  # "3 x Seat" with the multiplication sign, as Stripe and the rows write it


@contextlib.contextmanager
def invoice_stack(
    tmp_path: Path, *, stripe: FakeStripeApi | None = None, env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """A local stack with every event type enabled, no rate limit to wait for, and a failed record
    back on the queue 1 s after it failed (`visibility_timeout`); with `stripe`, the real `StripeApi`
    reads that fake Stripe API."""
    with local_stack(
        tmp_path,
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
    ) as running:
        yield running


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def invoices(stack: LocalStack) -> list[dict[str, Any]]:
    return simulator(stack).invoices()


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
    return [p for p in simulator(stack).payments() if p["InvoiceNumber"] == number]


def unrounded(invoice: dict[str, Any]) -> Decimal:
    """What the invoice is worth before Fortnox's öresavrundning: Stripe's amount."""
    return dec(invoice["Total"]) - dec(invoice["RoundOff"])


def fortnox_number(stack: LocalStack, stripe_customer: str) -> str:
    (found,) = [c for c in simulator(stack).customers() if c["ExternalReference"] == stripe_customer]
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
