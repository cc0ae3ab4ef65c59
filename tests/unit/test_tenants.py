"""Tenants (docs/tenants.md): keys, the webhook's routes, and the sync's tenant checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stripe import WebhookSignature

from stripe_fortnox_sync.core.errors import ConfigError, ConflictError
from stripe_fortnox_sync.core.models import Outcome, StripeEvent, SyncResult
from stripe_fortnox_sync.core.settings import MatchRule, Settings
from stripe_fortnox_sync.core.tenants import (
    DEFAULT_TENANT,
    Tenant,
    TenantStatus,
    check_tenant_id,
    is_default_key,
    new_slug,
    tenant_key,
    tenant_settings,
)
from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES
from stripe_fortnox_sync.sync.service import SyncService
from stripe_fortnox_sync.sync.tenants import TenantPublisher, TenantRouter, message_tenant
from stripe_fortnox_sync.webhook.accept import handle_webhook
from stripe_fortnox_sync.webhook.tenants import connect_router, route_of, status_refusal, target_of
from tests.builders import event
from tests.fakes import FakeQueue, InMemoryTenantRegistry

SECRET_A, SECRET_B, SECRET_DEFAULT = "whsec_tenant_a", "whsec_tenant_b", "whsec_default"
ACME = Tenant(
    "acme",
    "Acme AB",
    TenantStatus.ACTIVE,
    webhook_slug="slug-acme",
    fortnox_tenant_id="111",
    webhook_secret_name="acme-secret",
)
BETA = Tenant(
    "beta",
    "Beta AB",
    TenantStatus.ACTIVE,
    webhook_slug="slug-beta",
    fortnox_tenant_id="222",
    stripe_account="acct_beta",
)


def sign(body: str, secret: str) -> str:
    header: str = WebhookSignature.generate_signature_header(body, secret)
    return header


# Keys -------------------------------------------------------------------------------------------


def test_tenant_default_keeps_todays_keys_and_others_get_a_prefix() -> None:
    assert tenant_key(DEFAULT_TENANT, "cus_1") == tenant_key(None, "cus_1") == "cus_1"
    assert tenant_key("acme", "cus_1") == "acme#cus_1"
    assert tenant_key("acme", "guest#abc") == "acme#guest#abc"


@pytest.mark.parametrize("key", ["cus_1", "guest#abc", "h#0123", "voucher#po_1", "token#c#t"])
def test_default_keys_are_told_from_a_tenants(key: str) -> None:
    assert is_default_key(key)
    assert not is_default_key(tenant_key("acme", key))


@pytest.mark.parametrize("bad", ["default", "guest", "h", "A", "a", "with_underscore", "a#b", "x" * 33, ""])
def test_tenant_ids_that_could_collide_or_break_a_key_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        check_tenant_id(bad)


def test_slugs_are_unguessable_and_url_safe() -> None:
    slugs = {new_slug() for _ in range(100)}
    assert len(slugs) == 100 and all(len(s) >= 32 and "/" not in s for s in slugs)


def test_tenant_settings_are_the_stacks_with_its_overrides_and_mode() -> None:
    tenant = Tenant("acme", "Acme", livemode=True, overrides={"match_rule": "none", "seller_country": "fi"})
    own = tenant_settings(Settings(), tenant)
    assert (own.match_rule, own.seller_country, own.stripe_livemode) == (MatchRule.NONE, "FI", True)
    assert own.payout_voucher_series == Settings().payout_voucher_series
    with pytest.raises(ConfigError):
        tenant_settings(Settings(), Tenant("acme", "Acme", overrides={"queue_url": "x"}))


def test_a_tenant_survives_its_stored_form() -> None:
    tenant = Tenant("acme", "Acme", TenantStatus.AUTH_BROKEN, overrides={"fee_vat": "none"}, version=3)
    assert Tenant.from_item(json.loads(json.dumps(tenant.to_item()))) == tenant


def test_the_registry_refuses_a_taken_slug_or_account() -> None:
    registry = InMemoryTenantRegistry(ACME, BETA)
    with pytest.raises(ConflictError):
        registry.add(Tenant("other", "Other", webhook_slug="slug-acme"))
    with pytest.raises(ConflictError):
        registry.add(Tenant("other", "Other", stripe_account="acct_beta"))


# Webhook ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/webhook", ("default", "")),
        ("/webhook/", ("default", "")),
        ("/webhook/connect", ("connect", "")),
        ("/webhook/t/abc_-1", ("tenant", "abc_-1")),
        ("/webhook/t/", None),
        ("/webhook/t/a/b", None),
        ("/other", None),
    ],
)
def test_routes(path: str, route: tuple[str, str] | None) -> None:
    assert route_of(path) == route


def post_to_tenant(tenant: Tenant, body: str, header: str, queue: FakeQueue) -> Any:
    return handle_webhook(
        body.encode(),
        header,
        [SECRET_A],
        livemode=False,
        event_types=(),
        publisher=queue,
        target=target_of(Settings(), tenant),
    )


def test_a_tenants_event_travels_with_its_tenant() -> None:
    queue = FakeQueue()
    body = json.dumps(event())
    response = post_to_tenant(ACME, body, sign(body, SECRET_A), queue)
    assert (response.status, response.tenant) == (200, "acme")
    assert queue.sent == [
        {
            "body": body,
            "group": "acme#cus_1",
            "dedup": "acme#evt_1",
            "attributes": {"event_type": "customer.created", "tenant": "acme"},
        }
    ]


def test_another_tenants_signature_is_refused() -> None:
    queue = FakeQueue()
    body = json.dumps(event())
    response = post_to_tenant(ACME, body, sign(body, SECRET_B), queue)
    assert (response.status, response.reason) == (400, "bad_signature") and queue.sent == []


def test_a_tenant_in_the_other_mode_is_answered_400_not_ignored() -> None:
    queue = FakeQueue()
    body = json.dumps(event(livemode=True))
    response = post_to_tenant(ACME, body, sign(body, SECRET_A), queue)
    assert (response.status, response.reason) == (400, "livemode_mismatch") and queue.sent == []


def test_a_connected_accounts_event_on_another_tenants_url_is_refused() -> None:
    queue = FakeQueue()
    body = json.dumps(event(account="acct_beta"))
    response = post_to_tenant(ACME, body, sign(body, SECRET_A), queue)
    assert (response.status, response.reason) == (400, "wrong_account") and queue.sent == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (TenantStatus.SUSPENDED, 503),
        (TenantStatus.ONBOARDING, 503),
        (TenantStatus.DISCONNECTED, 410),
        (TenantStatus.AUTH_BROKEN, None),
        (TenantStatus.ACTIVE, None),
    ],
)
def test_a_tenants_status_answers_before_its_events_are_read(status: TenantStatus, code: int | None) -> None:
    refusal = status_refusal(Tenant("acme", "Acme", status))
    assert (refusal.status if refusal else None) == code


def connect(body: str, registry: InMemoryTenantRegistry, queue: FakeQueue) -> Any:
    return handle_webhook(
        body.encode(),
        sign(body, SECRET_A),
        [SECRET_A],
        livemode=False,
        event_types=(),
        publisher=queue,
        target=connect_router(Settings(), registry),
    )


def test_the_connect_endpoint_routes_by_account() -> None:
    queue = FakeQueue()
    response = connect(json.dumps(event(account="acct_beta")), InMemoryTenantRegistry(ACME, BETA), queue)
    assert (response.status, response.tenant) == (200, "beta")
    assert queue.sent[0]["group"] == "beta#cus_1" and queue.sent[0]["attributes"]["tenant"] == "beta"


def test_an_unknown_connected_account_is_ignored_with_200() -> None:
    queue = FakeQueue()
    response = connect(json.dumps(event(account="acct_nobody")), InMemoryTenantRegistry(ACME, BETA), queue)
    assert (response.status, response.reason) == (200, "unknown_account") and queue.sent == []


def test_a_registry_failure_is_a_500_for_stripe_to_retry_not_a_400() -> None:
    class Down(InMemoryTenantRegistry):
        def by_account(self, stripe_account: str) -> Tenant | None:
            raise ConnectionError("DynamoDB unreachable")

    with pytest.raises(ConnectionError):
        connect(json.dumps(event(account="acct_beta")), Down(), FakeQueue())


def test_the_default_route_is_unchanged() -> None:
    queue = FakeQueue()
    body = json.dumps(event())
    response = handle_webhook(
        body.encode(),
        sign(body, SECRET_DEFAULT),
        [SECRET_DEFAULT],
        livemode=False,
        event_types=SUPPORTED_TYPES,
        publisher=queue,
    )
    assert response.tenant == DEFAULT_TENANT
    assert queue.sent == [
        {"body": body, "group": "cus_1", "dedup": "evt_1", "attributes": {"event_type": "customer.created"}}
    ]


# Sync -------------------------------------------------------------------------------------------


class Applied:
    """Stands in for each tenant's route dispatcher: remembers which tenant applied what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.outcome: dict[str, Exception] = {}

    def for_tenant(self, tenant_id: str) -> Any:
        def apply(event: StripeEvent) -> SyncResult:
            self.calls.append((tenant_id, event.id))
            if tenant_id in self.outcome:
                raise self.outcome[tenant_id]
            return SyncResult(event.id, event.type, "cus_1", Outcome.CREATED, "1")

        return apply


def router(registry: InMemoryTenantRegistry, applied: Applied, parker: FakeQueue) -> TenantRouter:
    def build(tenant: Tenant) -> SyncService:
        return SyncService(
            tenant_settings(Settings(), tenant),
            lambda: applied.for_tenant(tenant.id),
            TenantPublisher(parker, tenant.id),
            None,
        )

    default = SyncService(Settings(), lambda: applied.for_tenant(DEFAULT_TENANT), parker, None)
    return TenantRouter(default, lambda: registry, build)


def test_each_message_is_applied_by_its_own_tenant() -> None:
    applied, parker = Applied(), FakeQueue()
    sync = router(InMemoryTenantRegistry(ACME, BETA), applied, parker)
    sync.handle(json.dumps(event("evt_a")), tenant="acme")
    sync.handle(json.dumps(event("evt_b", account="acct_beta")), tenant="beta")
    sync.handle(json.dumps(event("evt_d")))
    assert applied.calls == [("acme", "evt_a"), ("beta", "evt_b"), (DEFAULT_TENANT, "evt_d")]
    assert parker.sent == []


def test_an_event_of_another_account_is_parked_wrong_tenant() -> None:
    applied, parker = Applied(), FakeQueue()
    result = router(InMemoryTenantRegistry(ACME, BETA), applied, parker).handle(
        json.dumps(event(account="acct_beta")), tenant="acme"
    )
    assert result.outcome is Outcome.FAILED and applied.calls == []
    assert parker.sent[0]["attributes"]["failure_reason"] == "wrong_tenant"
    assert parker.sent[0]["attributes"]["tenant"] == "acme" and parker.sent[0]["group"].startswith("acme#")


@pytest.mark.parametrize(
    ("status", "reason"),
    [(TenantStatus.SUSPENDED, "suspended"), (TenantStatus.AUTH_BROKEN, "auth")],
)
def test_a_tenant_that_cannot_sync_parks_without_calling_fortnox(status: TenantStatus, reason: str) -> None:
    applied, parker = Applied(), FakeQueue()
    registry = InMemoryTenantRegistry(ACME)
    registry.set_status("acme", status)
    router(registry, applied, parker).handle(json.dumps(event()), tenant="acme")
    assert applied.calls == [] and parker.sent[0]["attributes"]["failure_reason"] == reason


def test_an_unknown_tenant_is_parked() -> None:
    applied, parker = Applied(), FakeQueue()
    router(InMemoryTenantRegistry(), applied, parker).handle(json.dumps(event()), tenant="ghost")
    assert applied.calls == [] and parker.sent[0]["attributes"]["failure_reason"] == "unknown_tenant"


def test_refused_credentials_break_only_that_tenant() -> None:
    from stripe_fortnox_sync.core.errors import FortnoxAuthError

    applied, parker = Applied(), FakeQueue()
    registry = InMemoryTenantRegistry(ACME, BETA)
    applied.outcome["acme"] = FortnoxAuthError("token request refused", status=400)
    sync = router(registry, applied, parker)
    sync.handle(json.dumps(event("evt_1")), tenant="acme")
    assert registry.tenants["acme"].status is TenantStatus.AUTH_BROKEN
    sync.handle(json.dumps(event("evt_2")), tenant="acme")
    result = sync.handle(json.dumps(event("evt_3", account="acct_beta")), tenant="beta")
    assert applied.calls == [("acme", "evt_1"), ("beta", "evt_3")] and result.outcome is Outcome.CREATED
    assert registry.tenants["beta"].status is TenantStatus.ACTIVE


def test_the_tenant_attribute_is_read_from_lambdas_record() -> None:
    assert message_tenant({"tenant": {"stringValue": "acme", "dataType": "String"}}) == "acme"
    assert message_tenant({"event_type": {"stringValue": "x"}}) is None
    assert message_tenant(None) is None


def test_each_tenant_remembers_its_own_deliveries_in_the_one_idempotency_table() -> None:
    from tests.unit.test_sync_service import FakeLambdaContext, MemoryPersistence

    applied, parker, persistence = Applied(), FakeQueue(), MemoryPersistence()
    registry = InMemoryTenantRegistry(ACME, BETA)
    default = SyncService(Settings(), lambda: applied.for_tenant(DEFAULT_TENANT), parker, persistence)

    def build(tenant: Tenant) -> SyncService:
        return SyncService(
            tenant_settings(Settings(), tenant),
            lambda: applied.for_tenant(tenant.id),
            TenantPublisher(parker, tenant.id),
            persistence,
            key_prefix=f"{tenant.id}#stripe-event",
            idempotency_config=default.idempotency_config,
        )

    sync = TenantRouter(default, lambda: registry, build)
    sync.idempotency_config.register_lambda_context(FakeLambdaContext())
    failure = event("evt_pf1", "invoice.payment_failed", 1)  # a repeat would e-mail again
    sync.handle(json.dumps(failure))
    sync.handle(json.dumps(failure), tenant="acme")
    sync.handle(json.dumps({**failure, "account": "acct_beta"}), tenant="beta")
    again = sync.handle(json.dumps(failure), tenant="acme")
    assert again.outcome is Outcome.IGNORED and "duplicate delivery" in again.detail
    assert applied.calls == [(DEFAULT_TENANT, "evt_pf1"), ("acme", "evt_pf1"), ("beta", "evt_pf1")]
    prefixes = sorted(key.rsplit("#", 1)[0] for key in persistence.records)
    assert prefixes == ["acme#stripe-event", "beta#stripe-event", "stripe-event"]
