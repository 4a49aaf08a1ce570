"""One world, three renderings: the same handle and videos through every vendor, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.clock import iso
from tests.conftest import dumpling

SF = {"x-api-key": "sfk_cross_vendor"}
GW = {"x-api-key": "gw_cross_vendor_0123456789"}
HANDLES = ["stoolpresidente", "brand_with_ads", "username", "tiny_account", "cross.vendor.probe"]


@pytest.fixture
def http(live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("handle", HANDLES)
def test_the_same_account_through_every_vendor(http, handle):
    dumpling_body = ok(dumpling(http, "get-tiktok-profile", {"handle": handle}))
    social = ok(http.get(f"/v1/tiktok/profiles/{handle}", headers=SF))["data"]
    gateway = ok(http.get(f"/dev/tiktok/user/{handle}", headers=GW))
    user, stats = dumpling_body["user"], dumpling_body["stats"]
    profile, metrics = social["profile"], social["metrics"]
    assert user["id"] == profile["platformUserId"] == gateway["user"]["id"]
    assert user["secUid"] == profile["secUid"] == gateway["user"]["secUid"]
    assert user["nickname"] == profile["displayName"] == gateway["user"]["nickname"]
    assert user["signature"] == profile["bio"] == gateway["user"]["profileBio"]
    assert user["verified"] == profile["verified"] == gateway["user"]["isVerified"]
    assert iso(user["createTime"]) == profile["accountCreatedAt"]
    assert stats["followerCount"] == metrics["followers"] == gateway["stats"]["followerCount"]
    assert stats["heartCount"] == metrics["likes"] == gateway["stats"]["heartCount"]
    assert stats["videoCount"] == metrics["posts"] == gateway["stats"]["videoCount"]
    assert stats["followingCount"] == metrics["following"] == gateway["stats"]["followingCount"]


def _dumpling_walk(http, handle: str) -> list[dict]:
    items, cursor = [], None
    while True:
        body = {"handle": handle, **({"maxCursor": cursor} if cursor else {})}
        page = ok(dumpling(http, "get-tiktok-profile-videos", body))
        items += page["aweme_list"]
        if not page["has_more"]:
            return items
        cursor = page["max_cursor"]


def test_the_same_videos_in_the_same_order_through_both_list_routes(http):
    """tiny_account has no pinned videos, so both newest-first walks agree item by item."""
    dumpling_items = _dumpling_walk(http, "tiny_account")
    social = ok(http.get("/v1/tiktok/profiles/tiny_account/videos",
                         params={"sortBy": "latest"}, headers=SF))["data"]["videos"]
    assert len(dumpling_items) == len(social) == 10
    assert [(a["aweme_id"], iso(a["create_time"]), a["statistics"]["play_count"],
             a["statistics"]["digg_count"], a["desc"]) for a in dumpling_items] == [
        (v["id"], v["createdAt"], v["stats"]["views"], v["stats"]["likes"], v["caption"])
        for v in social]


@pytest.mark.parametrize("handle", ["stoolpresidente", "brand_with_ads", "cross.vendor.probe"])
def test_a_first_page_is_the_same_through_both_list_routes(http, handle):
    """One order for every vendor, TikTok's: pinned videos first on the first page, then the
    rest newest first; every video identical in both renderings."""
    dumpling_page = ok(dumpling(http, "get-tiktok-profile-videos", {"handle": handle}))
    social = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF))["data"]
    from_dumpling = [(a["aweme_id"], iso(a["create_time"]), a["statistics"]["play_count"],
                      a["statistics"]["share_count"], a["video"]["duration"], a["is_top"])
                     for a in dumpling_page["aweme_list"]]
    from_social = [(v["id"], v["createdAt"], v["stats"]["views"], v["stats"]["shares"],
                    (v["durationMs"] + 500) // 1000, int(v["pinned"])) for v in social["videos"]]
    assert from_dumpling == from_social
    pinned = [row for row in from_dumpling if row[5]]
    assert from_dumpling[:len(pinned)] == pinned
    rest = from_dumpling[len(pinned):]
    assert rest == sorted(rest, key=lambda row: row[1], reverse=True)
    if handle != "cross.vendor.probe":
        assert pinned  # the fixtures pin videos


def _listed(http, handle: str) -> list[tuple[str, dict]]:
    """(id, Social Fetch item) of a few videos from each list route and order."""
    chosen: dict[str, dict] = {}
    for sort in ("latest", "popular"):
        videos = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", params={"sortBy": sort},
                             headers=SF))["data"]["videos"]
        chosen.update((v["id"], v) for v in videos[:4])
    aweme = ok(dumpling(http, "get-tiktok-profile-videos", {"handle": handle}))["aweme_list"]
    extra = {a["aweme_id"] for a in aweme[-3:]}
    latest = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF))["data"]["videos"]
    chosen.update((v["id"], v) for v in latest if v["id"] in extra)
    return list(chosen.items())


@pytest.mark.parametrize("handle", ["stoolpresidente", "brand_with_ads", "username",
                                    "cross.vendor.probe"])
def test_a_listed_video_is_fetchable_by_both_video_routes_with_identical_stats(http, handle):
    listed = _listed(http, handle)
    assert len(listed) >= 6
    for video_id, item in listed:
        url = f"https://www.tiktok.com/@{handle}/video/{video_id}"
        assert item["url"] == url
        by_url = ok(dumpling(http, "get-tiktok-video", {"url": url}))
        stored = ok(http.get(f"/dev/tiktok/video/{handle}/{video_id}", headers=GW))
        given = item["stats"]
        exact = {"diggCount": given["likes"], "shareCount": given["shares"],
                 "commentCount": given["comments"], "playCount": given["views"],
                 "collectCount": given["saves"]}
        assert by_url["stats"] == exact  # per-video counts are exact on every route
        assert {k: stored["stats"][k] for k in exact} == exact
        assert by_url["id"] == stored["id"] == video_id
        assert iso(by_url["createTime"]) == iso(int(stored["createTime"])) == item["createdAt"]
        assert by_url["desc"] == stored["description"] == item["caption"]
        seconds = (item["durationMs"] + 500) // 1000
        assert by_url["video"]["duration"] == stored["duration"] == seconds
        assert by_url["music"]["id"] == stored["music"]["id"] == item["details"]["music"]["id"]
        assert by_url["author"]["id"] == stored["author"]["id"]
