"""The /__mock/ control plane: keys and credits, strict mode and the config file, rate
limits on the mock's clock, the request journal (keys never unmasked, in it or in any log),
and reset."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.cli import main
from mockserver.errors import MockError
from mockserver.pipeline.keys import KeyRing, mask
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import MemoryStore
from tests.calls import KEYS, VENDORS, arm, call, error_message, journal
from tests.conftest import FROZEN


@pytest.fixture
def http(live: ServerThread) -> Iterator[httpx.Client]:
    live.app.state.mock.reset()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client


@contextmanager
def mock_with(**flags: Any) -> Iterator[TestClient]:
    """An in-process mock with these settings (as ``mockserver serve`` flags give them)."""
    with TestClient(create_app(Settings.load({"now": FROZEN, **flags}, env={}))) as client:
        yield client


def key_state(http: httpx.Client, key: str) -> dict[str, Any]:
    response = http.get(f"/__mock/keys/{key}")
    assert response.status_code == 200
    return response.json()


def put_key(http: httpx.Client, key: str, **changes: Any) -> httpx.Response:
    return http.put(f"/__mock/keys/{key}", json=changes)


# keys -----------------------------------------------------------------------------------


def test_read_and_set_a_key(http):
    """The key is shown masked, as the listing and the journal show it."""
    shown = mask("sk_brand_new")
    assert key_state(http, "sk_brand_new") == {"key": shown, "balance": 1000,
                                               "status": "active", "rate_limit": 600}
    response = put_key(http, "sk_brand_new", balance=7, status="inactive", rate_limit=3)
    assert response.status_code == 200 and "sk_brand_new" not in response.text
    assert key_state(http, "sk_brand_new") == {"key": shown, "balance": 7,
                                               "status": "inactive", "rate_limit": 3}
    assert put_key(http, "sk_brand_new", status="active").json()["balance"] == 7
    assert key_state(http, "sk_one_credit")["balance"] == 1  # fixture keys show their state


@pytest.mark.parametrize(("changes", "words"), [
    ({"balance": -1}, "balance"), ({"balance": "10"}, "balance"), ({"balance": True}, "balance"),
    ({"rate_limit": 1.5}, "rate_limit"), ({"status": "paused"}, "status"),
    ({"credits": 10}, "credits")])
def test_bad_key_changes_are_400s(http, changes, words):
    response = put_key(http, "sk_brand_new", **changes)
    assert response.status_code == 400 and words in response.json()["error"]
    assert key_state(http, "sk_brand_new")["balance"] == 1000


def test_a_key_body_that_is_not_an_object_is_a_400(http):
    for raw in (b"nope", b"[]"):
        response = http.put("/__mock/keys/sk_x_key", content=raw)
        assert response.status_code == 400


COST = {"dumpling": 2, "socialfetch": 1, "gateway": 1}  # of each vendor's default route
INACTIVE = {"dumpling": ("sk_inactive", 401, "API key is invalid or missing."),
            "socialfetch": ("sfk_inactive", 401, "Missing or invalid API key."),
            "gateway": ("gw_inactive_key_0123456789", 403, "Forbidden")}
EXHAUSTED = {"dumpling": ("sk_empty", 403, "Insufficient credits. Please top up your account."),
             "socialfetch": ("sfk_empty", 402, "Not enough credits for this request."),
             "gateway": ("gw_quota_spent_0123456789", 429, "Limit Exceeded")}


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_inactive_key_fails_as_the_vendor_fails(http, vendor):
    fixture_key, status, message = INACTIVE[vendor]
    response = call(http, vendor, key=fixture_key)
    assert (response.status_code, error_message(vendor, response)) == (status, message)
    assert call(http, vendor).status_code == 200
    put_key(http, KEYS[vendor], status="inactive")
    response = call(http, vendor)
    assert (response.status_code, error_message(vendor, response)) == (status, message)
    assert key_state(http, KEYS[vendor])["balance"] == 1000 - COST[vendor]


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_exhausted_balance_fails_as_the_vendor_fails(http, vendor):
    fixture_key, status, message = EXHAUSTED[vendor]
    response = call(http, vendor, key=fixture_key)
    assert (response.status_code, error_message(vendor, response)) == (status, message)
    assert "retry-after" not in response.headers
    put_key(http, KEYS[vendor], balance=0)
    response = call(http, vendor)
    assert (response.status_code, error_message(vendor, response)) == (status, message)
    assert key_state(http, KEYS[vendor])["balance"] == 0
    if vendor == "socialfetch":
        assert response.json()["error"]["code"] == "insufficient_credits"
        assert response.json()["error"]["checkoutUrl"].startswith("https://")
    if vendor == "gateway":
        assert response.headers["x-amzn-errortype"] == "LimitExceededException"
    put_key(http, KEYS[vendor], balance=COST[vendor])
    assert call(http, vendor).status_code == 200
    assert key_state(http, KEYS[vendor])["balance"] == 0


def test_the_balance_never_goes_below_zero(http):
    # the profile costs 2 credits, the videos route 1: a one-credit key
    assert call(http, "dumpling", "profile", key="sk_one_credit").status_code == 403
    assert key_state(http, "sk_one_credit")["balance"] == 1
    assert call(http, "dumpling", "videos", key="sk_one_credit").status_code == 200
    assert key_state(http, "sk_one_credit")["balance"] == 0
    for route in ("profile", "videos"):
        assert call(http, "dumpling", route, key="sk_one_credit").status_code == 403
    assert key_state(http, "sk_one_credit")["balance"] == 0
    charged = [e["credits_charged"] for e in journal(http, key="sk_one_credit")]
    assert charged == [0, 0, 1, 0]


def test_a_charge_takes_all_it_costs_or_nothing():
    keys = KeyRing(MemoryStore(), default_balance=1, default_rate_limit=0, strict=False,
                   configured={})
    # even when nothing checked the balance first (another process may have spent it)
    with pytest.raises(MockError) as refused:
        keys.charge("sk_any_key", 2)
    assert refused.value.kind == "insufficient_credits"
    assert keys.state("sk_any_key")["balance"] == 1
    assert keys.charge("sk_any_key", 1) == 0  # the balance left
    assert keys.state("sk_any_key")["balance"] == 0


def test_credits_are_the_documented_cost_and_failures_cost_nothing(http):
    key = KEYS["dumpling"]
    assert call(http, "dumpling", "profile").status_code == 200
    assert call(http, "dumpling", "videos").status_code == 200
    assert key_state(http, key)["balance"] == 1000 - 2 - 1
    arm(http, scenario="upstream_unavailable", vendor="dumpling", times=1)
    failures = [call(http, "dumpling"),  # armed 502
                call(http, "dumpling", handle="ghost_account_404"),  # 404
                call(http, "dumpling", body={"handle": ""}),  # 400
                call(http, "dumpling", handle="flaky_upstream")]  # fixture 502
    assert [r.status_code for r in failures] == [502, 404, 400, 502]
    assert key_state(http, key)["balance"] == 997
    assert [e["credits_charged"] for e in journal(http, key=key)] == [0, 0, 0, 0, 1, 2]
    for vendor in ("socialfetch", "gateway"):
        call(http, vendor, headers={"X-Mock-Scenario": "internal_error" if vendor ==
                                    "socialfetch" else "timeout"})
        assert key_state(http, KEYS[vendor])["balance"] == 1000
        assert call(http, vendor).status_code == 200
        assert key_state(http, KEYS[vendor])["balance"] == 999


# strict mode and the config file -----------------------------------------------------------


def test_strict_mode_accepts_only_configured_keys():
    with mock_with(strict=True) as client:
        for vendor in VENDORS:
            response = call(client, vendor)
            assert response.status_code == INACTIVE[vendor][1], vendor
            assert error_message(vendor, response) == INACTIVE[vendor][2]
        assert call(client, "dumpling", key="sk_one_credit", route="videos").status_code == 200
        assert call(client, "gateway", key="gw_slow_lane_key_0123456789").status_code == 200
        # a key set through the admin API counts as configured, until a reset
        assert put_key(client, KEYS["dumpling"], balance=5).status_code == 200
        assert call(client, "dumpling", "videos").status_code == 200
        assert client.post("/__mock/reset").status_code == 200
        assert call(client, "dumpling", "videos").status_code == 401
    with mock_with() as client:  # not strict: any well-formed key works
        assert all(call(client, vendor).status_code == 200 for vendor in VENDORS)


def test_strict_mode_from_the_environment():
    assert Settings.load({}, env={"MOCKSERVER_STRICT": "true"}).strict is True
    assert Settings.load({}, env={"MOCKSERVER_STRICT": "0"}).strict is False


CONFIG = """
fixtures = ["my_fixtures.json"]

[server]
seed = 5
credits = 40
rate_limit = 3
strict = true

[[keys]]
key = "sk_configured_key"
balance = 3

[[keys]]
key = "sfk_configured_key"

[[scenarios]]
scenario = "upstream_rate_limited"
vendor = "dumpling"
route = "profile"
times = 1
"""
USER_FIXTURES = {"accounts": {"config_account": {"nickname": "From My Fixtures",
                                                 "followers": 1234, "video_count": 3}}}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "my_fixtures.json").write_text(json.dumps(USER_FIXTURES))
    path = tmp_path / "mock.toml"
    path.write_text(CONFIG)
    return path


def test_a_config_file_sets_server_values_keys_scenarios_and_fixtures(config_file):
    settings = Settings.load({"config": str(config_file)}, env={})
    assert (settings.seed, settings.credits, settings.rate_limit, settings.strict) == (
        5, 40, 3, True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/__mock/scenarios").json()["armed"][0]["remaining"] == 1
        key = "sk_configured_key"
        assert call(client, "dumpling", "profile", key=key).status_code == 503  # armed
        response = call(client, "dumpling", "profile", key=key, handle="config_account")
        assert response.status_code == 200
        assert response.json()["user"]["nickname"] == "From My Fixtures"
        assert response.headers["x-ratelimit-limit"] == "3"
        assert key_state(client, key)["balance"] == 1
        assert key_state(client, "sfk_configured_key")["balance"] == 40  # [server] credits
        assert call(client, "socialfetch", key="sfk_configured_key").status_code == 200
        assert call(client, "dumpling", key="sk_unconfigured_key").status_code == 401  # strict
        client.post("/__mock/reset")  # back to the start: the configured scenario re-armed
        assert call(client, "dumpling", "profile", key=key).status_code == 503
        assert call(client, "dumpling", "profile", key=key).status_code == 200


def test_flags_and_environment_override_the_config_file(config_file):
    settings = Settings.load({"config": str(config_file), "seed": "9"},
                             env={"MOCKSERVER_CREDITS": "12"})
    assert (settings.seed, settings.credits, settings.rate_limit) == (9, 12, 3)


@pytest.mark.parametrize(("text", "words"), [
    ("[server]\nsed = 5\n", "sed"),
    ("[[keys]]\nbalance = 3\n", "[[keys]] entry 1"),
    ("[[keys]]\nkey = \"sk_configured_key\"\nbalance = -3\n", "balance"),
    ("[[keys]]\nkey = \"sk_configured_key\"\ncolour = \"red\"\n", "colour"),
    ("[[scenarios]]\nscenario = \"upstream_on_fire\"\n", "[[scenarios]] entry 1"),
    ("[[scenarios]]\nscenario = \"upstream_unavailable\"\ntimes = 0\n", "times"),
    ("fixtures = [\"missing.json\"]\n", "missing.json"),
    ("[server\n", "cannot read config"),
])
def test_a_bad_config_file_is_a_usage_error_not_a_traceback(tmp_path, capsys, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["serve", "--config", str(path), "--port", "1"]) == 2
    assert words in capsys.readouterr().err


# rate limits -----------------------------------------------------------------------------


def test_the_rate_limit_is_per_key_per_minute_and_the_clock_resets_it():
    with mock_with(rate_limit="2") as client:  # --rate-limit 2
        remaining = [call(client, "dumpling").headers["x-ratelimit-remaining"]
                     for _ in range(2)]
        assert remaining == ["1", "0"]
        limited = call(client, "dumpling")
        assert limited.status_code == 429
        assert limited.json() == {"error": "Rate limit exceeded. Please try again later."}
        assert limited.headers["retry-after"] == "60"
        assert call(client, "dumpling", key="sk_another_key").status_code == 200  # per key
        assert key_state(client, KEYS["dumpling"])["balance"] == 1000 - 2 * 2  # 429 is free
        gateway = [call(client, "gateway").status_code for _ in range(3)]
        assert gateway == [200, 200, 429]
        throttled = call(client, "gateway")
        assert throttled.json() == {"message": "Too Many Requests"}
        assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
        assert "retry-after" not in throttled.headers  # API Gateway sends none
        # Social Fetch documents no request-rate limit on these routes
        assert [call(client, "socialfetch").status_code for _ in range(3)] == [200] * 3
        assert client.post("/__mock/clock", json={"advance": 59}).status_code == 200
        assert call(client, "dumpling").status_code == 429
        assert client.post("/__mock/clock", json={"advance": 1}).status_code == 200
        assert call(client, "dumpling").status_code == 200
        assert call(client, "gateway").status_code == 200


def test_waiting_retry_after_seconds_is_always_enough():
    with mock_with(rate_limit=1) as client:
        client.post("/__mock/clock", json={"advance": 30.5})  # mid-window, mid-second
        assert call(client, "dumpling").status_code == 200
        limited = call(client, "dumpling")
        assert limited.headers["retry-after"] == "30"
        client.post("/__mock/clock", json={"advance": int(limited.headers["retry-after"])})
        assert call(client, "dumpling").status_code == 200


def test_a_fixture_key_and_a_put_set_a_tiny_rate_limit(http):
    assert [call(http, "dumpling", key="sk_slow_lane").status_code for _ in range(3)] == [
        200, 200, 429]
    put_key(http, KEYS["gateway"], rate_limit=1)
    assert [call(http, "gateway").status_code for _ in range(2)] == [200, 429]


# the clock ---------------------------------------------------------------------------------


def test_the_clock_can_be_read_frozen_set_and_advanced(http):
    assert http.get("/__mock/clock").json() == {"now": "2026-11-23T12:00:00.000Z",
                                                "unix": 1795435200.0, "frozen": True}
    moved = http.post("/__mock/clock", json={"set": "2027-01-01T00:00:00Z"})
    assert moved.json()["now"] == "2027-01-01T00:00:00.000Z"
    assert http.post("/__mock/clock", json={"advance": 90}).json()["now"] == \
        "2027-01-01T00:01:30.000Z"
    back = http.post("/__mock/clock", json={"set": 1795435200, "freeze": True})
    assert back.json() == {"now": "2026-11-23T12:00:00.000Z", "unix": 1795435200.0,
                           "frozen": True}
    assert http.post("/__mock/clock", json={"advance": 0}).json()["now"] == \
        "2026-11-23T12:00:00.000Z"
    assert http.post("/__mock/clock", json={"freeze": False}).json()["frozen"] is False
    assert http.post("/__mock/clock", json={"freeze": True}).json()["frozen"] is True
    both = http.post("/__mock/clock", json={"freeze": True, "advance": 60}).json()
    assert both["frozen"] is True and both["unix"] >= 1795435260


@pytest.mark.parametrize(("body", "words"), [
    ({"advance": "soon"}, "advance must be a number of seconds"),
    ({"advance": True}, "advance must be a number of seconds"),
    ({"set": "yesterday"}, "set: 'yesterday' is neither ISO-8601 nor unix seconds"),
    # named as JSON, not as Python's None and True
    ({"set": None}, "set must be ISO-8601 text or unix seconds, not null"),
    ({"set": True}, "set must be ISO-8601 text or unix seconds, not true"),
    ({"set": [1]}, "set must be ISO-8601 text or unix seconds, not [1]"),
    ({"rewind": 5}, "unknown fields ['rewind']"),
    # the clock only moves forward by advance: moving it back is what set is for
    ({"advance": -60}, "advance must be >= 0 seconds (-60); to move the clock back, use set"),
    ({"advance": -0.5, "freeze": False}, "advance must be >= 0 seconds (-0.5)"),
    ({"advance": 60, "set": "2027-01-01T00:00:00Z"}, "give set or advance, not both"),
    ({"advance": 0, "set": "2027-01-01T00:00:00Z"}, "give set or advance, not both"),
    # a too-large advance names the field and the most it may be from the clock's instant
    ({"advance": 4282950340}, "advance must be less than 2307009600 seconds: "
                              "2026-11-23T12:00:00.000Z + 4282950340 is past the end of the "
                              "clock's range (2016-09-01T00:00:00.000Z to "
                              "2099-12-31T23:59:59.999Z)"),
    ({"advance": 1e308}, "advance must be less than 2307009600 seconds"),
    # an instant out of range is named as it was sent (not as the seconds it was read as),
    # beside the range's first and last millisecond
    ({"set": "2100-01-01T00:00:00Z"}, 'set: "2100-01-01T00:00:00Z" is outside the clock\'s '
                                      "range (2016-09-01T00:00:00.000Z to "
                                      "2099-12-31T23:59:59.999Z)"),
    ({"set": 1}, "set: 1 is outside the clock's range"),
])
def test_bad_clock_changes_are_400s_that_change_nothing(http, body, words):
    call(http, "dumpling")
    before = (http.get("/__mock/clock").json(), journal(http))
    response = http.post("/__mock/clock", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"], response.json()
    assert (http.get("/__mock/clock").json(), journal(http)) == before


def test_at_the_clocks_last_millisecond_an_advance_is_refused_in_milliseconds(http):
    """The time left was a float difference: "less than 0.0009999275207519531 seconds"."""
    assert http.post("/__mock/clock", json={"set": "2099-12-31T23:59:59.999Z"}
                     ).status_code == 200
    response = http.post("/__mock/clock", json={"advance": 1})
    assert response.status_code == 400
    assert response.json()["error"].startswith("advance must be less than 0.001 seconds: "
                                               "2099-12-31T23:59:59.999Z + 1 is past the end")
    # within its last millisecond: less than 0.0001 s left, not "less than 0"
    assert http.post("/__mock/clock", json={"set": "2099-12-31T23:59:59.9999Z"}
                     ).status_code == 200
    response = http.post("/__mock/clock", json={"advance": 0.001})
    assert response.json()["error"].startswith("advance must be less than 0.0001 seconds"), \
        response.json()


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_the_clock_never_goes_back_by_advance_in_process(tmp_path, store):
    spec = "memory" if store == "memory" else str(tmp_path / "mock.db")
    with mock_with(store=spec) as client:
        clock = client.app.state.mock.clock
        for seconds, words in [(-60, "advance must be >= 0 seconds"),
                               (float("nan"), "advance must be a finite number"),
                               (1e308, "advance must be less than")]:
            with pytest.raises(ValueError, match=words):
                clock.advance(seconds)
        assert clock.now() == 1795435200
        clock.advance(60)
        assert clock.now() == 1795435260


# the journal --------------------------------------------------------------------------------


def test_the_journal_shows_what_was_sent_and_what_came_back(http):
    body = {"handle": "stoolpresidente", "favourite_colour": "red"}
    assert call(http, "dumpling", body=body).status_code == 200
    call(http, "socialfetch", "videos", headers={"X-Mock-Scenario": "lookup_failed"})
    (latest, first) = journal(http)
    assert (latest["vendor"], latest["route"], latest["status"]) == ("socialfetch", "videos", 502)
    assert (latest["scenario"], latest["scenario_source"]) == ("lookup_failed", "header")
    assert latest["method"] == "GET"
    assert latest["path"] == "/v1/tiktok/profiles/stoolpresidente/videos"
    assert latest["credits_charged"] == 0 and latest["key"] == mask("sfk_test_key")
    assert latest["headers"]["x-api-key"] == mask("sfk_test_key") == "…ey#f69d"
    assert first["method"] == "POST" and first["path"] == "/api/v1/get-tiktok-profile"
    assert json.loads(first["body"]) == body
    assert first["headers"]["authorization"] == f"Bearer {mask('sk_test_key')}"
    assert (first["status"], first["credits_charged"], first["scenario"]) == (200, 2, None)
    assert first["notes"] == [
        "body field 'favourite_colour' is not documented by the vendor; it is ignored"]
    call(http, "gateway", headers={"X-Mock-Scenario": "timeout"})
    http.get("/v1/tiktok/profiles/x/videos?sortBy=popular&trim=true",
             headers={"x-api-key": "sfk_test_key"})
    assert journal(http, limit=1)[0]["query"] == "sortBy=popular&trim=true"
    http.get("/v1/tiktok/profiles/x/videos?sortBy=latest&page=2",
             headers={"x-api-key": "sfk_test_key"})
    assert journal(http, limit=1)[0]["notes"] == [
        "query parameter 'page' is not documented by the vendor; it is ignored"]


def test_the_journal_filters_by_vendor_route_status_and_key(http):
    call(http, "dumpling", "profile")
    call(http, "dumpling", "videos", key="sk_second_key_1234")
    call(http, "socialfetch", "profile")
    call(http, "gateway", "user", headers={"X-Mock-Scenario": "throttled"})
    assert [e["vendor"] for e in journal(http)] == ["gateway", "socialfetch", "dumpling",
                                                    "dumpling"]
    assert [e["route"] for e in journal(http, vendor="dumpling")] == ["videos", "profile"]
    assert [e["vendor"] for e in journal(http, route="profile")] == ["socialfetch", "dumpling"]
    assert [e["vendor"] for e in journal(http, status=429)] == ["gateway"]
    assert [e["route"] for e in journal(http, key="sk_second_key_1234")] == ["videos"]
    assert [e["route"] for e in journal(http, key=mask("sk_second_key_1234"))] == ["videos"]
    assert journal(http, vendor="dumpling", route="video") == []
    assert journal(http, key="sk_never_used_key") == []
    assert http.get("/__mock/requests", params={"limit": "many"}).status_code == 400


def test_the_journal_is_bounded():
    with mock_with(journal_size=3) as client:
        for handle in ("tiny_account", "empty_account", "brand_with_ads", "stoolpresidente"):
            call(client, "dumpling", handle=handle)
        entries = client.get("/__mock/requests").json()
        assert entries["count"] == 3
        assert [json.loads(e["body"])["handle"] for e in entries["requests"]] == [
            "stoolpresidente", "brand_with_ads", "empty_account"]


SECRETS = {"dumpling": "sk_LEAKCANARYdumpling_9876", "socialfetch": "sfk_LEAKCANARYsocial_9876",
           "gateway": "gw_LEAKCANARYgateway_0123456789"}


def test_no_key_ever_appears_unmasked_in_the_journal_or_the_logs(caplog):
    server = ServerThread(create_app(Settings.load({"now": FROZEN}, env={})))
    server.server.config.access_log = True  # the noisiest uvicorn there is
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.access", "mockserver")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        with server, httpx.Client(base_url=server.url, timeout=5) as http:
            for vendor, key in SECRETS.items():
                call(http, vendor, key=key)
                call(http, vendor, key=key, headers={"X-Mock-Scenario": "truncated_body"})
                call(http, vendor, key=key, body={"handle": "", "key": "x"})
                with pytest.raises(httpx.TransportError):
                    call(http, vendor, key=key, headers={"X-Mock-Scenario": "drop_connection"})
                arm(http, scenario="empty_body", key=key, times=1)
                call(http, vendor, key=key)
            # a key in the wrong form or with junk after it is still masked
            call(http, "dumpling", headers={"Authorization": f"Bearer {SECRETS['dumpling']} x"},
                 key="")
            call(http, "dumpling", headers={"Authorization": SECRETS["dumpling"]}, key="")
            call(http, "gateway", headers={"x-api-key": SECRETS["gateway"] + " x"}, key="")
            arm(http, scenario="hang", key=SECRETS["socialfetch"], times=1)
            shown = http.get("/__mock/requests").text + http.get("/__mock/scenarios").text
            entries = http.get("/__mock/requests").json()["requests"]
    finally:
        for logger in loggers:
            logger.removeHandler(caplog.handler)
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name.startswith(("uvicorn", "mockserver")))
    assert "/api/v1/get-tiktok-profile" in logged  # the access log was captured
    assert len(entries) == 3 * 5 + 3
    for key in SECRETS.values():
        assert key not in shown and key not in logged
        assert "LEAKCANARY" not in shown and "LEAKCANARY" not in logged
        assert any(e["key"] == mask(key) for e in entries)
        assert mask(key).startswith("…" + key[-4:] + "#")  # at most 4 of its characters


# reset -----------------------------------------------------------------------------------


def test_reset_clears_balances_journal_armed_scenarios_records_and_rate_windows(http, live):
    mock = live.app.state.mock
    put_key(http, KEYS["dumpling"], balance=5)
    put_key(http, KEYS["socialfetch"], rate_limit=1)
    call(http, "dumpling")
    put_key(http, "sk_slow_lane", balance=50)
    for _ in range(3):
        call(http, "dumpling", key="sk_slow_lane")
    assert call(http, "dumpling", key="sk_slow_lane").status_code == 429
    arm(http, scenario="backend_error", vendor="gateway")
    http.post("/__mock/clock", json={"advance": 3600})
    http.delete("/__mock/scenarios")
    before = call(http, "gateway").json()["user"]["createdAt"]
    assert before == "2026-11-23T13:00:00.000Z"
    arm(http, scenario="backend_error", vendor="gateway")
    assert mock.store.items("gateway_users") and journal(http)

    assert http.post("/__mock/reset").json() == {"reset": True}
    assert key_state(http, KEYS["dumpling"])["balance"] == 1000
    assert key_state(http, "sk_slow_lane")["balance"] == 1000
    assert journal(http) == []
    assert http.get("/__mock/scenarios").json()["armed"] == []
    assert mock.store.items("gateway_users") == []
    assert http.get("/__mock/clock").json()["now"] == "2026-11-23T12:00:00.000Z"
    assert call(http, "dumpling", key="sk_slow_lane").status_code == 200  # window cleared
    http.post("/__mock/clock", json={"advance": 7200})
    assert call(http, "gateway").json()["user"]["createdAt"] == "2026-11-23T14:00:00.000Z"


def test_the_root_links_the_inspector_whose_files_come_from_the_package(client):
    index = client.get("/")
    assert index.status_code == 200 and index.json()["ui"] == "/__mock/ui"
    page = client.get(index.json()["ui"])
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="ui/app.js">' in page.text  # relative: works under /__mock/ui
    assert client.get("/__mock/ui/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/__mock/ui/../admin.py").status_code == 404
    assert client.get("/__mock/ui/nope.js").status_code == 404
