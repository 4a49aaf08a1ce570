"""The TikTok API on API Gateway: its two routes, its stored records, API Gateway's errors."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import httpx
import orjson
import pytest

from mockserver.app import create_app
from mockserver.clock import iso
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.conftest import FROZEN, assert_valid

KEY = "gw_test_key_0123456789abcdef"
STAMP = "2026-11-23T12:00:00.000Z"
NOW = 1_795_435_200


def gw(client, path: str, key: str | None = KEY, method: str = "GET", **headers):
    if key is not None:
        headers["x-api-key"] = key
    return client.request(method, f"/dev/tiktok/{path}", headers=headers)


def balance(client, key: str = KEY) -> int:
    return client.get(f"/__mock/keys/{key}").json()["balance"]


def assert_amzn(response) -> None:
    uuid.UUID(response.headers["x-amzn-RequestId"])
    apigw_id = response.headers["x-amz-apigw-id"]
    assert len(apigw_id) == 16 and apigw_id.endswith("=")


def assert_error(app, response, status: int, message: str, error_type: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"message": message}
    assert_valid(app, "gateway/error", response.json())
    assert_amzn(response)
    assert response.headers.get("x-amzn-ErrorType") == error_type


def test_user_record_has_every_field_of_the_page(client, app):
    response = gw(client, "user/stoolpresidente")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_amzn(response)
    assert "x-amzn-ErrorType" not in response.headers
    body = response.json()
    assert_valid(app, "gateway/user.200", body)
    user = body["user"]
    assert user == {
        "id": "6659752019493208069", "nickname": "Dave Portnoy", "id_dup": "6659752019493208069",
        "secUid": "MS4wLjABAAAAINC_ElRR-l1RCcnEjOZhNO-9wOzAMf-YHXqRY8vvG9bEhMRa6iu23TaE3JPZYXBD",
        "profileBio": "El Presidente/Barstool Sports Founder.",
        "profilePictureUrl": user["profilePictureUrl"], "isVerified": True,
        "isPrivateAccount": False, "createdAt": STAMP, "updatedAt": STAMP,
    }
    assert "tiktokcdn.com" in user["profilePictureUrl"]
    assert body["stats"] == {"diggCount": 0, "followerCount": 4100000, "followingCount": 74,
                             "friendCount": 52, "heartCount": 190400000, "heart": 190400000,
                             "videoCount": 2017}
    assert list(body["stats"]) == ["diggCount", "followerCount", "followingCount", "friendCount",
                                   "heartCount", "heart", "videoCount"]
    assert balance(client) == 999


def test_a_stored_record_comes_back_unchanged_until_reset(client):
    first = gw(client, "user/tiny_account")
    assert client.post("/__mock/clock", json={"advance": 86_400 * 3}).status_code == 200
    second = gw(client, "user/tiny_account")
    assert second.content == first.content
    assert second.headers["x-amzn-RequestId"] != first.headers["x-amzn-RequestId"]
    fresh = gw(client, "user/empty_account").json()["user"]
    assert fresh["createdAt"] == fresh["updatedAt"] == "2026-11-26T12:00:00.000Z"
    client.post("/__mock/reset")
    client.post("/__mock/clock", json={"advance": 60})
    again = gw(client, "user/tiny_account").json()["user"]
    assert again["createdAt"] == "2026-11-23T12:01:00.000Z"


def test_the_memory_store_keeps_the_newest_records_and_remakes_a_forgotten_one(
        client, app, monkeypatch):
    # each distinct handle stored a record for good: a load test of 140,000 grew the process
    # by 1.6 KB a handle, without bound
    from mockserver.vendors import gateway

    monkeypatch.setattr(gateway, "KEPT_RECORDS", 3)
    handles = [f"kept_user_{n}" for n in range(4)]
    stored = [gw(client, f"user/{handle}").json()["user"] for handle in handles[:3]]
    assert client.post("/__mock/clock", json={"advance": 86_400}).status_code == 200
    assert gw(client, f"user/{handles[3]}").json()["user"]["createdAt"] == \
        "2026-11-24T12:00:00.000Z"  # the fourth: the first is forgotten
    for handle, record in zip(handles[1:3], stored[1:], strict=True):
        assert gw(client, f"user/{handle}").json()["user"] == record  # kept, stale
    remade = gw(client, f"user/{handles[0]}").json()["user"]
    assert remade["createdAt"] == remade["updatedAt"] == "2026-11-24T12:00:00.000Z"
    assert stored[0]["createdAt"] == STAMP
    assert len(app.state.mock.store.items(gateway.USERS)) == 3


def test_video_record_has_every_field_and_the_stored_author(client, app):
    mock = app.state.mock
    account = mock.world.account("username")
    video = mock.world.nth_newest(account, NOW, 1)  # the video page's example
    response = gw(client, f"video/username/{video.id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(app, "gateway/video.200", body)
    assert body["id"] == "7321234567890123456" == video.id
    assert body["description"] == video.caption
    assert body["createTime"] == str(video.create_time) == "1704067200"
    assert body["duration"] == video.duration
    music = video.music
    assert body["music"] == {"id": music.id, "title": music.title, "authorName": music.author,
                             "album": music.album, "duration": music.duration,
                             "original": music.original, "private": music.private,
                             "createdAt": STAMP, "updatedAt": STAMP}
    counts = mock.world.counts(account, video, NOW)  # exact, as TikTok gives per-video counts
    assert body["stats"] == {
        "diggCount": counts.likes, "collectCount": counts.saves,
        "commentCount": counts.comments, "playCount": counts.views,
        "repostCount": counts.reposts, "shareCount": counts.shares}
    user = gw(client, "user/username").json()
    assert body["author"] == user["user"] and body["authorStats"] == user["stats"]
    assert_amzn(response)


def test_the_video_route_stores_the_author_first(client):
    client.post("/__mock/clock", json={"advance": 10})
    video_id = gw(client, "video/username/7321234567890123456").json()["author"]
    client.post("/__mock/clock", json={"advance": 10})
    assert gw(client, "user/username").json()["user"] == video_id
    assert video_id["createdAt"] == "2026-11-23T12:00:10.000Z"


def test_private_account_user_found_videos_not(client, app):
    body = gw(client, "user/private_account").json()
    assert body["user"]["isPrivateAccount"] is True
    account = app.state.mock.world.account("private_account")
    video = app.state.mock.world.nth_newest(account, NOW)
    assert_error(app, gw(client, f"video/private_account/{video.id}"), 404, "Video not found",
                 None)


def test_not_found_answers(client, app):
    mock = app.state.mock
    tiny = mock.world.nth_newest(mock.world.account("tiny_account"), NOW, 3)
    spent = balance(client)
    cases = [("user/ghost_account_404", "User not found"),
             ("user/not-a-handle", "User not found"),
             ("user/%40%40", "User not found"),
             (f"video/ghost_account_404/{tiny.id}", "User not found"),
             (f"video/brand_with_ads/{tiny.id}", "Video not found"),
             ("video/tiny_account/12345", "Video not found"),
             ("video/tiny_account/abc", "Video not found"),
             ("video/tiny_account/" + "9" * 25, "Video not found")]
    for path, message in cases:
        assert_error(app, gw(client, path), 404, message, None)
    assert gw(client, f"video/tiny_account/{tiny.id}").status_code == 200
    assert gw(client, f"video/@Tiny_Account/{tiny.id}").status_code == 200
    assert balance(client) == spent - 2


@pytest.mark.parametrize("key", [None, "", "short_key", "x" * 19, "x" * 129,
                                 "has spaces in it 0123456789", "bad!chars0123456789abcd"])
def test_missing_or_malformed_key_is_forbidden(client, app, key):
    assert_error(app, gw(client, "user/stoolpresidente", key=key), 403, "Forbidden",
                 "ForbiddenException")


def test_inactive_key_is_forbidden_and_spent_quota_is_limit_exceeded(client, app):
    assert_error(app, gw(client, "user/tiny_account", key="gw_inactive_key_0123456789"),
                 403, "Forbidden", "ForbiddenException")
    assert_error(app, gw(client, "user/tiny_account", key="gw_quota_spent_0123456789"),
                 429, "Limit Exceeded", "LimitExceededException")


def test_throttling_is_too_many_requests(client, app):
    slow = "gw_slow_lane_key_0123456789"
    assert gw(client, "user/tiny_account", key=slow).status_code == 200
    assert gw(client, "user/tiny_account", key=slow).status_code == 200
    assert_error(app, gw(client, "user/tiny_account", key=slow), 429, "Too Many Requests",
                 "TooManyRequestsException")
    client.post("/__mock/clock", json={"advance": 60})
    assert gw(client, "user/tiny_account", key=slow).status_code == 200


@pytest.mark.parametrize("path, method", [
    ("nothing", "GET"), ("user", "GET"), ("user/", "GET"), ("user/a/b", "GET"),
    ("video/tiny_account", "GET"), ("user/tiny_account", "POST"),
    ("user/tiny_account", "DELETE"), ("video/tiny_account/1", "PUT"), ("", "GET")])
def test_any_other_path_or_method_is_missing_authentication_token(client, app, path, method):
    response = gw(client, path, method=method)
    assert_error(app, response, 403, "Missing Authentication Token",
                 "MissingAuthenticationTokenException")
    assert balance(client) == 1000


def test_missing_token_works_without_a_key_and_is_journaled(client, app):
    assert_error(app, gw(client, "whatever", key=None), 403, "Missing Authentication Token",
                 "MissingAuthenticationTokenException")
    entry = client.get("/__mock/requests", params={"vendor": "gateway"}).json()["requests"][0]
    assert entry["route"] == "unknown" and entry["status"] == 403
    assert entry["path"] == "/dev/tiktok/whatever"


@pytest.mark.parametrize("route", ["user/tiny_account", "video/username/7321234567890123456"])
@pytest.mark.parametrize("scenario, status, message, error_type", [
    ("forbidden", 403, "Forbidden", "ForbiddenException"),
    ("missing_auth_token", 403, "Missing Authentication Token",
     "MissingAuthenticationTokenException"),
    ("throttled", 429, "Too Many Requests", "TooManyRequestsException"),
    ("quota_exceeded", 429, "Limit Exceeded", "LimitExceededException"),
    ("backend_error", 502, "Internal server error", "InternalServerErrorException"),
    ("timeout", 504, "Endpoint request timed out", "InternalServerErrorException"),
])
def test_every_scenario_answers_as_api_gateway(client, app, route, scenario, status, message,
                                               error_type):
    response = gw(client, route, **{"X-Mock-Scenario": scenario})
    assert_error(app, response, status, message, error_type)
    assert balance(client) == 1000


def test_world_scenarios_and_the_flaky_fixture(client, app):
    assert_error(app, gw(client, "user/stoolpresidente", **{"X-Mock-Scenario": "not_found"}),
                 404, "User not found", None)
    hidden = gw(client, "user/stoolpresidente", **{"X-Mock-Scenario": "private"}).json()
    assert hidden["user"]["isPrivateAccount"] is True
    stored = gw(client, "user/stoolpresidente").json()
    assert stored["user"]["isPrivateAccount"] is False, "a scenario never reaches the store"
    assert_error(app, gw(client, "user/flaky_upstream"), 502, "Internal server error",
                 "InternalServerErrorException")


def test_catalogue_lists_the_six_scenarios(client):
    rows = [r for r in client.get("/__mock/scenarios").json()["catalogue"]
            if r["vendor"] == "gateway" and r["kind"] == "error"]
    assert {(r["name"], r["status"], r["body"]["message"]) for r in rows} == {
        ("forbidden", 403, "Forbidden"),
        ("missing_auth_token", 403, "Missing Authentication Token"),
        ("throttled", 429, "Too Many Requests"), ("quota_exceeded", 429, "Limit Exceeded"),
        ("backend_error", 502, "Internal server error"),
        ("timeout", 504, "Endpoint request timed out")}


def test_a_restarted_server_on_a_file_store_keeps_records_balances_and_journal(tmp_path):
    path = str(tmp_path / "mock.sqlite")

    def serve() -> ServerThread:
        return ServerThread(create_app(Settings.load({"now": FROZEN, "store": path}, env={})))

    with serve() as first, httpx.Client(base_url=first.url) as http:
        user = http.get("/dev/tiktok/user/tiny_account", headers={"x-api-key": KEY})
        listed = http.get("/v1/tiktok/profiles/tiny_account/videos",
                          headers={"x-api-key": "sfk_restart"})
        video_id = listed.json()["data"]["videos"][0]["id"]
        video = http.get(f"/dev/tiktok/video/tiny_account/{video_id}",
                         headers={"x-api-key": KEY})
        assert user.status_code == video.status_code == 200
    with sqlite3.connect(path) as db:  # the journal on file holds masked keys only
        logged = b"".join(row[0] for row in db.execute("SELECT value FROM log"))
    assert logged.count(b'"status":200') == 3
    assert KEY.encode() not in logged and b"sfk_restart" not in logged
    with serve() as second, httpx.Client(base_url=second.url) as http:
        http.post("/__mock/clock", json={"set": "2027-01-01T00:00:00Z"})
        again = http.get("/dev/tiktok/user/tiny_account", headers={"x-api-key": KEY})
        assert again.content == user.content
        assert again.json()["user"]["createdAt"] == STAMP
        video_again = http.get(f"/dev/tiktok/video/tiny_account/{video_id}",
                               headers={"x-api-key": KEY})
        assert video_again.content == video.content
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 996
        assert http.get("/__mock/keys/sfk_restart").json()["balance"] == 999
        journal = http.get("/__mock/requests", params={"vendor": "gateway"}).json()
        assert journal["count"] == 4  # two before the restart, two after
        fresh = http.get("/dev/tiktok/user/empty_account", headers={"x-api-key": KEY}).json()
        assert fresh["user"]["createdAt"] == iso(1798761600)


def test_documented_routes_over_http(live):
    with httpx.Client(base_url=live.url) as http:
        user = http.get("/dev/tiktok/user/username", headers={"x-api-key": KEY})
        video = http.get("/dev/tiktok/video/username/7321234567890123456",
                         headers={"x-api-key": KEY})
        missing = http.get("/dev/tiktok/users/username", headers={"x-api-key": KEY})
    assert user.status_code == video.status_code == 200
    assert video.json()["author"]["id"] == user.json()["user"]["id"]
    assert missing.status_code == 403
    assert missing.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", user.headers["x-amz-apigw-id"])


# the clock set back: the database holds no record made after the clock's instant -------------

MONTH = 30 * 86_400


def test_a_user_record_stored_after_the_clock_is_made_anew_when_it_goes_back(client):
    client.post("/__mock/clock", json={"advance": MONTH})
    later = gw(client, "user/clocktest").json()
    assert later["user"]["createdAt"] == iso(NOW + MONTH)
    assert client.post("/__mock/clock", json={"set": FROZEN}).status_code == 200
    now = gw(client, "user/clocktest").json()
    assert now["user"]["createdAt"] == now["user"]["updatedAt"] == STAMP
    dumpling = client.post("/api/v1/get-tiktok-profile", json={"handle": "clocktest"},
                           headers={"Authorization": "Bearer sk_test_key"}).json()["stats"]
    assert now["stats"]["videoCount"] == dumpling["videoCount"] < later["stats"]["videoCount"]
    client.post("/__mock/clock", json={"advance": 60})  # stored again: stale from here on
    assert gw(client, "user/clocktest").json() == now


def test_a_record_made_later_in_the_same_second_is_made_anew_when_the_clock_goes_back(client):
    """The clock keeps fractions of a second (a running clock always has them): a record
    stamped .750 is after a clock set back to .250 of the same second."""
    client.post("/__mock/clock", json={"set": NOW + 0.75})
    later = gw(client, "user/clocktest").json()["user"]
    assert later["createdAt"] == iso(NOW)[:-4] + "750Z"
    client.post("/__mock/clock", json={"set": NOW + 0.25})
    now = gw(client, "user/clocktest").json()["user"]
    assert now["createdAt"] == now["updatedAt"] == iso(NOW)[:-4] + "250Z"
    client.post("/__mock/clock", json={"advance": 0.5})  # kept from here on, as any record
    assert gw(client, "user/clocktest").json()["user"] == now


def test_a_request_that_opened_before_another_stored_the_record_serves_that_record():
    """On a running clock, a request that opened first but renders after another (here it
    sleeps a latency; on a shared store, a ledger step's round trip) finds a record stamped
    after its own opening: the clock has not gone back, so it is the record, served by the
    other request already, not one to drop and make again (two answers, two records)."""
    import threading

    app = create_app(Settings.load({"rate_limit": 0}, env={}))  # the clock running
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: answers.append(
            gw(http, "user/clocktest", **{"X-Mock-Latency-Ms": "600"})))
        slow.start()
        time.sleep(0.3)  # it has opened, and sleeps
        quick = gw(http, "user/clocktest")
        slow.join(10)
        assert quick.status_code == answers[0].status_code == 200, answers[0].text
        stored = quick.json()["user"]
        assert answers[0].json()["user"] == stored  # the record stored first, not a new one
        assert gw(http, "user/clocktest").json()["user"] == stored


def test_a_video_record_stored_after_the_clock_is_made_anew_or_not_found(client, app):
    world = app.state.mock.world
    account = world.account("clocktest")
    posted = world.nth_newest(account, NOW)  # posted before the clock's instant
    client.post("/__mock/clock", json={"advance": MONTH})
    unborn = world.nth_newest(account, NOW + MONTH)  # posted after it
    assert unborn.create_time > NOW >= posted.create_time
    for video in (posted, unborn):
        assert gw(client, f"video/clocktest/{video.id}").status_code == 200
    later = gw(client, f"video/clocktest/{posted.id}").json()
    client.post("/__mock/clock", json={"set": NOW})
    gone = gw(client, f"video/clocktest/{unborn.id}")  # never a video in the future
    assert gone.status_code == 404 and gone.json() == {"message": "Video not found"}
    now = gw(client, f"video/clocktest/{posted.id}").json()
    assert now["music"]["createdAt"] == now["author"]["createdAt"] == STAMP
    counts = world.counts(account, posted, NOW)
    assert now["stats"]["playCount"] == counts.views < later["stats"]["playCount"]
    assert now["author"] == gw(client, "user/clocktest").json()["user"]


def test_processes_sharing_redis_agree_on_the_record_made_anew(redis_server):
    redis_server.flush()
    settings = Settings.load({"now": FROZEN, "store": redis_server.url, "rate_limit": 0},
                             env={})
    with ServerThread(create_app(settings)) as one, ServerThread(create_app(settings)) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        first.post("/__mock/clock", json={"advance": MONTH})
        later = gw(first, "user/clocktest").content
        assert gw(second, "user/clocktest").content == later  # each process keeps it now
        first.post("/__mock/clock", json={"set": FROZEN})
        answers = {gw(client, "user/clocktest").content for client in (second, first, second)}
        assert len(answers) == 1 and later not in answers
        assert orjson.loads(answers.pop())["user"]["createdAt"] == STAMP
