"""The local stack's function environment and stack parameters, derived from `SETTINGS`."""

from __future__ import annotations

import pytest

from stripe_fortnox_cli.local import LocalConfig, LocalStackError
from stripe_fortnox_cli.local.config import passthrough_variables
from stripe_fortnox_cli.local.environment import function_environment, outputs_file, stack_parameters
from stripe_fortnox_sync.core.settings import SETTINGS, Settings
from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES, enabled_types
from tests.operator_settings import OPERATOR_VARIABLES

API, AUTH = "http://127.0.0.1:1/3", "http://127.0.0.1:1/oauth-v1"
OUTPUTS = {s.output: f"local-{s.resource}" for s in SETTINGS if s.resource}


def test_every_parameter_has_a_value_and_the_defaults_are_the_declared_ones() -> None:
    parameters = stack_parameters(LocalConfig(), API, AUTH)
    assert set(parameters) == {s.parameter for s in SETTINGS if s.parameter}
    assert parameters["Stage"] == "local" and parameters["StripeMode"] == "test"
    assert (parameters["FortnoxApiUrl"], parameters["FortnoxAuthUrl"]) == (API, AUTH)
    assert parameters["EnabledEventTypes"] == ",".join(DEFAULT_TYPES)  # `()`: the route table's
    assert parameters["CheckoutModes"] == "payment,subscription,setup"
    assert parameters["PaymentIntentVatRate"] == "25" and parameters["BookkeepingAccounts"] == ""
    assert parameters["InvoiceAccounts"] == "" and parameters["SalesStartDate"] == ""
    assert (parameters["PayoutVoucherSeries"], parameters["StripeFeeVat"]) == ("A", "reverse_charge")


def test_the_functions_read_the_declared_defaults() -> None:
    config = LocalConfig()
    environment = function_environment(config, stack_parameters(config, API, AUTH), OUTPUTS)
    settings, defaults = Settings.from_env(environment), Settings()
    local = ("STAGE", "FORTNOX_API_URL", "FORTNOX_AUTH_URL", "ENABLED_EVENT_TYPES")
    for declared in SETTINGS:
        if declared.parameter and declared.env not in local:
            assert getattr(settings, declared.name) == getattr(defaults, declared.name), declared.env
        if declared.resource:
            assert environment[declared.env] == f"local-{declared.resource}"
    assert enabled_types(settings) == enabled_types(defaults)
    assert environment["STAGE"] == "local" and environment["POWERTOOLS_METRICS_DISABLED"] == "true"


def test_live_mode_and_the_environment_of_dev_set_parameters_and_variables_alike() -> None:
    config = LocalConfig(
        livemode=True, extra_env={"CUSTOMER_MATCH_RULE": "none", "FORTNOX_MAX_REQUESTS": "9"}
    )
    parameters = stack_parameters(config, API, AUTH)
    environment = function_environment(config, parameters, OUTPUTS)
    assert parameters["StripeMode"] == "live" and environment["STRIPE_LIVEMODE"] == "true"
    assert parameters["CustomerMatchRule"] == environment["CUSTOMER_MATCH_RULE"] == "none"
    assert environment["FORTNOX_MAX_REQUESTS"] == "9"
    written = outputs_file(OUTPUTS, parameters, "http://127.0.0.1:3000/webhook")
    assert written["CustomerMatchRule"] == "none" and written["EventQueueUrl"] == "local-EventQueue"


def test_a_missing_resource_is_a_clear_error() -> None:
    config = LocalConfig()
    outputs = {k: v for k, v in OUTPUTS.items() if k != "StateTableName"}
    with pytest.raises(LocalStackError, match="StateTable"):
        function_environment(config, stack_parameters(config, API, AUTH), outputs)


def test_dev_passes_the_operators_parameters_and_the_fortnox_tuning() -> None:
    assert set(passthrough_variables()) == OPERATOR_VARIABLES | {
        "MAX_RECEIVE_COUNT",
        "FORTNOX_TIMEOUT_SECONDS",
        "FORTNOX_MAX_REQUESTS",
        "FORTNOX_MAX_ATTEMPTS",
    }
