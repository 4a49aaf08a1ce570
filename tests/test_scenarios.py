"""The scenario catalogue and its three ways in: the X-Mock-Scenario header (every catalogue
entry is walked and triggered), run-time arming (validated, listed, disarmed), and fixtures
(an account or a key that says how it fails)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import KEYS, VENDORS, arm, call, error_message, first_video_id

PLACEHOLDER = re.compile(r"\[[A-Za-z][A-Za-z ]*\]")


@pytest.fixture
def http(live: ServerThread) -> Iterator[httpx.Client]:
    live.app.state.mock.reset()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client


def catalogue(http: httpx.Client) -> list[dict[str, Any]]:
    response = http.get("/__mock/scenarios")
    assert response.status_code == 200
    return response.json()["catalogue"]


def assert_matches(expected: Any, actual: Any) -> None:
    """``actual`` equals the catalogue's ``expected``, where a ``[placeholder]`` in a string
    stands for any text (an id that differs per request)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and expected.keys() == actual.keys(), (expected, actual)
        for name, value in expected.items():
            assert_matches(value, actual[name])
    elif isinstance(expected, str) and PLACEHOLDER.search(expected):
        pattern = ".+".join(re.escape(part) for part in PLACEHOLDER.split(expected))
        assert isinstance(actual, str) and re.fullmatch(pattern, actual), (expected, actual)
    else:
        assert expected == actual


def test_assert_matches_is_strict_outside_placeholders():
    assert_matches({"a": "req_[requestId]"}, {"a": "req_123"})
    for wrong in ({"a": "res_123"}, {"a": "req_"}, {"a": "req_1", "b": 1}, {}):
        with pytest.raises(AssertionError):
            assert_matches({"a": "req_[requestId]"}, wrong)


# the catalogue --------------------------------------------------------------------------

ROUTES = {"dumpling": ("profile", "videos", "video"), "socialfetch": ("videos", "profile"),
          "gateway": ("user", "video")}
ERROR_NAMES = {
    "dumpling": {"service_rejected_input", "service_reported_issue", "unauthorized",
                 "insufficient_credits", "service_not_configured", "service_auth_failed",
                 "internal_error", "upstream_unavailable", "upstream_invalid_data",
                 "upstream_fetch_error", "upstream_rate_limited"},
    "socialfetch": {"bad_request", "unauthorized", "insufficient_credits", "internal_error",
                    "lookup_failed", "temporarily_unavailable"},
    "gateway": {"forbidden", "missing_auth_token", "throttled", "quota_exceeded",
                "backend_error", "timeout"},
}
OTHER_NAMES = {"not_found", "private", "hang", "drop_connection", "truncated_body",
               "non_json_body", "empty_body"}
NOT_FOUND_PROFILE = {"error": "TikTok profile not found for handle: stoolpresidente"}
# How each vendor renders the world scenarios on each route: status and a check of the body.
WORLD: dict[tuple[str, str, str], tuple[int, Callable[[Any], bool]]] = {
    ("dumpling", "profile", "not_found"): (404, lambda b: b == NOT_FOUND_PROFILE),
    ("dumpling", "profile", "private"): (200, lambda b: b["user"]["privateAccount"] is True),
    ("dumpling", "videos", "not_found"): (404, lambda b: b == NOT_FOUND_PROFILE),
    ("dumpling", "videos", "private"): (200, lambda b: b["aweme_list"] == []),
    ("dumpling", "video", "not_found"): (
        404, lambda b: b["error"].startswith("TikTok video not found for URL: https://")),
    ("dumpling", "video", "private"): (404, lambda b: "video not found" in b["error"]),
    ("socialfetch", "profile", "not_found"): (
        200, lambda b: b["data"] == {"lookupStatus": "not_found", "profile": None,
                                     "metrics": None}),
    ("socialfetch", "profile", "private"): (
        200, lambda b: b["data"]["lookupStatus"] == "private"),
    ("socialfetch", "videos", "not_found"): (200, lambda b: b["data"]["videos"] == []),
    ("socialfetch", "videos", "private"): (200, lambda b: b["data"]["videos"] == []),
    ("gateway", "user", "not_found"): (404, lambda b: b == {"message": "User not found"}),
    ("gateway", "user", "private"): (200, lambda b: b["user"]["isPrivateAccount"] is True),
    ("gateway", "video", "not_found"): (404, lambda b: b == {"message": "User not found"}),
    ("gateway", "video", "private"): (404, lambda b: b == {"message": "Video not found"}),
}


def test_the_catalogue_lists_every_scenario_of_every_route(http):
    rows = catalogue(http)
    by_route: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        by_route.setdefault((row["vendor"], row["route"]), set()).add(row["name"])
        assert row["kind"] in ("error", "world", "transport")
        if row["kind"] == "error":
            assert isinstance(row["status"], int) and row["body"] and "headers" in row
        else:
            assert row["description"]
    assert by_route == {(vendor, route): ERROR_NAMES[vendor] | OTHER_NAMES
                        for vendor, routes in ROUTES.items() for route in routes}
    assert len(rows) == sum(len(by_route[pair]) for pair in by_route)  # no duplicates


def trigger(http: httpx.Client, row: dict[str, Any], video_id: str) -> httpx.Response:
    return call(http, row["vendor"], row["route"], video_id=video_id,
                headers={"X-Mock-Scenario": row["name"]}, timeout=0.3)


def test_every_catalogue_entry_answers_as_the_catalogue_says(http):
    video_id = first_video_id(http)
    checked = 0
    for row in catalogue(http):
        what = f"{row['vendor']} {row['route']} {row['name']}"
        if row["name"] == "hang":
            with pytest.raises(httpx.TimeoutException):
                trigger(http, row, video_id)
        elif row["name"] == "drop_connection":
            with pytest.raises(httpx.TransportError):
                trigger(http, row, video_id)
        elif row["kind"] == "transport":
            response = trigger(http, row, video_id)
            assert response.status_code == row["status"] == 200, what
            with pytest.raises(ValueError):
                response.json()
        elif row["kind"] == "world":
            response = trigger(http, row, video_id)
            status, check = WORLD[row["vendor"], row["route"], row["name"]]
            assert response.status_code == status, (what, response.text)
            assert check(response.json()), (what, response.text)
        else:
            response = trigger(http, row, video_id)
            assert response.status_code == row["status"], (what, response.text)
            assert_matches(row["body"], response.json())
            for name, value in row["headers"].items():
                assert response.headers[name] == value, what
        checked += 1
    assert checked == 106


# every documented message, character for character from the vendor pages

SEED_MESSAGES = [
    ("dumpling", "profile", "upstream_rate_limited", 503,
     "Rate limit exceeded with the profile service. Please try again later."),
    ("dumpling", "videos", "upstream_rate_limited", 503,
     "Rate limit exceeded. Please try again later."),
    ("dumpling", "video", "upstream_rate_limited", 503,
     "Rate limit exceeded. Please try again later."),
    ("dumpling", "profile", "upstream_invalid_data", 502,
     "Received invalid data format from profile service."),
    ("dumpling", "videos", "upstream_invalid_data", 502,
     "Received invalid data format from video service."),
    ("dumpling", "video", "upstream_invalid_data", 502,
     "Received invalid data structure from video service."),
    ("dumpling", "profile", "upstream_unavailable", 502,
     "The profile service is currently unavailable."),
    ("dumpling", "videos", "upstream_unavailable", 502,
     "The video service is currently unavailable."),
    ("dumpling", "profile", "upstream_fetch_error", 502,
     "Error fetching profile data from the upstream service."),
    ("dumpling", "video", "upstream_fetch_error", 502,
     "Error fetching video data from the upstream service."),
    ("dumpling", "profile", "service_rejected_input", 400,
     "The profile service could not process the handle."),
    ("dumpling", "videos", "service_rejected_input", 400,
     "The video service could not process the handle."),
    ("dumpling", "video", "service_rejected_input", 400,
     "The video service could not process the provided URL."),
    ("dumpling", "profile", "service_reported_issue", 400,
     "The profile service reported an issue."),
    ("dumpling", "video", "service_reported_issue", 400, "The video service reported an issue."),
    ("dumpling", "profile", "unauthorized", 401, "API key is invalid or missing."),
    ("dumpling", "videos", "insufficient_credits", 403,
     "Insufficient credits. Please top up your account."),
    ("dumpling", "video", "service_not_configured", 500,
     "Service not configured. Please contact support."),
    ("dumpling", "profile", "service_auth_failed", 500,
     "Service authentication failed. Please contact support."),
    ("dumpling", "videos", "internal_error", 500,
     "An unexpected server error occurred while fetching the TikTok profile videos: "
     "Simulated by mockserver"),
    ("gateway", "user", "throttled", 429, "Too Many Requests"),
    ("gateway", "user", "quota_exceeded", 429, "Limit Exceeded"),
    ("gateway", "video", "backend_error", 502, "Internal server error"),
    ("gateway", "video", "timeout", 504, "Endpoint request timed out"),
    ("gateway", "user", "missing_auth_token", 403, "Missing Authentication Token"),
    ("socialfetch", "videos", "temporarily_unavailable", 503,
     "The service is temporarily unavailable. Please retry after the Retry-After delay."),
]


@pytest.mark.parametrize(("vendor", "route", "name", "status", "message"), SEED_MESSAGES,
                         ids=[f"{v}-{r}-{n}" for v, r, n, _, _ in SEED_MESSAGES])
def test_documented_messages_character_for_character(http, vendor, route, name, status,
                                                     message):
    row = next(r for r in catalogue(http)
               if (r["vendor"], r["route"], r["name"]) == (vendor, route, name))
    assert row["status"] == status
    assert message in (row["body"].get("error"), row["body"].get("message"),
                       (row["body"].get("error") or {}).get("message")
                       if vendor == "socialfetch" else None)
    video_id = first_video_id(http) if route == "video" else None
    response = call(http, vendor, route, video_id=video_id, headers={"X-Mock-Scenario": name})
    assert (response.status_code, error_message(vendor, response)) == (status, message)


def test_unknown_scenario_in_the_header_is_a_400_naming_it_on_every_vendor(http):
    for vendor in VENDORS:
        response = call(http, vendor, headers={"X-Mock-Scenario": "upstream_on_fire"})
        assert response.status_code == 400, vendor
        assert "upstream_on_fire" in error_message(vendor, response)
        # a name of another vendor is unknown here too
        foreign = "lookup_failed" if vendor != "socialfetch" else "backend_error"
        response = call(http, vendor, headers={"X-Mock-Scenario": foreign})
        assert response.status_code == 400 and foreign in error_message(vendor, response)


def test_header_scenarios_cost_nothing_and_are_journaled(http):
    for vendor in VENDORS:
        call(http, vendor)  # the key now exists with its starting balance, less one call
        balance = http.get(f"/__mock/keys/{KEYS[vendor]}").json()["balance"]
        response = call(http, vendor, headers={"X-Mock-Scenario": "internal_error"
                                               if vendor != "gateway" else "backend_error"})
        assert response.status_code in (500, 502)
        assert http.get(f"/__mock/keys/{KEYS[vendor]}").json()["balance"] == balance
        entry = http.get("/__mock/requests", params={"vendor": vendor}).json()["requests"][0]
        assert entry["scenario_source"] == "header" and entry["credits_charged"] == 0


# arming ---------------------------------------------------------------------------------

BAD_ARMINGS = [
    ({"scenario": 5}, "unknown scenario"),
    ({"scenario": "upstream_on_fire"}, "upstream_on_fire"),
    ({"scenario": "upstream_rate_limited", "times": -1}, "times"),
    ({"scenario": "upstream_rate_limited", "times": 0}, "times"),
    ({"scenario": "upstream_rate_limited", "times": "2"}, "times"),
    ({"scenario": "upstream_rate_limited", "times": 1.5}, "times"),
    ({"scenario": "upstream_rate_limited", "probability": 1.5}, "probability"),
    ({"scenario": "upstream_rate_limited", "probability": -0.1}, "probability"),
    ({"scenario": "upstream_rate_limited", "probability": "half"}, "probability"),
    ({"scenario": "upstream_rate_limited", "probability": True}, "probability"),
    ({"scenario": "upstream_rate_limited", "colour": "red"}, "colour"),
    ({"scenario": "upstream_rate_limited", "vendor": 3}, "vendor"),
    ({"scenario": "upstream_rate_limited", "vendor": "twitter"}, "twitter"),
    ({"scenario": "upstream_rate_limited", "vendor": "dumpling", "route": "user"}, "user"),
    ({"scenario": "lookup_failed", "vendor": "dumpling"}, "does not apply"),
    ({"scenario": "backend_error", "vendor": "gateway", "route": "user", "handle": ["x"]},
     "handle"),
    # a match that can never be met would stay armed and never fire
    ({"scenario": "not_found", "times": 1, "key": ""}, "key must not be empty"),
    ({"scenario": "not_found", "times": 1, "handle": ""}, "'' is not a TikTok handle"),
    ({"scenario": "not_found", "times": 1, "handle": "@@bad"}, "'@@bad' is not a TikTok handle"),
    ({"scenario": "not_found", "handle": "a b"}, "is not a TikTok handle"),
    ({"scenario": "upstream_rate_limited", "status": 503}, "either"),
    ({"status": "503", "body": {}}, "status"),
    ({"status": 700, "body": {}}, "status"),
    ({"body": {"error": "x"}}, "status"),
    ({"latency_ms": -5}, "latency_ms"),
    ({"latency_ms": "400"}, "latency_ms"),
    ({}, "arm a scenario"),
]


@pytest.mark.parametrize(("body", "words"), BAD_ARMINGS, ids=[str(b) for b, _ in BAD_ARMINGS])
def test_bad_arming_is_a_400_that_says_why(http, body, words):
    response = http.post("/__mock/scenarios", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]
    assert http.get("/__mock/scenarios").json()["armed"] == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"upstream_rate_limited"'])
def test_an_arming_body_that_is_not_an_object_is_a_400(http, raw):
    response = http.post("/__mock/scenarios", content=raw)
    assert response.status_code == 400
    assert "body" in response.json()["error"]


def test_armed_entries_are_listed_with_remaining_counts_and_disarmed(http):
    first = arm(http, scenario="upstream_rate_limited", vendor="dumpling", times=3)
    second = arm(http, scenario="lookup_failed", vendor="socialfetch", handle="@Someone",
                 key="sfk_a_rather_secret_key")
    third = arm(http, latency_ms=5, probability=0.25)
    assert second["handle"] == "someone"
    assert "rather_secret" not in str(second)  # a key to match is shown masked
    assert call(http, "dumpling").status_code == 503
    armed = {e["id"]: e for e in http.get("/__mock/scenarios").json()["armed"]}
    assert list(armed) == [first["id"], second["id"], third["id"]]
    assert (armed[first["id"]]["remaining"], armed[first["id"]]["fired"]) == (2, 1)
    assert armed[second["id"]]["remaining"] is None
    assert armed[third["id"]]["probability"] == 0.25
    response = http.delete("/__mock/scenarios", params={"id": first["id"]})
    assert response.json() == {"disarmed": 1}
    assert http.delete("/__mock/scenarios", params={"id": "arm_nope"}).json() == {"disarmed": 0}
    assert call(http, "dumpling").status_code == 200
    assert [e["id"] for e in http.get("/__mock/scenarios").json()["armed"]] == [
        second["id"], third["id"]]
    assert http.delete("/__mock/scenarios").json() == {"disarmed": 2}
    assert http.get("/__mock/scenarios").json()["armed"] == []


def test_an_armed_match_on_handle_route_and_key(http):
    arm(http, scenario="upstream_unavailable", vendor="dumpling", route="videos",
        handle="stoolpresidente", key="sk_picked_key_123")
    assert call(http, "dumpling", "videos", key="sk_picked_key_123").status_code == 502
    assert call(http, "dumpling", "videos", key="sk_other_key_456").status_code == 200
    assert call(http, "dumpling", "profile", key="sk_picked_key_123").status_code == 200
    assert call(http, "dumpling", "videos", key="sk_picked_key_123",
                handle="tiny_account").status_code == 200
    assert call(http, "dumpling", "videos", key="sk_picked_key_123").status_code == 502


def test_an_unmatched_scenario_name_only_fires_where_it_applies(http):
    arm(http, scenario="lookup_failed", times=1)  # a Social Fetch name, no vendor given
    assert call(http, "dumpling").status_code == 200
    assert call(http, "gateway").status_code == 200
    assert call(http, "socialfetch").status_code == 502
    assert http.get("/__mock/scenarios").json()["armed"] == []


# fixtures -------------------------------------------------------------------------------

FLAKY = {"dumpling": (502, "The profile service is currently unavailable."),
         "socialfetch": (502, "The TikTok lookup failed upstream. Please try again."),
         "gateway": (502, "Internal server error")}
FLAKY_KEYS = {"dumpling": "sk_flaky", "socialfetch": "sfk_flaky",
              "gateway": "gw_flaky_key_0123456789"}


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_flaky_upstream_account_fails_as_its_fixture_says(http, vendor):
    for _ in range(2):  # every time, not once
        response = call(http, vendor, handle="flaky_upstream")
        assert (response.status_code, error_message(vendor, response)) == FLAKY[vendor]
    entry = http.get("/__mock/requests", params={"vendor": vendor}).json()["requests"][0]
    assert entry["scenario_source"] == "account fixture"
    assert call(http, vendor).status_code == 200  # other handles are fine


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_key_fixture_with_a_scenario_fails(http, vendor):
    response = call(http, vendor, key=FLAKY_KEYS[vendor])
    assert (response.status_code, error_message(vendor, response)) == FLAKY[vendor]
    entry = http.get("/__mock/requests", params={"vendor": vendor}).json()["requests"][0]
    assert entry["scenario_source"] == "key fixture"


def test_a_video_fixture_with_a_scenario_fails_only_that_video(tmp_path):
    fixture = tmp_path / "scripted.json"
    fixture.write_text('{"accounts": {"scripted_clips": {"video_count": 3, '
                       '"video_scenarios": {"1": "upstream_unavailable"}}}}')
    settings = Settings.load({"now": "2026-11-23T12:00:00Z", "fixture_paths": (str(fixture),)},
                             env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        page = call(http, "dumpling", "videos", handle="scripted_clips").json()
        statuses = [call(http, "dumpling", "video", handle="scripted_clips",
                         video_id=item["aweme_id"]).status_code for item in page["aweme_list"]]
        entries = http.get("/__mock/requests", params={"status": "502"}).json()["requests"]
    assert sorted(statuses) == [200, 200, 502]
    assert [e["scenario_source"] for e in entries] == ["video fixture"]


def test_header_and_armed_scenarios_win_over_fixtures(http):
    response = call(http, "dumpling", handle="flaky_upstream",
                    headers={"X-Mock-Scenario": "upstream_rate_limited"})
    assert response.status_code == 503
    arm(http, status=200, body={"ok": True}, vendor="dumpling", times=1)
    assert call(http, "dumpling", handle="flaky_upstream").json() == {"ok": True}


def test_armed_pure_latency_adds_to_a_fixture_failure(http):
    arm(http, latency_ms=300, vendor="dumpling", times=1)
    started = time.perf_counter()
    response = call(http, "dumpling", handle="flaky_upstream")
    assert time.perf_counter() - started >= 0.28
    assert (response.status_code, error_message("dumpling", response)) == FLAKY["dumpling"]


def test_armed_ids_stay_unique_across_a_restart_with_a_file_store(tmp_path):
    settings = Settings.load({"store": str(tmp_path / "state.db")}, env={})
    first = create_app(settings).state.mock.scenarios.arm({"scenario": "timeout"})
    again = create_app(settings).state.mock.scenarios
    second = again.arm({"scenario": "timeout"})
    assert first["id"] != second["id"]
    assert [e["id"] for e in again.armed()] == [first["id"], second["id"]]
