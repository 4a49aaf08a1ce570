"""One world, three renderings: the same handle and videos through every vendor, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.clock import iso
from mockserver.vendors.common import display_count
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
def test_a_first_page_holds_the_same_videos_through_both_list_routes(http, handle):
    """Social Fetch's latest puts pinned videos first, so a first page differs from the 30
    newest only by pinned videos older than those; every shared video is identical."""
    dumpling_page = ok(dumpling(http, "get-tiktok-profile-videos", {"handle": handle}))
    social = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF))["data"]
    from_dumpling = {a["aweme_id"]: (iso(a["create_time"]), a["statistics"]["play_count"],
                                     a["statistics"]["share_count"], a["video"]["duration"])
                     for a in dumpling_page["aweme_list"]}
    from_social = {v["id"]: (v["createdAt"], v["stats"]["views"], v["stats"]["shares"],
                             v["durationMs"] // 1000) for v in social["videos"]}
    shared = from_dumpling.keys() & from_social.keys()
    assert {i: from_dumpling[i] for i in shared} == {i: from_social[i] for i in shared}
    older_pins = from_social.keys() - from_dumpling.keys()
    assert all(v["pinned"] for v in social["videos"] if v["id"] in older_pins)
    assert len(from_dumpling.keys() - from_social.keys()) == len(older_pins)
    if handle != "cross.vendor.probe":
        assert not older_pins  # the fixtures pin among their 30 newest
    assert [a["aweme_id"] for a in dumpling_page["aweme_list"]] == sorted(
        from_dumpling, key=lambda i: from_dumpling[i][0], reverse=True)


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
        exact = item["stats"]
        rounded = {"diggCount": display_count(exact["likes"]),
                   "shareCount": display_count(exact["shares"]),
                   "commentCount": display_count(exact["comments"]),
                   "playCount": display_count(exact["views"]),
                   "collectCount": display_count(exact["saves"])}
        assert by_url["stats"] == rounded
        assert {k: stored["stats"][k] for k in rounded} == rounded
        assert by_url["id"] == stored["id"] == video_id
        assert iso(by_url["createTime"]) == iso(int(stored["createTime"])) == item["createdAt"]
        assert by_url["desc"] == stored["description"] == item["caption"]
        assert by_url["video"]["duration"] == stored["duration"] == item["durationMs"] // 1000
        assert by_url["music"]["id"] == stored["music"]["id"] == item["details"]["music"]["id"]
        assert by_url["author"]["id"] == stored["author"]["id"]
