"""DumplingAI's three routes, as its pages document them."""

from __future__ import annotations

import json

import httpx
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.calls import tagged, utf16_slice
from tests.conftest import FROZEN, assert_valid, dumpling

PROFILE, VIDEOS, VIDEO = "get-tiktok-profile", "get-tiktok-profile-videos", "get-tiktok-video"
SCHEMA = {PROFILE: "dumpling/profile.200", VIDEOS: "dumpling/videos.200",
          VIDEO: "dumpling/video.200"}


def test_profile_matches_the_documented_example(client, app):
    response = dumpling(client, PROFILE, {"handle": "stoolpresidente"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert_valid(app, SCHEMA[PROFILE], body)
    user, stats = body["user"], body["stats"]
    assert user["id"] == "6659752019493208069"
    assert user["uniqueId"] == "stoolpresidente"
    assert user["nickname"] == "Dave Portnoy"
    assert user["signature"] == "El Presidente/Barstool Sports Founder."
    assert user["createTime"] == 1550594547
    assert user["secUid"].startswith("MS4wLjABAAAAINC_ElRR")
    assert user["verified"] is True and user["privateAccount"] is False
    assert user["region"] == "US" and user["language"] == "en"
    assert user["bioLink"] == {"link": "https://www.barstoolsports.com/bios/Surviving-Barstool",
                               "risk": 0}
    assert stats == {"followerCount": 4100000, "followingCount": 74, "heart": 190400000,
                     "heartCount": 190400000, "videoCount": 2017, "diggCount": 0,
                     "friendCount": 52}
    assert body["itemList"] == []
    example_keys = {"id", "shortId", "uniqueId", "nickname", "avatarLarger", "avatarMedium",
                    "avatarThumb", "signature", "createTime", "verified", "secUid", "ftc",
                    "relation", "openFavorite", "bioLink", "commentSetting", "commerceUserInfo",
                    "duetSetting", "stitchSetting", "privateAccount", "secret", "isADVirtual",
                    "roomId", "uniqueIdModifyTime", "ttSeller", "region", "downloadSetting",
                    "profileTab", "followingVisibility", "recommendReason",
                    "nowInvitationCardUrl", "nickNameModifyTime", "isEmbedBanned",
                    "canExpPlaylist", "profileEmbedPermission", "language", "eventList",
                    "suggestAccountBind", "isOrganization"}
    assert set(user) == example_keys
    assert "tiktokcdn.com" in user["avatarLarger"] and "x-expires=" in user["avatarLarger"]


def test_rate_limit_headers_on_every_authenticated_answer(client):
    first = dumpling(client, PROFILE, {"handle": "stoolpresidente"})
    second = dumpling(client, PROFILE, {"handle": "nobody.here"})
    assert first.headers["x-ratelimit-limit"] == "600"
    assert int(first.headers["x-ratelimit-remaining"]) == 599
    assert int(second.headers["x-ratelimit-remaining"]) == 598


def test_videos_page_shape_cursors_and_extra_now(client, app):
    body = dumpling(client, VIDEOS, {"handle": "stoolpresidente"}).json()
    assert_valid(app, SCHEMA[VIDEOS], body)
    page = body["aweme_list"]
    assert len(page) == 30 and body["has_more"] == 1
    assert [item["is_top"] for item in page[:3]] == [1, 1, 1]  # pinned first, as TikTok does
    times = [item["create_time"] for item in page if not item["is_top"]]
    assert times == sorted(times, reverse=True) and len(times) == 27
    assert body["min_cursor"] == str(times[0] * 1000)
    assert body["max_cursor"] == str(times[-1] * 1000)
    assert body["extra"] == {"now": 1795435200000}
    item = page[0]
    assert item["author"]["unique_id"] == "stoolpresidente"
    assert item["statistics"]["digg_count"] <= item["statistics"]["play_count"]
    for extra in item["text_extra"]:
        assert utf16_slice(item["desc"], extra["start"], extra["end"]) == tagged(extra)


def test_trim_returns_exactly_the_pages_fields(client):
    page = dumpling(client, VIDEOS, {"handle": "stoolpresidente", "trim": True}).json()
    item = page["aweme_list"][0]
    assert set(item) == {"aweme_id", "desc", "create_time", "statistics", "video", "author"}
    assert set(item["statistics"]) == {"comment_count", "digg_count", "download_count",
                                       "play_count", "share_count"}
    assert set(item["video"]) == {"duration", "cover"}
    assert set(item["author"]) == {"unique_id", "nickname"}


@pytest.mark.parametrize("digits", ["12345678901234567890", "9" * 40, "9" * 64])
def test_a_cursor_of_any_digits_later_than_every_video_lists_them_from_the_newest(
        client, app, digits):
    """A string of digits, however long, is a cursor (the 400 said it was not digits):
    past every video it lists them from the newest, without the pinned ones, as a cursor
    just after the clock's instant does."""
    just_after = str(1795435200000 + 1000)  # FROZEN in milliseconds, plus a second
    expected = dumpling(client, VIDEOS, {"handle": "stoolpresidente", "maxCursor": just_after})
    response = dumpling(client, VIDEOS, {"handle": "stoolpresidente", "maxCursor": digits})
    assert response.status_code == 200, response.text
    assert_valid(app, SCHEMA[VIDEOS], response.json())
    assert response.json()["aweme_list"] == expected.json()["aweme_list"]
    first = dumpling(client, VIDEOS, {"handle": "stoolpresidente"}).json()["aweme_list"]
    assert response.json()["aweme_list"][0] == next(v for v in first if not v["is_top"])


@pytest.mark.parametrize("cursor", ["9" * 65, "12a", "１２", " 12", "-1", "1.5", "1e5"])
def test_a_cursor_that_is_not_up_to_64_digits_keeps_its_400(client, cursor):
    response = dumpling(client, VIDEOS, {"handle": "stoolpresidente", "maxCursor": cursor})
    assert (response.status_code, response.json()) == (
        400, {"error": "'maxCursor' parameter must be a string of digits."})


def walk(post, handle: str) -> tuple[list[dict], list[int]]:
    items, flags, cursor = [], [], None
    while True:
        body = {"handle": handle, **({"maxCursor": cursor} if cursor else {})}
        page = post(body)
        items += page["aweme_list"]
        flags.append(page["has_more"])
        if not page["has_more"]:
            return items, flags
        cursor = page["max_cursor"]


@pytest.mark.parametrize("handle", ["stoolpresidente", "tiny_account", "empty_account"])
def test_cursor_walk_yields_every_video_once_newest_first(client, handle):
    profile = dumpling(client, PROFILE, {"handle": handle}).json()
    items, flags = walk(lambda b: dumpling(client, VIDEOS, b).json(), handle)
    ids = [item["aweme_id"] for item in items]
    assert len(ids) == len(set(ids)) == profile["stats"]["videoCount"]
    pinned = sum(item.get("is_top", 0) for item in items)
    assert all(item["is_top"] for item in items[:pinned])  # pinned first, on the first page
    times = [item["create_time"] for item in items[pinned:]]
    assert times == sorted(times, reverse=True)
    assert flags[-1] == 0 and all(flags[:-1])


def test_a_page_of_120000_videos_costs_what_a_page_of_10_costs(app, client):
    world = app.state.mock.world
    for handle in ("tiny_account", "huge_account"):
        dumpling(client, VIDEOS, {"handle": handle})  # warm the account
    deep = dumpling(client, VIDEOS, {"handle": "huge_account"}).json()
    cursor = str(world.create_time(world.account("huge_account"), 20_000) * 1000 + 1)
    before = world.generated
    page = dumpling(client, VIDEOS, {"handle": "huge_account", "maxCursor": cursor}).json()
    assert len(page["aweme_list"]) == 30 and deep["has_more"] == 1
    assert world.generated - before == 30  # only the page itself is generated


def test_video_route_by_every_url_form(client, app):
    listed = dumpling(client, VIDEOS, {"handle": "stoolpresidente"}).json()["aweme_list"][3]
    video_id = listed["aweme_id"]
    urls = [f"https://www.tiktok.com/@stoolpresidente/video/{video_id}",
            f"https://www.tiktok.com/@StoolPresidente/video/{video_id}?is_from_webapp=1",
            f"https://m.tiktok.com/v/{video_id}.html"]
    for url in urls:
        response = dumpling(client, VIDEO, {"url": url})
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        assert_valid(app, SCHEMA[VIDEO], body)
        assert body["id"] == video_id
        assert body["createTime"] == listed["create_time"]
        exact = listed["statistics"]
        assert body["stats"]["playCount"] == exact["play_count"]
        assert body["stats"]["diggCount"] == exact["digg_count"]
        assert body["author"]["uniqueId"] == "stoolpresidente"
        for extra in body["textExtra"]:
            assert utf16_slice(body["desc"], extra["start"], extra["end"]) == tagged(extra, False)


def test_spaces_and_newlines_around_a_url_are_ignored_but_not_inside_it(client):
    """As the README says: a URL pasted with its line's newline is the same video."""
    video_id = dumpling(client, VIDEOS, {"handle": "stoolpresidente"}).json()["aweme_list"][0][
        "aweme_id"]
    url = f"https://www.tiktok.com/@stoolpresidente/video/{video_id}"
    plain = dumpling(client, VIDEO, {"url": url})
    for padded in (url + "\n", f"  {url}\r\n", f"\t{url} "):
        response = dumpling(client, VIDEO, {"url": padded})
        assert response.status_code == 200 and response.json()["id"] == video_id, padded
        assert response.json()["stats"] == plain.json()["stats"]
    for broken in (url.replace("/video/", "/video /"), url + "\nhttps://www.tiktok.com/"):
        response = dumpling(client, VIDEO, {"url": broken})
        assert (response.status_code, response.json()) == (
            400, {"error": "Invalid TikTok video URL format."}), broken


def test_a_bare_id_resolves_alike_on_a_fresh_mock_and_after_its_video_was_listed(app):
    """m.tiktok.com/v/ID.html: a fixture account's video (the pages' examples) is found on
    a fresh mock; a generated account's is not found, and listing it first changes nothing
    (the answer never depends on what was asked before, nor on which worker answers)."""
    from starlette.testclient import TestClient

    def by_id(client, video_id: str) -> int:
        return dumpling(client, VIDEO, {"url": f"https://m.tiktok.com/v/{video_id}.html"}
                        ).status_code

    with TestClient(app) as fresh:
        assert by_id(fresh, "7321234567890123456") == 200  # the video page's example
        assert by_id(fresh, "7460293617584139566") == 200  # the videos page's example
        listed = dumpling(fresh, VIDEOS, {"handle": "dave_1"}).json()["aweme_list"][0]
        assert by_id(fresh, listed["aweme_id"]) == 404
        full = f"https://www.tiktok.com/@dave_1/video/{listed['aweme_id']}"
        assert dumpling(fresh, VIDEO, {"url": full}).status_code == 200
        assert by_id(fresh, listed["aweme_id"]) == 404


def test_a_share_link_never_issued_resolves_to_the_same_video_every_time(client):
    first = dumpling(client, VIDEO, {"url": "https://vm.tiktok.com/ZMhKxyz/"})
    again = dumpling(client, VIDEO, {"url": "https://vm.tiktok.com/ZMhKxyz/"})
    assert first.status_code == 200 and first.json() == again.json()
    assert dumpling(client, VIDEO, {"url": "https://vt.tiktok.com/ZSabc123/"}).status_code == 200


def test_the_documented_curl_examples_answer_200_over_http(live):
    base = live.url
    headers = {"Authorization": "Bearer YOUR_API_KEY", "Content-Type": "application/json"}
    for route, body in ((PROFILE, '{ "handle": "stoolpresidente" }'),
                        (VIDEOS, '{ "handle": "stoolpresidente" }'),
                        (VIDEO, '{ "url": "https://www.tiktok.com/@username/video/'
                                '7321234567890123456" }')):
        response = httpx.post(f"{base}/api/v1/{route}", content=body, headers=headers)
        assert response.status_code == 200, response.text


def test_same_seed_same_bytes_in_any_order():
    requests = [(PROFILE, {"handle": "alice"}), (VIDEOS, {"handle": "bob"}),
                (PROFILE, {"handle": "stoolpresidente"}), (VIDEOS, {"handle": "alice"})]
    from starlette.testclient import TestClient
    answers = []
    for order in (requests, list(reversed(requests))):
        with TestClient(create_app(Settings.load({"now": FROZEN}, env={}))) as fresh:
            answers.append({json.dumps(r): dumpling(fresh, r[0], r[1]).content for r in order})
    assert answers[0] == answers[1]


def balance(client, key: str) -> int:
    return client.get(f"/__mock/keys/{key}").json()["balance"]


def test_credits_are_2_1_1_on_success_and_nothing_on_failure(client, app):
    key = "sk_credit_check"
    video = dumpling(client, VIDEOS, {"handle": "tiny_account"}, key=key).json()
    url = f"https://www.tiktok.com/@tiny_account/video/{video['aweme_list'][0]['aweme_id']}"
    assert balance(client, key) == 999
    assert dumpling(client, PROFILE, {"handle": "tiny_account"}, key=key).status_code == 200
    assert balance(client, key) == 997
    assert dumpling(client, VIDEO, {"url": url}, key=key).status_code == 200
    assert balance(client, key) == 996
    for route, body in ((PROFILE, {"handle": "ghost_account_404"}), (PROFILE, {}),
                        (VIDEO, {"url": "https://example.com/x"}), (VIDEOS, b"{nope")):
        assert dumpling(client, route, body, key=key).status_code >= 400
    assert dumpling(client, PROFILE, {"handle": "a1"}, key=key,
                    **{"X-Mock-Scenario": "upstream_unavailable"}).status_code == 502
    assert balance(client, key) == 996


def test_balance_never_goes_below_zero(client):
    response = dumpling(client, PROFILE, {"handle": "tiny_account"}, key="sk_one_credit")
    assert (response.status_code, response.json()) == (
        403, {"error": "Insufficient credits. Please top up your account."})
    assert dumpling(client, VIDEOS, {"handle": "tiny_account"}, key="sk_one_credit"
                    ).status_code == 200
    assert balance(client, "sk_one_credit") == 0
    assert dumpling(client, VIDEO, {"url": "https://vm.tiktok.com/ZMhKxyz/"},
                    key="sk_one_credit").status_code == 403
    assert balance(client, "sk_one_credit") == 0


NATURAL = [
    (PROFILE, b"{not json", 400, "Invalid JSON in request body"),
    (PROFILE, b"", 400, "Invalid JSON in request body"),
    (PROFILE, {}, 400, "'handle' parameter is required and must be a non-empty string."),
    (PROFILE, {"handle": ""}, 400,
     "'handle' parameter is required and must be a non-empty string."),
    (PROFILE, {"handle": 42}, 400,
     "'handle' parameter is required and must be a non-empty string."),
    (PROFILE, ["handle"], 400, "'handle' parameter is required and must be a non-empty string."),
    (PROFILE, {"handle": "@stoolpresidente"}, 400,
     "The profile service could not process the handle."),
    (PROFILE, {"handle": "ghost_account_404"}, 404,
     "TikTok profile not found for handle: ghost_account_404"),
    (VIDEOS, {"handle": None}, 400,
     "'handle' parameter is required and must be a non-empty string."),
    (VIDEOS, {"handle": "has space"}, 400, "The video service could not process the handle."),
    (VIDEOS, {"handle": "tiny_account", "maxCursor": "yesterday"}, 400,
     "'maxCursor' parameter must be a string of digits."),
    (VIDEOS, {"handle": "ghost_account_404"}, 404,
     "TikTok profile not found for handle: ghost_account_404"),
    (VIDEO, {}, 400, "'url' parameter is required and must be a non-empty string."),
    (VIDEO, {"url": "   "}, 400, "Invalid TikTok video URL format."),
    (VIDEO, {"url": "https://youtube.com/watch?v=1"}, 400, "Invalid TikTok video URL format."),
    (VIDEO, {"url": "https://www.tiktok.com/@tiny_account/video/1"}, 404,
     "TikTok video not found for URL: https://www.tiktok.com/@tiny_account/video/1"),
]


@pytest.mark.parametrize(("route", "body", "status", "message"), NATURAL)
def test_natural_errors_carry_the_pages_exact_message(client, app, route, body, status, message):
    response = dumpling(client, route, body)
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert_valid(app, "dumpling/error", response.json())


@pytest.mark.parametrize("route", [PROFILE, VIDEOS, VIDEO])
@pytest.mark.parametrize("auth", [None, "Basic abc", "Bearer ", "Bearer a b", "bearer"])
def test_missing_or_malformed_key_is_401(client, route, auth):
    headers = {} if auth is None else {"Authorization": auth}
    response = client.post(f"/api/v1/{route}", json={"handle": "a1"}, headers=headers)
    assert (response.status_code, response.json()) == (
        401, {"error": "API key is invalid or missing."})


ODD_BODIES = [b"null", b"42", b'"handle"', b"[]", b'{"handle": {"x": 1}}', b'{"handle": NaN}',
              b'{"url": ["https://vm.tiktok.com/ZMabc/"]}', b"\xff\xfe\x00garbage",
              b'{"handle": "' + b"a" * 5000 + b'"}', b'{"handle": "\\u0000"}']


# Fields only the videos route documents; the other routes ignore them (a journal note).
ODD_VIDEOS_BODIES = [b'{"handle": "a1", "trim": "yes"}', b'{"handle": "a1", "maxCursor": 17}',
                     b'{"handle": "a1", "maxCursor": "' + b"9" * 65 + b'"}']


@pytest.mark.parametrize(("route", "body"), [
    *((route, body) for route in (PROFILE, VIDEOS, VIDEO) for body in ODD_BODIES),
    *((VIDEOS, body) for body in ODD_VIDEOS_BODIES)])
def test_bad_input_is_a_vendor_400_never_a_500(client, route, body):
    response = dumpling(client, route, body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error"}
