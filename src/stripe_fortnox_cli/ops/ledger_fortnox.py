"""The Fortnox documents `stripe-fortnox ledger` reads: the vouchers the state table records for
payouts, and the sales and credits of each Stripe object with the payments that moved the clearing
account. Every request goes through the stack's client (shared token chain and rate window), counted.

Payments registered by the sync go through the Stripe clearing account (a lost dispute's through
dispute clearing, which the ledger leaves out): their booked `Amount` (SEK) is what they moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from stripe_fortnox_cli.ops.ledger_check import Movement
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_sync.adapters.aws.state import DynamoStateStore
from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
from stripe_fortnox_sync.adapters.fortnox.invoices import FortnoxInvoiceApi
from stripe_fortnox_sync.adapters.fortnox.vouchers import FortnoxVoucherApi
from stripe_fortnox_sync.core.ports import Body, Params, VoucherRecords
from stripe_fortnox_sync.mapping.accounts import configured_accounts
from stripe_fortnox_sync.mapping.balance import Entry
from stripe_fortnox_sync.mapping.money import as_decimal, decimal_to_minor


@dataclass(frozen=True)
class BookedVoucher:
    name: str
    # The voucher's net on the clearing account, öre (debit positive).
    clearing: int
    # Stripe ids the voucher booked as sales (charges from before SalesStartDate).
    sales: frozenset[str]


class _Counted:
    """The client, counting requests (the ledger says what it cost)."""

    def __init__(self, client: FortnoxClient) -> None:
        self._client = client
        self.requests = 0

    def reserve(self, count: int) -> None:
        self._client.reserve(count)

    def request(self, method: str, path: str, *, params: Params = None, body: Body = None) -> dict[str, Any]:
        self.requests += 1
        return self._client.request(method, path, params=params, body=body)

    def upload(self, path: str, filename: str, content: bytes, *, params: Params = None) -> dict[str, Any]:
        raise NotImplementedError("the ledger reads only")


def _ore(value: object) -> int:
    return decimal_to_minor(as_decimal(value or 0, "amount"), "SEK")


class FortnoxDocuments:
    def __init__(
        self, client: FortnoxClient, records: VoucherRecords, clearing: int, api_url: str = ""
    ) -> None:
        self._counted = _Counted(client)
        self._invoices = FortnoxInvoiceApi(self._counted)
        self._vouchers = FortnoxVoucherApi(self._counted, self._counted)
        self._records = records
        self._clearing = clearing
        self._api_url = api_url

    @classmethod
    def open(cls, stack: Stack, client: FortnoxClient) -> FortnoxDocuments:
        records = DynamoStateStore(stack.output("StateTableName"), prefix=stack.key_prefix)
        clearing = configured_accounts(stack.settings).stripe_clearing
        return cls(client, records, clearing, stack.settings.fortnox_api_url if stack.local else "")

    @property
    def requests(self) -> int:
        return self._counted.requests

    def voucher(self, key: str) -> BookedVoucher | None:
        """The voucher the state table records for `key` (a payout, or `po_…#reversal`)."""
        record = self._records.load_voucher(key)
        if record is None or not record.posted or record.series is None or record.number is None:
            return None
        found = self._vouchers.get_voucher(record.series, record.number, int(record.year or 0))
        rows = [r for r in found.get("VoucherRows") or [] if not r.get("Removed")]
        clearing = sum(
            _ore(r.get("Debit")) - _ore(r.get("Credit")) for r in rows if r.get("Account") == self._clearing
        )
        sales = frozenset(
            str(r.get("TransactionInformation"))
            for r in rows
            if str(r.get("TransactionInformation") or "").startswith("ch_")
            and r.get("Account") != self._clearing
        )
        return BookedVoucher(f"{record.series} {record.number}", clearing, sales)

    def movement(self, entries: Sequence[Entry]) -> Movement:
        """What the documents of one Stripe object (its transactions: `entries`) did to 1580."""
        categories = {e.category for e in entries}
        source = entries[0].source_id
        if "charge" in categories:
            payment = next(e.payment_id for e in entries if e.category == "charge")
            documents = self._invoices.find_invoices_by_external_reference(payment or source, field=2)
            return self._paid(d for d in documents if not d.get("Cancelled") and (d.get("Total") or 0) >= 0)
        if categories & {"refund", "refund_failure"}:
            credit = self._invoices.find_invoice_by_external_reference(source)
            return self._paid([credit] if credit and not credit.get("Cancelled") else [])
        if "payout_reversal" in categories:
            reversal = self.voucher(f"{source}#reversal")
            return Movement(reversal.clearing, f"voucher {reversal.name}") if reversal else Movement(None)
        return Movement(None)

    def _paid(self, documents: Any) -> Movement:
        total, notes, found = 0, [], False
        for document in documents:
            found = True
            number = str(document["DocumentNumber"])
            for payment in self._invoices.list_payments(number):
                if payment.get("Booked"):
                    total += _ore(payment.get("Amount"))
                else:
                    notes.append(f"payment {payment.get('Number')} of invoice {number} is not booked")
        return Movement(total if found else None, "; ".join(notes))

    def print_simulator_balance(self, since: date, until: date, out: TextIO) -> None:
        """The local stack's Fortnox is the simulator: its general ledger's 1580 for the period."""
        if not self._api_url:
            return
        import requests

        base = self._api_url.removesuffix("/3")
        params = {"account": str(self._clearing), "fromdate": since.isoformat(), "todate": until.isoformat()}
        try:
            tenants = (
                requests.get(f"{base}/_sim/ledger", params=params, timeout=5).json().get("tenants") or {}
            )
        except (requests.RequestException, ValueError):
            return
        for tenant, report in tenants.items():
            account = (report.get("accounts") or {}).get(str(self._clearing)) or {}
            closing = Decimal(str(account.get("closing_balance", 0)))
            print(
                f"Fortnox simulator ({tenant}): {self._clearing} closes at {closing:.2f} SEK on {until}.",
                file=out,
            )
