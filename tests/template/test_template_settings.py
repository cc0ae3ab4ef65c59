"""The template's parameters and the functions' environment against the settings the code declares
(core/settings.py) and the route table (sync/routes.py); README's event table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.operator_settings import OPERATOR_VARIABLES
from tests.template.translated import REPO, Stack, ref

# Powertools' own settings, which the template sets as literals (checked against the alarms' namespace).
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
GLOBAL_ENV = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "STAGE",
    "STRIPE_LIVEMODE",
}
FUNCTION_ENV = {
    "WebhookFunction": GLOBAL_ENV | {"ENABLED_EVENT_TYPES", "STRIPE_WEBHOOK_SECRET_NAME", "QUEUE_URL"},
    "SyncFunction": GLOBAL_ENV
    | OPERATOR_VARIABLES
    | {
        "FORTNOX_CREDENTIALS_SECRET_NAME",
        "FORTNOX_API_URL",
        "FORTNOX_AUTH_URL",
        "MAPPING_TABLE",
        "IDEMPOTENCY_TABLE",
        "STATE_TABLE",
        "DEAD_LETTER_QUEUE_URL",
        "STRIPE_API_KEY_SECRET_NAME",
        "PAYMENT_FAILURE_TOPIC_ARN",
        "ACTIVITY_TABLE",
    },
}


@pytest.mark.parametrize("function", sorted(FUNCTION_ENV))
def test_function_environment(stack: Stack, function: str) -> None:
    from stripe_fortnox_sync.core.settings import SETTINGS

    variables = stack.props(function)["Environment"]["Variables"]
    missing = FUNCTION_ENV[function] - set(variables)
    assert not missing, f"{function} lacks {sorted(missing)}"
    # Every variable is one the code declares (core/settings.py), or Powertools' own.
    undeclared = set(variables) - {s.env for s in SETTINGS} - POWERTOOLS_ENV
    assert not undeclared, f"{function} sets {sorted(undeclared)}, which no setting declares"


def _declared_settings() -> list[Any]:
    from stripe_fortnox_sync.core.settings import SETTINGS

    return list(SETTINGS)


@pytest.mark.parametrize("setting", _declared_settings(), ids=lambda s: s.env)
def test_every_setting_reaches_the_functions_as_declared(stack: Stack, setting: Any) -> None:
    """The template sets each function's variable from the setting's parameter (its value, or
    derived as `Setting.env_value` says) or resource, and nowhere else; the parameter's Default is
    the declared default."""
    from stripe_fortnox_cli.local.environment import declared_default
    from stripe_fortnox_sync.core.settings import Settings
    from tests.cfn import evaluate

    functions = stack.of_type("AWS::Lambda::Function")
    setting_it = {
        name: f["Properties"]["Environment"]["Variables"][setting.env]
        for name, f in functions.items()
        if setting.env in f["Properties"]["Environment"]["Variables"]
    }
    if not setting.parameter and not setting.resource:
        assert not setting_it, f"{setting.env} is declared without a parameter or resource"
        return
    assert setting_it, f"no function gets {setting.env}"
    if setting.resource:
        assert all(ref(value) == setting.resource for value in setting_it.values()), setting_it
        assert stack.template["Outputs"][setting.output]["Value"] == {"Ref": setting.resource}
        return
    parameter = stack.parameters[setting.parameter]
    assert setting.env_value(str(parameter["Default"])) == declared_default(setting)
    allowed = [str(v) for v in parameter.get("AllowedValues", [])]
    for value in allowed or [str(parameter["Default"])]:
        Settings.from_env(
            {setting.env: setting.env_value(value)}
        )  # what CloudFormation allows, the code reads
    # Each value the parameter may take, or any other: the variable follows it.
    for value in allowed or [str(parameter["Default"]), "another-value"]:
        for name, variable in setting_it.items():
            got = evaluate(variable, stack.template, {setting.parameter: value})
            assert got == setting.env_value(value), f"{name} {setting.env} = {got!r} for {value!r}"


ISSUE_4_EVENT_TYPES = (
    "customer.created,customer.updated,customer.deleted,customer.tax_id.created,"
    "customer.tax_id.updated,customer.tax_id.deleted,checkout.session.completed,"
    "customer.subscription.created,customer.subscription.deleted,invoice.payment_failed"
)


def test_parameters_for_triggers_notifications_and_alarms(stack: Stack) -> None:
    params = stack.parameters
    # Their defaults are the declared ones: test_every_setting_reaches_the_functions_as_declared.
    assert params["EnabledEventTypes"]["Default"] == ISSUE_4_EVENT_TYPES
    assert params["PaymentFailureComments"]["AllowedValues"] == ["true", "false"]
    assert params["PaymentFailureEmail"]["Default"] == ""
    assert params["AlarmEmail"]["Default"] == ""
    assert int(params["OldestMessageAlarmSeconds"]["Default"]) == 900
    assert params["OldestMessageAlarmSeconds"]["Type"] == "Number"


def test_every_enabled_event_type_is_one_the_code_supports(stack: Stack) -> None:
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    assert set(ISSUE_4_EVENT_TYPES.split(",")) <= set(SUPPORTED_TYPES)


def _env_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    from stripe_fortnox_sync.core.settings import Settings

    for name in ("ENABLED_EVENT_TYPES", "INVOICE_CHECKOUT_PAYMENTS", "PAYMENT_INTENT_VAT_RATE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_enabled_event_types_default_leaves_the_invoice_events_opt_in(stack: Stack) -> None:
    from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES, OPT_IN_TYPES

    parameter = stack.parameters["EnabledEventTypes"]
    assert parameter["Default"] == ",".join(DEFAULT_TYPES)
    assert not set(OPT_IN_TYPES) & set(parameter["Default"].split(","))
    description = " ".join(parameter["Description"].split())
    assert "opt-in" in description
    for event_type in OPT_IN_TYPES:  # the operator learns which ones to add
        assert event_type in description, event_type


def test_enabled_event_types_pattern_accepts_exactly_what_the_code_accepts(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stripe_fortnox_sync.core.errors import ConfigError
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES, enabled_types

    pattern = re.compile(stack.parameters["EnabledEventTypes"]["AllowedPattern"])
    accepted = [
        *SUPPORTED_TYPES,
        ",".join(SUPPORTED_TYPES),
        ", ".join(reversed(SUPPORTED_TYPES)),
        "invoice.paid,refund.created,refund.updated",
    ]
    for value in accepted:
        assert pattern.fullmatch(value), value
        assert enabled_types(_env_settings(monkeypatch, ENABLED_EVENT_TYPES=value))  # the code agrees
    refused = [
        "",
        "invoice.created",
        "refund.failed",
        "charge.succeeded",
        "payment_intent.payment_failed",
        "customer.createdcustomer.updated",
        "customer.created;invoice.paid",
        "customer.created,invoice.paid,bogus",
        "Customer.created",
    ]
    for value in refused:
        assert not pattern.fullmatch(value), value
        if value:  # empty means the default to the code; CloudFormation refuses it outright
            with pytest.raises(ConfigError):
                enabled_types(_env_settings(monkeypatch, ENABLED_EVENT_TYPES=value))


def test_invoice_parameters_match_the_settings(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from stripe_fortnox_sync.core.errors import ConfigError

    params = stack.parameters
    checkout = params["InvoiceCheckoutPayments"]
    assert checkout["AllowedValues"] == ["true", "false"]
    for value in checkout["AllowedValues"]:
        settings = _env_settings(monkeypatch, INVOICE_CHECKOUT_PAYMENTS=value)
        assert settings.invoice_checkout_payments is (value == "true")

    rate = params["PaymentIntentVatRate"]
    assert rate["Type"] == "String"
    assert rate["Default"] == "25"
    accepted = []
    for value in range(0, 101):
        try:
            _env_settings(monkeypatch, PAYMENT_INTENT_VAT_RATE=str(value))
        except ConfigError:
            continue
        accepted.append(str(value))
    assert rate["AllowedValues"] == accepted == ["0", "6", "12", "25"]

    webhook_env = stack.props("WebhookFunction")["Environment"]["Variables"]
    assert "INVOICE_CHECKOUT_PAYMENTS" not in webhook_env  # the webhook only routes by type


def _readme_event_rows() -> dict[str, str]:
    """Event type -> its row in README's "What it does" table (`.updated` after a full name
    stands for the same prefix)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## What it does", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split(" | ", 1)[0]
        parent = ""
        for name in re.findall(r"`([a-z_.]+)`", first_cell):
            if name.startswith("."):
                name = parent + name
            else:
                parent = name.rsplit(".", 1)[0]
            rows[name] = line
    return rows


def test_readme_lists_every_supported_event_and_which_are_opt_in() -> None:
    from stripe_fortnox_sync.sync.routes import OPT_IN_TYPES, SUPPORTED_TYPES

    rows = _readme_event_rows()
    assert set(rows) == set(SUPPORTED_TYPES)
    for event_type, row in rows.items():
        first_cell = row.split(" | ", 1)[0]
        assert ("opt-in" in first_cell) == (event_type in OPT_IN_TYPES), event_type
