"""template.yaml as the tests read it: the functions' environment, evaluated for given parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def function_environment(template: Mapping[str, Any], function: str) -> dict[str, Any]:
    """The variables `function` gets: Globals' (SAM, untranslated), then its own."""
    globals_ = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return {**globals_, **own}


def evaluate(
    value: Any,
    template: Mapping[str, Any],
    parameters: Mapping[str, str] | None = None,
    resources: Mapping[str, str] | None = None,
) -> Any:
    """`value` as CloudFormation would resolve it: a literal; a Ref of a stack parameter, at
    `parameters` (else its Default); a Ref of a resource, from `resources` (else left as the Ref);
    Fn::If on a condition of Fn::Equals. Anything else fails the test."""
    parameters = parameters or {}
    if isinstance(value, str | int | float | bool):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and argument in template.get("Parameters", {}):
            return parameters.get(argument, str(template["Parameters"][argument].get("Default")))
        if function == "Ref":
            return (resources or {}).get(argument, {"Ref": argument})
        if function == "Fn::If":
            condition, when_true, when_false = argument
            chosen = when_true if _holds(condition, template, parameters) else when_false
            return evaluate(chosen, template, parameters, resources)
    raise AssertionError(f"cannot evaluate {value!r}")


def _holds(condition: str, template: Mapping[str, Any], parameters: Mapping[str, str]) -> bool:
    ((function, argument),) = template["Conditions"][condition].items()
    if function != "Fn::Equals":
        raise AssertionError(f"cannot evaluate the condition {condition}: {function}")
    left, right = (evaluate(side, template, parameters) for side in argument)
    return bool(left == right)
