"""In-memory fakes of the ports (stripe_fortnox_sync/core/ports.py), for unit tests: the same
contracts, no AWS, no HTTP. One module per port family; every fake is importable from here.
`_implements_the_ports` at the end lets mypy check each fake against the port it stands in for.

`fortnox`: `FakeFortnox` (customers), `RecordingRequester` (one API call: recorded, answered by a
function or another requester, optionally failing once), `FakeTokens`, `CountingLimiter`; requests'
transport: `scripted_session`. `fortnox_books`: `InMemoryFortnoxInvoices` (invoices and payments,
totals by the simulator's model of Fortnox's arithmetic), `InMemoryFortnoxVouchers` (vouchers,
financial years, the locked period, series, attachments). `stores`: `InMemoryMappingStore`,
`InMemoryStateStore` (tokens and rate limit slots, voucher records), `InMemoryTenantRegistry`,
`FakeQueue` (the event and dead-letter queues). `stripe`: `FakeStripe`. `sync`: `Recorder` (activity
log, notifier, observer), `FakeInvoiceSync`, a stand-in for `InvoiceSync` that books nothing, and
`FakeClock`.
"""

from __future__ import annotations

from stripe_fortnox_sync.core import ports
from tests.fakes.fortnox import (
    CountingLimiter,
    FakeFortnox,
    FakeTokens,
    RecordingRequester,
    Request,
    ScriptedAdapter,
    scripted_session,
)
from tests.fakes.fortnox_books import InMemoryFortnoxInvoices, InMemoryFortnoxVouchers
from tests.fakes.stores import FakeQueue, InMemoryMappingStore, InMemoryStateStore, InMemoryTenantRegistry
from tests.fakes.stripe import FakeStripe
from tests.fakes.sync import FakeClock, FakeInvoiceSync, Recorder

__all__ = [
    "CountingLimiter",
    "FakeClock",
    "FakeFortnox",
    "FakeInvoiceSync",
    "FakeQueue",
    "FakeStripe",
    "FakeTokens",
    "InMemoryFortnoxInvoices",
    "InMemoryFortnoxVouchers",
    "InMemoryMappingStore",
    "InMemoryStateStore",
    "InMemoryTenantRegistry",
    "Recorder",
    "RecordingRequester",
    "Request",
    "ScriptedAdapter",
    "scripted_session",
]


def _implements_the_ports() -> None:
    """Never called: mypy checks here that every fake fits the port it stands in for."""
    _customers: ports.FortnoxCustomers = FakeFortnox()
    _invoices: ports.FortnoxInvoices = InMemoryFortnoxInvoices()
    _vouchers: ports.FortnoxVouchers = InMemoryFortnoxVouchers()
    _voucher_records: ports.VoucherRecords = InMemoryStateStore()
    _requester: ports.FortnoxRequester = RecordingRequester(lambda request: {})
    _uploader: ports.FortnoxUploader = RecordingRequester(lambda request: {})
    _tokens: ports.TokenProvider = FakeTokens()
    _limiter: ports.RateLimiter = CountingLimiter()
    _mapping: ports.MappingStore = InMemoryMappingStore()
    _token_store: ports.TokenStore = InMemoryStateStore()
    _slot_store: ports.SlotStore = InMemoryStateStore()
    _stripe: ports.StripeReader = FakeStripe()
    _queue: ports.EventPublisher = FakeQueue()
    _tenants: ports.TenantRegistry = InMemoryTenantRegistry()
    _activity: ports.ActivityLog = Recorder()
    _notifier: ports.Notifier = Recorder()
    _observer: ports.Observer = Recorder()
