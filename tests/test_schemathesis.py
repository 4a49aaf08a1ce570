"""schemathesis against each vendor's OpenAPI document and the app, in-process, with every
check it has.

Every route, positive and negative data, every built-in check (none excluded), against a
strict mock whose only keys come from ``examples/contract.toml``, as the README runs it:
so a made-up key is refused (``ignored_auth``), every request valid by the document gets
a documented non-400 answer and every invalid one a 400 or the vendor's own code. The
number of cases run per vendor is printed at the end of the session.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.conftest import FROZEN

MAX_EXAMPLES = 150  # per route; about 20 s for all three vendors on 2 cores
CONTRACT_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "contract.toml"
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())  # every check schemathesis has: no subset, no exclusion
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance]
AUTH = {  # the keys of examples/contract.toml
    "dumpling": {"Authorization": "Bearer sk_contract"},
    "socialfetch": {"x-api-key": "sfk_contract"},
    "gateway": {"x-api-key": "gw_contract_key_0123456789"},
}
MODES: Counter[tuple[str, str]] = Counter()  # (vendor, positive|negative) -> cases
STATUSES: Counter[tuple[str, int]] = Counter()  # (vendor, status) -> cases

app = create_app(Settings.load({"now": FROZEN, "strict": True, "config": str(CONTRACT_CONFIG)},
                               env={}))


def test_every_check_runs():
    names = {check.__name__ for check in ALL_CHECKS}
    assert len(names) >= 14
    assert {"ignored_auth", "positive_data_acceptance", "negative_data_rejection",
            "unsupported_method", "missing_required_header"} <= names


def config(vendor: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 1,
        # the key as configured headers, as the README's -H gives it: schemathesis then knows
        # the credentials, never negates them, and probes without them (ignored_auth)
        "headers": AUTH[vendor],
        "suppress-health-check": ["too_slow"],  # a loaded CI machine is no failure of the mock
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    })


def contract(vendor: str) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi(f"/__mock/openapi/{vendor}.json", app,
                                          config=config(vendor))


class CaseCount:
    """Prints, at the end of the session, how many cases schemathesis ran per vendor."""

    @staticmethod
    def pytest_terminal_summary(terminalreporter) -> None:
        for vendor in sorted({vendor for vendor, _ in STATUSES}):
            modes = ", ".join(f"{n} {mode}" for (v, mode), n in sorted(MODES.items())
                              if v == vendor)
            statuses = ", ".join(f"{status}: {n}" for (v, status), n in sorted(STATUSES.items())
                                 if v == vendor)
            total = sum(n for (v, _), n in MODES.items() if v == vendor)
            terminalreporter.write_line(
                f"schemathesis: {vendor}: {total} cases ({modes}); statuses {statuses}")


@pytest.fixture(scope="module", autouse=True)
def report_case_count(pytestconfig: pytest.Config) -> None:
    if not pytestconfig.pluginmanager.has_plugin(CaseCount.__name__):
        pytestconfig.pluginmanager.register(CaseCount(), CaseCount.__name__)


def run(vendor: str, case) -> None:
    response = case.call_and_validate(checks=ALL_CHECKS)
    MODES[vendor, case.meta.generation.mode.value] += 1
    STATUSES[vendor, response.status_code] += 1


dumpling = contract("dumpling")
socialfetch = contract("socialfetch")
gateway = contract("gateway")


@dumpling.parametrize()
def test_dumpling(case) -> None:
    run("dumpling", case)


@socialfetch.parametrize()
def test_socialfetch(case) -> None:
    run("socialfetch", case)


@gateway.parametrize()
def test_gateway(case) -> None:
    run("gateway", case)


# Errors that only a scenario reaches (5xx, upstream 4xx), each checked against the document.
HANDLE = "stoolpresidente"
CONTRACTS = {"dumpling": dumpling, "socialfetch": socialfetch, "gateway": gateway}
SCENARIOS = [(vendor.name, route, name)
             for vendor in app.state.mock.vendors.values() for route in vendor.routes
             for name in (*vendor.error_scenarios, "not_found", "private")]


def known_good_request(vendor: str, route: str) -> dict:
    """Inputs that reach the scenario step: a real account, and one of its videos."""
    world = app.state.mock.world
    video_id = world.nth_newest(world.account(HANDLE), 1_795_435_200).id
    return {
        ("dumpling", "profile"): {"body": {"handle": HANDLE}},
        ("dumpling", "videos"): {"body": {"handle": HANDLE}},
        ("dumpling", "video"): {
            "body": {"url": f"https://www.tiktok.com/@{HANDLE}/video/{video_id}"}},
        ("socialfetch", "profile"): {"path_parameters": {"handle": HANDLE}},
        ("socialfetch", "videos"): {"path_parameters": {"handle": HANDLE}},
        ("gateway", "user"): {"path_parameters": {"userHandle": HANDLE}},
        ("gateway", "video"): {"path_parameters": {"userHandle": HANDLE, "videoId": video_id}},
    }[vendor, route]


@pytest.mark.parametrize(("vendor", "route", "scenario"), SCENARIOS,
                         ids=[f"{v}-{r.name}-{s}" for v, r, s in SCENARIOS])
def test_every_scenario_answers_as_documented(vendor, route, scenario):
    operation = CONTRACTS[vendor][route.path][route.method]
    case = operation.Case(headers={**AUTH[vendor], "x-mock-scenario": scenario},
                          **known_good_request(vendor, route.name))
    response = case.call()
    case.validate_response(response, checks=CONFORMANCE)
    described = {row["name"]: row["status"]
                 for row in app.state.mock.vendors[vendor].describe_errors(route)}
    assert response.status_code == described.get(scenario, response.status_code)
    if scenario not in described:  # not_found / private: the vendor's own rendering
        assert response.status_code in (200, 404)
