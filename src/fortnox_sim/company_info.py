"""`GET /3/companyinformation`: who the company is. A service account's `TenantId` is its
`DatabaseNumber`; `tenants verify` compares `OrganizationNumber` with what the operator gave.

A tenant's name and organisation number come from the `companies` knob (TenantId -> fields); an
unnamed tenant gets a stable made-up number of its own, so two companies never look alike.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .replies import Response
from .resource import Call, Resource

__all__ = ["COMPANY_INFORMATION", "company_fields"]


def company_fields(tenant_id: str, configured: dict[str, dict[str, str]]) -> dict[str, Any]:
    digits = str(int(hashlib.sha256(tenant_id.encode()).hexdigest(), 16))[:8]
    fields: dict[str, Any] = {
        "CompanyName": f"Simulated company {tenant_id}",
        "OrganizationNumber": f"55{digits[:4]}-{digits[4:]}",
        "CountryCode": "SE",
        "DatabaseNumber": tenant_id,
    }
    fields.update(configured.get(tenant_id, {}))
    return fields


def _read(call: Call) -> Response:
    return Response(200, {"CompanyInformation": company_fields(call.tenant_id, call.knobs.companies)})


COMPANY_INFORMATION = Resource("companyinformation", {("", "GET"): _read})
