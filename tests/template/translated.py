"""template.yaml as the template tests read it: translated by the real SAM translator
(``samtranslator``), so they look at what CloudFormation would actually receive (generated roles,
event source mapping, API stage), not at the SAM shorthand; and the tools they run on it."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
REGION = "eu-north-1"


def tool(name: str) -> str:
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


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = REGION
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run(args: list[str], env: dict[str, str] | None = None, timeout: int = 300) -> None:
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=env or tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )


def ref(value: Any) -> str | None:
    """Logical id behind {"Ref": X} or {"Fn::GetAtt": [X, ...]}, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return str(att[0] if isinstance(att, list) else att.split(".")[0])
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Stack:
    """The translated template: its resources and parameters."""

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
        name = ref(value)
        if name is not None and name in self.parameters:
            return self.parameters[name].get("Default")
        return value


def translate() -> Stack:
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
    return Stack(translated)
