"""Issue 18's done-when day at full size, in process: the real handlers (`routes.apply`), the real
`SummarySync` and `PayoutSync`, the real Fortnox client against the Fortnox simulator's books; only
the state table is in memory (`InMemoryStateStore`) and Stripe a `FakeStripe`, so that 500 payments
with every event applied three times stay within seconds (test_summary_day.py runs a smaller day
through the whole local stack).

A day of 500 generated payments over six countries (Sweden at 25, 12 and 6 %, two one-stop-shop
countries, reverse charge, two export countries), refunds and a EUR payment, in summary mode: no
invoice; one balanced voucher whose sales and VAT per bucket equal Stripe's to the öre; a crash
between its POST and its record, then the schedule and a redo, give no second voucher; the day's
payout clears 1580 to 0.00."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
from stripe_fortnox_sync.adapters.fortnox.invoices import FortnoxInvoiceApi
from stripe_fortnox_sync.adapters.fortnox.vouchers import FortnoxVoucherApi
from stripe_fortnox_sync.core.models import Outcome, StripeEvent
from stripe_fortnox_sync.core.settings import BookingMode
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.payout_sync import PayoutSync
from stripe_fortnox_sync.sync.summary_sync import SummarySync
from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster
from tests.fakes import FakeStripe, InMemoryStateStore
from tests.integration.payout_events.books import balanced
from tests.integration.payout_events.test_summary_day import by_bucket
from tests.payout_builders import charge_txn, paying, refund_txn, txn
from tests.summary_builders import DAY, FIRST_SALE, generate_day
from tests.support import SIM_TENANT, invoicing_simulator
from tests.unit.handlers import INVOICE_TYPES, World

PAYMENTS = 500


class Pipeline:
    def __init__(self, sim: Any, client: FortnoxClient) -> None:
        self.sim = sim
        self.state = InMemoryStateStore()
        self.stripe = FakeStripe()
        accounts = BookkeepingAccounts()
        poster = VoucherPoster(FortnoxVoucherApi(client, client), self.state, "A")
        self.summary = SummarySync(poster, self.state, accounts, today=lambda: date(2024, 6, 1))
        recorded = lambda sale_id: self.state.load_sale(sale_id) is not None  # noqa: E731
        payouts = PayoutSync(poster, FortnoxInvoiceApi(client), accounts, sale_recorded=recorded)
        self.world = World(
            self.stripe,
            payouts=payouts,
            summary=self.summary,
            event_types=(*INVOICE_TYPES, "payout.paid"),
            booking_mode=BookingMode.SUMMARY,
        )
        self.outcomes: list[Outcome] = []

    def apply_three_times(self, event_id: str, kind: str, created: int, obj: dict[str, Any]) -> None:
        """The event, its redelivery (the same id: SQS past its deduplication window) and the same
        change under a second event id."""
        for eid in (event_id, event_id, f"{event_id}_2"):
            result = routes.apply(self.world.context, StripeEvent(eid, kind, created, False, obj))
            self.outcomes.append(result.outcome)

    def vouchers(self, description: str) -> list[dict[str, Any]]:
        return [v for v in self.sim.vouchers(SIM_TENANT) if v["Description"] == description]

    def balance(self, account: int) -> Decimal:
        report = self.sim.ledger(SIM_TENANT, accounts=(account,))["accounts"]
        return Decimal(str(report.get(str(account), {}).get("closing_balance", 0)))


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    with invoicing_simulator() as (sim, client, _):
        yield Pipeline(sim, client)


def test_a_day_of_500_payments_is_one_voucher_equal_to_stripes_figures_and_the_payout_clears_1580(
    pipeline: Pipeline,
) -> None:
    spec = generate_day(PAYMENTS, refunds=40)
    for buyer in spec.customers:
        pipeline.stripe.customers[buyer["id"]] = buyer
    for intent in spec.foreign_intents():
        pipeline.stripe.add_intent(intent)
    for n, sale in enumerate(spec.sales):
        pipeline.apply_three_times(f"evt_sale{n}", "invoice.paid", FIRST_SALE + n * 60, sale.invoice)
    for n, refund in enumerate(spec.refunds):
        pipeline.stripe.add_refund(refund)
        pipeline.apply_three_times(f"evt_refund{n}", "refund.created", refund["created"], refund)
    assert pipeline.outcomes.count(Outcome.CREATED) == len(spec.sales) + len(spec.refunds)
    assert pipeline.sim.invoices() == []

    day = date.fromisoformat(DAY)
    pipeline.state.crash_on_voucher_save = 2  # dies writing the record after the POST
    with pytest.raises(RuntimeError):
        pipeline.summary.book_day(day)
    pipeline.state.crash_on_voucher_save = None
    assert pipeline.summary.book_day(day).how == "recovered"
    assert pipeline.summary.book_day(day).posted is None  # the schedule, or a redo: nothing new

    (voucher,) = pipeline.vouchers(f"Stripe försäljning {DAY}")
    assert balanced(voucher) and voucher["TransactionDate"] == DAY
    expected = {f"{c} {r} % {k}": [net, vat] for (c, r, k), (net, vat) in spec.expected.items()}
    assert len(expected) >= 8 and {label.split()[0] for label in expected} == {
        "SE",
        "DK",
        "DE",
        "FR",
        "NO",
        "US",
    }
    assert by_bucket(voucher) == expected
    assert pipeline.balance(1580) == Decimal(spec.gross) / 100

    txns = [charge_txn(f"ch_day{n}", s.sek, 180, payment_intent=s.intent) for n, s in enumerate(spec.sales)]
    txns += [refund_txn(r["id"], r["amount"]) for r in spec.refunds]
    txns.append(txn("fee", -2900, description="Stripe Billing"))
    po, po_txns = paying("po_day", *txns, arrival_date=FIRST_SALE + 3 * 86_400)
    pipeline.stripe.add_payout(po, po_txns)
    pipeline.apply_three_times("evt_po_day", "payout.paid", FIRST_SALE + 3 * 86_400, po)
    (payout_voucher,) = pipeline.vouchers("Stripe utbetalning po_day")
    assert balanced(payout_voucher)
    assert pipeline.balance(1580) == Decimal("0.00")
    assert pipeline.balance(1930) == Decimal(po["amount"]) / 100
