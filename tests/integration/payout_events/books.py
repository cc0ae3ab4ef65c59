"""The payout tests' world: a local stack with every event type enabled and the local Stripe API
holding what the events name, sales made through invoice.paid, and the simulator's general ledger
and vouchers read back (`/_sim/ledger`, `/_sim/vouchers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from tests.builders import (
    PERIOD_START,
    LineSpec,
    customer_invoice,
    event,
    ingrid_integration,
    settled_payment_intent,
)
from tests.integration.invoice_events.checks import invoice_stack
from tests.integration.stack import drain, send, simulator

TENANT = "local-tenant"  # the local stack's Fortnox tenant
PAYOUT_DAY = PERIOD_START + 22 * 86_400  # 2024-05-23: the payout events


class Books:
    def __init__(self, stack: LocalStack, stripe: FakeStripeApi) -> None:
        self.stack = stack
        self.stripe = stripe
        stripe.add_customer(ingrid_integration("cus_Payout"))

    def sell(self, name: str, net: int, *, currency: str = "sek", settled_sek: int | None = None) -> int:
        """A paid Stripe invoice in_{name} of `net` + 25 % VAT, paid by pi_{name} (charge ch_{name}),
        through invoice.paid; its total in minor units."""
        invoice = customer_invoice(
            f"in_{name}", f"pi_{name}", [LineSpec(net)], currency, customer_id="cus_Payout"
        )
        self.stripe.add_payment_intent(
            settled_payment_intent(
                f"pi_{name}",
                invoice["total"],
                customer_id="cus_Payout",
                currency=currency,
                settled_sek=settled_sek,
            )
        )
        send(self.stack, event(f"evt_sale_{name}", "invoice.paid", PERIOD_START + 60, invoice))
        drain(self.stack)
        return int(invoice["total"])

    def balances(self, *accounts: int) -> dict[int, Decimal]:
        """Closing balances of these accounts in Fortnox's general ledger (debit positive)."""
        report = simulator(self.stack).ledger(TENANT, accounts=accounts)["accounts"]
        return {a: Decimal(str(report.get(str(a), {}).get("closing_balance", 0))) for a in accounts}

    def vouchers(self, description: str) -> list[dict[str, Any]]:
        return [v for v in simulator(self.stack).vouchers(TENANT) if v["Description"] == description]


@contextlib.contextmanager
def books(tmp_path: Path, **env: str) -> Iterator[Books]:
    with FakeStripeApi() as stripe, invoice_stack(tmp_path, stripe=stripe, env=env) as stack:
        yield Books(stack, stripe)


def voucher_total(voucher: dict[str, Any], account: int) -> Decimal:
    """The voucher's net on one account (debit positive)."""
    rows = [r for r in voucher["VoucherRows"] if r["Account"] == account]
    return sum((Decimal(str(r["Debit"])) - Decimal(str(r["Credit"])) for r in rows), Decimal(0))


def balanced(voucher: dict[str, Any]) -> bool:
    debit = sum(Decimal(str(r["Debit"])) for r in voucher["VoucherRows"])
    return debit == sum(Decimal(str(r["Credit"])) for r in voucher["VoucherRows"]) and debit > 0
