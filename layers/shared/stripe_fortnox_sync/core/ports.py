"""Every port: what the sync logic needs from the outside world, as abstract interfaces.

Adapters under `adapters/` implement them against Fortnox, Stripe and AWS; `tests/fakes/` has
one fake per port. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal, Protocol

from stripe_fortnox_sync.core.models import (
    CustomerLink,
    FortnoxFields,
    StripeEvent,
    TokenState,
    VoucherRecord,
)
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus

# (method, path template, HTTP status or 0 for no response, seconds)
CallObserver = Callable[[str, str, int, float], None]
# A Fortnox request's query parameters and JSON body.
Params = Mapping[str, str | int] | None
Body = Mapping[str, Any] | None


# Fortnox ------------------------------------------------------------------------------------


class FortnoxRequester(Protocol):
    """One Fortnox API call with envelopes, retries, rate limit and tokens handled."""

    def request(
        self, method: str, path: str, *, params: Params = None, body: Body = None
    ) -> dict[str, Any]: ...

    def reserve(self, count: int) -> None:
        """The next `count` requests follow in quick succession: take their rate-limit slots at once."""
        ...


class FortnoxUploader(Protocol):
    """A file sent to Fortnox as multipart form data (the inbox), with the requester's guarantees."""

    def upload(
        self, path: str, filename: str, content: bytes, *, params: Params = None
    ) -> dict[str, Any]: ...


class FortnoxCustomers(Protocol):
    def list_customers(self, params: Mapping[str, str | int]) -> list[dict[str, Any]]: ...

    def get_customer(self, number: str) -> dict[str, Any]: ...

    def create_customer(self, fields: FortnoxFields) -> dict[str, Any]: ...

    def update_customer(self, number: str, fields: FortnoxFields) -> dict[str, Any]: ...

    def reserve(self, count: int) -> None:
        """The next `count` calls follow in quick succession (a search, then a create)."""
        ...


class FortnoxInvoices(Protocol):
    """Fortnox invoices and invoice payments: bodies from `mapping`, envelopes unwrapped."""

    def find_invoices_by_external_reference(
        self, reference: str, *, field: Literal[1, 2] = 1
    ) -> list[dict[str, Any]]: ...

    def find_invoice_by_external_reference(
        self, reference: str, *, field: Literal[1, 2] = 1
    ) -> dict[str, Any] | None: ...

    def get_invoice(self, number: str | int) -> dict[str, Any]: ...

    def create_invoice(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_invoice(self, number: str | int, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def bookkeep_invoice(self, number: str | int) -> dict[str, Any]: ...

    def credit_invoice(self, number: str | int) -> dict[str, Any]: ...

    def register_payment(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def bookkeep_payment(self, number: str | int) -> dict[str, Any]: ...

    def list_payments(self, invoice_number: str | int) -> list[dict[str, Any]]: ...

    def list_invoices_between(self, first: date, last: date) -> list[dict[str, Any]]:
        """Every invoice (list item) dated from `first` to `last`."""
        ...

    def reserve(self, count: int) -> None:
        """The next `count` calls follow in quick succession (a sale's create, book, pay, book)."""
        ...


class FortnoxVouchers(Protocol):
    """Fortnox vouchers, what posting one depends on (financial years, the locked period, the
    series), and documents attached to them: bodies from `mapping.voucher`, envelopes unwrapped."""

    def financial_year(self, day: date) -> dict[str, Any] | None:
        """The financial year that holds `day` ({"Id", "FromDate", "ToDate"}), or None."""
        ...

    def locked_until(self) -> date | None:
        """The last day of the locked period (nothing can be booked on or before it), or None."""
        ...

    def voucher_series(self, code: str) -> dict[str, Any] | None: ...

    def create_voucher(self, body: Mapping[str, Any], financial_year: int) -> dict[str, Any]: ...

    def find_vouchers(
        self, description: str, series: str, first: date, last: date, financial_year: int
    ) -> list[dict[str, Any]]:
        """Vouchers (list items) of one series dated from `first` to `last` whose Description is
        exactly this."""
        ...

    def get_voucher(self, series: str, number: int, financial_year: int) -> dict[str, Any]: ...

    def attach(self, filename: str, content: bytes, series: str, number: int, financial_year: int) -> str:
        """Put a file in Fortnox's inbox and connect it to the voucher; its file id."""
        ...


class TokenProvider(Protocol):
    def access_token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class RateLimiter(Protocol):
    def acquire(self) -> float: ...

    def reserve(self, count: int) -> None: ...


# Stores ---------------------------------------------------------------------------------------


class MappingStore(Protocol):
    def get(self, stripe_id: str) -> CustomerLink | None: ...

    def save(self, link: CustomerLink) -> CustomerLink: ...

    def linked_to(self, fortnox_number: str) -> list[str]:
        """The keys (Stripe ids, guest keys) whose active link names this Fortnox customer,
        sorted. May lag a write by about a second (DynamoDB's index is eventually consistent)."""
        ...


class TokenStore(Protocol):
    def load_token(self, key: str) -> TokenState | None: ...

    def save_token(self, key: str, state: TokenState) -> bool:
        """Store `state` if the stored version is `state.version - 1` (or absent for 1)."""
        ...

    def try_lock(self, key: str, owner: str, ttl_seconds: float) -> bool: ...

    def unlock(self, key: str, owner: str) -> None: ...


class VoucherRecords(Protocol):
    """What the sync posted as vouchers (they have no external reference): the intent before the
    POST, the voucher's series, number and year after it."""

    def load_voucher(self, key: str) -> VoucherRecord | None: ...

    def save_voucher(self, record: VoucherRecord) -> None: ...


class DaySales(Protocol):
    """Summary booking's state (the state table): each payment and refund for its Stockholm day until
    the day's voucher is booked, each sale by its id (refunds reverse it, payouts look for it), and
    which entries each of a day's vouchers booked. Entries are JSON text (mapping/day_voucher.py)."""

    def add_entry(self, day: date, entry_id: str, entry: str) -> None:
        """Store the entry under the day (a second write of the same id overwrites)."""
        ...

    def day_entries(self, day: date) -> dict[str, str]: ...

    def save_sale(self, sale_id: str, entry: str) -> None: ...

    def load_sale(self, sale_id: str) -> str | None: ...

    def load_booked(self, day: date) -> str | None: ...

    def save_booked(self, day: date, booked: str) -> None: ...

    def try_lock(self, key: str, owner: str, ttl_seconds: float) -> bool: ...

    def unlock(self, key: str, owner: str) -> None: ...


class SlotStore(Protocol):
    def swap_slots(
        self, key: str, slots: list[float], expected_version: int
    ) -> tuple[list[float], int] | None:
        """Store `slots` as version `expected_version + 1` if the stored version is `expected_version`
        (0: none stored yet). None when stored; otherwise the request times and version stored now,
        which come back with the refusal, so a lost race costs no extra read."""
        ...


class ActivityLog(Protocol):
    def record(self, customer_id: str, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


# Stripe, queues, people ---------------------------------------------------------------------------


class StripeReader(Protocol):
    """What the handlers read from the Stripe API (`adapters.stripe_api.StripeApi`; fakes in tests)."""

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None: ...

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]: ...

    def checkout_line_items(self, session_id: str) -> list[dict[str, Any]]: ...

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None: ...

    def checkout_session(self, session_id: str) -> dict[str, Any] | None:
        """The session with `total_details.breakdown` (its taxes) expanded (summary booking)."""
        ...

    def checkout_session_of(self, payment_intent_id: str) -> str | None: ...

    def invoice_of(self, payment_intent_id: str) -> str | None: ...

    def payment_intent_of_invoice(self, invoice_id: str) -> str | None: ...

    def charge_refunds(self, charge_id: str) -> list[dict[str, Any]]: ...

    def refund(self, refund_id: str) -> dict[str, Any] | None: ...

    def payout(self, payout_id: str) -> dict[str, Any] | None: ...

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """Every balance transaction an automatic payout paid out, each with its `source` expanded."""
        ...

    def balance_transactions_of(self, source_id: str) -> list[dict[str, Any]]:
        """Every balance transaction of one object (a charge and its partial-capture reversal)."""
        ...

    def dispute(self, dispute_id: str) -> dict[str, Any] | None: ...


class EventPublisher(Protocol):
    def publish(
        self, body: str, group_id: str, dedup_id: str, attributes: dict[str, str] | None = None
    ) -> None: ...


class Notifier(Protocol):
    def notify(self, subject: str, message: str, attributes: Mapping[str, str]) -> None: ...


class Observer(Protocol):
    def skipped_without_key(self, event: StripeEvent, what: str) -> None: ...

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None: ...


# Tenants ------------------------------------------------------------------------------------


class TenantRegistry(Protocol):
    """The tenants of a stack (core/tenants.py); tenant `default` is implicit and never stored."""

    def get(self, tenant_id: str) -> Tenant | None: ...

    def by_slug(self, slug: str) -> Tenant | None: ...

    def by_account(self, stripe_account: str) -> Tenant | None: ...

    def add(self, tenant: Tenant) -> Tenant:
        """Store a new tenant; a ConflictError if its id, slug or Stripe account is taken."""
        ...

    def set_status(self, tenant_id: str, status: TenantStatus) -> Tenant | None: ...

    def save(self, tenant: Tenant) -> Tenant:
        """Store a changed tenant over the version it was read at; a ConflictError if it moved on."""
        ...

    def all(self) -> list[Tenant]: ...
