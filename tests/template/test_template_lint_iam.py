"""The template passes cfn-lint and `sam validate --lint`, builds with `sam build`, and grants each
function only what it needs: IAM, secrets."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.template.translated import REGION, TEMPLATE, Stack, as_list, ref, run, tool, tool_env

# The only statements allowed to use Resource "*": AWS offers no resource-level permissions here.
WILDCARD_RESOURCE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# Managed policies SAM attaches: basic logging, X-Ray (Tracing: Active; X-Ray has no resource ARNs).
# Not AWSLambdaSQSQueueExecutionRole: it grants receive and delete on every queue.
ALLOWED_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
}


# Action -> logical ids of the resources it may touch, per function role. Exact: a new
# permission must be added here on purpose.
# Each tenant's secrets (docs/tenants.md), under the stack's name.
TENANT_SECRETS = json.dumps(
    {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        "${AWS::StackName}/tenants/*"
    }
)
FUNCTION_PERMISSIONS = {
    "WebhookFunction": {
        "sqs:SendMessage": {"EventQueue"},
        "secretsmanager:GetSecretValue": {
            "StripeWebhookSecret",
            "StripeConnectWebhookSecret",
            TENANT_SECRETS,
        },
        # The tenant registry: read by key, never scanned.
        "dynamodb:GetItem": {"StateTable"},
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
        "secretsmanager:GetSecretValue": {"FortnoxCredentialsSecret", "StripeApiKeySecret", TENANT_SECRETS},
        "sqs:SendMessage": {"DeadLetterQueue"},
        **{
            # Its two event source mappings: the event queue and the bulk queue.
            f"sqs:{action}": {"EventQueue", "BulkQueue"}
            for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility")
        },
        "sns:Publish": {"PaymentFailureTopic"},
    },
}
SECRET_MARKERS = ("whsec_", "client_secret", "sk_live_", "sk_test_", "rk_live_", "rk_test_")


def test_cfn_lint_is_clean() -> None:
    run([tool("cfn-lint"), str(TEMPLATE.name)])


def test_sam_validate_lint_is_clean() -> None:
    run([tool("sam"), "validate", "--lint", "--template", TEMPLATE.name, "--region", REGION])


def test_translated_template_passes_cfn_lint(stack: Stack) -> None:
    from cfnlint.api import lint

    matches = lint(json.dumps(stack.template), regions=[REGION])
    assert not matches, "\n".join(str(m) for m in matches)


def test_secrets_exist_and_no_function_holds_a_secret_value(stack: Stack) -> None:
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
    assert ref(webhook_env["STRIPE_WEBHOOK_SECRET_NAME"]) == "StripeWebhookSecret"
    assert ref(sync_env["FORTNOX_CREDENTIALS_SECRET_NAME"]) == "FortnoxCredentialsSecret"
    assert ref(sync_env["STRIPE_API_KEY_SECRET_NAME"]) == "StripeApiKeySecret"
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        values = json.dumps(list(function["Properties"].get("Environment", {}).get("Variables", {}).values()))
        for marker in SECRET_MARKERS:
            assert marker not in values, f"{name} environment contains {marker!r}"


def _role_statements(stack: Stack, role_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in stack.props(role_id).get("Policies", []):
        statements.extend(as_list(policy["PolicyDocument"]["Statement"]))
    return statements


def test_no_iam_statement_has_wildcard_resources(stack: Stack) -> None:
    roles = stack.of_type("AWS::IAM::Role")
    assert roles
    for role_id, role in roles.items():
        for statement in _role_statements(stack, role_id):
            actions = set(as_list(statement["Action"]))
            assert not any(a == "*" or a.endswith(":*") for a in actions), (role_id, statement)
            if "*" in as_list(statement.get("Resource", [])):
                assert actions <= WILDCARD_RESOURCE_ACTIONS, (role_id, statement)
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert isinstance(arn, str), (role_id, arn)
            assert arn.rsplit("/", 1)[-1] in ALLOWED_MANAGED_POLICIES, (role_id, arn)


@pytest.mark.parametrize("function", sorted(FUNCTION_PERMISSIONS))
def test_function_permissions_are_least_privilege(stack: Stack, function: str) -> None:
    role_id = ref(stack.props(function)["Role"])
    assert role_id is not None
    granted: dict[str, set[str]] = {}
    for statement in _role_statements(stack, role_id):
        assert statement["Effect"] == "Allow"
        targets = {ref(resource) or json.dumps(resource) for resource in as_list(statement["Resource"])}
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(targets)
    assert granted == FUNCTION_PERMISSIONS[function]


def test_stripe_key_secret_names_the_invoice_permissions(stack: Stack) -> None:
    description = " ".join(stack.props("StripeApiKeySecret")["Description"].split())
    for permission in ("Invoices", "Checkout Sessions", "PaymentIntents", "Charges", "Refunds", "Balance"):
        assert permission in description, permission


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
    env = tool_env()
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
        run(
            [
                tool("sam"),
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
