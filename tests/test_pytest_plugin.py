"""The ``mockserver`` fixture, run the way a user's project runs it: through the entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

CLIENT_TESTS = '''
import httpx
import pytest

PROFILE = "/api/v1/get-tiktok-profile"


def profile(mockserver, key="sk_test"):
    return httpx.post(mockserver.vendor_url("dumpling") + PROFILE,
                      headers={"Authorization": f"Bearer {key}"},
                      json={"handle": "stoolpresidente"})


def test_a_profile_then_an_armed_failure_then_success_again(mockserver):
    first = profile(mockserver)
    assert first.status_code == 200
    assert first.json()["user"]["nickname"] == "Dave Portnoy"
    assert first.headers["x-ratelimit-limit"] == "7"
    entry = mockserver.arm(scenario="upstream_rate_limited", vendor="dumpling", times=1)
    assert entry["remaining"] == 1
    failed = profile(mockserver)
    assert failed.status_code == 503
    assert failed.json() == {
        "error": "Rate limit exceeded with the profile service. Please try again later."}
    assert profile(mockserver).status_code == 200
    statuses = [e["status"] for e in mockserver.journal(vendor="dumpling")]
    assert statuses == [200, 503, 200]
    assert mockserver.journal(status=503)[0]["scenario"] == "upstream_rate_limited"


def test_each_test_starts_from_a_reset_mock(mockserver):
    assert mockserver.journal() == []
    assert mockserver.app.state.mock.scenarios.armed() == []
    assert mockserver.set_key("sk_test", balance=1)["balance"] == 1
    assert profile(mockserver).status_code == 403


def test_settings_come_from_options_and_ini(mockserver):
    settings = mockserver.app.state.mock.settings
    assert (settings.seed, settings.credits, settings.rate_limit) == (7, 5, 7)
    assert mockserver.clock.frozen
    assert mockserver.clock.describe()["now"] == "2026-01-02T00:00:00.000Z"


def test_vendor_urls(mockserver):
    assert mockserver.url.startswith("http://127.0.0.1:")
    assert mockserver.vendor_url("socialfetch") == mockserver.url
    assert mockserver.vendor_url("gateway") == mockserver.url + "/dev/tiktok"
    with pytest.raises(ValueError):
        mockserver.vendor_url("twitter")
'''


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("mockserver") == "mockserver.pytest_plugin"


def test_a_client_test_suite_uses_the_fixture(pytester):
    pytester.makeini("[pytest]\nmockserver_seed = 3\nmockserver_rate_limit = 7\n"
                     "mockserver_credits = 5\n")
    pytester.makepyfile(test_client=CLIENT_TESTS)
    result = pytester.runpytest("--mockserver-seed=7", "--mockserver-now=2026-01-02T00:00:00Z",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_options_are_listed_in_help(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--mockserver-seed=MOCKSERVER_SEED*",
                                 "*mockserver_rate_limit*"])


def test_a_bad_option_or_ini_value_is_a_usage_error_naming_it(pytester):
    pytester.makepyfile(test_client="def test_x(mockserver):\n    pass\n")
    result = pytester.runpytest("--mockserver-seed=abc", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockserver-seed: 'abc' is not a whole number >= 0*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    pytester.makeini("[pytest]\nmockserver_credits = lots\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option mockserver_credits: 'lots' is not*"])



@pytest.mark.parametrize("store", ["{folder}", "redis://127.0.0.1:1/0"])
def test_a_store_the_mock_cannot_open_fails_its_tests_in_one_line(pytester, store):
    """A project that overrides ``mockserver_settings`` with a store it cannot open (a
    folder, a Redis not there) hears why in the CLI's words, not a traceback per test."""
    folder = pytester.mkdir("not_a_file")
    pytester.makeconftest(
        "import pytest\nfrom mockserver.settings import Settings\n\n"
        "@pytest.fixture(scope='session')\ndef mockserver_settings():\n"
        f"    return Settings(store={store.format(folder=folder)!r})\n")
    pytester.makepyfile(test_client="def test_x(mockserver):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    expected = ("cannot open * as an SQLite file" if store == "{folder}"
                else "cannot reach Redis at redis://127.0.0.1:1/0*")
    result.stdout.fnmatch_lines([f"*mockserver: --store: {expected}*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


COVERED_TESTS = '''
import httpx

PROFILE = "/api/v1/get-tiktok-profile"


def profile(mockserver, **headers):
    return httpx.post(mockserver.vendor_url("dumpling") + PROFILE,
                      headers={"Authorization": "Bearer sk_test", **headers},
                      json={"handle": "stoolpresidente"})


def test_success(mockserver):
    assert profile(mockserver).status_code == 200


def test_retry_after_a_503(mockserver):
    mockserver.arm(scenario="upstream_rate_limited", vendor="dumpling", times=1)
    assert profile(mockserver).status_code == 503
    assert profile(mockserver).status_code == 200


def test_a_bad_key(mockserver):
    assert profile(mockserver, Authorization="Basic nope").status_code == 401
'''


def test_coverage_adds_up_every_test_and_names_what_was_never_met(pytester):
    pytester.makepyfile(test_client=COVERED_TESTS)
    result = pytester.runpytest("--mockserver-coverage", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    out = result.stdout.str()
    # the three tests met 200, 503 and 401 on the profile route, across the per-test resets
    summary = next(line for line in out.splitlines() if line.startswith("DumplingAI: "))
    assert summary.startswith("DumplingAI: 3 of 75 documented outcomes met (4.0%); never met: ")
    assert "429 rate limited, " in summary and "403 insufficient credits, " in summary
    assert "private account (profile, videos), " in summary  # the routes where it exists
    assert summary.endswith(", ... and 18 more")
    assert "Social Fetch" not in out  # the tests never called it


def test_coverage_under_the_minimum_fails_the_session(pytester):
    pytester.makepyfile(test_client=COVERED_TESTS)
    result = pytester.runpytest("--mockserver-coverage-min=50", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*FAILED: DumplingAI: 4.0% of documented outcomes met, under the minimum of 50%"])
    pytester.makeini("[pytest]\nmockserver_coverage_min = 4\n")
    assert pytester.runpytest("-p", "no:cacheprovider").ret == pytest.ExitCode.OK
    result = pytester.runpytest("--mockserver-coverage-min=lots", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockserver-coverage-min: 'lots' is not a percentage*"])
