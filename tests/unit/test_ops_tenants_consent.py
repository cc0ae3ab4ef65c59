"""The company check `tenants consent` and `tenants verify` share (ops/tenants_consent.py)."""

from __future__ import annotations

from stripe_fortnox_cli.ops.tenants_consent import Check, Company, company_checks

ACME = Company("Acme AB", "company-acme", "556677-8899")


def _marks(checks: list[Check]) -> dict[str, bool | None]:
    return {check.name: check.ok for check in checks}


def test_the_right_company_passes_with_the_number_written_either_way() -> None:
    for given in ("556677-8899", "5566778899", " 556677 8899 "):
        assert _marks(company_checks(ACME, "company-acme", given)) == {
            "fortnox company": True,
            "organisation number": True,
        }


def test_another_company_fails_on_its_number_or_its_database_number() -> None:
    checks = company_checks(ACME, "company-acme", "559999-0000")
    assert _marks(checks)["organisation number"] is False
    assert "consent given in another company" in checks[-1].detail
    assert _marks(company_checks(ACME, "company-other", "556677-8899"))["fortnox tenant id"] is False
    # Fortnox may leave DatabaseNumber out: then the organisation number alone decides.
    unnumbered = Company("Acme AB", "", "556677-8899")
    assert "fortnox tenant id" not in _marks(company_checks(unnumbered, "company-acme", "5566778899"))


def test_without_a_number_to_compare_the_check_is_skipped_not_failed() -> None:
    checks = company_checks(ACME, "company-acme", "")
    assert _marks(checks)["organisation number"] is None and "--org-number" in checks[-1].detail
