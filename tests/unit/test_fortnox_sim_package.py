"""The simulator package as a whole: what no single resource's tests can see."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import fortnox_sim
from fortnox_sim import ERROR_CODES
from fortnox_sim.api import route_template
from fortnox_sim.knobs import Knobs
from fortnox_sim.replies import ApiError, Response
from fortnox_sim.resource import Call, Resource

PACKAGE = Path(fortnox_sim.__file__).parent


def _raised_code_names() -> set[str]:
    pattern = re.compile(r'(?:_bad|error_response)\(\s*(?:\d+,\s*)?"(\w+)"')
    return {name for module in PACKAGE.glob("*.py") for name in pattern.findall(module.read_text("utf-8"))}


def test_every_error_code_name_in_the_package_is_known() -> None:
    # An unknown name would turn a 400 into a KeyError (a 500) inside the simulator.
    names = _raised_code_names()
    assert len(names) > 30
    assert names <= set(ERROR_CODES)


def test_every_error_code_is_raised_somewhere_and_no_two_share_a_number() -> None:
    assert _raised_code_names() == set(ERROR_CODES)
    assert len(set(ERROR_CODES.values())) == len(ERROR_CODES)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/3/financialyears", "/3/financialyears"),
        ("/3/financialyears/3", "/3/financialyears/{n}"),
        ("/3/settings/lockedperiod", "/3/settings/lockedperiod"),
        ("/3/voucherseries/A", "/3/voucherseries/{n}"),
        ("/3/vouchers", "/3/vouchers"),
        ("/3/vouchers/sublist", "/3/vouchers/sublist"),
        ("/3/vouchers/sublist/A", "/3/vouchers/sublist/{series}"),
        ("/3/vouchers/A/12", "/3/vouchers/{series}/{n}"),
        ("/3/inbox", "/3/inbox"),
        ("/3/voucherfileconnections/abc", "/3/voucherfileconnections/{n}"),
        ("/3/settings/company", "/3/{unknown}"),
    ],
)
def test_the_bookkeeping_paths_are_in_the_resource_table(path: str, template: str) -> None:
    assert route_template(path) == template


def test_only_the_standard_library_and_the_country_codes_are_imported() -> None:
    outside: list[str] = []
    for module in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
                if names[0].endswith(".iso_codes") and [a.name for a in node.names] == ["COUNTRY_CODES"]:
                    continue
            else:
                continue
            third_party = [n for n in names if n.split(".")[0] not in sys.stdlib_module_names]
            outside += [f"{module.name}: {name}" for name in third_party]
    assert outside == []


def test_a_resource_routes_any_path_pattern_and_prefers_literal_segments() -> None:
    # What a vouchers module needs: /3/vouchers/{series}/{n} next to /3/vouchers/sublist/{series}.
    def one(call: Call) -> Response:
        return Response(200, call.params)

    def sublist(call: Call) -> Response:
        return Response(200, ("sublist", *call.params))

    vouchers = Resource("vouchers", {("{series}/{n}", "GET"): one, ("sublist/{series}", "GET"): sublist})
    call = Call({}, None, b"", "http://sim/3", Knobs(), 0.0, "tenant", {})
    assert vouchers.answer(call, "GET", "/3/vouchers/A/12").body == ("A", "12")
    assert vouchers.answer(call, "GET", "/3/vouchers/sublist/B%2F1").body == ("sublist", "B/1")
    assert vouchers.template(["", "3", "vouchers", "A", "12"]) == "/3/vouchers/{series}/{n}"
    with pytest.raises(ApiError) as refused:
        vouchers.answer(call, "PUT", "/3/vouchers/A/12")
    assert refused.value.status == 405
    assert refused.value.message == "PUT is not allowed on /3/vouchers/{series}/{n}"
    with pytest.raises(ApiError) as unknown:
        vouchers.answer(call, "GET", "/3/vouchers/A")
    assert unknown.value.status == 404
