"""A stack's settings as the operator commands see them: every declared setting, same precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stripe_fortnox_cli.ops.errors import OperationError
from stripe_fortnox_cli.ops.stack import Stack, open_outputs_file, settings_for
from stripe_fortnox_sync.core.settings import SETTINGS, MatchRule, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for declared in SETTINGS:
        monkeypatch.delenv(declared.env, raising=False)


def test_the_environment_is_the_base_then_parameters_then_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELLER_COUNTRY", "NO")
    monkeypatch.setenv("FORTNOX_MAX_REQUESTS", "100")
    monkeypatch.setenv("QUEUE_URL", "https://sqs.example/env.fifo")
    settings = settings_for(
        {"EventQueueUrl": "https://sqs.example/stack.fifo", "MappingTableName": "mapping"},
        {
            "StripeMode": "live",
            "SellerCountry": "dk",
            "CustomerMatchRule": "organisation_number",
            "EnabledEventTypes": "customer.created, customer.updated",
            "FortnoxApiUrl": "https://fortnox.example/3/",
            "OrganisationNumberMetadataKey": "",  # empty: not set, the default stays
        },
    )
    assert settings.fortnox_max_requests == 100  # only in the environment
    assert settings.seller_country == "DK"  # the parameter wins over the environment
    assert settings.queue_url == "https://sqs.example/stack.fifo"  # so does the output
    assert settings.mapping_table == "mapping"
    assert settings.stripe_livemode is True
    assert settings.match_rule is MatchRule.ORGANISATION_NUMBER
    assert settings.event_types == ("customer.created", "customer.updated")
    assert settings.fortnox_api_url == "https://fortnox.example/3"
    assert settings.organisation_number_metadata_key == "organisation_number"


def test_every_declared_parameter_and_output_reaches_the_settings() -> None:
    outputs = {s.output: f"value-of-{s.output}" for s in SETTINGS if s.output}
    settings = settings_for(outputs, {})
    for declared in SETTINGS:
        if declared.output:
            assert getattr(settings, declared.name) == f"value-of-{declared.output}"
    # Each parameter, given as the template's default would render it, parses to that value.
    defaults = Settings()
    parameters = {
        s.parameter: s.render(getattr(defaults, s.name))
        for s in SETTINGS
        if s.parameter and s.name != "stripe_livemode"
    }
    assert settings_for({}, {**parameters, "StripeMode": "test"}) == defaults


def test_a_bad_parameter_is_a_configuration_error() -> None:
    with pytest.raises(OperationError, match="CustomerMatchRule") as raised:
        settings_for({}, {"CustomerMatchRule": "phone"})
    assert raised.value.exit_code == 2


def test_outputs_files_in_each_shape(tmp_path: Path) -> None:
    described = tmp_path / "described.json"
    described.write_text(
        json.dumps(
            {
                "Stacks": [
                    {
                        "StackName": "sync-prod",
                        "Outputs": [{"OutputKey": "EventQueueUrl", "OutputValue": "q"}],
                        "Parameters": [{"ParameterKey": "StripeMode", "ParameterValue": "live"}],
                    }
                ]
            }
        )
    )
    stack = open_outputs_file(described, None)
    assert (stack.name, stack.identity, stack.mode) == ("sync-prod", "q", "live")
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"EventQueueUrl": "q2", "StripeMode": "test"}))
    assert isinstance(open_outputs_file(flat, None), Stack)
    assert open_outputs_file(flat, None).settings.queue_url == "q2"
    (tmp_path / "bad.json").write_text("3")
    with pytest.raises(OperationError, match="holds no stack outputs"):
        open_outputs_file(tmp_path / "bad.json", None)
