"""Over real HTTP: DumplingAI's rate headers on every answer, Social Fetch's one limit
rule, and what each vendor answers to a method or path it does not define."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.vendors.dumpling import NO_LIMIT_SHOWN
from tests.calls import KEYS, arm, call, journal
from tests.conftest import FROZEN

PROFILE = "/api/v1/get-tiktok-profile"


def serve(**settings) -> Iterator[httpx.Client]:
    app = create_app(Settings.load({"now": FROZEN, **settings}, env={}))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    yield from serve()


@pytest.fixture(scope="module")
def unlimited() -> Iterator[httpx.Client]:
    yield from serve(rate_limit=0)


@pytest.fixture(autouse=True)
def clean(http: httpx.Client) -> None:
    http.post("/__mock/reset")


def balance(http: httpx.Client, key: str) -> int:
    return http.get(f"/__mock/keys/{key}").json()["balance"]


def every_kind_of_dumpling_answer(http: httpx.Client) -> dict[str, httpx.Response]:
    """One answer of each kind a DumplingAI client meets, keyed by what it is."""
    post = lambda body, **headers: http.post(PROFILE, content=body, headers=headers)  # noqa: E731
    auth = {"Authorization": "Bearer sk_rate_headers"}
    return {
        "200": call(http, "dumpling", key="sk_rate_headers"),
        "400 bad JSON": post(b"{nope", **auth),
        "400 missing handle": post(b"{}", **auth),
        "400 bad handle": post(b'{"handle": "@x"}', **auth),
        "401 no key": post(b'{"handle": "stoolpresidente"}'),
        "401 inactive": call(http, "dumpling", key="sk_inactive"),
        "403 no credits": call(http, "dumpling", key="sk_empty"),
        "404 no account": call(http, "dumpling", key="sk_rate_headers", handle="ghost_account_404"),
        "500 scenario": call(http, "dumpling", key="sk_rate_headers",
                             headers={"X-Mock-Scenario": "internal_error"}),
        "502 scenario": call(http, "dumpling", key="sk_rate_headers",
                             headers={"X-Mock-Scenario": "upstream_unavailable"}),
        "404 undefined path": http.post("/api/v1/get-tiktok-nothing", headers=auth),
        "405 undefined method": http.get(PROFILE, headers=auth),
    }


def test_every_dumpling_answer_carries_the_documented_rate_headers(http):
    answers = every_kind_of_dumpling_answer(http)
    for kind, response in answers.items():
        assert response.status_code == int(kind.split()[0]), (kind, response.text)
        assert response.headers["x-ratelimit-limit"] == "600", kind
        assert 0 < int(response.headers["x-ratelimit-remaining"]) <= 600, kind
    # every request of a recognised key counts, errors included; before a key is known
    # (401 without one, an undefined route) the default limit shows with nothing counted
    counted = [int(answers[k].headers["x-ratelimit-remaining"]) for k in
               ("200", "400 bad JSON", "400 missing handle", "400 bad handle", "404 no account",
                "500 scenario", "502 scenario")]
    assert counted == [599, 598, 597, 596, 595, 594, 593]
    assert answers["401 no key"].headers["x-ratelimit-remaining"] == "600"


def test_with_limits_off_the_headers_never_make_a_client_wait(unlimited):
    unlimited.post("/__mock/reset")
    for _ in range(2):
        for kind, response in every_kind_of_dumpling_answer(unlimited).items():
            assert response.headers["x-ratelimit-limit"] == str(NO_LIMIT_SHOWN), kind
            assert response.headers["x-ratelimit-remaining"] == str(NO_LIMIT_SHOWN), kind
            assert "retry-after" not in response.headers


def test_a_429_says_remaining_zero_and_when_to_retry(http):
    answers = [call(http, "dumpling", key="sk_slow_lane") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["1", "0", "0"]
    assert answers[2].headers["x-ratelimit-limit"] == "2"
    assert answers[2].json() == {"error": "Rate limit exceeded. Please try again later."}
    wait = int(answers[2].headers["retry-after"])
    assert 1 <= wait <= 60
    http.post("/__mock/clock", json={"advance": wait})
    again = call(http, "dumpling", key="sk_slow_lane")
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "1"


# Social Fetch documents no rate limit and no rate-limit error: its keys have none.


def test_social_fetch_keys_have_no_per_minute_limit():
    for http in serve(rate_limit=1):
        statuses = [call(http, "socialfetch", key="sfk_busy").status_code for _ in range(5)]
        assert statuses == [200] * 5
        shown = http.get("/__mock/keys/sfk_busy").json()
        assert shown["rate_limit"] == 0
        assert http.get("/__mock/keys/sfk_slow_lane").json()["rate_limit"] == 0
        refused = http.put("/__mock/keys/sfk_busy", json={"rate_limit": 2})
        assert refused.status_code == 400
        assert "sfk_ have no per-minute rate limit" in refused.json()["error"]
        assert http.put("/__mock/keys/sfk_busy", json={"rate_limit": 0}).status_code == 200
        assert all("x-ratelimit-limit" not in call(http, "socialfetch", route).headers
                   for route in ("profile", "videos"))


def test_a_config_cannot_give_a_social_fetch_key_a_limit():
    with pytest.raises(ValueError, match="sfk_ have no per-minute rate limit"):
        create_app(Settings(keys=({"key": "sfk_x", "rate_limit": 2},)))


# Off-route answers: never Starlette's plain text, never a redirect, never charged.

GATEWAY_OFF_ROUTE = [
    ("HEAD", "/dev/tiktok/user/tiny_account"), ("POST", "/dev/tiktok/user/tiny_account"),
    ("OPTIONS", "/dev/tiktok/video/username/7321234567890123456"),
    ("DELETE", "/dev/tiktok/video/username/7321234567890123456"),
    ("GET", "/dev/tiktok/user/tiny_account/"), ("GET", "/dev/tiktok/users/a"),
    ("GET", "/dev/tiktok/"), ("PATCH", "/dev/anything/at/all")]


@pytest.mark.parametrize(("method", "path"), GATEWAY_OFF_ROUTE)
def test_gateway_answers_missing_authentication_token(http, method, path):
    key = KEYS["gateway"]
    response = http.request(method, path, headers={"x-api-key": key})
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.headers["x-amzn-requestid"] and response.headers["x-amz-apigw-id"]
    if method != "HEAD":
        assert response.json() == {"message": "Missing Authentication Token"}
    assert balance(http, key) == 1000


DUMPLING_OFF_ROUTE = [
    ("GET", PROFILE, 405), ("HEAD", PROFILE, 405), ("PUT", "/api/v1/get-tiktok-video", 405),
    ("POST", PROFILE + "/", 404), ("POST", "/api/v1/get-tiktok-profiles", 404),
    ("GET", "/api/", 404)]


@pytest.mark.parametrize(("method", "path", "status"), DUMPLING_OFF_ROUTE)
def test_dumpling_answers_json_in_its_envelope(http, method, path, status):
    key = "sk_off_route"
    response = http.request(method, path, headers={"Authorization": f"Bearer {key}"},
                            json={"handle": "stoolpresidente"}, follow_redirects=False)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    if method != "HEAD":
        assert response.json() == {"error": {404: "Not Found", 405: "Method Not Allowed"}[status]}
    assert response.headers.get("allow") == ("POST" if status == 405 else None)
    assert "x-ratelimit-limit" in response.headers
    assert balance(http, key) == 1000


SOCIALFETCH_OFF_ROUTE = [
    ("HEAD", "/v1/tiktok/profiles/stoolpresidente", 405),
    ("HEAD", "/v1/tiktok/profiles/stoolpresidente/videos", 405),
    ("POST", "/v1/tiktok/profiles/stoolpresidente", 405),
    ("GET", "/v1/tiktok/profiles/stoolpresidente/", 404),
    ("GET", "/v1/tiktok/profiles/", 404), ("GET", "/v1/instagram/profiles/a", 404)]


@pytest.mark.parametrize(("method", "path", "status"), SOCIALFETCH_OFF_ROUTE)
def test_social_fetch_answers_json_in_its_envelope(http, method, path, status):
    key = "sfk_off_route"
    response = http.request(method, path, headers={"x-api-key": key}, follow_redirects=False)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    if method != "HEAD":
        error = response.json()["error"]
        assert error["code"] == {404: "not_found", 405: "method_not_allowed"}[status]
        assert error["requestId"] == response.headers["x-request-id"]
    assert response.headers.get("allow") == ("GET" if status == 405 else None)
    assert balance(http, key) == 1000


def test_head_is_journaled_but_never_charged(http):
    for vendor in ("socialfetch", "gateway"):
        key = KEYS[vendor]
        path = "/v1/tiktok/profiles/tiny_account" if vendor == "socialfetch" \
            else "/dev/tiktok/user/tiny_account"
        assert http.head(path, headers={"x-api-key": key}).content == b""
        assert balance(http, key) == 1000
        entry = journal(http, vendor=vendor)[0]
        assert (entry["method"], entry["route"], entry["credits_charged"]) == ("HEAD", "unknown", 0)


def test_an_armed_scenario_never_answers_for_an_undefined_route(http):
    arm(http, vendor="socialfetch", scenario="internal_error")
    assert http.get("/v1/tiktok/nothing", headers={"x-api-key": "sfk_a"}).status_code == 404
