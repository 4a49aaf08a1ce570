"""A fixture's pinned likes total over real HTTP: met exactly at the instant the fixture
describes whether or not it grows, none before the account's first post, and, as the clock
moves, hidden likes (videos no longer listed) a stable share on top of what is listed,
with a total that never falls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.vendors.common import display_count
from tests.conftest import serve_fixtures, write_fixtures

DUMPLING = {"Authorization": "Bearer sk_hearts"}
SF = {"x-api-key": "sfk_hearts"}
GW = {"x-api-key": "gw_hearts_key_0123456789"}
DAY = 86_400
AS_OF = 1_767_225_600  # 2026-01-01T00:00:00Z, the default ``as_of``
BASE = {"followers": 1000, "following": 30, "hearts": 7777, "video_count": 20}
ACCOUNTS = {
    "still_hearts": BASE,
    "growing_followers": {**BASE, "follower_growth": 0.5},
    "posting_daily": {**BASE, "posts_per_day": 1},
    "posting_slowly": {**BASE, "posts_per_day": 0.1},
    "posting_growing": {**BASE, "posts_per_day": 1, "follower_growth": 0.5},
    "pinned_growing": {"followers": 1000, "hearts": 9000, "video_count": 6,
                       "posts_per_day": 0.5, "videos": {"2": {"counts": {"likes": 2500}}}},
}
PINNED = {handle: fixture["hearts"] for handle, fixture in ACCOUNTS.items()}


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixtures(tmp_path_factory.mktemp("hearts"), ACCOUNTS)


@pytest.fixture
def at_as_of(fixture_file: Path) -> Iterator[httpx.Client]:
    with serve_fixtures(fixture_file, AS_OF) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def stats(http: httpx.Client, handle: str) -> dict:
    response = http.post("/api/v1/get-tiktok-profile", json={"handle": handle}, headers=DUMPLING)
    assert response.status_code == 200, response.text
    return response.json()["stats"]


def listed_likes(http: httpx.Client, handle: str) -> tuple[int, int]:
    """(videos, their likes summed) as a DumplingAI walk of every page sees them."""
    videos = likes = 0
    body: dict = {"handle": handle}
    while True:
        response = http.post("/api/v1/get-tiktok-profile-videos", json=body, headers=DUMPLING)
        assert response.status_code == 200, response.text
        page = response.json()
        videos += len(page["aweme_list"])
        likes += sum(item["statistics"]["digg_count"] for item in page["aweme_list"])
        if not page["has_more"]:
            return videos, likes
        body = {"handle": handle, "maxCursor": page["max_cursor"]}


def advance(http: httpx.Client, seconds: int) -> None:
    response = http.post("/__mock/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("handle", list(ACCOUNTS))
def test_a_pinned_total_is_met_exactly_at_its_instant(at_as_of, handle):
    """Young videos still growing at ``as_of`` show fewer likes than they settle at: the
    total is what the account shows then, not 14 days later."""
    shown = stats(at_as_of, handle)
    assert shown["heartCount"] == PINNED[handle]
    assert shown["videoCount"] == ACCOUNTS[handle]["video_count"]
    metrics = at_as_of.get(f"/v1/tiktok/profiles/{handle}", headers=SF).json()["data"]["metrics"]
    gateway = at_as_of.get(f"/dev/tiktok/user/{handle}", headers=GW).json()["stats"]
    assert metrics["likes"] == gateway["heartCount"] == PINNED[handle]
    videos, likes = listed_likes(at_as_of, handle)
    assert videos == ACCOUNTS[handle]["video_count"]
    assert likes <= PINNED[handle]


def test_before_its_first_post_an_account_shows_no_likes(fixture_file):
    """A year and a half before ``as_of`` none of these accounts had posted (20 videos at
    most 20 days apart): no videos, so no likes, on every vendor."""
    with serve_fixtures(fixture_file, AS_OF - 550 * DAY) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        for handle in ACCOUNTS:
            shown = stats(http, handle)
            assert (shown["videoCount"], shown["heartCount"]) == (0, 0), handle
            gateway = http.get(f"/dev/tiktok/user/{handle}", headers=GW).json()["stats"]
            assert (gateway["videoCount"], gateway["heartCount"]) == (0, 0), handle


def test_hidden_likes_keep_a_stable_share_and_the_total_never_falls(fixture_file):
    """From three weeks before ``as_of`` to three months after it: the total is never less
    than what a walk adds up, hidden likes stay a small share of it whether the account
    posts, grows or stands still, and the total only grows. A still fixture shows exactly
    its pinned total at and after ``as_of``."""
    steps = (0, 10 * DAY, 11 * DAY, DAY, 6 * DAY, 23 * DAY, 60 * DAY)  # from AS_OF - 21 days
    history: dict[str, list[tuple[int, int, int]]] = {handle: [] for handle in ACCOUNTS}
    with serve_fixtures(fixture_file, AS_OF - 21 * DAY) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        at = AS_OF - 21 * DAY
        for step in steps:
            advance(http, step)
            at += step
            for handle, seen in history.items():
                hearts = stats(http, handle)["heartCount"]
                seen.append((at, hearts, listed_likes(http, handle)[1]))
    for handle, seen in history.items():
        hearts = [total for _, total, _ in seen]
        assert hearts == sorted(hearts), (handle, seen)
        shares = []
        for at, total, listed in seen:
            assert total >= display_count(listed), (handle, at, total, listed)
            if listed >= 1000 and total < 1_000_000:  # whole likes and 1.2M-style display aside
                shares.append(total / listed)
        assert shares and all(1.10 <= share <= 1.22 for share in shares), (handle, seen)
        assert max(shares) <= min(shares) * 1.02, (handle, seen)
    still = [total for at, total, _ in history["still_hearts"] if at >= AS_OF]
    assert still == [7777] * len(still)
