"""Checks on the SAM template: linters, the translated CloudFormation, and `sam build`.

The in-process checks run the real SAM translator (``samtranslator``), so they look at what
CloudFormation would actually receive (generated roles, event source mapping, API stage), not at
the SAM shorthand.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
REGION = "eu-north-1"

# The only statements allowed to use Resource "*": AWS offers no resource-level permissions here.
WILDCARD_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Managed policies SAM attaches: basic logging, X-Ray (Tracing: Active; X-Ray has no resource ARNs).
# Not AWSLambdaSQSQueueExecutionRole: it grants receive and delete on every queue.
ALLOWED_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
}

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
    | {
        "FORTNOX_CREDENTIALS_SECRET_NAME",
        "FORTNOX_API_URL",
        "FORTNOX_AUTH_URL",
        "MAPPING_TABLE",
        "IDEMPOTENCY_TABLE",
        "STATE_TABLE",
        "DEAD_LETTER_QUEUE_URL",
        "CUSTOMER_MATCH_RULE",
        "ORGANISATION_NUMBER_METADATA_KEY",
        "VAT_NUMBER_METADATA_KEY",
        "SELLER_COUNTRY",
        "ENABLED_EVENT_TYPES",
        "CHECKOUT_MODES",
        "PAYMENT_FAILURE_COMMENTS",
        "INVOICE_ACCOUNTS",
        "INVOICE_CHECKOUT_PAYMENTS",
        "PAYMENT_INTENT_VAT_RATE",
        "STRIPE_API_KEY_SECRET_NAME",
        "PAYMENT_FAILURE_TOPIC_ARN",
        "ACTIVITY_TABLE",
    },
}
# Action -> logical ids of the resources it may touch, per function role. Exact: a new
# permission must be added here on purpose.
FUNCTION_PERMISSIONS = {
    "WebhookFunction": {
        "sqs:SendMessage": {"EventQueue"},
        "secretsmanager:GetSecretValue": {"StripeWebhookSecret"},
    },
    "SyncFunction": {
        **{
            f"dynamodb:{action}": {"MappingTable", "IdempotencyTable", "StateTable"}
            for action in ("GetItem", "UpdateItem", "DeleteItem")
        },
        # The activity log is written, never read or changed, by the function.
        "dynamodb:PutItem": {"MappingTable", "IdempotencyTable", "StateTable", "ActivityTable"},
        # Only the mapping table's index by Fortnox number is queried (shared links).
        "dynamodb:Query": {json.dumps({"Fn::Sub": "${MappingTable.Arn}/index/by_fortnox_number"})},
        "secretsmanager:GetSecretValue": {"FortnoxCredentialsSecret", "StripeApiKeySecret"},
        "sqs:SendMessage": {"DeadLetterQueue"},
        **{
            f"sqs:{action}": {"EventQueue"}
            for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility")
        },
        "sns:Publish": {"PaymentFailureTopic"},
    },
}
EXPECTED_OUTPUTS = {
    "WebhookUrl",
    "EventQueueUrl",
    "DeadLetterQueueUrl",
    "MappingTableName",
    "IdempotencyTableName",
    "StateTableName",
    "StripeWebhookSecretArn",
    "FortnoxCredentialsSecretArn",
    "WebhookFunctionName",
    "SyncFunctionName",
    "ActivityTableName",
    "PaymentFailureTopicArn",
    "StripeApiKeySecretArn",
    "AlarmTopicArn",
    "DashboardUrl",
}
SECRET_MARKERS = ("whsec_", "client_secret", "sk_live_", "sk_test_", "rk_live_", "rk_test_")


# --------------------------------------------------------------------------- helpers


def _tool(name: str) -> str:
    """The executable next to the running interpreter (the venv), else on PATH; fail if missing."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not installed next to {sys.executable} nor on PATH; "
            f"install the dev extras (pip install -e '.[dev]')."
        )
    return found


def _tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = REGION
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(args: list[str], env: dict[str, str] | None = None, timeout: int = 300) -> None:
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=env or _tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )


def _ref(value: Any) -> str | None:
    """Logical id behind {"Ref": X} or {"Fn::GetAtt": [X, ...]}, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return str(att[0] if isinstance(att, list) else att.split(".")[0])
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Stack:
    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.parameters: dict[str, dict[str, Any]] = template.get("Parameters", {})

    def props(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resources[logical_id].get("Properties", {})
        return properties

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_}

    def value(self, value: Any) -> Any:
        """A literal, or the Default of the parameter it Refs."""
        name = _ref(value)
        if name is not None and name in self.parameters:
            return self.parameters[name].get("Default")
        return value


@pytest.fixture(scope="module")
def stack() -> Iterator[_Stack]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    sam = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    # Like `sam build`/`sam package`, swap local code paths for S3 locations before translating.
    for logical_id, resource in sam["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://example-bucket/{logical_id}.zip"

    class _NoManagedPolicies:
        """The template names no managed policies, so no IAM look-up is needed."""

        def load(self) -> dict[str, str]:
            return {}

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)  # the translator needs a region for ARNs
        translated = transform(copy.deepcopy(sam), {}, _NoManagedPolicies(), passthrough_metadata=True)
    yield _Stack(translated)


@pytest.fixture(scope="module")
def sync_timeout(stack: _Stack) -> int:
    return int(stack.props("SyncFunction")["Timeout"])


# --------------------------------------------------------------------------- linters


def test_cfn_lint_is_clean() -> None:
    _run([_tool("cfn-lint"), str(TEMPLATE.name)])


def test_sam_validate_lint_is_clean() -> None:
    _run([_tool("sam"), "validate", "--lint", "--template", TEMPLATE.name, "--region", REGION])


def test_translated_template_passes_cfn_lint(stack: _Stack) -> None:
    from cfnlint.api import lint

    matches = lint(json.dumps(stack.template), regions=[REGION])
    assert not matches, "\n".join(str(m) for m in matches)


# --------------------------------------------------------------------------- queues


def test_event_queue_is_fifo_with_redrive_to_fifo_dlq(stack: _Stack, sync_timeout: int) -> None:
    queue = stack.props("EventQueue")
    dlq = stack.props("DeadLetterQueue")
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False  # the webhook dedupes by Stripe event id
    assert dlq["FifoQueue"] is True
    redrive = queue["RedrivePolicy"]
    assert _ref(redrive["deadLetterTargetArn"]) == "DeadLetterQueue"
    assert 2 <= int(stack.value(redrive["maxReceiveCount"])) <= 10
    # The sync parks an event that fails on its last receive, with the reason: it must know which.
    env = stack.props("SyncFunction")["Environment"]["Variables"]
    assert _ref(env["MAX_RECEIVE_COUNT"]) == _ref(redrive["maxReceiveCount"]) == "MaxReceiveCount"
    assert int(queue["VisibilityTimeout"]) >= 6 * sync_timeout
    assert int(queue["MaximumMessageSize"]) == 262144
    for props in (queue, dlq):
        assert int(props["MessageRetentionPeriod"]) == 1209600
        assert props["SqsManagedSseEnabled"] is True


def test_dlq_only_accepts_redrive_from_the_event_queue(stack: _Stack) -> None:
    allow = stack.props("DeadLetterQueue")["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source_arn,) = allow["sourceQueueArns"]
    # The ARN is built from the queue name (a GetAtt would be circular); they must agree.
    queue_name = stack.props("EventQueue")["QueueName"]["Fn::Sub"]
    assert source_arn["Fn::Sub"].endswith(":" + queue_name)
    assert queue_name.endswith(".fifo")


def test_sqs_event_source_mapping(stack: _Stack) -> None:
    (mapping,) = stack.of_type("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert _ref(props["EventSourceArn"]) == "EventQueue"
    assert _ref(props["FunctionName"]) == "SyncFunction"
    assert 1 <= int(props["BatchSize"]) <= 10  # FIFO maximum
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    concurrency = props["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= int(stack.value(concurrency)) <= 5
    parameter = stack.parameters.get(_ref(concurrency) or "")
    if parameter is not None:  # any allowed value must be valid too
        assert int(parameter["MinValue"]) >= 2
        assert int(parameter["MaxValue"]) <= 5


# --------------------------------------------------------------------------- functions


def test_functions_are_arm64_python313_with_the_layer(stack: _Stack) -> None:
    functions = stack.of_type("AWS::Lambda::Function")
    assert set(functions) == {"WebhookFunction", "SyncFunction"}
    (layer_id,) = stack.of_type("AWS::Lambda::LayerVersion")
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] == "python3.13", name
        assert [_ref(layer) for layer in props["Layers"]] == [layer_id], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name


def test_layer_is_built_for_python313_arm64(stack: _Stack) -> None:
    ((layer_id, layer),) = stack.of_type("AWS::Lambda::LayerVersion").items()
    assert layer["Metadata"]["BuildMethod"] == "python3.13", layer_id
    assert layer["Metadata"].get("BuildArchitecture") == "arm64", layer_id
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("function", sorted(FUNCTION_ENV))
def test_function_environment(stack: _Stack, function: str) -> None:
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
def test_every_setting_reaches_the_functions_as_declared(stack: _Stack, setting: Any) -> None:
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
        assert all(_ref(value) == setting.resource for value in setting_it.values()), setting_it
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


def test_secrets_exist_and_no_function_holds_a_secret_value(stack: _Stack) -> None:
    secrets = stack.of_type("AWS::SecretsManager::Secret")
    assert {"StripeWebhookSecret", "FortnoxCredentialsSecret", "StripeApiKeySecret"} <= set(secrets)
    assert not stack.props("StripeWebhookSecret")["SecretString"].startswith("whsec_")
    assert stack.props("StripeApiKeySecret")["SecretString"] == "not-configured"
    assert "read access to Customers" in " ".join(stack.props("StripeApiKeySecret")["Description"].split())
    fortnox = json.loads(stack.props("FortnoxCredentialsSecret")["SecretString"])
    assert set(fortnox) == {"client_id", "client_secret", "tenant_id"}
    assert not any(fortnox.values()), "the initial Fortnox secret must be empty placeholders"

    webhook_env = stack.props("WebhookFunction")["Environment"]["Variables"]
    sync_env = stack.props("SyncFunction")["Environment"]["Variables"]
    assert _ref(webhook_env["STRIPE_WEBHOOK_SECRET_NAME"]) == "StripeWebhookSecret"
    assert _ref(sync_env["FORTNOX_CREDENTIALS_SECRET_NAME"]) == "FortnoxCredentialsSecret"
    assert _ref(sync_env["STRIPE_API_KEY_SECRET_NAME"]) == "StripeApiKeySecret"
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        values = json.dumps(list(function["Properties"].get("Environment", {}).get("Variables", {}).values()))
        for marker in SECRET_MARKERS:
            assert marker not in values, f"{name} environment contains {marker!r}"


def _role_statements(stack: _Stack, role_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in stack.props(role_id).get("Policies", []):
        statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
    return statements


def test_no_iam_statement_has_wildcard_resources(stack: _Stack) -> None:
    roles = stack.of_type("AWS::IAM::Role")
    assert roles
    for role_id, role in roles.items():
        for statement in _role_statements(stack, role_id):
            actions = set(_as_list(statement["Action"]))
            assert not any(a == "*" or a.endswith(":*") for a in actions), (role_id, statement)
            if "*" in _as_list(statement.get("Resource", [])):
                assert actions <= WILDCARD_RESOURCE_ACTIONS, (role_id, statement)
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert isinstance(arn, str), (role_id, arn)
            assert arn.rsplit("/", 1)[-1] in ALLOWED_MANAGED_POLICIES, (role_id, arn)


@pytest.mark.parametrize("function", sorted(FUNCTION_PERMISSIONS))
def test_function_permissions_are_least_privilege(stack: _Stack, function: str) -> None:
    role_id = _ref(stack.props(function)["Role"])
    assert role_id is not None
    granted: dict[str, set[str]] = {}
    for statement in _role_statements(stack, role_id):
        assert statement["Effect"] == "Allow"
        targets = {_ref(resource) or json.dumps(resource) for resource in _as_list(statement["Resource"])}
        for action in _as_list(statement["Action"]):
            granted.setdefault(action, set()).update(targets)
    assert granted == FUNCTION_PERMISSIONS[function]


def test_every_function_logs_json_to_a_log_group_with_retention(stack: _Stack) -> None:
    log_groups = stack.of_type("AWS::Logs::LogGroup")
    used: set[str] = set()
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", name
        group_id = _ref(logging["LogGroup"])
        assert group_id in log_groups, f"{name} logs to {logging['LogGroup']!r}, not a group in the stack"
        assert int(stack.value(log_groups[group_id]["Properties"]["RetentionInDays"])) > 0, name
        assert group_id not in used, f"{name} shares a log group"
        used.add(group_id)


# --------------------------------------------------------------------------- API


def test_http_api_route_throttling_and_access_logs(stack: _Stack) -> None:
    (api,) = stack.of_type("AWS::ApiGatewayV2::Api").values()
    assert set(api["Properties"]["Body"]["paths"]) == {"/webhook"}
    assert set(api["Properties"]["Body"]["paths"]["/webhook"]) == {"post"}
    (stage,) = stack.of_type("AWS::ApiGatewayV2::Stage").values()
    throttling = stage["Properties"]["DefaultRouteSettings"]
    assert float(stack.value(throttling["ThrottlingRateLimit"])) > 0
    assert int(stack.value(throttling["ThrottlingBurstLimit"])) > 0
    group_id = _ref(stage["Properties"]["AccessLogSettings"]["DestinationArn"])
    log_group = stack.resources[group_id or ""]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert int(stack.value(log_group["Properties"]["RetentionInDays"])) > 0


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("table", "key", "ttl"),
    [
        ("MappingTable", "stripe_id", None),
        ("IdempotencyTable", "id", "expiration"),
        ("StateTable", "pk", "expires_at"),
    ],
)
def test_tables(stack: _Stack, table: str, key: str, ttl: str | None) -> None:
    props = stack.props(table)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
    indexed = [
        {"AttributeName": index["KeySchema"][0]["AttributeName"], "AttributeType": "S"}
        for index in props.get("GlobalSecondaryIndexes", [])
    ]
    assert props["AttributeDefinitions"] == [{"AttributeName": key, "AttributeType": "S"}, *indexed]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_mapping_table_survives_stack_deletion_and_replacement(stack: _Stack) -> None:
    table = stack.resources["MappingTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


# --------------------------------------------------------------------------- outputs


def test_outputs(stack: _Stack) -> None:
    outputs = stack.template["Outputs"]
    missing = EXPECTED_OUTPUTS - set(outputs)
    assert not missing, f"missing outputs {sorted(missing)}"
    url = outputs["WebhookUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${WebhookHttpApi}.execute-api.${AWS::Region}.amazonaws.com/webhook"


# --------------------------------------------------------------------------- issue 4 resources


ISSUE_4_EVENT_TYPES = (
    "customer.created,customer.updated,customer.deleted,customer.tax_id.created,"
    "customer.tax_id.updated,customer.tax_id.deleted,checkout.session.completed,"
    "customer.subscription.created,customer.subscription.deleted,invoice.payment_failed"
)


def test_parameters_for_triggers_notifications_and_alarms(stack: _Stack) -> None:
    params = stack.parameters
    # Their defaults are the declared ones: test_every_setting_reaches_the_functions_as_declared.
    assert params["EnabledEventTypes"]["Default"] == ISSUE_4_EVENT_TYPES
    assert params["PaymentFailureComments"]["AllowedValues"] == ["true", "false"]
    assert params["PaymentFailureEmail"]["Default"] == ""
    assert params["AlarmEmail"]["Default"] == ""
    assert int(params["OldestMessageAlarmSeconds"]["Default"]) == 900
    assert params["OldestMessageAlarmSeconds"]["Type"] == "Number"


def test_every_enabled_event_type_is_one_the_code_supports(stack: _Stack) -> None:
    from stripe_fortnox_sync.sync.routes import SUPPORTED_TYPES

    assert set(ISSUE_4_EVENT_TYPES.split(",")) <= set(SUPPORTED_TYPES)


def test_activity_table(stack: _Stack) -> None:
    props = stack.props("ActivityTable")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "customer_id", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "at", "AttributeType": "S"},
        {"AttributeName": "customer_id", "AttributeType": "S"},
    ]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


# --------------------------------------------------------------------------- issue 7: invoices


def _env_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    from stripe_fortnox_sync.core.settings import Settings

    for name in ("ENABLED_EVENT_TYPES", "INVOICE_CHECKOUT_PAYMENTS", "PAYMENT_INTENT_VAT_RATE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_enabled_event_types_default_leaves_the_invoice_events_opt_in(stack: _Stack) -> None:
    from stripe_fortnox_sync.sync.routes import DEFAULT_TYPES, OPT_IN_TYPES

    parameter = stack.parameters["EnabledEventTypes"]
    assert parameter["Default"] == ",".join(DEFAULT_TYPES)
    assert not set(OPT_IN_TYPES) & set(parameter["Default"].split(","))
    description = " ".join(parameter["Description"].split())
    assert "opt-in" in description
    for event_type in OPT_IN_TYPES:  # the operator learns which ones to add
        assert event_type in description, event_type


def test_enabled_event_types_pattern_accepts_exactly_what_the_code_accepts(
    stack: _Stack, monkeypatch: pytest.MonkeyPatch
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


def test_invoice_parameters_match_the_settings(stack: _Stack, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_stripe_key_secret_names_the_invoice_permissions(stack: _Stack) -> None:
    description = " ".join(stack.props("StripeApiKeySecret")["Description"].split())
    for permission in ("Invoices", "Checkout Sessions", "PaymentIntents", "Charges", "Refunds", "Balance"):
        assert permission in description, permission


# Reasons an invoice or refund event is parked for (besides Fortnox's own, `validation`).
INVOICE_PARK_REASONS = ("invoice_total", "invoice_mapping", "needs_stripe_key", "no_customer")


def test_dashboard_charts_invoice_problems_the_code_reports(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    (widget,) = [
        w for w in body["widgets"] if w["properties"].get("title", "").startswith("Invoices and refunds")
    ]
    charted = {line[1] for line in widget["properties"]["metrics"]}
    expected = {"RefundWaiting", "StripeApiFailure", "EventsParked_validation"} | {
        f"EventsParked_{reason}" for reason in INVOICE_PARK_REASONS
    }
    assert charted == expected
    package = REPO / "layers/shared/stripe_fortnox_sync"
    code = "\n".join(path.read_text(encoding="utf-8") for path in package.rglob("*.py"))
    # A renamed metric or reason would leave its line silently empty.
    for name in ("RefundWaiting", "StripeApiFailure"):
        assert f'name="{name}"' in code, name
    for reason in INVOICE_PARK_REASONS:
        assert re.search(rf'PermanentEventError\(\s*"{reason}"', code), reason
    assert 'return "validation"' in code


def test_dashboard_lists_recent_invoices_from_the_sync_log(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == "Recent invoices and refunds"]
    assert widget["type"] == "log"
    query = widget["properties"]["query"]
    assert query.startswith("SOURCE '<SyncFunctionLogGroup>'")
    assert "filter message = 'event processed'" in query
    (regex,) = re.findall(r"detail like /(.*?)/", query)
    # The details invoice_sync writes for sales and credits; a customer update never matches.
    details = ("invoice 12 (100.00 SEK): created, booked, paid", "credit invoice 13 of invoice 12 (-5 SEK)")
    for detail in details:
        assert re.search(regex, detail), detail
    assert not re.search(regex, "created; updated Name, Email")
    from stripe_fortnox_sync.sync import invoice_sync
    from stripe_fortnox_sync.sync import service as sync_service

    assert 'f"invoice {number} (' in Path(invoice_sync.__file__).read_text(encoding="utf-8")
    assert '"event processed"' in Path(sync_service.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("topic", "subscription", "parameter", "condition"),
    [
        (
            "PaymentFailureTopic",
            "PaymentFailureEmailSubscription",
            "PaymentFailureEmail",
            "HasPaymentFailureEmail",
        ),
        ("AlarmTopic", "AlarmEmailSubscription", "AlarmEmail", "HasAlarmEmail"),
    ],
)
def test_email_subscription_only_when_an_address_is_given(
    stack: _Stack, topic: str, subscription: str, parameter: str, condition: str
) -> None:
    assert stack.resources[topic]["Type"] == "AWS::SNS::Topic"
    resource = stack.resources[subscription]
    assert resource["Type"] == "AWS::SNS::Subscription"
    assert resource["Condition"] == condition
    assert stack.template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}
    props = resource["Properties"]
    assert props["Protocol"] == "email"
    assert _ref(props["Endpoint"]) == parameter
    assert _ref(props["TopicArn"]) == topic
    subscriptions = stack.of_type("AWS::SNS::Subscription")
    assert all(s.get("Condition") for s in subscriptions.values()), "every e-mail subscription is optional"


def test_topic_encryption(stack: _Stack) -> None:
    # Lambda may publish to a topic under the AWS managed key; CloudWatch alarms may not.
    assert stack.props("PaymentFailureTopic")["KmsMasterKeyId"] == "alias/aws/sns"
    assert "KmsMasterKeyId" not in stack.props("AlarmTopic")


# --------------------------------------------------------------------------- monitoring

EMF_NAMESPACE = "StripeFortnoxSync"
EMF_DIMENSIONS = [{"Name": "service", "Value": "stripe-fortnox-sync"}]
ALARMS = {
    "DeadLetterQueueAlarm",
    "OldestMessageAlarm",
    "Webhook5xxAlarm",
    "SyncErrorsAlarm",
    "FortnoxAuthAlarm",
}


def _alarm_metrics(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads: the single metric, or each MetricStat of a math alarm."""
    if "MetricName" in props:
        return [
            {
                "Namespace": props["Namespace"],
                "MetricName": props["MetricName"],
                "Dimensions": props["Dimensions"],
            }
        ]
    return [query["MetricStat"]["Metric"] for query in props["Metrics"] if "MetricStat" in query]


def test_emf_namespace_and_service_match_the_functions(stack: _Stack) -> None:
    """Alarms and charts name the namespace and dimension the functions' Powertools emit under."""
    for function in ("WebhookFunction", "SyncFunction"):
        variables = stack.props(function)["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == EMF_NAMESPACE, function
        assert [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}] == EMF_DIMENSIONS, (
            function
        )


def test_alarms_exist_and_notify_the_alarm_topic(stack: _Stack) -> None:
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == ALARMS
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert [_ref(a) for a in props["AlarmActions"]] == ["AlarmTopic"], name
        assert [_ref(a) for a in props["OKActions"]] == ["AlarmTopic"], name
        assert props["TreatMissingData"] in ("notBreaching", "ignore"), name
        assert props["AlarmDescription"].strip(), name
        for metric in _alarm_metrics(props):
            if metric["Namespace"] == EMF_NAMESPACE:
                assert metric["Dimensions"] == EMF_DIMENSIONS, name


def test_any_dead_letter_raises_the_alarm(stack: _Stack) -> None:
    props = stack.props("DeadLetterQueueAlarm")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
    ]
    assert props["Statistic"] == "Maximum"
    assert (props["ComparisonOperator"], float(props["Threshold"])) == ("GreaterThanThreshold", 0.0)
    assert int(props["EvaluationPeriods"]) == 1
    # An idle queue stops reporting: silence must not clear a parked event's alarm.
    assert props["TreatMissingData"] == "ignore"


def test_oldest_message_alarm_uses_the_threshold_parameter(stack: _Stack) -> None:
    props = stack.props("OldestMessageAlarm")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["EventQueue", "QueueName"]}}
    ]
    assert _ref(props["Threshold"]) == "OldestMessageAlarmSeconds"
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_webhook_5xx_alarm(stack: _Stack) -> None:
    props = stack.props("Webhook5xxAlarm")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/ApiGateway", "5xx", "Sum")
    ((dimension),) = props["Dimensions"]
    assert dimension["Name"] == "ApiId" and _ref(dimension["Value"]) == "WebhookHttpApi"
    assert float(props["Threshold"]) == 1.0
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(
    ("alarm", "metrics"),
    [
        ("SyncErrorsAlarm", {("AWS/Lambda", "Errors"), (EMF_NAMESPACE, "Customers_failed")}),
        ("FortnoxAuthAlarm", {(EMF_NAMESPACE, "TokenRefreshFailures"), (EMF_NAMESPACE, "EventsParked_auth")}),
    ],
)
def test_math_alarms_add_up_their_metrics(stack: _Stack, alarm: str, metrics: set[tuple[str, str]]) -> None:
    props = stack.props(alarm)
    watched = {(m["Namespace"], m["MetricName"]) for m in _alarm_metrics(props)}
    assert watched == metrics
    (result,) = [q for q in props["Metrics"] if q.get("ReturnData", True)]
    ids = [q["Id"] for q in props["Metrics"] if "MetricStat" in q]
    for metric_id in ids:  # missing data counts as zero, so one silent metric cannot hide the other
        assert f"FILL({metric_id}, 0)" in result["Expression"]
    assert float(props["Threshold"]) == 1.0
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for query in props["Metrics"]:
        if "MetricStat" in query and query["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda":
            (dimension,) = query["MetricStat"]["Metric"]["Dimensions"]
            assert _ref(dimension["Value"]) == "SyncFunction"


def _dashboard(stack: _Stack) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body with every ${...} replaced by a marker, and the names it substitutes."""
    body = stack.props("Dashboard")["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    names = set(re.findall(r"\$\{([^}!]+)\}", body))

    def marker(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in stack.parameters and stack.parameters[name]["Type"] == "Number":
            return str(stack.parameters[name]["Default"])
        return f"<{name}>"

    return json.loads(re.sub(r"\$\{([^}!]+)\}", marker, body)), names


def test_dashboard_body_is_json_and_refers_to_stack_resources(stack: _Stack) -> None:
    body, names = _dashboard(stack)
    for name in names:
        logical_id = name.split(".")[0]
        assert name.startswith("AWS::") or logical_id in stack.resources or logical_id in stack.parameters, (
            name
        )
    assert stack.props("Dashboard")["DashboardName"] == {"Ref": "AWS::StackName"}
    assert body["widgets"]


def test_dashboard_widgets_fit_the_grid_without_overlapping(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    taken: set[tuple[int, int]] = set()
    for widget in body["widgets"]:
        x, y, width, height = widget["x"], widget["y"], widget["width"], widget["height"]
        assert x >= 0 and x + width <= 24, widget.get("properties", {}).get("title")
        cells = {(cx, cy) for cx in range(x, x + width) for cy in range(y, y + height)}
        assert not cells & taken, widget.get("properties", {}).get("title")
        taken |= cells


def _dashboard_metrics(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric, dimension value) for every plain metric line of every widget."""
    found: set[tuple[str, str, str]] = set()
    for widget in body["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            names = [part for part in line if isinstance(part, str)]
            if len(names) >= 4:
                found.add((names[0], names[1], names[3]))
    return found


def test_dashboard_shows_what_the_issue_asks_for(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    metrics = _dashboard_metrics(body)
    api, queue, dlq = "<WebhookHttpApi>", "<EventQueue.QueueName>", "<DeadLetterQueue.QueueName>"
    service = EMF_DIMENSIONS[0]["Value"]
    expected = {
        # webhook traffic, 4xx and 5xx
        ("AWS/ApiGateway", "Count", api),
        ("AWS/ApiGateway", "4xx", api),
        ("AWS/ApiGateway", "5xx", api),
        # queue depth and age of the oldest message; DLQ depth
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq),
        # Fortnox latency and errors, token health
        (EMF_NAMESPACE, "FortnoxLatency", service),
        (EMF_NAMESPACE, "FortnoxErrors", service),
        (EMF_NAMESPACE, "Fortnox429", service),
        (EMF_NAMESPACE, "TokenRefreshFailures", service),
        # Lambda errors, throttles and duration, both functions
        *(
            ("AWS/Lambda", metric, f"<{function}>")
            for metric in ("Errors", "Throttles", "Duration")
            for function in ("SyncFunction", "WebhookFunction")
        ),
        # sync outcomes
        *(
            (EMF_NAMESPACE, f"Customers_{outcome}", service)
            for outcome in ("created", "updated", "unchanged", "deactivated", "ignored", "stale", "failed")
        ),
    }
    missing = expected - metrics
    assert not missing, sorted(missing)
    for namespace, _, dimension in metrics:
        if namespace == EMF_NAMESPACE:
            assert dimension == service
    searches = [
        part["expression"]
        for widget in body["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
        for part in line
        if isinstance(part, dict) and "expression" in part
    ]
    assert any("MetricName=EventsParked" in s for s in searches), "parked reasons are open-ended"
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert {a.removeprefix("<").removesuffix(".Arn>") for a in alarm_widget["properties"]["alarms"]} == ALARMS


def test_every_metric_the_issue_names_is_charted_and_emitted(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    charted = {metric for _, metric, _ in _dashboard_metrics(body)}
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("layers/shared/stripe_fortnox_sync", "functions")
        for path in (REPO / folder).rglob("*.py")
    )
    names = {
        "WebhookReceived",
        "EventsAccepted",
        "EventsIgnored",
        "EventsRejected",
        "WebhookErrors",
        "FortnoxCalls",
        "FortnoxLatency",
        "Fortnox429",
        "FortnoxErrors",
        "TokenRefreshes",
        "TokenRefreshFailures",
        "FieldAdjusted",
    }
    assert not names - charted, sorted(names - charted)
    # A renamed metric in the code would leave its chart (and any alarm on it) silently empty.
    assert all(f'"{name}"' in code for name in names), sorted(n for n in names if f'"{n}"' not in code)
    for prefix in ("Customers_", "EventsParked_", "FortnoxFailure_"):
        assert f'f"{prefix}' in code, prefix


def test_operations_guide_draws_the_dashboard_layout(stack: _Stack) -> None:
    body, _ = _dashboard(stack)
    guide = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    section = guide.split("\n## Dashboard", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", section, re.S)
    (layout,) = [block for block in blocks if "┌─ " in block]
    titles = [
        w["properties"]["title"]
        for w in sorted(body["widgets"], key=lambda w: (w["y"], w["x"]))
        if "title" in w.get("properties", {})
    ]
    positions = [layout.find(f"┌─ {title} ") for title in titles]
    assert all(p >= 0 for p in positions), [t for t, p in zip(titles, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "docs/operations.md shows the widgets in another order"


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


def test_dashboard_url_output(stack: _Stack) -> None:
    url = stack.template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.endswith("#dashboards:name=${Dashboard}")
    assert "${AWS::Region}.console.aws.amazon.com/cloudwatch" in url


# --------------------------------------------------------------------------- sam build


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.mark.slow
def test_sam_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    env = _tool_env()
    env["PYENV_VERSION"] = "3.13.0"  # let pyenv's python3.13 shim answer
    python313 = shutil.which("python3.13", path=env["PATH"])
    if python313 is None:
        pytest.skip("sam build for python3.13 needs a python3.13 on PATH; none found")
    probe = subprocess.run(
        [python313, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0 or probe.stdout.strip() != "True":
        pytest.skip(f"{python313} is not a working Python 3.13: {probe.stderr.strip() or probe.stdout}")

    # Build under pytest's cache dir so samconfig's `cached = true` can reuse the last build
    # (build.toml lives beside the build dir); lock it against concurrent runs.
    cache = getattr(request.config, "cache", None)
    workdir = cache.mkdir("sam-build") if cache is not None else tmp_path_factory.mktemp("sam-build")
    build_dir = workdir / "build"
    with _locked(workdir / ".lock"):
        _run(
            [
                _tool("sam"),
                "build",
                "--template",
                TEMPLATE.name,
                "--build-dir",
                str(build_dir),
                "--cache-dir",
                str(workdir / "cache"),
            ],
            env=env,
            timeout=900,
        )
        layer = build_dir / "SharedLayer" / "python"
        assert (layer / "stripe_fortnox_sync" / "__init__.py").is_file()
        assert (layer / "stripe").is_dir()
        assert (layer / "aws_lambda_powertools").is_dir()
        built = (build_dir / "template.yaml").read_text(encoding="utf-8")
        assert "CodeUri: WebhookFunction" in built
        assert "CodeUri: SyncFunction" in built
