"""`tenants consent` records a TenantId only once its Fortnox company is the one the operator
meant (issue 17, docs/tenants.md), against moto and the simulator's /3/companyinformation."""

from __future__ import annotations

import socket

import pytest

from stripe_fortnox_cli.exits import EXIT_AUTH, EXIT_FAILED
from stripe_fortnox_cli.local import LocalStack
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus
from tests.integration.stack import simulator
from tests.integration.test_tenants_ops import ORG, run
from tests.integration.test_tenants_pipeline import registry, stack

__all__ = ["stack"]

OTHER_ORG = "559999-0000"


def _add(stack: LocalStack, tenant_id: str, org: str = "") -> None:
    """An onboarding tenant; company-acme is Acme AB (ORG), company-other another client."""
    simulator(stack).configure(
        companies={
            "company-acme": {"CompanyName": "Acme AB", "OrganizationNumber": ORG},
            "company-other": {"CompanyName": "Other Client AB", "OrganizationNumber": OTHER_ORG},
        }
    )
    given = ["--org-number", org] if org else []
    code, text = run(stack, "add", tenant_id, "--name", "Acme AB", *given)
    assert code == 0, text


def _tenant(stack: LocalStack, tenant_id: str) -> Tenant:
    tenant = registry(stack).get(tenant_id)
    assert tenant is not None
    return tenant


def _unchanged(stack: LocalStack, tenant_id: str) -> None:
    tenant = _tenant(stack, tenant_id)
    assert (tenant.status, tenant.fortnox_tenant_id) == (TenantStatus.ONBOARDING, "")


def test_consent_in_the_right_company_records_it_and_names_the_company(stack: LocalStack) -> None:
    _add(stack, "acme", "5566778899")  # compared by digits with Fortnox's 556677-8899
    code, text = run(stack, "consent", "acme", "--fortnox-tenant-id", " company-acme ")
    assert code == 0 and "Acme AB" in text and ORG in text and "active" in text, text
    tenant = _tenant(stack, "acme")
    assert tenant.status is TenantStatus.ACTIVE and tenant.fortnox_tenant_id == "company-acme"
    assert tenant.organisation_number == "5566778899"  # what the operator gave stays
    assert run(stack, "verify", "acme", "--skip-event")[0] == 0


def test_consent_in_another_company_records_nothing_and_exits_1(stack: LocalStack) -> None:
    _add(stack, "acme", ORG)
    with pytest.raises(OperationError) as raised:
        run(stack, "consent", "acme", "--fortnox-tenant-id", "company-other")
    message = str(raised.value)
    assert raised.value.exit_code == EXIT_FAILED
    assert "Other Client AB" in message and OTHER_ORG in message and ORG in message
    assert "another company" in message and "Nothing recorded" in message
    _unchanged(stack, "acme")
    # The number given to consent is the one compared: the right company with a wrong number fails.
    with pytest.raises(OperationError, match="another company"):
        run(stack, "consent", "acme", "--fortnox-tenant-id", "company-acme", "--org-number", OTHER_ORG)
    _unchanged(stack, "acme")


def test_a_token_for_another_company_is_caught_by_its_database_number(stack: LocalStack) -> None:
    _add(stack, "acme", ORG)
    simulator(stack).configure(
        companies={
            "company-acme": {"CompanyName": "Acme AB", "OrganizationNumber": ORG, "DatabaseNumber": "9"}
        }
    )
    with pytest.raises(OperationError, match="TenantId 9") as raised:
        run(stack, "consent", "acme", "--fortnox-tenant-id", "company-acme")
    assert raised.value.exit_code == EXIT_FAILED
    _unchanged(stack, "acme")


def test_without_an_organisation_number_the_company_s_is_recorded(stack: LocalStack) -> None:
    _add(stack, "delta")
    code, text = run(stack, "consent", "delta", "--fortnox-tenant-id", "company-acme")
    assert code == 0 and f"{ORG} is recorded" in text and "tenants verify delta --org-number" in text, text
    tenant = _tenant(stack, "delta")
    assert tenant.status is TenantStatus.ACTIVE and tenant.organisation_number == ORG


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_fortnox_or_a_refused_token_records_nothing(stack: LocalStack) -> None:
    _add(stack, "acme", ORG)
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    away = {"fortnox_auth_url": f"{nowhere}/oauth-v1", "fortnox_api_url": f"{nowhere}/3"}
    with pytest.raises(OperationError, match=r"cannot ask Fortnox .*--no-check") as raised:
        run(stack, "consent", "acme", "--fortnox-tenant-id", "company-acme", fortnox_max_attempts=1, **away)
    assert raised.value.exit_code == EXIT_FAILED
    _unchanged(stack, "acme")
    simulator(stack).revoke_tenant("company-acme")
    with pytest.raises(OperationError, match="refused a token") as raised:
        run(stack, "consent", "acme", "--fortnox-tenant-id", "company-acme")
    assert raised.value.exit_code == EXIT_AUTH
    _unchanged(stack, "acme")
    # --no-check records it as before, without asking Fortnox, and says so.
    code, text = run(stack, "consent", "acme", "--fortnox-tenant-id", "company-acme", "--no-check", **away)
    assert code == 0 and "UNCHECKED" in text and "tenants verify acme" in text, text
    tenant = _tenant(stack, "acme")
    assert tenant.status is TenantStatus.ACTIVE and tenant.fortnox_tenant_id == "company-acme"


def test_the_command_line_exits_1_with_the_reason_on_stderr(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    from stripe_fortnox_cli.cli import main

    _add(stack, "acme", ORG)
    capsys.readouterr()
    where = ["--local", str(stack.state_dir)]
    assert main(["tenants", "consent", "acme", "--fortnox-tenant-id", "company-other", *where]) == EXIT_FAILED
    assert "consent was probably given in another company" in capsys.readouterr().err.lower()
    _unchanged(stack, "acme")
    assert main(["tenants", "consent", "acme", "--fortnox-tenant-id", "company-acme", *where]) == 0
    assert "is Acme AB, organisation number 556677-8899" in capsys.readouterr().out
