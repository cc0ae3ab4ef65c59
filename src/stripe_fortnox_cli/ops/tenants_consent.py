"""`stripe-fortnox tenants consent ID --fortnox-tenant-id T`, and the company check it shares with
`tenants verify` (docs/tenants.md).

Consent is given by someone signing in to Fortnox, and with an accounting firm's login it is easy
to pick the wrong client in the company list. So before recording the TenantId, consent asks
Fortnox who it is (`GET /3/companyinformation` with a service-account token for that TenantId):
the company must answer, be that TenantId (`DatabaseNumber`) and carry the organisation number the
operator gave. Anything else records nothing: a tenant made `active` in another client's company
would book that client's Stripe money into the wrong books.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_FAILED, EXIT_OK
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack
from stripe_fortnox_cli.ops.tenant_registry import existing
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus

if TYPE_CHECKING:
    from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: skipped (not configured), not a failure
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark} {self.name:<22} {self.detail}\n"


@dataclass(frozen=True)
class Company:
    """What Fortnox says a TenantId's company is."""

    name: str
    database_number: str
    organisation_number: str


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def company_client(stack: Stack, tenant: Tenant) -> FortnoxClient:
    """A client with the tenant's service-account token: the integration's client id and secret,
    client credentials with the `TenantId` header (raises ConfigError without credentials)."""
    from stripe_fortnox_sync.bootstrap import build_fortnox_client

    return build_fortnox_client(stack.settings, observed=False, secrets_max_age=0, tenant=tenant)


def read_company(client: FortnoxClient) -> Company:
    """`GET /3/companyinformation`; FortnoxError (FortnoxAuthError for the token) when it fails or
    answers without a company."""
    from stripe_fortnox_sync.core.errors import FortnoxError

    info = client.request("GET", "/companyinformation").get("CompanyInformation") or {}
    if not info:
        raise FortnoxError("answered without CompanyInformation", method="GET", path="/companyinformation")
    return Company(
        name=str(info.get("CompanyName") or "?"),
        database_number=str(info.get("DatabaseNumber") or ""),
        organisation_number=str(info.get("OrganizationNumber") or ""),
    )


def company_checks(company: Company, fortnox_tenant_id: str, expected_org: str) -> list[Check]:
    """The company is the TenantId's (when Fortnox says its `DatabaseNumber`) and carries the
    organisation number expected, compared by digits (`556677-8899` = `5566778899`); without one
    expected, that check is skipped, not failed."""
    checks = [Check("fortnox company", True, f"{company.name} (TenantId {fortnox_tenant_id})")]
    if company.database_number and company.database_number != fortnox_tenant_id:
        checks.append(Check("fortnox tenant id", False, f"the token's company is {company.database_number}"))
    found = company.organisation_number
    if not expected_org:
        checks.append(Check("organisation number", None, f"{found}: none given to compare (--org-number)"))
    elif digits(found) != digits(expected_org):
        checks.append(
            Check(
                "organisation number",
                False,
                f"{found}, not {expected_org}: consent given in another company?",
            )
        )
    else:
        checks.append(Check("organisation number", True, found))
    return checks


def _company(stack: Stack, candidate: Tenant) -> Company:
    """The candidate TenantId's company, or an OperationError saying why Fortnox did not tell."""
    from stripe_fortnox_sync.core.errors import ConfigError, FortnoxAuthError, FortnoxError

    where = f"Fortnox TenantId {candidate.fortnox_tenant_id}"
    try:
        return read_company(company_client(stack, candidate))
    except ConfigError as exc:
        raise OperationError(f"cannot ask Fortnox about {where}: {exc}; nothing recorded") from None
    except FortnoxAuthError as exc:
        if exc.transient:  # no answer, or the token endpoint's own trouble: not a refusal
            raise OperationError(_unreachable(where, exc), EXIT_FAILED) from None
        raise OperationError(
            f"Fortnox refused a token for {where}: {exc}. Nothing recorded. Check the TenantId the "
            "consent gave (a typo, or consent not given yet or withdrawn) and the integration's "
            "client id and secret",
            EXIT_AUTH,
        ) from None
    except FortnoxError as exc:
        raise OperationError(_unreachable(where, exc), EXIT_FAILED) from None


def _unreachable(where: str, exc: Exception) -> str:
    return (
        f"cannot ask Fortnox which company {where} is: {exc}. Nothing recorded. Try again later; "
        "where Fortnox cannot be reached from this machine, record it unchecked with --no-check "
        "and run `tenants verify` from where it can"
    )


def _mismatch(
    tenant_id: str, fortnox_tenant_id: str, company: Company, expected: str, failed: list[Check]
) -> str:
    which = {check.name for check in failed}
    why = []
    if "fortnox tenant id" in which:
        why.append(f"its token's company is TenantId {company.database_number}")
    if "organisation number" in which:
        why.append(f"not {expected} given for tenant {tenant_id}")
    return (
        f"Fortnox TenantId {fortnox_tenant_id} is {company.name}, organisation number "
        f"{company.organisation_number or '(none)'}: {'; '.join(why)}. Consent was probably given in "
        "another company (with a firm login: another client picked in the company list). Nothing "
        "recorded. Have the consent link `tenants add` printed opened again in the right company "
        "and record the TenantId it gives; if the organisation number given is the wrong one, pass "
        "the right one with --org-number"
    )


def consent(stack: Stack, args: argparse.Namespace, out: TextIO) -> int:
    """Record the TenantId and make the tenant `active`, once its company is the right one."""
    registry, tenant = existing(stack, args.tenant_id)
    fortnox_tenant_id = args.fortnox_tenant_id.strip()
    if not fortnox_tenant_id:
        raise OperationError("--fortnox-tenant-id is empty: the TenantId the consent gave")
    expected = args.org_number.strip() or tenant.organisation_number
    candidate = replace(tenant, fortnox_tenant_id=fortnox_tenant_id, status=TenantStatus.ACTIVE)
    if args.no_check:
        registry.save(replace(candidate, organisation_number=expected))
        out.write(
            f"Tenant {tenant.id}: Fortnox TenantId {fortnox_tenant_id} recorded UNCHECKED; active.\n"
            "Warning: Fortnox was not asked which company that is (--no-check). Run "
            f"`stripe-fortnox tenants verify {tenant.id}` where Fortnox can be reached before its "
            "events are trusted to the right books.\n"
        )
        return EXIT_OK
    company = _company(stack, candidate)
    failed = [c for c in company_checks(company, fortnox_tenant_id, expected) if c.ok is False]
    if failed:
        message = _mismatch(tenant.id, fortnox_tenant_id, company, expected, failed)
        raise OperationError(message, EXIT_FAILED)
    registry.save(replace(candidate, organisation_number=expected or company.organisation_number))
    out.write(
        f"Tenant {tenant.id}: Fortnox TenantId {fortnox_tenant_id} is {company.name}, "
        f"organisation number {company.organisation_number}; recorded, active.\n"
    )
    if not expected:
        out.write(
            f"No organisation number was given for {tenant.id}: {company.organisation_number or '(none)'}"
            " is recorded as Fortnox says it. Confirm it is your client's: "
            f"`stripe-fortnox tenants verify {tenant.id} --org-number <the client's number>`.\n"
        )
    return EXIT_OK
