"""A Fortnox API simulator: OAuth token endpoint plus the v3 customers, invoices and bookkeeping resources.

Stands in for api.fortnox.se and apps.fortnox.se in the test suite, the benchmarks and the local
dev stack. It copies Fortnox's observable behaviour where that behaviour matters to a sync client:
single-use refresh tokens, a 25-per-5-seconds sliding window, substring (ILIKE) search with one
filter at a time, a customer number series that never reuses a number, partial PUTs, the error
envelope and field validation taken from the official OpenAPI spec, and bookkeeping: financial
years, a locked period, voucher series, vouchers that balance, and a general ledger every booking
writes to. Fault knobs (5xx, 429, hangs, lost responses, expired tokens) let tests drive the unhappy
paths on purpose.

Only the standard library is used (and the ISO country list of stripe_fortnox_sync), so the
simulator runs anywhere the CLI runs.

Simulator-only endpoints live under /_sim (never rate limited, never faulted):
  GET  /_sim/stats[?durations=1]   counters and server-side request durations
  POST /_sim/reset                 {"customers": bool, "knobs": bool}
  GET  /_sim/customers[?tenant=x]  {"tenants": {tenant: [full customer, ...]}}
  GET  /_sim/invoices[?tenant=x]   {"tenants": {tenant: {"invoices": [...], "payments": [...]}}}
  GET  /_sim/vouchers[?tenant=x]   {"tenants": {tenant: {"vouchers": [...], "files": [...]}}}
  GET  /_sim/ledger[?tenant=x][&account=1580][&fromdate=&todate=]
                                   {"tenants": {tenant: {"accounts": {"1580": {...}}, ...}}}
  GET  /_sim/config, POST /_sim/config   knobs, see FortnoxSimulator.configure
  POST /_sim/clients               {"client_id", "client_secret"}
  POST /_sim/refresh-token         {"client_id", "tenant_id"} -> {"refresh_token"}

Modules: server (FortnoxSimulator, serve), dispatch and transport (HTTP), state, zone, knobs (with
book_knobs), stats, oauth, limits, admin (/_sim), api (the /3 resource table) and resource
(routing), the resources customers, invoices (with credits, invoice_content, amounts, ledger) and
payments, the bookkeeping resources years (financial years, locked period), series, vouchers (with
voucher_fields) and inbox (with file connections), what bookkeeping writes (journal, postings) and
reads (general_ledger), their schemas (customer_fields, invoice_fields, company), and what all
share: validation, listing, replies.
"""

from .amounts import InvoiceTotals, RowAmounts, compute_row, compute_totals
from .company import BAS_ACCOUNTS, DEFAULT_ACCOUNTS, DEFAULT_CURRENCIES, DEFAULT_CURRENCY_RATES
from .replies import ERROR_CODES
from .server import DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TENANT_ID, FortnoxSimulator, serve
from .state import FORTNOX_TIMEZONE
from .validation import to_decimal

__all__ = [
    "BAS_ACCOUNTS",
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CURRENCIES",
    "DEFAULT_CURRENCY_RATES",
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "DEV_TENANT_ID",
    "ERROR_CODES",
    "FORTNOX_TIMEZONE",
    "FortnoxSimulator",
    "InvoiceTotals",
    "RowAmounts",
    "compute_row",
    "compute_totals",
    "serve",
    "to_decimal",
]
