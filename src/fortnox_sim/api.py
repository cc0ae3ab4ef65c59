"""The /3 resources the simulator implements, looked up by their path segment.

A new resource is a module with a `Resource` and its handlers, keeping its per-tenant data as a part
of the tenant (`call.part(MyBook)`), plus one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .company_info import COMPANY_INFORMATION
from .customers import CUSTOMERS, CustomerRegister
from .inbox import INBOX, VOUCHER_FILE_CONNECTIONS, Inbox
from .invoices import INVOICES
from .journal import Journal
from .ledger import InvoiceBook
from .payments import INVOICE_PAYMENTS
from .replies import Response, _bad
from .resource import Call, Resource
from .series import VOUCHER_SERIES
from .state import Tenant
from .vouchers import VOUCHERS
from .years import FINANCIAL_YEARS, SETTINGS

__all__ = ["RESOURCES", "answer", "data_counts", "route_template"]

RESOURCES: Final[Mapping[str, Resource]] = {
    resource.name: resource
    for resource in (
        CUSTOMERS,
        INVOICES,
        INVOICE_PAYMENTS,
        FINANCIAL_YEARS,
        SETTINGS,
        VOUCHER_SERIES,
        VOUCHERS,
        INBOX,
        VOUCHER_FILE_CONNECTIONS,
        COMPANY_INFORMATION,
    )
}


def _resource(segments: list[str]) -> Resource | None:
    return RESOURCES.get(segments[2]) if len(segments) > 2 else None


def route_template(path: str) -> str:
    """The stats route of a /3 path ("/3/customers/{n}"), "/3/{unknown}" for what is not simulated."""
    segments = path.split("/")
    resource = _resource(segments)
    return resource.template(segments) if resource is not None else "/3/{unknown}"


def answer(call: Call, method: str, path: str) -> Response:
    resource = _resource(path.split("/"))
    if resource is None:
        raise _bad("unknown_resource", f"The simulator does not implement {path}", 404)
    return resource.answer(call, method, path)


def data_counts(tenants: Mapping[str, Tenant]) -> dict[str, Any]:
    """How much data the tenants hold, for the stats."""
    registers = {name: tenant.part(CustomerRegister) for name, tenant in sorted(tenants.items())}
    books = [tenant.part(InvoiceBook) for tenant in tenants.values()]
    journals = [tenant.part(Journal) for tenant in tenants.values()]
    return {
        "customers": sum(len(r.customers) for r in registers.values()),
        "customers_by_tenant": {name: len(r.customers) for name, r in registers.items()},
        "invoices": sum(len(b.invoices) for b in books),
        "invoice_payments": sum(len(b.payments) for b in books),
        "vouchers": sum(len(j.vouchers) for j in journals),
        "inbox_files": sum(len(tenant.part(Inbox).files) for tenant in tenants.values()),
    }
