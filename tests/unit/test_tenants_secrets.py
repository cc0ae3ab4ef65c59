"""A tenant's secrets: its credential rebuild forgets its own cached secrets only; a Connect
merchant is read with the platform's key and `Stripe-Account` (docs/tenants.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from stripe_fortnox_sync.adapters.aws.secrets import forget_secrets
from stripe_fortnox_sync.adapters.stripe_api import StripeApi
from stripe_fortnox_sync.bootstrap import own_secrets
from stripe_fortnox_sync.core.settings import Settings
from stripe_fortnox_sync.core.tenants import Tenant, tenant_settings


class _Provider:
    def __init__(self, names: list[str]) -> None:
        self.store: dict[tuple[Any, ...], str] = {(name, None, False): "value" for name in names}


@pytest.fixture
def provider() -> Iterator[_Provider]:
    before = DEFAULT_PROVIDERS.get("secrets")
    cached = _Provider(["fortnox", "stack-key", "t/acme/key", "t/acme/whsec", "t/beta/key", "t/beta/whsec"])
    DEFAULT_PROVIDERS["secrets"] = cached
    yield cached
    if before is None:
        DEFAULT_PROVIDERS.pop("secrets", None)
    else:
        DEFAULT_PROVIDERS["secrets"] = before


def test_one_tenants_rebuild_forgets_its_own_secrets_and_keeps_the_others(provider: _Provider) -> None:
    settings = Settings(fortnox_credentials_secret_name="fortnox", stripe_api_key_secret_name="stack-key")
    acme = Tenant(
        "acme", "Acme AB", webhook_secret_name="t/acme/whsec", stripe_api_key_secret_name="t/acme/key"
    )
    forget_secrets(*own_secrets(tenant_settings(settings, acme), acme))
    assert sorted(key[0] for key in provider.store) == ["stack-key", "t/beta/key", "t/beta/whsec"]


def test_forgetting_nothing_named_clears_every_cache(provider: _Provider) -> None:
    forget_secrets()
    assert "secrets" not in DEFAULT_PROVIDERS


def test_a_connect_merchant_without_a_key_is_read_with_the_platforms() -> None:
    stack = Settings(stripe_api_key_secret_name="stack-key")
    merchant = Tenant("gamma", "Gamma AB", stripe_account="acct_gamma")
    assert tenant_settings(stack, merchant).stripe_api_key_secret_name == "stack-key"
    own = Tenant("acme", "Acme AB")  # its own Stripe account: its own key, or none
    assert tenant_settings(stack, own).stripe_api_key_secret_name == ""


def test_the_reader_sends_stripe_account_for_a_connect_merchant() -> None:
    options = StripeApi("rk_test_platform", "", "acct_gamma")._client._requestor._options
    assert options.stripe_account == "acct_gamma"
    assert StripeApi("rk_test_own")._client._requestor._options.stripe_account is None
