"""Fixture accounts that grow (``posts_per_day``, ``follower_growth``), over real HTTP: a
video's pinned ``counts`` show as given at ``as_of`` even when the video is young then,
and grow from there; an account sized by its ``followers`` alone has videos of the size
those followers imply, however few it lists at ``as_of``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import serve_fixtures, write_fixtures

DUMPLING = {"Authorization": "Bearer sk_growth"}
SF = {"x-api-key": "sfk_growth"}
AS_OF = 1_780_272_000  # 2026-06-01T00:00:00Z
DAY = 86_400
GIVEN = {"views": 1000, "likes": 100, "comments": 1, "shares": 5}
YOUNG = {"followers": 10_000, "following": 10, "video_count": 5,
         "as_of": "2026-06-01T00:00:00Z", "newest_post": "2026-05-31T23:00:00Z",
         "videos": {"0": {"counts": GIVEN}}}  # the newest video, an hour old at as_of
ACCOUNTS = {
    "young_posting": {**YOUNG, "posts_per_day": 1},
    "young_following": {**YOUNG, "follower_growth": 0.3},
    "young_hearts": {**YOUNG, "posts_per_day": 1, "hearts": 50_000},
    "young_still": YOUNG,
    # sized by followers alone, with few videos listed at as_of
    "fast_poster": {"followers": 1000, "following": 1000, "video_count": 5,
                 "as_of": "2026-06-01T00:00:00Z", "posts_per_day": 200},
    "slow_few": {"followers": 1000, "following": 1000, "video_count": 5,
                  "as_of": "2026-06-01T00:00:00Z", "posts_per_day": 1},
}
PINNED = [handle for handle in ACCOUNTS if handle.startswith("young_")]


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixtures(tmp_path_factory.mktemp("growth"), ACCOUNTS)


def video_counts(http: httpx.Client, handle: str, video_id: str) -> dict[str, int]:
    url = f"https://www.tiktok.com/@{handle}/video/{video_id}"
    response = http.post("/api/v1/get-tiktok-video", json={"url": url}, headers=DUMPLING)
    assert response.status_code == 200, response.text
    stats = response.json()["stats"]
    return {"views": stats["playCount"], "likes": stats["diggCount"],
            "comments": stats["commentCount"], "shares": stats["shareCount"]}


@pytest.mark.parametrize("handle", PINNED)
def test_a_pinned_video_young_at_as_of_shows_its_counts_then_and_grows_after(
        fixture_file, handle):
    with serve_fixtures(fixture_file, AS_OF) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        page = http.post("/api/v1/get-tiktok-profile-videos", json={"handle": handle},
                         headers=DUMPLING).json()
        newest = page["aweme_list"][0]
        video_id = newest["aweme_id"]
        statistics = newest["statistics"]
        assert {"views": statistics["play_count"], "likes": statistics["digg_count"],
                "comments": statistics["comment_count"],
                "shares": statistics["share_count"]} == GIVEN
        videos = http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF).json()
        shown = next(v for v in videos["data"]["videos"] if v["id"] == video_id)["stats"]
        assert {name: shown[name] for name in GIVEN} == GIVEN
        assert video_counts(http, handle, video_id) == GIVEN
        before = GIVEN
        for seconds in (600, 3600, DAY, 7 * DAY, 30 * DAY):
            http.post("/__mock/clock", json={"set": str(AS_OF + seconds)}).raise_for_status()
            now = video_counts(http, handle, video_id)
            assert all(now[name] >= before[name] for name in GIVEN), (seconds, before, now)
            assert now["shares"] * 100 < now["views"], (seconds, now)
            before = now
        if handle != "young_still":  # it grows: an hour's counts are a small part of all
            assert before["views"] > 10 * GIVEN["views"]
        else:
            assert before == GIVEN


@pytest.mark.parametrize("handle", ["fast_poster", "slow_few"])
def test_an_account_sized_by_its_followers_lists_videos_of_that_size(fixture_file, handle):
    """1,000 followers: a generated account of that size averages a few dozen likes a
    video, and the followers' share of likes is at most 20% of them per video, so the
    likes total (hidden likes included) stays under half the followers per video. A
    fitted root once made these 6,135 and 11,740 a video."""
    with serve_fixtures(fixture_file, AS_OF + 30 * DAY) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/api/v1/get-tiktok-profile", json={"handle": handle},
                             headers=DUMPLING)
        assert response.status_code == 200, response.text
        stats = response.json()["stats"]
        assert stats["videoCount"] > ACCOUNTS[handle]["video_count"]  # it kept posting
        assert stats["heartCount"] < stats["videoCount"] * ACCOUNTS[handle]["followers"] / 2
