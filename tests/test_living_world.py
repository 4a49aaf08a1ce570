"""The world as a client that watches creators sees it, over real HTTP: totals made of their
parts on every vendor, and a clock that moves the world (new videos on top, counts that
only grow, old cursors that stay valid, a gateway that goes stale, still fixtures)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.vendors.common import display_count
from tests.calls import tagged, utf16_slice
from tests.conftest import FROZEN

DUMPLING = {"Authorization": "Bearer sk_watcher"}
SF = {"x-api-key": "sfk_watcher"}
GW = {"x-api-key": "gw_watcher_key_0123456789"}
MONTH = 30 * 86_400
GENERATED = ("clocktest", "alice", "maria.lopez", "k9_trainer")
FIXTURES = ("username", "brand_with_ads", "tiny_account", "stoolpresidente")


def serve(**settings) -> ServerThread:
    return ServerThread(create_app(Settings.load(
        {"now": FROZEN, "credits": 10**9, "rate_limit": 0, **settings}, env={})))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with serve() as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def profile(http: httpx.Client, handle: str) -> dict:
    response = http.post("/api/v1/get-tiktok-profile", json={"handle": handle}, headers=DUMPLING)
    assert response.status_code == 200, response.text
    return response.json()["stats"]


def page(http: httpx.Client, handle: str, cursor: str | None = None) -> dict:
    body = {"handle": handle, **({"maxCursor": cursor} if cursor else {})}
    response = http.post("/api/v1/get-tiktok-profile-videos", json=body, headers=DUMPLING)
    assert response.status_code == 200, response.text
    return response.json()


def walk(http: httpx.Client, handle: str) -> list[dict]:
    items, cursor = [], None
    while True:
        body = page(http, handle, cursor)
        items += body["aweme_list"]
        if not body["has_more"]:
            return items
        cursor = body["max_cursor"]


def advance(http: httpx.Client, seconds: int) -> None:
    response = http.post("/__mock/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("handle", GENERATED + FIXTURES)
def test_totals_are_made_of_their_parts_on_every_vendor(http, handle):
    stats = profile(http, handle)
    items = walk(http, handle)
    likes = sum(item["statistics"]["digg_count"] for item in items)
    assert len(items) == stats["videoCount"]
    # hidden likes (videos no longer listed) are a small share on top of what is listed
    assert likes <= stats["heartCount"] <= display_count(int(likes * 1.2) + 1)
    assert stats["friendCount"] <= min(stats["followerCount"], stats["followingCount"])
    metrics = http.get(f"/v1/tiktok/profiles/{handle}", headers=SF).json()["data"]["metrics"]
    assert (metrics["likes"], metrics["posts"], metrics["followers"], metrics["friends"]) == (
        stats["heartCount"], stats["videoCount"], stats["followerCount"], stats["friendCount"])
    user = http.get(f"/dev/tiktok/user/{handle}", headers=GW).json()["stats"]
    assert user["heartCount"] == stats["heartCount"]


def test_the_documented_account_keeps_its_pinned_totals(http):
    stats = profile(http, "stoolpresidente")
    assert (stats["followerCount"], stats["heartCount"], stats["videoCount"]) == (
        4_100_000, 190_400_000, 2017)
    advance(http, 12 * MONTH)
    assert profile(http, "stoolpresidente") == stats  # a fixture without growth is still


def test_friends_never_exceed_followers_or_following(http):
    for n in range(40):
        stats = profile(http, f"watcher.probe{n}")
        assert stats["friendCount"] <= min(stats["followerCount"], stats["followingCount"])


def test_a_fixture_with_friends_near_its_followers_never_shows_more_friends_than_followers(
        tmp_path):
    """Followers show cut to one decimal of K (10,050 -> 10000): friends, exact, showed
    10,040 beside them on every vendor."""
    fixture = tmp_path / "friends.json"
    fixture.write_text(json.dumps({"accounts": {"fr_fx": {
        "followers": 10050, "following": 20000, "friends": 10040, "diggs": 12345,
        "hearts": 54321, "video_count": 20}}}))
    with serve(fixture_paths=(str(fixture),)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        stats = profile(client, "fr_fx")
        metrics = client.get("/v1/tiktok/profiles/fr_fx", headers=SF).json()["data"]["metrics"]
        gateway = client.get("/dev/tiktok/user/fr_fx", headers=GW).json()["stats"]
    for followers, friends, following in (
            (stats["followerCount"], stats["friendCount"], stats["followingCount"]),
            (metrics["followers"], metrics["friends"], metrics["following"]),
            (gateway["followerCount"], gateway["friendCount"], gateway["followingCount"])):
        assert followers == 10000 and following == 20000
        assert friends == 10000  # as many as are shown following: never more


def test_advancing_the_clock_brings_new_videos_on_top_and_growth(http):
    handle = "clocktest"
    before_stats, before_page = profile(http, handle), page(http, handle)
    before = {item["aweme_id"]: item for item in walk(http, handle)}
    advance(http, MONTH)
    now = http.get("/__mock/clock").json()["unix"]
    after_stats, after_page = profile(http, handle), page(http, handle)
    after = {item["aweme_id"]: item for item in walk(http, handle)}
    new = [i for i in after if i not in before]
    assert new and after_stats["videoCount"] == before_stats["videoCount"] + len(new)
    top = [item["aweme_id"] for item in after_page["aweme_list"] if not item.get("is_top")]
    assert top[:len(new)] == new[:len(top)]  # the new videos are the newest
    for video_id in new:
        assert after[video_id]["create_time"] <= now
        assert int(video_id) >> 32 < after[video_id]["create_time"]
    for video_id, old in before.items():
        grown = after[video_id]
        assert (grown["desc"], grown["create_time"], grown["music"]["id"],
                grown["text_extra"]) == (old["desc"], old["create_time"], old["music"]["id"],
                                         old["text_extra"])
        for name, value in old["statistics"].items():
            assert grown["statistics"][name] >= value, (video_id, name)
    assert after_stats["heartCount"] >= before_stats["heartCount"]
    assert after_stats["followerCount"] >= before_stats["followerCount"]
    assert before_page["aweme_list"] != after_page["aweme_list"]


def test_a_young_video_grows_fast_then_flattens(http):
    handle = "clocktest"
    advance(http, 3 * MONTH)
    newest = page(http, handle)["aweme_list"]
    now = http.get("/__mock/clock").json()["unix"]
    video = next(i for i in newest if not i.get("is_top"))
    url = {"url": f"https://www.tiktok.com/@{handle}/video/{video['aweme_id']}"}
    seen, clock = [], now
    for hours in (0, 6, 24, 72, 24 * 7, 24 * 14, 24 * 60):
        at = video["create_time"] + hours * 3600
        if at < now:  # the clock only moves forward by advance
            continue
        advance(http, at - clock)
        clock = at
        body = http.post("/api/v1/get-tiktok-video", json=url, headers=DUMPLING).json()
        seen.append(body["stats"]["playCount"])
    assert seen == sorted(seen) and seen[-1] > seen[0]
    assert seen[-1] == seen[-2]  # flat after two weeks


def test_a_cursor_taken_before_an_advance_pages_the_same_older_videos(http):
    handle = "maria.lopez"
    first = page(http, handle)
    second = page(http, handle, first["max_cursor"])
    advance(http, 2 * MONTH)
    again = page(http, handle, first["max_cursor"])
    assert [i["aweme_id"] for i in again["aweme_list"]] == [
        i["aweme_id"] for i in second["aweme_list"]]
    cursor = http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF).json()
    advance(http, MONTH)
    following = http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF,
                         params={"cursor": cursor["data"]["page"]["nextCursor"]}).json()
    ids = [v["id"] for v in cursor["data"]["videos"] + following["data"]["videos"]]
    assert len(ids) == len(set(ids))
    older = [v["createdAt"] for v in following["data"]["videos"]]
    oldest_first_page = min(v["createdAt"] for v in cursor["data"]["videos"] if not v["pinned"])
    assert all(when < oldest_first_page for when in older)


def test_the_gateway_keeps_its_stored_record_while_the_others_grow(http):
    handle = "clocktest"
    stored = http.get(f"/dev/tiktok/user/{handle}", headers=GW).json()
    before = profile(http, handle)
    advance(http, 6 * MONTH)
    assert http.get(f"/dev/tiktok/user/{handle}", headers=GW).json() == stored
    after = profile(http, handle)
    assert after["videoCount"] > before["videoCount"] == stored["stats"]["videoCount"]
    http.post("/__mock/reset")  # a reset empties the gateway's database (and sets the clock
    advance(http, 6 * MONTH)   # back to --now): the next fetch stores the record anew
    fresh = http.get(f"/dev/tiktok/user/{handle}", headers=GW).json()
    assert fresh["stats"]["videoCount"] == after["videoCount"]


def test_the_same_instant_gives_the_same_bytes_in_any_order():
    requests = [("POST", "/api/v1/get-tiktok-profile", {"handle": "alice"}, DUMPLING),
                ("POST", "/api/v1/get-tiktok-profile-videos", {"handle": "clocktest"}, DUMPLING),
                ("GET", "/v1/tiktok/profiles/clocktest/videos", None, SF),
                ("GET", "/v1/tiktok/profiles/alice", None, SF)]
    bodies = []
    for order in (requests, requests[::-1]):
        with serve() as server, httpx.Client(base_url=server.url, timeout=30) as client:
            advance(client, MONTH)
            answers = {}
            for method, path, body, headers in order:
                response = client.request(method, path, json=body, headers=headers)
                answers[path] = json.loads(response.content)
            bodies.append(answers)
    for answers in bodies:  # request ids differ by design; everything else is the same
        for answer in answers.values():
            answer.pop("meta", None)
    assert bodies[0] == bodies[1]


def test_a_fixture_with_growth_rates_moves_with_the_clock(tmp_path):
    fixture = tmp_path / "growing.json"
    fixture.write_text(json.dumps({"accounts": {"growing_brand": {
        "followers": 50_000, "video_count": 20, "posts_per_day": 2,
        "follower_growth": 0.5, "as_of": 1_795_435_200}}}))
    with serve(fixture_paths=(str(fixture),)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        start = profile(http, "growing_brand")
        assert (start["videoCount"], start["followerCount"]) == (20, 50_000)
        advance(http, 10 * 86_400)
        later = profile(http, "growing_brand")
        assert later["videoCount"] == 40
        assert later["followerCount"] > start["followerCount"]


def test_full_items_have_tiktoks_shapes_and_text(http):
    """What a client of TikTok's app API loops over and slices: quality options, mirrors,
    mentions with their ids, UTF-16 offsets past emoji, millisecond durations."""
    items = [item for n in range(12) for item in page(http, f"shapes.probe{n}")["aweme_list"]]
    keys = {"start", "end", "type", "hashtag_name", "hashtag_id", "is_commerce", "user_id",
            "sec_uid"}
    for item in items:
        video = item["video"]
        assert isinstance(video["bit_rate"], list) and video["bit_rate"]
        for option in video["bit_rate"]:
            assert option["bit_rate"] > 0 and option["gear_name"]
            assert len(option["play_addr"]["url_list"]) >= 2
        assert len(video["play_addr"]["url_list"]) == 3
        assert len(video["cover"]["url_list"]) == 2
        for media in (video["cover"], video["origin_cover"], video["play_addr"],
                      video["download_addr"], item["author"]["avatar_thumb"]):
            hosts = [url.split("/")[2] for url in media["url_list"]]
            assert len(set(hosts)) == len(hosts), hosts  # a mirror is another CDN host
        for extra in item["text_extra"]:
            assert keys <= set(extra)
            assert utf16_slice(item["desc"], extra["start"], extra["end"]) == tagged(extra)
    mentions = [e for item in items for e in item["text_extra"] if e["type"] == 0]
    assert mentions and all(e["user_id"] and e["sec_uid"] for e in mentions)
    assert any(ord(ch) > 0xFFFF for item in items for ch in item["desc"])  # emoji: 2 units
    assert not "".join(item["author"]["nickname"] for item in items).isascii()
    social = http.get("/v1/tiktok/profiles/shapes.probe1/videos", headers=SF).json()
    assert any(v["durationMs"] % 1000 for v in social["data"]["videos"])


def test_every_signed_link_expires_two_days_after_the_clocks_day(http):
    """Covers, avatars, sound and hashtag images alike: a link made at the world's epoch
    (2026-01-03) would already be dead for a client that fetches it."""
    import re

    from mockserver.clock import parse_instant
    expected = int(parse_instant(FROZEN)) // 86_400 * 86_400 + 2 * 86_400
    tagged_video = next(item for item in page(http, "clocktest")["aweme_list"]
                        if item["cha_list"])
    video_url = tagged_video["share_url"].split("?")[0]
    bodies = [
        http.post("/api/v1/get-tiktok-profile-videos", json={"handle": "clocktest"},
                  headers=DUMPLING).text,
        http.post("/api/v1/get-tiktok-video", json={"url": video_url}, headers=DUMPLING).text,
        http.get("/v1/tiktok/profiles/clocktest/videos", headers=SF).text,
    ]
    found = {int(x) for body in bodies for x in re.findall(r"x-expires=(\d+)", body)}
    assert found == {expected}
    assert "coverThumb" in bodies[1] and "cover_thumb" in bodies[0]


def test_every_video_keeps_the_ratios_of_real_accounts_at_every_age(http):
    """Likes 2-15% of views and shares under 1% on every video, also on small accounts
    and on videos still growing (young counts are made from the likes of their age, not
    scaled one by one, which rounded a 3-like video to 0 likes and 18 views); comments
    about 1% of likes in aggregate, also where each video has only a few dozen likes."""
    small = [h for h in (f"ratio.probe{n}" for n in range(60))
             if profile(http, h)["followerCount"] < 5_000][:4]
    assert len(small) == 4
    for _ in range(3):
        likes = comments = 0
        for handle in (*small, "clocktest", "stoolpresidente"):
            for item in walk(http, handle):
                stats = item["statistics"]
                views, liked = stats["play_count"], stats["digg_count"]
                assert views >= liked and stats["share_count"] * 100 <= views
                if liked:
                    assert 0.02 <= liked / views <= 0.15, (handle, item["aweme_id"], stats)
                if handle in small:
                    likes, comments = likes + liked, comments + stats["comment_count"]
        assert 0.006 <= comments / likes <= 0.016, (comments, likes)
        advance(http, 2 * 86_400 + 3_600)  # the newest videos are a day or two old


def test_a_video_posted_before_the_instant_shows_views_and_likes(http):
    """No listed video sits at zero: a settled one keeps at least a like (the cascade's
    splits alone left one small-account video in seventeen with no like and no view), and
    a young one shows its first like and views from its first second, not after two weeks."""
    small = [h for h in (f"zero.probe{n}" for n in range(60))
             if profile(http, h)["followerCount"] < 2_000][:4]
    assert len(small) == 4
    for _ in range(3):
        for handle in small:
            now = page(http, handle)["extra"]["now"] // 1000
            for item in walk(http, handle):
                stats = item["statistics"]
                if item["create_time"] < now:
                    assert stats["play_count"] > 0 and stats["digg_count"] > 0, (
                        handle, now - item["create_time"], stats)
        advance(http, 86_400 + 7_200)


def test_a_fixture_pinning_hearts_and_growth_keeps_its_videos_in_scale(tmp_path):
    """A pinned likes total sizes the likes of the videos listed at ``as_of``; the videos
    posted after it must average about as many, not a hundred times more (the fit once
    scaled a whole year of later videos by how few likes the first ones happened to get)."""
    handles = [f"grow_{n}" for n in range(12)]
    fixture = tmp_path / "growing.json"
    fixture.write_text(json.dumps({"accounts": {handle: {
        "followers": 100_000, "hearts": 2_000_000, "video_count": 40, "posts_per_day": 2,
        "follower_growth": 0.5, "as_of": "2026-03-01T00:00:00Z"} for handle in handles}}))
    with serve(fixture_paths=(str(fixture),), now="2026-03-01T00:00:00Z") as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        start = {handle: profile(http, handle) for handle in handles}
        for seconds in (7 * 86_400, 358 * 86_400):  # a week, then a year after as_of
            advance(http, seconds)
            for handle in handles:
                now, then = profile(http, handle), start[handle]
                per_video = now["heartCount"] / now["videoCount"]
                assert then["heartCount"] / then["videoCount"] / 3 <= per_video, handle
                assert per_video <= 3 * then["heartCount"] / then["videoCount"], (handle, now)
