"""Social Fetch's two GET routes, as its page and its published contract describe them."""

from __future__ import annotations

import httpx
import pytest

from mockserver.clock import iso
from tests.calls import tagged, utf16_slice
from tests.conftest import assert_valid

KEY = "sfk_test_key"
NOW = 1_795_435_200  # the suite's frozen clock, 2026-11-23T12:00:00Z
PROFILE, VIDEOS = "socialfetch/profile.200", "socialfetch/videos.200"
CODES = {"bad_request": 400, "unauthorized": 401, "insufficient_credits": 402,
         "internal_error": 500, "lookup_failed": 502, "temporarily_unavailable": 503}


def sf(client, path: str, key: str | None = KEY, params=None, **headers):
    if key is not None:
        headers["x-api-key"] = key
    return client.get(f"/v1/tiktok/profiles/{path}", params=params, headers=headers)


def balance(client, key: str = KEY) -> int:
    return client.get(f"/__mock/keys/{key}").json()["balance"]


def assert_error(app, response, code: str) -> dict:
    assert response.status_code == CODES[code], response.text
    body = response.json()
    assert_valid(app, "socialfetch/error", body)
    assert body["error"]["code"] == code
    assert body["error"]["requestId"] == response.headers["x-request-id"]
    return body["error"]


def walk(client, handle: str, **params) -> tuple[list[dict], list[dict]]:
    """Every video of a videos walk, and every page's ``data.page``."""
    videos, pages, cursor = [], [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = sf(client, f"{handle}/videos", params=query)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        videos += data["videos"]
        pages.append(data["page"])
        cursor = data["page"]["nextCursor"]
        if cursor is None:
            return videos, pages
        assert len(pages) < 50


def test_profile_found_has_every_documented_field(client, app):
    response = sf(client, "stoolpresidente")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "x-ratelimit-limit" not in response.headers
    body = response.json()
    assert_valid(app, PROFILE, body)
    assert body["meta"] == {"requestId": response.headers["x-request-id"], "creditsCharged": 1,
                            "version": "v1"}
    assert body["meta"]["requestId"].startswith("req_")
    data = body["data"]
    assert data["lookupStatus"] == "found"
    profile = data["profile"]
    large = profile["avatarUrls"]["large"]
    assert profile == {
        "platform": "tiktok", "handle": "stoolpresidente", "displayName": "Dave Portnoy",
        "bio": "El Presidente/Barstool Sports Founder.", "avatarUrl": large, "verified": True,
        "profileUrl": "https://www.tiktok.com/@stoolpresidente", "privateAccount": False,
        "platformUserId": "6659752019493208069",
        "secUid": "MS4wLjABAAAAINC_ElRR-l1RCcnEjOZhNO-9wOzAMf-YHXqRY8vvG9bEhMRa6iu23TaE3JPZYXBD",
        "accountCreatedAt": "2019-02-19T16:42:27.000Z",
        "avatarUrls": profile["avatarUrls"],
        "bioLink": {"url": "https://www.barstoolsports.com/bios/Surviving-Barstool",
                    "riskLevel": 0},
        "language": "en", "isCommerceUser": False, "isSeller": False, "openFavorite": False,
        "isAdVirtual": False, "isEmbedBanned": False, "canExpandPlaylist": True,
        "profileEmbedPermission": 1, "followingVisibility": 1, "roomId": None,
        "contentSettings": {"comment": "everyone", "duet": "everyone", "stitch": "everyone",
                            "download": "everyone"},
        "profileTabs": {"showMusicTab": False, "showQuestionTab": False,
                        "showPlayListTab": True},
    }
    assert set(profile["avatarUrls"]) == {"large", "medium", "thumb"}
    assert all("tiktokcdn.com" in url for url in profile["avatarUrls"].values())
    assert data["metrics"] == {"followers": 4100000, "following": 74, "likes": 190400000,
                               "posts": 2017, "friends": 52, "diggs": 0}
    assert balance(client) == 999


def test_handle_may_carry_a_leading_at(client):
    plain = sf(client, "stoolpresidente").json()["data"]
    assert sf(client, "@stoolpresidente").json()["data"] == plain
    assert sf(client, "%40StoolPresidente").json()["data"] == plain


def test_content_settings_map_tiktoks_codes(client, app):
    mock = app.state.mock
    seen = set()
    for n in range(60):
        account = mock.world.account(f"settings.probe{n}")
        settings = sf(client, account.handle).json()["data"]["profile"]["contentSettings"]
        for name, code in (("comment", account.comment_setting), ("duet", account.duet_setting),
                           ("stitch", account.stitch_setting),
                           ("download", account.download_setting)):
            expected = {0: "everyone", 1: "friends", 2: "no_one", 3: "no_one"}[code]
            assert settings[name] == expected
            seen.add(expected)
    assert seen == {"everyone", "friends", "no_one"}


def test_private_profile_and_its_empty_video_list_are_charged_200s(client, app):
    body = sf(client, "private_account").json()
    assert_valid(app, PROFILE, body)
    assert body["data"]["lookupStatus"] == "private"
    assert body["data"]["profile"]["privateAccount"] is True
    assert body["data"]["metrics"]["followers"] == 812
    videos = sf(client, "private_account/videos")
    assert videos.status_code == 200
    assert videos.json()["data"] == {"videos": [], "page": {"nextCursor": None,
                                                            "hasMore": False}}
    assert videos.json()["meta"]["creditsCharged"] == 1
    assert balance(client) == 998


@pytest.mark.parametrize("handle", ["ghost_account_404", "not%20a%20handle!", "@", "a" * 40,
                                    "a-b"])
def test_not_found_is_a_charged_200_with_null_profile(client, app, handle):
    response = sf(client, handle)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(app, PROFILE, body)
    assert body["data"] == {"lookupStatus": "not_found", "profile": None, "metrics": None}
    assert body["meta"]["creditsCharged"] == 1
    videos = sf(client, f"{handle}/videos")
    assert videos.status_code == 200
    assert_valid(app, VIDEOS, videos.json())
    assert videos.json()["data"]["videos"] == []
    assert balance(client) == 998


def test_handle_longer_than_64_characters_is_a_bad_request(client, app):
    error = assert_error(app, sf(client, "a" * 65), "bad_request")
    assert error["message"] == "Invalid handle: expected 1 to 64 characters."
    assert balance(client) == 1000


def test_video_items_carry_every_documented_field(client, app):
    mock = app.state.mock
    account = mock.world.account("brand_with_ads")
    body = sf(client, "brand_with_ads/videos", params={"sortBy": "latest"}).json()
    assert_valid(app, VIDEOS, body)
    assert body["meta"]["creditsCharged"] == 1 and body["meta"]["version"] == "v1"
    first = body["data"]["videos"][0]
    video = mock.world.video(account, account.pinned[0])
    assert first["id"] == video.id
    assert first["caption"] == video.caption
    assert first["createdAt"] == iso(video.create_time)
    assert first["url"] == f"https://www.tiktok.com/@brand_with_ads/video/{video.id}"
    assert "tiktokcdn.com" in first["thumbnailUrl"] and "x-expires=" in first["thumbnailUrl"]
    assert first["durationMs"] == video.duration_ms
    assert first["pinned"] is True
    assert first["isAd"] is (account.pinned[0] in account.ads)
    counts = mock.world.counts(account, video, NOW)
    assert first["stats"] == {"views": counts.views, "likes": counts.likes,
                              "comments": counts.comments, "shares": counts.shares,
                              "saves": counts.saves}
    assert "watermark=1" in first["media"]["downloadUrl"]
    assert "watermark=0" in first["media"]["downloadWithoutWatermarkUrl"]
    details = first["details"]
    assert set(details) == {"author", "music", "challenges", "video", "statistics",
                            "text_extra"}
    assert details["author"]["uid"] == account.user_id
    assert details["statistics"]["play_count"] == counts.views
    assert details["video"]["duration"] == video.duration_ms  # TikTok's own unit here
    for extra in details["text_extra"]:
        assert utf16_slice(first["caption"], extra["start"], extra["end"]) == tagged(extra)
    ads = [v for v in body["data"]["videos"] if v["isAd"]]
    assert ads, "brand_with_ads shows its ads"
    for item in body["data"]["videos"]:
        assert 0 <= item["stats"]["likes"] <= item["stats"]["views"]


def test_trim_drops_details_and_only_details(client):
    full = sf(client, "tiny_account/videos").json()["data"]["videos"]
    trimmed = sf(client, "tiny_account/videos", params={"trim": "true"}).json()["data"]["videos"]
    assert [{k: v for k, v in item.items() if k != "details"} for item in full] == trimmed
    assert all("details" in item for item in full)
    explicit = sf(client, "tiny_account/videos", params={"trim": "false"}).json()["data"]
    assert explicit["videos"] == full


@pytest.mark.parametrize("handle", ["tiny_account", "brand_with_ads"])
def test_latest_walk_is_pinned_first_then_newest_first_every_video_once(client, app, handle):
    mock = app.state.mock
    account = mock.world.account(handle)
    videos, pages = walk(client, handle, sortBy="latest")
    count = mock.world.count(account, NOW)
    rest = [i for i in range(count - 1, -1, -1) if i not in account.pinned]
    expected = [mock.world.video(account, i).id for i in (*account.pinned, *rest)]
    assert [v["id"] for v in videos] == expected
    assert len(set(expected)) == count
    assert [v["pinned"] for v in videos[:len(account.pinned)]] == [True] * len(account.pinned)
    times = [v["createdAt"] for v in videos[len(account.pinned):]]
    assert times == sorted(times, reverse=True)
    assert [p["hasMore"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert all(p["nextCursor"] for p in pages[:-1]) and pages[-1]["nextCursor"] is None
    assert all(len(page) for page in pages)
    assert len(videos) == sf(client, handle).json()["data"]["metrics"]["posts"]


@pytest.mark.parametrize("handle", ["tiny_account", "brand_with_ads"])
def test_popular_walk_is_most_viewed_first_every_video_once(client, app, handle):
    account = app.state.mock.world.account(handle)
    videos, pages = walk(client, handle, sortBy="popular")
    views = [v["stats"]["views"] for v in videos]
    assert views == sorted(views, reverse=True)
    assert len({v["id"] for v in videos}) == len(videos) == app.state.mock.world.count(
        account, NOW)
    latest, _ = walk(client, handle, sortBy="latest")
    assert {v["id"] for v in latest} == {v["id"] for v in videos}
    assert pages[-1] == {"nextCursor": None, "hasMore": False}
    assert all(p["hasMore"] for p in pages[:-1])


def test_omitted_sort_is_latest_and_shares_its_cursors(client):
    default = sf(client, "brand_with_ads/videos").json()["data"]
    latest = sf(client, "brand_with_ads/videos", params={"sortBy": "latest"}).json()["data"]
    assert default == latest
    second = sf(client, "brand_with_ads/videos",
                params={"sortBy": "latest", "cursor": default["page"]["nextCursor"]})
    assert second.status_code == 200


def test_pages_are_full_until_the_last(client):
    data = sf(client, "brand_with_ads/videos").json()["data"]
    assert len(data["videos"]) == 30 and data["page"]["hasMore"] is True
    empty = sf(client, "empty_account/videos").json()["data"]
    assert empty == {"videos": [], "page": {"nextCursor": None, "hasMore": False}}


def test_cursors_are_positions_and_anything_else_is_a_bad_request(client, app):
    """A latest cursor is the position (counted from the oldest video, so new posts never
    shift it) below which the next page continues; a popular cursor is the position in the
    order of views. Every cursor of the documented form (1 to 9 digits) is a page, and
    anything else is refused, free."""
    first = sf(client, "brand_with_ads/videos").json()["data"]
    cursor = first["page"]["nextCursor"]
    assert cursor == "150"  # 180 videos: 2 pinned first, then seqs 179..150 less those 2
    second = sf(client, "brand_with_ads/videos", params={"cursor": cursor}).json()["data"]
    assert not {v["id"] for v in first["videos"]} & {v["id"] for v in second["videos"]}
    popular = sf(client, "brand_with_ads/videos", params={"sortBy": "popular"}).json()["data"]
    assert popular["page"]["nextCursor"] == "30"
    for sort, end in (("latest", "0"), ("popular", "999999999")):
        past_the_end = sf(client, "brand_with_ads/videos", params={"cursor": end, "sortBy": sort})
        assert past_the_end.json()["data"] == {"videos": [], "page": {"nextCursor": None,
                                                                      "hasMore": False}}
    spent = balance(client)
    for bad in ["-1", "1e3", "garbage", "a.b", " 30", "1234567890", "３０"]:
        error = assert_error(app, sf(client, "brand_with_ads/videos", params={"cursor": bad}),
                             "bad_request")
        assert error["message"].startswith("Invalid cursor"), bad
    assert balance(client) == spent


def test_a_user_id_of_another_account_is_noted_and_ignored_region_too(client, app):
    user_id = app.state.mock.world.account("tiny_account").user_id
    good = sf(client, "tiny_account/videos", params={"userId": user_id, "region": "US"})
    assert good.status_code == 200
    plain = sf(client, "tiny_account/videos")
    assert good.json()["data"] == plain.json()["data"]
    other = sf(client, "tiny_account/videos", params={"userId": "123"})
    assert other.status_code == 200 and other.json()["data"] == plain.json()["data"]
    entry = client.get("/__mock/requests", params={"vendor": "socialfetch"}).json()["requests"][0]
    assert "query parameter 'userId' \"123\" is not the id of tiny_account: ignored, the " \
           "handle decides" in entry["notes"]


@pytest.mark.parametrize("params, message", [
    ({"sortBy": "oldest"}, "Invalid sortBy: expected one of latest, popular."),
    ({"sortBy": ""}, "Invalid sortBy: expected one of latest, popular."),
    ({"trim": "yes"}, "Invalid trim: expected true or false."),
    ({"trim": "TRUE"}, "Invalid trim: expected true or false."),
    ({"cursor": ""}, "Invalid cursor: expected the data.page.nextCursor of a previous response."),
    ({"userId": ""}, "Invalid userId: must not be empty."),
    ({"region": ""}, "Invalid region: must not be empty."),
])
def test_bad_query_values_are_bad_requests_that_cost_nothing(client, app, params, message):
    error = assert_error(app, sf(client, "tiny_account/videos", params=params), "bad_request")
    assert error["message"] == message
    assert balance(client) == 1000


def test_odd_input_is_never_a_500(client):
    weird = ["%00", "%F0%9F%98%80", "a%2Fb", "a" * 64, "@@@", "%E2%80%AE", "..%2F..",
             "<script>", "x" * 64 + "/videos"]
    queries = [{"cursor": "\x00"}, {"sortBy": "popular", "cursor": "é"}, {"trim": "1"},
               {"unknown": "1"}, {"cursor": "a" * 5000}]
    for handle in weird:
        assert sf(client, handle).status_code in (200, 400, 404)
        for query in queries:
            assert sf(client, f"{handle}/videos", params=query).status_code in (200, 400, 404)


def test_unknown_query_parameters_are_noted_in_the_journal(client):
    sf(client, "tiny_account/videos", params={"limit": "5"})
    entry = client.get("/__mock/requests", params={"vendor": "socialfetch"}).json()["requests"][0]
    assert any("'limit'" in note for note in entry["notes"])
    assert entry["key"] != KEY and entry["headers"]["x-api-key"] != KEY


@pytest.mark.parametrize("key", [None, "", "sk_test", "sfk_", "SFK_abc", "Bearer sfk_x"])
def test_missing_or_malformed_key_is_unauthorized(client, app, key):
    error = assert_error(app, sf(client, "tiny_account", key=key), "unauthorized")
    assert error["message"] == "Missing or invalid API key."


def test_inactive_key_and_empty_balance(client, app):
    assert_error(app, sf(client, "tiny_account", key="sfk_inactive"), "unauthorized")
    error = assert_error(app, sf(client, "tiny_account/videos", key="sfk_empty"),
                         "insufficient_credits")
    assert error["checkoutUrl"] == "https://socialfetch.dev/billing"
    assert balance(client, "sfk_empty") == 0
    client.put("/__mock/keys/sfk_two", json={"balance": 2})
    for _ in range(2):
        assert sf(client, "tiny_account", key="sfk_two").status_code == 200
    assert_error(app, sf(client, "tiny_account", key="sfk_two"), "insufficient_credits")
    assert balance(client, "sfk_two") == 0


@pytest.mark.parametrize("route", ["tiny_account", "tiny_account/videos"])
@pytest.mark.parametrize("code", list(CODES))
def test_every_error_code_is_reachable_by_scenario_and_costs_nothing(client, app, route, code):
    response = sf(client, route, **{"X-Mock-Scenario": code})
    error = assert_error(app, response, code)
    assert error["requestId"].startswith("req_")
    assert ("retry-after" in response.headers) is (code == "temporarily_unavailable")
    if code == "temporarily_unavailable":
        assert response.headers["retry-after"] == "30"
    assert ("checkoutUrl" in error) is (code == "insufficient_credits")
    assert balance(client) == 1000


def test_unknown_scenario_is_a_bad_request(client, app):
    error = assert_error(app, sf(client, "tiny_account", **{"X-Mock-Scenario": "nope"}),
                         "bad_request")
    assert "nope" in error["message"]


def test_world_scenarios_and_the_flaky_fixture(client, app):
    gone = sf(client, "stoolpresidente", **{"X-Mock-Scenario": "not_found"}).json()
    assert gone["data"]["lookupStatus"] == "not_found"
    hidden = sf(client, "stoolpresidente", **{"X-Mock-Scenario": "private"}).json()
    assert hidden["data"]["lookupStatus"] == "private"
    assert hidden["data"]["profile"]["privateAccount"] is True
    empty = sf(client, "stoolpresidente/videos", **{"X-Mock-Scenario": "private"}).json()
    assert empty["data"]["videos"] == []
    assert_error(app, sf(client, "flaky_upstream"), "lookup_failed")


def test_retry_story_fail_twice_with_503_then_succeed(client, app):
    armed = client.post("/__mock/scenarios", json={
        "vendor": "socialfetch", "scenario": "temporarily_unavailable", "times": 2})
    assert armed.status_code == 201
    for _ in range(2):
        assert_error(app, sf(client, "tiny_account"), "temporarily_unavailable")
    assert sf(client, "tiny_account").status_code == 200
    assert balance(client) == 999


def test_catalogue_lists_every_code_per_route(client):
    rows = [r for r in client.get("/__mock/scenarios").json()["catalogue"]
            if r["vendor"] == "socialfetch" and r["kind"] == "error"]
    assert {(r["route"], r["name"], r["status"]) for r in rows} == {
        (route, code, status) for route in ("profile", "videos") for code, status in CODES.items()}


def test_documented_example_over_http(live):
    with httpx.Client(base_url=live.url) as http:
        response = http.get("/v1/tiktok/profiles/stoolpresidente/videos",
                            params={"sortBy": "popular", "trim": "true"},
                            headers={"x-api-key": KEY})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    assert len(body["data"]["videos"]) == 30 and body["data"]["page"]["hasMore"] is True
    assert "details" not in body["data"]["videos"][0]


@pytest.mark.parametrize("sort", ["latest", "popular"])
def test_the_last_page_of_120000_videos_is_as_cheap_as_the_first(client, app, sort):
    """A page costs O(page size): jump to the end of huge_account with a cursor we issue.
    Counted in videos made, not timed: a timed bound failed under a loaded machine, and
    making the account's videos is what an O(size) page would do."""
    world = app.state.mock.world
    before = world.generated
    first = sf(client, "huge_account/videos", params={"sortBy": sort}).json()["data"]
    assert world.generated - before == 30
    cursor = "119990" if sort == "popular" else "10"  # 10 videos below the 11th oldest
    before = world.generated
    last = sf(client, "huge_account/videos", params={"sortBy": sort, "cursor": cursor})
    assert world.generated - before == 10
    assert last.status_code == 200, last.text
    data = last.json()["data"]
    assert len(first["videos"]) == 30 and first["page"]["hasMore"] is True
    assert len(data["videos"]) == 10
    assert data["page"] == {"nextCursor": None, "hasMore": False}
    if sort == "popular":
        assert data["videos"][-1]["stats"]["views"] <= first["videos"][-1]["stats"]["views"]
    else:
        assert [v["pinned"] for v in first["videos"][:3]] == [True] * 3
