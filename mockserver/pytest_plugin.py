"""The ``mockserver`` pytest fixture (a ``pytest11`` plugin, active once the package is installed).

A session-scoped fixture starts the mock once on a free loopback port (a real
uvicorn in a background thread); the function-scoped ``mockserver`` fixture
resets it before each test and hands the test its URLs and control helpers::

    def test_profile(mockserver):
        response = httpx.post(mockserver.vendor_url("dumpling") + "/api/v1/get-tiktok-profile",
                              headers={"Authorization": "Bearer sk_test"},
                              json={"handle": "stoolpresidente"})
        assert response.json()["user"]["nickname"] == "Dave Portnoy"

With ``--mockserver-coverage`` the session ends with the contract coverage of what its
tests met (``--mockserver-coverage-min PERCENT`` fails the session under it): the mock is
reset before each test, so each test's outcomes are added up before its reset.

Imports of the mock itself are deferred to the fixtures, so merely having the
package installed costs a pytest run nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mockserver.app import Mock
    from mockserver.clock import Clock
    from mockserver.server import ServerThread
    from mockserver.settings import Settings

#: Where each vendor's routes start on the mock, relative to its root URL.
VENDOR_BASE_PATHS = {"dumpling": "", "socialfetch": "", "gateway": "/dev/tiktok"}

#: pytest option / ini name -> (Settings field, help)
OPTIONS = {
    "mockserver-seed": ("seed", "seed of the mock's generated world (default 1)"),
    "mockserver-now": ("now", "freeze the mock's clock at this ISO-8601 instant or unix time"),
    "mockserver-credits": ("credits", "starting balance of a key never seen before"),
    "mockserver-rate-limit": ("rate_limit", "requests per key per minute, 0 for none"),
}


COVERAGE_HELP = "print which documented outcomes of each vendor the session's tests met"
COVERAGE_MIN_HELP = ("fail the session when a vendor the tests called met less than PERCENT "
                     "of its documented outcomes (implies --mockserver-coverage)")


class SessionCoverage:
    """The coverage of every test of the session, added up across the per-test resets."""

    def __init__(self, minimum: float | None) -> None:
        self.minimum = minimum
        self.report: dict[str, Any] | None = None
        self.failures: list[str] = []

    def add(self, mock: Mock) -> None:
        from mockserver.coverage import merge

        self.report = merge(self.report, mock.coverage.report())


COVERAGE = pytest.StashKey[SessionCoverage]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "tiktok mockserver")
    for name, (_, help_text) in OPTIONS.items():
        group.addoption(f"--{name}", dest=name.replace("-", "_"), default=None, help=help_text)
        parser.addini(name.replace("-", "_"), help_text, default="")
    group.addoption("--mockserver-coverage", action="store_true", default=False,
                    help=COVERAGE_HELP)
    group.addoption("--mockserver-coverage-min", default=None, metavar="PERCENT",
                    help=COVERAGE_MIN_HELP)
    parser.addini("mockserver_coverage", COVERAGE_HELP, type="bool", default=False)
    parser.addini("mockserver_coverage_min", COVERAGE_MIN_HELP, default="")


def _coverage_minimum(config: pytest.Config) -> float | None:
    option = config.getoption("mockserver_coverage_min")
    raw = option or config.getini("mockserver_coverage_min")
    if raw in (None, ""):
        return None
    label = "--mockserver-coverage-min" if option else "ini option mockserver_coverage_min"
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise pytest.UsageError(f"{label}: {raw!r} is not a percentage from 0 to 100")
    return value


def pytest_configure(config: pytest.Config) -> None:
    """A bad option value stops the run at once with a usage error naming it."""
    if any(config.getoption(name.replace("-", "_")) or config.getini(name.replace("-", "_"))
           for name in OPTIONS):
        settings_from_options(config)
    minimum = _coverage_minimum(config)
    if minimum is not None or config.getoption("mockserver_coverage") or config.getini(
            "mockserver_coverage"):
        config.stash[COVERAGE] = SessionCoverage(minimum)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """Once every test (and the session fixture's teardown) ran: judge the coverage, so a
    shortfall fails the session like a failed test."""
    result = yield
    tally = session.config.stash.get(COVERAGE, None)
    if tally is not None and tally.report is not None and tally.minimum is not None:
        from mockserver.coverage import below, in_scope

        tally.failures = below(tally.report, in_scope(tally.report), tally.minimum)
        session.testsfailed += bool(tally.failures)
    return result


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    tally = config.stash.get(COVERAGE, None)
    if tally is None:
        return
    terminalreporter.write_sep("-", "mockserver contract coverage")
    if tally.report is None:
        terminalreporter.write_line("no test used the mockserver fixture")
        return
    from mockserver.coverage import in_scope, summary

    for line in summary(tally.report, in_scope(tally.report)):
        terminalreporter.write_line(line)
    for line in tally.failures:
        terminalreporter.write_line(f"FAILED: {line}", red=True, bold=True)


def settings_from_options(config: pytest.Config) -> Settings:
    """Command-line option first, then the ini value, then the mock's own default."""
    from mockserver.settings import SettingError, Settings

    flags: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for name, (field, _) in OPTIONS.items():
        dest = name.replace("-", "_")
        option = config.getoption(dest)
        value = option or config.getini(dest)
        if value not in (None, ""):
            flags[field] = value
            labels[field] = f"--{name}" if option else f"ini option {dest}"
    try:
        return Settings.load(flags, env={}, flag_labels=labels)
    except SettingError as error:
        raise pytest.UsageError(str(error)) from None


class MockServer:
    """What a test sees: URLs, the app and helpers acting on the mock in-process."""

    def __init__(self, server: ServerThread, coverage: SessionCoverage | None = None) -> None:
        self._server = server
        self._coverage = coverage

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def app(self) -> Starlette:
        return self._server.app

    @property
    def mock(self) -> Mock:
        return self.app.state.mock

    @property
    def clock(self) -> Clock:
        return self.mock.clock

    def vendor_url(self, vendor: str) -> str:
        """The base URL a client of ``vendor`` swaps in for the real host."""
        if vendor not in VENDOR_BASE_PATHS:
            raise ValueError(f"unknown vendor {vendor!r}; one of {sorted(VENDOR_BASE_PATHS)}")
        return self.url + VENDOR_BASE_PATHS[vendor]

    def reset(self) -> None:
        if self._coverage is not None:
            self._coverage.add(self.mock)
        self.mock.reset()

    def arm(self, **scenario: Any) -> dict[str, Any]:
        """Arm a scenario; the fields are those of ``POST /__mock/scenarios``."""
        return self.mock.scenarios.arm(scenario)

    def set_key(self, key: str, *, balance: int | None = None, status: str | None = None,
                rate_limit: int | None = None) -> dict[str, Any]:
        changes = {"balance": balance, "status": status, "rate_limit": rate_limit}
        return self.mock.keys.update(key, {k: v for k, v in changes.items() if v is not None})

    def journal(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries, newest first, filtered by vendor, route, status or key."""
        return self.mock.journal.entries({k: str(v) for k, v in filters.items()}, limit)


@pytest.fixture(scope="session")
def mockserver_settings(pytestconfig: pytest.Config) -> Settings:
    """The settings the session's mock starts with; override this fixture to change them."""
    return settings_from_options(pytestconfig)


@pytest.fixture(scope="session")
def mockserver_session(mockserver_settings: Settings, pytestconfig: pytest.Config
                       ) -> Iterator[MockServer]:
    """The mock, running for the whole session on a free loopback port."""
    from mockserver.app import START_ERRORS, create_app, start_error
    from mockserver.server import ServerThread

    coverage = pytestconfig.stash.get(COVERAGE, None)
    try:
        app = create_app(mockserver_settings)
    except START_ERRORS as error:  # one line, as the CLI says it, not a traceback a test
        pytest.fail(f"mockserver: {start_error(mockserver_settings, error)}", pytrace=False)
    with ServerThread(app) as server:
        yield MockServer(server, coverage)
        if coverage is not None:
            coverage.add(server.app.state.mock)


@pytest.fixture
def mockserver(mockserver_session: MockServer) -> MockServer:
    """The session's mock, reset to its starting state for this test."""
    mockserver_session.reset()
    return mockserver_session
