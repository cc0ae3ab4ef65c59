"""Stripe payouts become Fortnox vouchers that leave the Stripe clearing account where Stripe is.

A paid, reconciled automatic payout: one voucher from its balance transactions (mapping/
payout_voucher.py), posted exactly once (voucher_posting.py). Before it is built, every charge in it
must have its sale in Fortnox (the invoice sync paid it into the clearing account, which the voucher
now empties): a charge from before `SalesStartDate` without one is booked as a sale inside the
voucher; any other waits (`UnbookedCharge`, parked as `unbooked_charge` on the last receive).

A manual or instant payout cannot be broken down: its own amount is booked as a transfer, then the
event is parked (`manual_payout`) to tell the bookkeeper what Stripe's balance report must add. A
payout that fails after it was booked gets a reversal voucher.

Costs, in Fortnox requests: a payout's voucher 4 (the locked period, the invoices dated around its
charges, 1 a page of 500, the series' vouchers of its days, the POST), 2 more in a cold container
(the series and the financial year), one search per charge the listing did not find, 2 to attach
the report of a payout of more than `PayoutItemisedRows` transactions; a redelivery none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from stripe_fortnox_sync.core.errors import InvoiceMappingError, PermanentEventError, UnbookedCharge
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.ports import FortnoxInvoices
from stripe_fortnox_sync.mapping.accounts import BookkeepingAccounts
from stripe_fortnox_sync.mapping.balance import Entry, UnknownCategory, classify_all
from stripe_fortnox_sync.mapping.dates import stripe_date
from stripe_fortnox_sync.mapping.money import as_int, format_amount
from stripe_fortnox_sync.mapping.payout_voucher import (
    payout_voucher,
    report_csv,
    reversal_voucher,
    transfer_voucher,
)
from stripe_fortnox_sync.sync.voucher_posting import Posted, VoucherPoster

# The invoices listed around a payout's charges: a sale is dated on or a little before its charge.
LOOK_BEFORE = timedelta(days=3)
LOOK_AFTER = timedelta(days=2)
OUTCOMES = {
    "posted": Outcome.CREATED,
    "recovered": Outcome.UPDATED,
    "adopted": Outcome.UPDATED,
    "already": Outcome.UNCHANGED,
}


@dataclass(frozen=True)
class PayoutOptions:
    """The settings a payout voucher follows (core/settings.py declares them)."""

    reverse_charge: bool = True
    itemised_rows: int = 50
    sales_start: date | None = None
    # The VAT rate a sale from before `sales_start` includes (PaymentIntentVatRate).
    presale_vat_rate: int = 25


def _amount(payout: Mapping[str, Any]) -> int:
    try:
        return as_int(payout.get("amount"), "payout amount")
    except InvoiceMappingError as exc:
        raise PermanentEventError("bad_payload", f"payout {payout.get('id')}: {exc}") from None


class PayoutSync:
    def __init__(
        self,
        poster: VoucherPoster,
        invoices: FortnoxInvoices,
        accounts: BookkeepingAccounts,
        options: PayoutOptions | None = None,
        sale_recorded: Callable[[str], bool] | None = None,
    ) -> None:
        self._poster = poster
        self._invoices = invoices
        self._accounts = accounts
        self._options = options or PayoutOptions()
        # Summary booking: a charge's sale is in 1580 through its day's voucher, not an invoice; this
        # tells whether it was recorded (the state table, no Fortnox request).
        self._sale_recorded = sale_recorded

    def book(
        self, event: StripeEvent, payout: Mapping[str, Any], txns: Sequence[Mapping[str, Any]]
    ) -> SyncResult:
        """A paid, reconciled automatic payout and its balance transactions: its voucher."""
        payout_id = str(payout.get("id") or "")
        amount = _amount(payout)
        done = self._poster.already(payout_id)
        if done is not None and (done.record.attached or len(txns) <= self._options.itemised_rows):
            return self._result(event, payout_id, done)
        try:
            entries = classify_all(txns, payout_id, str(payout.get("currency") or "sek"))
        except UnknownCategory as exc:
            raise PermanentEventError(
                "unknown_category", f"payout {payout_id}: {exc}; book it by hand"
            ) from None
        if done is not None:
            # Booked, but its report never reached the voucher (an attempt died in between).
            if len(entries) > self._options.itemised_rows:
                self._poster.attach(done, f"stripe-payout-{payout_id}.csv", report_csv(payout_id, entries))
            return self._result(event, payout_id, done)
        net = sum(e.net for e in entries)
        if net != amount:
            raise PermanentEventError(
                "payout_total",
                f"payout {payout_id} is {format_amount(amount, 'sek')} but its transactions net "
                f"{format_amount(net, 'sek')}: Stripe's list is incomplete; redrive later",
            )
        day = stripe_date(as_int(payout.get("arrival_date"), "arrival_date"))
        presales = self._presales(payout_id, entries)
        plan = payout_voucher(
            payout_id,
            amount,
            day,
            entries,
            self._accounts,
            reverse_charge=self._options.reverse_charge,
            itemised_rows=self._options.itemised_rows,
            presales=presales,
        )
        posted = self._poster.post(payout_id, plan.voucher, search_from=_created(payout, day))
        if plan.report is not None:
            self._poster.attach(posted, f"stripe-payout-{payout_id}.csv", plan.report)
        detail = f"{plan.summary}" + (f"; {len(presales)} charges booked as sales" if presales else "")
        return self._result(event, payout_id, posted, detail)

    def transfer(self, event: StripeEvent, payout: Mapping[str, Any]) -> SyncResult:
        """A manual or instant payout: its own amount moved to the bank, then parked for the rest."""
        payout_id = str(payout.get("id") or "")
        amount = _amount(payout)
        day = stripe_date(as_int(payout.get("arrival_date"), "arrival_date"))
        voucher = transfer_voucher(payout_id, amount, day, self._accounts)
        posted = self._poster.post(payout_id, voucher, search_from=_created(payout, day))
        kind = "an instant" if payout.get("method") == "instant" else "a manual"
        raise PermanentEventError(
            "manual_payout",
            f"payout {payout_id} is {kind} payout, which Stripe does not break down: voucher {posted.ref} "
            f"books only its {format_amount(amount, 'sek')} from {self._accounts.stripe_clearing} to "
            f"{self._accounts.bank}. Book Stripe's fees and other balance changes not in an automatic "
            "payout from Stripe's balance report, then delete this message",
        )

    def reverse(self, event: StripeEvent, payout: Mapping[str, Any]) -> SyncResult:
        """A payout that failed (or was canceled) after its voucher was booked: the reversal."""
        payout_id = str(payout.get("id") or "")
        record = self._poster.recorded(payout_id)
        if record is None:
            detail = f"payout {payout_id} was never booked: nothing to reverse"
            return SyncResult(event.id, event.type, payout_id, Outcome.IGNORED, detail=detail)
        if not record.posted:
            raise PermanentEventError(
                "voucher_pending",
                f"payout {payout_id}'s voucher may have been posted by an interrupted attempt: redrive its "
                "payout.paid (or payout.reconciliation_completed) first, then this event",
            )
        voucher = reversal_voucher(payout_id, _amount(payout), stripe_date(event.created), self._accounts)
        posted = self._poster.post(f"{payout_id}#reversal", voucher)
        return self._result(event, payout_id, posted, "reversal of the payout's voucher")

    def _presales(self, payout_id: str, entries: Sequence[Entry]) -> dict[str, int]:
        """Charges without a Fortnox sale: those from before the start date become sales (txn id ->
        VAT rate); any other makes the payout wait for its sale."""
        charges = [e for e in entries if e.category == "charge"]
        if not charges:
            return {}
        if self._sale_recorded is not None:
            recorded = self._sale_recorded
            missing = [e for e in charges if not recorded(e.payment_id or e.source_id)]
        else:
            days = [stripe_date(e.created) for e in charges]
            listed = self._invoices.list_invoices_between(min(days) - LOOK_BEFORE, max(days) + LOOK_AFTER)
            known = {str(i.get("ExternalInvoiceReference2")) for i in listed if _a_sale(i)}
            missing = [e for e in charges if e.payment_id not in known and not self._found(e)]
        start = self._options.sales_start
        presales = {
            e.txn_id: self._options.presale_vat_rate
            for e in missing
            if start and stripe_date(e.created) < start
        }
        waiting = [e.source_id for e in missing if e.txn_id not in presales]
        if waiting:
            raise UnbookedCharge(
                f"payout {payout_id} waits for the {'recorded' if self._sale_recorded else 'Fortnox'} "
                f"sale of {', '.join(waiting)} (its invoice.paid or payment_intent.succeeded is still on "
                "its way, parked, or from before invoices were on)"
            )
        return presales

    def _found(self, entry: Entry) -> bool:
        """One charge's sale, searched by its payment: for a sale dated outside the listing."""
        if not entry.payment_id:
            return False
        found = self._invoices.find_invoices_by_external_reference(entry.payment_id, field=2)
        return any(_a_sale(i) for i in found)

    def _result(self, event: StripeEvent, payout_id: str, posted: Posted, detail: str = "") -> SyncResult:
        words = {
            "posted": "booked",
            "recovered": "found after an interrupted attempt",
            "adopted": "found in Fortnox, booked before this stack recorded it",
            "already": "already booked",
        }
        text = f"voucher {posted.ref} {words[posted.how]}" + (
            f" ({detail})" if detail and posted.how != "already" else ""
        )
        return SyncResult(event.id, event.type, payout_id, OUTCOMES[posted.how], str(posted.ref), text)


def _a_sale(item: Mapping[str, Any]) -> bool:
    total = item.get("Total")
    return not item.get("Cancelled") and not (isinstance(total, int | float) and total < 0)


def _created(payout: Mapping[str, Any], day: date) -> date:
    created = payout.get("created")
    return stripe_date(created) if isinstance(created, int) and not isinstance(created, bool) else day
