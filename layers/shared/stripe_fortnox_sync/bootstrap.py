"""Composition root: builds the services with their real AWS and Fortnox adapters.

The invoice, payout and summary machinery is imported inside the functions that build it: a stack
that books no sales or payouts never loads it, which is a third of the sync's cold start
(bench/RESULTS.md, section 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from stripe_fortnox_sync.adapters.aws.dynamodb import DynamoActivityLog, DynamoMappingStore
from stripe_fortnox_sync.adapters.aws.errors import transient as aws_transient
from stripe_fortnox_sync.adapters.aws.secrets import forget_secrets, secret_json, secret_text
from stripe_fortnox_sync.adapters.aws.sns import SnsNotifier
from stripe_fortnox_sync.adapters.aws.sqs import SqsFifoPublisher
from stripe_fortnox_sync.adapters.aws.state import DynamoStateStore
from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
from stripe_fortnox_sync.adapters.fortnox.auth import FortnoxCredentials, OAuthTokenProvider
from stripe_fortnox_sync.adapters.fortnox.customers import FortnoxCustomerApi
from stripe_fortnox_sync.adapters.fortnox.http import FortnoxClient
from stripe_fortnox_sync.adapters.fortnox.limiter import SlidingWindowLimiter
from stripe_fortnox_sync.core.errors import ConfigError
from stripe_fortnox_sync.core.models import StripeEvent
from stripe_fortnox_sync.core.observability import MetricUnit, logger, metrics, tenant_count
from stripe_fortnox_sync.core.settings import BookingMode, FeeVat, Settings
from stripe_fortnox_sync.core.tenants import Tenant, key_prefix, tenant_settings
from stripe_fortnox_sync.sync import routes
from stripe_fortnox_sync.sync.context import Context
from stripe_fortnox_sync.sync.customer_sync import CustomerSync
from stripe_fortnox_sync.sync.service import SyncService, new_idempotency_config
from stripe_fortnox_sync.sync.tenants import TenantPublisher, TenantRouter

if TYPE_CHECKING:
    from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync
    from stripe_fortnox_sync.sync.payout_sync import PayoutSync
    from stripe_fortnox_sync.sync.summary_sync import SummarySync
    from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster


def _observe_call(method: str, path: str, status: int, seconds: float) -> None:
    metrics.add_metric(name="FortnoxCalls", unit=MetricUnit.Count, value=1)
    tenant_count("FortnoxCalls")
    metrics.add_metric(name="FortnoxLatency", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))
    if status == 429:
        metrics.add_metric(name="Fortnox429", unit=MetricUnit.Count, value=1)
        tenant_count("Fortnox429")
    elif status == 0 or status >= 500:
        metrics.add_metric(name="FortnoxErrors", unit=MetricUnit.Count, value=1)


def _observe_refresh(flow: str, ok: bool) -> None:
    metrics.add_metric(
        name="TokenRefreshes" if ok else "TokenRefreshFailures", unit=MetricUnit.Count, value=1
    )
    if not ok:
        tenant_count("TokenRefreshFailures")


class _MetricsObserver:
    def skipped_without_key(self, event: StripeEvent, what: str) -> None:
        metrics.add_metric(name="SkippedNoStripeKey", unit=MetricUnit.Count, value=1)
        logger.warning("applied the event's payload only", extra={"skipped": what})

    def payment_failed(self, event: StripeEvent, details: Mapping[str, Any]) -> None:
        metrics.add_metric(name="PaymentFailed", unit=MetricUnit.Count, value=1)
        # Ids and amounts only: the bookkeeper's notification carries the name.
        logger.warning("Stripe payment failed", extra={"payment_failure": dict(details)})


def stripe_api_key(settings: Settings) -> str | None:
    if not settings.stripe_api_key_secret_name:
        return None
    key = secret_text(settings.stripe_api_key_secret_name, settings.secrets_max_age_seconds).strip()
    return key if key.startswith(("rk_", "sk_")) else None


def build_context(settings: Settings, tenant: Tenant | None = None) -> Context:
    """Every port the handlers use, wired to Fortnox, Stripe and AWS; for `tenant` (None: tenant
    `default`), its Fortnox company and its keys (`settings` are the tenant's already)."""
    from stripe_fortnox_sync.adapters.stripe_api import StripeApi

    prefix = key_prefix(tenant.id if tenant else None)
    key = stripe_api_key(settings)
    client = build_fortnox_client(settings, tenant=tenant)
    fortnox = FortnoxCustomerApi(client)
    invoices = summary = None
    if routes.books_sales(settings) and settings.booking_mode is BookingMode.SUMMARY:
        summary = build_summary_sync(settings, client, prefix)
    elif routes.books_sales(settings):
        invoices = build_invoice_sync(settings, client)
    return Context(
        settings,
        routes.enabled_types(settings),
        CustomerSync(settings, fortnox, DynamoMappingStore(settings.mapping_table, prefix=prefix)),
        fortnox,
        stripe=StripeApi(key, settings.stripe_api_base, tenant.stripe_account if tenant else "")
        if key
        else None,
        activity=DynamoActivityLog(settings.activity_table, prefix=prefix)
        if settings.activity_table
        else None,
        notifier=SnsNotifier(settings.payment_failure_topic_arn)
        if settings.payment_failure_topic_arn
        else None,
        observer=_MetricsObserver(),
        invoices=invoices,
        payouts=build_payout_sync(settings, client, prefix) if routes.books_payouts(settings) else None,
        summary=summary,
    )


def build_invoice_sync(settings: Settings, client: FortnoxClient) -> InvoiceSync:
    from stripe_fortnox_sync.adapters.fortnox.invoices import FortnoxInvoiceApi
    from stripe_fortnox_sync.mapping.accounts import configured_accounts
    from stripe_fortnox_sync.sync.invoice_sync import InvoiceSync

    return InvoiceSync(FortnoxInvoiceApi(client), configured_accounts(settings), settings.seller_country)


def _voucher_poster(settings: Settings, client: FortnoxClient, state: DynamoStateStore) -> VoucherPoster:
    from stripe_fortnox_sync.adapters.fortnox.vouchers import FortnoxVoucherApi
    from stripe_fortnox_sync.sync.voucher_posting import VoucherPoster

    return VoucherPoster(FortnoxVoucherApi(client, client), state, settings.payout_voucher_series)


def build_summary_sync(settings: Settings, client: FortnoxClient, prefix: str = "") -> SummarySync:
    """Summary booking over the Fortnox client: day vouchers in the payout series, the days' entries
    and the vouchers' records in the state table."""
    from stripe_fortnox_sync.mapping.accounts import configured_accounts
    from stripe_fortnox_sync.sync.summary_sync import SummarySync

    state = DynamoStateStore(settings.state_table, prefix=prefix)
    poster = _voucher_poster(settings, client, state)
    return SummarySync(poster, state, configured_accounts(settings), settings.seller_country)


def build_payout_sync(settings: Settings, client: FortnoxClient, prefix: str = "") -> PayoutSync:
    """Payout vouchers over the Fortnox client, their records in the state table."""
    from stripe_fortnox_sync.adapters.fortnox.invoices import FortnoxInvoiceApi
    from stripe_fortnox_sync.mapping.accounts import configured_accounts
    from stripe_fortnox_sync.sync.payout_sync import PayoutOptions, PayoutSync

    poster = _voucher_poster(settings, client, DynamoStateStore(settings.state_table, prefix=prefix))
    options = PayoutOptions(
        reverse_charge=settings.fee_vat is FeeVat.REVERSE_CHARGE,
        itemised_rows=settings.payout_itemised_rows,
        sales_start=settings.sales_start_date,
        presale_vat_rate=settings.payment_intent_vat_rate,
    )
    recorded = None
    if settings.booking_mode is BookingMode.SUMMARY:
        state = DynamoStateStore(settings.state_table, prefix=prefix)
        recorded = lambda sale_id: state.load_sale(sale_id) is not None  # noqa: E731
    return PayoutSync(poster, FortnoxInvoiceApi(client), configured_accounts(settings), options, recorded)


def build_fortnox_client(
    settings: Settings,
    *,
    observed: bool = True,
    max_wait_seconds: float = 30.0,
    secrets_max_age: int | None = None,
    tenant: Tenant | None = None,
) -> FortnoxClient:
    """The Fortnox client with the stack's credentials, shared token state and rate window.

    Every user (the sync, the operator's CLI) shares one token store key and one limiter key, so
    they take turns in Fortnox's window and refresh tokens under the one lock. `observed=False`
    for the CLI: it publishes no EMF metrics, and Powertools would pile them up on stdout.
    """
    max_age = settings.secrets_max_age_seconds if secrets_max_age is None else secrets_max_age
    credentials = FortnoxCredentials.from_secret(
        secret_json(settings.fortnox_credentials_secret_name, max_age)
    )
    if tenant is not None:
        # The integration's one client id and secret, a service-account token per company.
        credentials = tenant_credentials(credentials, tenant)
    state = DynamoStateStore(settings.state_table)
    tokens = OAuthTokenProvider(
        credentials,
        settings.fortnox_auth_url,
        state,
        timeout=settings.fortnox_timeout_seconds,
        on_refresh=_observe_refresh if observed else None,
    )
    limiter = SlidingWindowLimiter(
        state,
        f"{credentials.client_id}#{credentials.tenant_id or 'authorization-code'}",
        max_requests=settings.fortnox_max_requests,
        window_seconds=settings.fortnox_window_seconds,
        max_wait_seconds=max_wait_seconds,
    )
    return FortnoxClient(
        settings.fortnox_api_url,
        tokens,
        limiter,
        timeout=settings.fortnox_timeout_seconds,
        max_attempts=settings.fortnox_max_attempts,
        observer=_observe_call if observed else None,
    )


def tenant_credentials(integration: FortnoxCredentials, tenant: Tenant) -> FortnoxCredentials:
    if not tenant.fortnox_tenant_id:
        raise ConfigError(f"tenant {tenant.id} has no Fortnox TenantId yet (consent not given)")
    return FortnoxCredentials(integration.client_id, integration.client_secret, tenant.fortnox_tenant_id)


def own_secrets(settings: Settings, tenant: Tenant | None = None) -> tuple[str, ...]:
    """The secrets a service's credential rebuild reads again: the integration's Fortnox
    credentials (an operator may just have stored new ones) and the tenant's own, never another
    tenant's, whose cached values stay warm."""
    names = [settings.fortnox_credentials_secret_name, settings.stripe_api_key_secret_name]
    names.append(tenant.webhook_secret_name if tenant else settings.stripe_webhook_secret_name)
    return tuple(name for name in names if name)


def build_sync_service(settings: Settings) -> TenantRouter:
    """The sync function's service: tenant `default` as the stack always was, and one service per
    registered tenant, built when its first event comes."""
    parker = SqsFifoPublisher(settings.dead_letter_queue_url) if settings.dead_letter_queue_url else None
    persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table)
    config = new_idempotency_config()
    default = SyncService(
        settings,
        lambda: partial(routes.apply, build_context(settings)),
        parker,
        persistence,
        forget_secrets=partial(forget_secrets, *own_secrets(settings)),
        transient=aws_transient,
        idempotency_config=config,
    )

    def for_tenant(tenant: Tenant) -> SyncService:
        try:
            own = tenant_settings(settings, tenant)
        except ConfigError:
            own = settings  # its events are parked with reason `config` when applied
        return SyncService(
            own,
            lambda: partial(routes.apply, build_context(tenant_settings(settings, tenant), tenant)),
            TenantPublisher(parker, tenant.id) if parker is not None else None,
            persistence,
            forget_secrets=partial(forget_secrets, *own_secrets(own, tenant)),
            transient=aws_transient,
            key_prefix=f"{tenant.id}#stripe-event",
            idempotency_config=config,
        )

    def registry() -> DynamoTenantRegistry | None:
        return DynamoTenantRegistry(settings.state_table) if settings.state_table else None

    return TenantRouter(default, registry, for_tenant)
