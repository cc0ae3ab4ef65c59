"""`--tenant` on `backfill`, `redrive`, `status` and `reconcile` (ops/tenant_scope.py): the scoped
stack's settings, keys, Fortnox company and Stripe account, the messages' stamps, redrive's choice
of events and queue, and the parser."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from stripe_fortnox_cli.exits import EXIT_CONFIG
from stripe_fortnox_cli.ops import commands
from stripe_fortnox_cli.ops.cursor import default_cursor_path
from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.queues import bulk_queue_url
from stripe_fortnox_cli.ops.redrive import REDRIVE_BULK_AT, RedriveOptions, _Redrive
from stripe_fortnox_cli.ops.stack import Stack, settings_for
from stripe_fortnox_cli.ops.store import OutgoingMessage, ReceivedMessage, _own_key
from stripe_fortnox_cli.ops.tenant_scope import message_tenant, require_consent, scoped, stamped
from stripe_fortnox_sync.core.settings import MatchRule
from stripe_fortnox_sync.core.tenants import Tenant, TenantStatus
from tests.fakes import InMemoryTenantRegistry

OUTPUTS = {
    "EventQueueUrl": "https://sqs.example/live.fifo",
    "BulkQueueUrl": "https://sqs.example/bulk.fifo",
    "DeadLetterQueueUrl": "https://sqs.example/dlq.fifo",
    "StateTableName": "state",
    "MappingTableName": "mapping",
}
ACME = Tenant(
    "acme",
    "Acme AB",
    TenantStatus.ACTIVE,
    fortnox_tenant_id="company-acme",
    stripe_account="acct_acme",
    livemode=True,
    stripe_api_key_secret_name="stack/tenants/acme/stripe-api-key",
    overrides={"match_rule": "organisation_number", "seller_country": "NO"},
)


def _stack(state_dir: Path | None = None) -> Stack:
    return Stack("s", dict(OUTPUTS), {}, settings_for(OUTPUTS, {}), state_dir=state_dir)


def test_without_a_tenant_or_with_default_the_stack_is_unchanged() -> None:
    stack = _stack()
    registry = InMemoryTenantRegistry(ACME)
    for given in (None, "default"):
        assert scoped(stack, given, registry) is stack
    assert registry.reads == 0
    assert (stack.tenant_id, stack.key_prefix) == ("default", "")


def test_a_tenant_brings_its_settings_keys_mode_and_stripe_key() -> None:
    acme = scoped(_stack(), "acme", InMemoryTenantRegistry(ACME))
    assert acme.tenant is not None and acme.tenant.fortnox_tenant_id == "company-acme"
    assert acme.tenant_id == "acme" and acme.key_prefix == "acme#"
    assert acme.settings.match_rule is MatchRule.ORGANISATION_NUMBER
    assert acme.settings.seller_country == "NO"
    assert acme.settings.stripe_livemode is True and acme.mode == "live"
    assert acme.settings.stripe_api_key_secret_name == ACME.stripe_api_key_secret_name
    # Its own backfill cursor: another tenant's customers are another Stripe account's.
    assert acme.identity.endswith("#acme") and acme.identity != _stack().identity


def test_an_unknown_tenant_is_refused_before_anything_is_read() -> None:
    with pytest.raises(OperationError, match="no tenant 'nope'") as caught:
        scoped(_stack(), "nope", InMemoryTenantRegistry(ACME))
    assert caught.value.exit_code == EXIT_CONFIG


def test_a_tenant_without_consent_cannot_reach_fortnox() -> None:
    waiting = Tenant("beta", "Beta AB")
    with pytest.raises(OperationError, match="tenants consent beta"):
        require_consent(scoped(_stack(), "beta", InMemoryTenantRegistry(waiting)))
    require_consent(scoped(_stack(), "acme", InMemoryTenantRegistry(ACME)))
    require_consent(_stack())


def test_messages_are_stamped_as_the_webhook_stamps_them() -> None:
    message = OutgoingMessage("{}", "cus_1", "backfill-cus_1-1", {"source": "backfill"})
    assert stamped(message, "default") is message
    own = stamped(message, "acme")
    assert (own.group_id, own.dedup_id) == ("acme#cus_1", "acme#backfill-cus_1-1")
    assert own.attributes == {"source": "backfill", "tenant": "acme"}
    assert len(stamped(OutgoingMessage("{}", "g" * 128, "d" * 128), "acme").group_id) == 128
    assert message_tenant({"tenant": "acme"}) == "acme" and message_tenant({}) == "default"


def test_a_tenant_sees_only_its_own_mapping_keys() -> None:
    assert _own_key("cus_1", "") == "cus_1"
    assert _own_key("guest#abc", "") == "guest#abc"
    assert _own_key("acme#cus_1", "") is None
    assert _own_key("acme#cus_1", "acme#") == "cus_1"
    assert _own_key("cus_1", "acme#") is None
    assert _own_key("beta#cus_1", "acme#") is None


def test_backfill_cursors_are_per_tenant(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    acme = scoped(stack, "acme", InMemoryTenantRegistry(ACME))
    assert default_cursor_path(stack) == tmp_path / "backfill-cursor.json"
    assert default_cursor_path(acme) == tmp_path / "backfill-cursor-acme.json"


def test_bulk_work_goes_to_the_bulk_queue_or_the_event_queue_of_an_older_stack() -> None:
    assert bulk_queue_url(_stack()) == OUTPUTS["BulkQueueUrl"]
    older = {k: v for k, v in OUTPUTS.items() if k != "BulkQueueUrl"}
    assert bulk_queue_url(Stack("s", older, {}, settings_for(older, {}))) == OUTPUTS["EventQueueUrl"]


def _parked(tenant: str | None, reason: str = "auth") -> ReceivedMessage:
    attributes = {"failure_reason": reason, **({"tenant": tenant} if tenant else {})}
    return ReceivedMessage("m", "r", "{}", "g", "d", 1, 0.0, attributes)


class _Queue:
    """A queue by URL only: these tests never reach SQS."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(autouse=True)
def no_sqs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stripe_fortnox_cli.ops.redrive.FifoQueue", _Queue)


def _redrive(**options: object) -> _Redrive:
    import io

    return _Redrive(_stack(), RedriveOptions(**options), io.StringIO(), io.StringIO())  # type: ignore[arg-type]


def test_redrive_moves_one_tenants_events_or_everyones() -> None:
    everyone = _redrive()
    assert everyone.selects(_parked(None)) and everyone.selects(_parked("acme"))
    acme = _redrive(tenant="acme", reasons=frozenset({"auth"}))
    assert acme.selects(_parked("acme")) and not acme.selects(_parked("beta"))
    assert not acme.selects(_parked(None)) and not acme.selects(_parked("acme", "config"))
    default = _redrive(tenant="default")
    assert default.selects(_parked(None)) and not default.selects(_parked("acme"))


def test_a_large_redrive_goes_to_the_bulk_queue() -> None:
    assert _redrive().choose_queue(REDRIVE_BULK_AT - 1) == "event"
    large = _redrive()
    assert large.choose_queue(REDRIVE_BULK_AT) == "bulk" and large.queue.url == OUTPUTS["BulkQueueUrl"]
    assert _redrive(max_messages=10).choose_queue(5000) == "event"
    assert _redrive(to="live").choose_queue(5000) == "event"
    assert _redrive(to="bulk").choose_queue(1) == "bulk"


@pytest.mark.parametrize("command", ["backfill", "redrive", "status", "reconcile"])
def test_tenant_option_on_the_four_commands(command: str) -> None:
    parser = argparse.ArgumentParser()
    commands.add_parsers(parser.add_subparsers(dest="command"))
    assert parser.parse_args([command, "--local", "--tenant", "acme"]).tenant == "acme"
    assert parser.parse_args([command, "--local"]).tenant is None
