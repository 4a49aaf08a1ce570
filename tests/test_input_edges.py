"""Request values at the edge of their forms: what the schema refuses is refused whole
(a final newline included), answered as the vendor answers any other bad value, and
never charged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.contract import Schemas
from mockserver.settings import Settings
from tests.conftest import FROZEN

DUMPLING = {"Authorization": "Bearer sk_edges"}
SOCIALFETCH = {"x-api-key": "sfk_edges"}
GATEWAY = {"x-api-key": "gw_edges_key_0123456789"}
VIDEO_URL = "https://www.tiktok.com/@username/video/7321234567890123456"


@pytest.fixture(scope="module")
def shared() -> Iterator[TestClient]:
    with TestClient(create_app(Settings.load({"now": FROZEN}, env={}))) as test_client:
        yield test_client


@pytest.fixture
def client(shared: TestClient) -> TestClient:
    shared.post("/__mock/reset")
    return shared


def answer(client: TestClient, case: str, tail: str) -> tuple[int, object]:
    """The answer to one bad-value case with ``tail`` after the value; Social Fetch's
    request id is left out, as it differs per request."""
    if case == "handle":
        r = client.post("/api/v1/get-tiktok-profile", headers=DUMPLING,
                        json={"handle": "alice_x" + tail})
    elif case == "maxCursor":
        r = client.post("/api/v1/get-tiktok-profile-videos", headers=DUMPLING,
                        json={"handle": "alice_x", "maxCursor": "1780000000000" + tail})
    else:
        r = client.get("/v1/tiktok/profiles/alice_x/videos", headers=SOCIALFETCH,
                       params={"cursor": "30" + tail})
    body = r.json()
    if "error" in body and isinstance(body["error"], dict):
        body["error"].pop("requestId")
    return r.status_code, body


@pytest.mark.parametrize("case", ["handle", "maxCursor", "cursor"])
def test_a_final_newline_is_refused_as_a_final_space_is(client, case):
    assert answer(client, case, "")[0] == 200
    refused = answer(client, case, " ")
    assert refused[0] == 400
    client.post("/__mock/reset")
    assert answer(client, case, "\n") == refused
    [entry] = client.get("/__mock/requests").json()["requests"]
    assert (entry["status"], entry["credits_charged"]) == (400, 0)
    key = "sfk_edges" if case == "cursor" else "sk_edges"
    assert client.get(f"/__mock/keys/{key}").json()["balance"] == 1000


def test_a_url_keeps_its_surrounding_whitespace_and_nothing_else(client):
    # the schema lets a pasted URL carry whitespace around it (ECMA's \s, a newline
    # included); a control character Python alone counts as space is no URL
    for spaced in (VIDEO_URL + " ", VIDEO_URL + "\n", "\t" + VIDEO_URL):
        r = client.post("/api/v1/get-tiktok-video", headers=DUMPLING, json={"url": spaced})
        assert r.status_code == 200, (spaced, r.text)
    r = client.post("/api/v1/get-tiktok-video", headers=DUMPLING, json={"url": VIDEO_URL + "\x1f"})
    assert (r.status_code, r.json()) == (400, {"error": "Invalid TikTok video URL format."})


def test_patterns_are_read_as_the_schema_means_them():
    schemas = Schemas()
    assert schemas.violations("dumpling/profile.request", {"handle": "ab\n"}, part="body")
    assert not schemas.violations("dumpling/profile.request", {"handle": "ab"}, part="body")
    [violation] = schemas.violations(
        "socialfetch/videos.request",
        {"headers": {"x-api-key": "sfk_x"}, "path": {"handle": "ab"}, "query": {"cursor": "3\n"}})
    assert violation.path == "$.query.cursor"


MALFORMED = ["alice_x%0A", "%20alice_x", "@@alice_x", "alice_x%09", "%20@alice_x%0A"]


@pytest.mark.parametrize("handle", MALFORMED)
def test_a_malformed_handle_names_no_account(client, handle):
    r = client.get(f"/v1/tiktok/profiles/{handle}", headers=SOCIALFETCH)
    assert r.status_code == 200
    assert r.json()["data"] == {"lookupStatus": "not_found", "profile": None, "metrics": None}
    r = client.get(f"/dev/tiktok/user/{handle}", headers=GATEWAY)
    assert (r.status_code, r.json()) == (404, {"message": "User not found"})
    r = client.get(f"/dev/tiktok/user/{handle}/7321234567890123456".replace("user/", "video/"),
                   headers=GATEWAY)
    assert (r.status_code, r.json()) == (404, {"message": "User not found"})


def test_one_leading_at_still_names_the_account(client):
    r = client.get("/v1/tiktok/profiles/@alice_x", headers=SOCIALFETCH)
    assert r.json()["data"]["lookupStatus"] == "found"
    assert r.json()["data"]["profile"]["handle"] == "alice_x"


def test_a_scenario_armed_for_a_malformed_handle_never_fires_for_another(client):
    # refused outright now (it could never match): nothing armed, alice_x untouched
    armed = client.post("/__mock/scenarios", json={"handle": "@@alice_x", "status": 418,
                                                   "body": {"error": "teapot"}})
    assert armed.status_code == 400
    assert client.get("/__mock/scenarios").json()["armed"] == []
    assert client.get("/v1/tiktok/profiles/alice_x", headers=SOCIALFETCH).status_code == 200


@pytest.mark.parametrize(("body", "where"), [
    ('{"n": 18446744073709551616}', "body.n: 18446744073709551616"),
    ('{"n": -9223372036854775809}', "body.n: -9223372036854775809"),
    ('[1, {"deep": 123456789012345678901234567890}]', "body[1].deep: 1234567890"),
])
def test_an_integer_beyond_64_bits_is_refused_not_made_a_float(client, body, where):
    raw = '{"handle": "alice_x", "status": 200, "body": ' + body + ', "times": 1}'
    r = client.post("/__mock/scenarios", content=raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(where)
    assert "beyond 64 bits" in r.json()["error"]
    assert client.get("/__mock/scenarios").json()["armed"] == []


def test_64_bit_integers_are_armed_exactly(client):
    raw = b'{"status": 200, "body": {"n": [9223372036854775808, 18446744073709551615, ' \
          b'-9223372036854775808], "id": "123456789012345678901234567890"}, "times": 1}'
    assert client.post("/__mock/scenarios", content=raw).status_code == 201
    r = client.get("/v1/tiktok/profiles/alice_x", headers=SOCIALFETCH)
    assert r.content == b'{"n":[9223372036854775808,18446744073709551615,' \
                        b'-9223372036854775808],"id":"123456789012345678901234567890"}'


@pytest.mark.parametrize(("at", "limit"), [("2099-12-31T23:59:59.5Z", "0.5"),
                                            ("2099-12-31T23:59:00Z", "60")])
def test_an_advance_past_the_end_names_the_true_limit(client, at, limit):
    assert client.post("/__mock/clock", json={"set": at, "freeze": True}).status_code == 200
    r = client.post("/__mock/clock", json={"advance": 100})
    assert r.status_code == 400
    assert r.json()["error"].startswith(f"advance must be less than {limit} seconds: ")
    assert client.post("/__mock/clock", json={"advance": float(limit) - 0.1}).status_code == 200


def test_a_journal_limit_is_a_whole_number_or_a_400(client):
    for _ in range(3):
        client.get("/v1/tiktok/profiles/alice_x", headers=SOCIALFETCH)
    for bad in ("-1", "-5", "abc", "1e9", " 1", "+1", "\u0663", ""):
        r = client.get("/__mock/requests", params={"limit": bad})
        assert (r.status_code, r.json()) == (
            400, {"error": "limit must be a whole number >= 0 (0: every entry kept)"}), bad
    assert client.get("/__mock/requests", params={"limit": "0"}).json()["count"] == 3
    assert client.get("/__mock/requests", params={"limit": "2"}).json()["count"] == 2


def test_a_path_with_a_final_newline_is_no_route(client):
    profile = "/api/v1/get-tiktok-profile%0A"
    r = client.post(profile, headers=DUMPLING, json={"handle": "alice_x"})
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})
    r = client.get(profile, headers=DUMPLING)  # not the route's 405 either
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})
    r = client.get("/v1/tiktok/profiles/alice_x/videos%0A", headers=SOCIALFETCH)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert client.get("/__mock/keys/sk_edges").json()["balance"] == 1000
    assert client.get("/__mock/keys/sfk_edges").json()["balance"] == 1000
