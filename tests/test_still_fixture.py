"""A still fixture account (no ``posts_per_day``, no ``follower_growth``) over real HTTP: a
still photograph from its ``as_of`` on, byte for byte what it showed before videos grew
before ``as_of``; before it, each listed video grows along the usual curve to exactly its
``as_of`` figures, and the likes total follows what is listed.

The bodies at and after ``as_of`` are compared with digests recorded from the code before
still fixtures grew (``tests/data/still_fixture_bodies.json``). Should a deliberate
change of what the vendors render move them, record them anew with
``python -m tests.test_still_fixture`` and say why in the commit."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.vendors.common import display_count
from mockserver.world.fixtures import load_fixtures
from mockserver.world.world import World
from tests.conftest import serve_fixtures, write_fixtures

DUMPLING = {"Authorization": "Bearer sk_still"}
SF = {"x-api-key": "sfk_still"}
GW = {"x-api-key": "gw_still_key_0123456789"}
DAY = 86_400
AS_OF = 1_767_225_600  # 2026-01-01T00:00:00Z, the shipped fixtures' ``as_of``
RECORDED = Path(__file__).parent / "data" / "still_fixture_bodies.json"
#: still shipped fixtures: the newest videos of three are young at ``as_of`` (hours to
#: days old), username pins two videos' counts
HANDLES = ("stoolpresidente", "username", "tiny_account", "brand_with_ads")
INSTANTS = (AS_OF, AS_OF + 30 * DAY)


def serve(now: int, **settings) -> ServerThread:
    return ServerThread(create_app(Settings.load(
        {"now": str(now), "credits": 10**9, "rate_limit": 0, **settings}, env={})))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with serve(AS_OF) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def set_clock(http: httpx.Client, instant: int) -> None:
    response = http.post("/__mock/clock", json={"set": str(instant)})
    assert response.status_code == 200, response.text


def ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 200, response.text
    return response


def bodies(http: httpx.Client, handle: str) -> Iterator[tuple[str, bytes]]:
    """Every vendor's body for ``handle`` at the clock's instant, labelled, in a fixed
    order: profiles, every DumplingAI and Social Fetch ``latest`` page, three ``popular``
    pages, and the single-video routes for the newest five videos and the oldest."""
    yield "dumpling profile", ok(http.post("/api/v1/get-tiktok-profile",
                                           json={"handle": handle}, headers=DUMPLING)).content
    body: dict = {"handle": handle}
    ids: list[str] = []
    for number in range(1000):
        page = ok(http.post("/api/v1/get-tiktok-profile-videos", json=body, headers=DUMPLING))
        yield f"dumpling videos {number}", page.content
        listed = page.json()
        ids += [item["aweme_id"] for item in listed["aweme_list"]]
        if not listed["has_more"]:
            break
        body = {"handle": handle, "maxCursor": listed["max_cursor"]}
    yield "socialfetch profile", ok(http.get(f"/v1/tiktok/profiles/{handle}",
                                             headers=SF)).content
    for sort, most in (("latest", 1000), ("popular", 3)):
        params: dict = {"sortBy": sort}
        for number in range(most):
            page = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", params=params,
                               headers=SF))
            yield f"socialfetch {sort} {number}", page.content
            cursor = page.json()["data"]["page"]["nextCursor"]
            if cursor is None:
                break
            params = {"sortBy": sort, "cursor": cursor}
    yield "gateway user", ok(http.get(f"/dev/tiktok/user/{handle}", headers=GW)).content
    for video_id in ids[:5] + ids[-1:]:
        url = f"https://www.tiktok.com/@{handle}/video/{video_id}"
        yield f"dumpling video {video_id}", ok(http.post(
            "/api/v1/get-tiktok-video", json={"url": url}, headers=DUMPLING)).content
        yield f"gateway video {video_id}", ok(http.get(
            f"/dev/tiktok/video/{handle}/{video_id}", headers=GW)).content


def digests(handle: str, instant: int) -> dict[str, str]:
    """The bodies of a fresh mock at ``instant`` (the gateway keeps what it fetched first,
    and request ids count repeats), as SHA-256 digests."""
    with serve(instant) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        return {label: hashlib.sha256(content).hexdigest()
                for label, content in bodies(client, handle)}


@pytest.mark.parametrize("instant", INSTANTS)
@pytest.mark.parametrize("handle", HANDLES)
def test_from_as_of_on_every_body_is_what_it_was(handle, instant):
    recorded = json.loads(RECORDED.read_text())[f"{handle} {instant}"]
    shown = digests(handle, instant)
    assert list(shown) == list(recorded)
    assert [label for label in shown if shown[label] != recorded[label]] == []


# before as_of ---------------------------------------------------------------------------

#: the newest video (not pinned) of stoolpresidente at as_of, 5.9 days old then, and of
#: brand_with_ads, 2.7 days old
YOUNGEST = {"stoolpresidente": ("7587974170024082872", 1_766_712_915),
            "brand_with_ads": ("7589173670640944007", 1_766_992_193)}
#: username's newest, which pins its counts, posted a day before its own as_of: the
#: instant of the vendor page's example (``extra.now``), where it shows them
PINNED = ("7460293617584139566", 1_736_092_800)
OWN_AS_OF = {"username": 1_736_179_200}  # 2025-01-06T16:00:00Z; the others: AS_OF
STEPS = (60, 3600, DAY, 2 * DAY)
FIELDS = {"views": "playCount", "likes": "diggCount", "comments": "commentCount",
          "shares": "shareCount"}


def video_counts(http: httpx.Client, handle: str, video_id: str, vendor: str = "dumpling"
                 ) -> dict[str, int]:
    """The video's counts as the single-video route of DumplingAI or the gateway shows them,
    and as Social Fetch's ``latest`` first page does (the video is on it)."""
    if vendor == "dumpling":
        url = f"https://www.tiktok.com/@{handle}/video/{video_id}"
        stats = ok(http.post("/api/v1/get-tiktok-video", json={"url": url},
                             headers=DUMPLING)).json()["stats"]
    elif vendor == "gateway":
        stats = ok(http.get(f"/dev/tiktok/video/{handle}/{video_id}", headers=GW)).json()["stats"]
    else:
        listed = ok(http.get(f"/v1/tiktok/profiles/{handle}/videos", headers=SF)).json()
        shown = next(v for v in listed["data"]["videos"] if v["id"] == video_id)["stats"]
        return {name: shown[name] for name in FIELDS}
    return {name: stats[field] for name, field in FIELDS.items()}


@pytest.mark.parametrize("handle", [*YOUNGEST, "username"])
def test_before_as_of_a_video_grows_to_exactly_its_as_of_counts(http, handle):
    """A minute old it shows a small part of what it shows at as_of (but a like and some
    views: no posted video sits at zero); every later instant shows at least as much, on
    both vendors that list it, up to exactly its as_of counts (username's as pinned),
    which it keeps after."""
    video_id, created = YOUNGEST.get(handle, PINNED)
    final = {vendor: video_counts(http, handle, video_id, vendor)
             for vendor in ("dumpling", "socialfetch")}
    assert final["dumpling"] == final["socialfetch"]
    assert final["dumpling"]["likes"] > 100
    instants = sorted({created + step for step in STEPS} | {AS_OF - DAY, AS_OF - 1}) + [
        AS_OF, AS_OF + 30 * DAY]
    for vendor in ("dumpling", "socialfetch"):
        seen = []
        for instant in instants:
            set_clock(http, instant)
            seen.append(video_counts(http, handle, video_id, vendor))
        young = seen[0]
        assert young["likes"] >= 1 and young["views"] >= 1, (vendor, young)
        assert all(young[name] * 10 <= final[vendor][name] for name in FIELDS), (vendor, young)
        for earlier, later in zip(seen, seen[1:], strict=False):
            assert all(earlier[name] <= later[name] for name in FIELDS), (vendor, seen)
        assert seen[0]["likes"] < seen[1]["likes"] < seen[2]["likes"], (vendor, seen)
        assert seen[-2:] == [final[vendor]] * 2, (vendor, seen)


def test_a_minute_old_video_shows_the_same_small_counts_on_every_vendor():
    """The gateway keeps what it fetched first, so a mock started a minute after the video
    was posted: all three vendors show its counts at that age."""
    video_id, created = YOUNGEST["stoolpresidente"]
    with serve(created + 60) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        shown = [video_counts(client, "stoolpresidente", video_id, vendor)
                 for vendor in ("dumpling", "socialfetch", "gateway")]
    assert shown[0] == shown[1] == shown[2]
    assert 1 <= shown[0]["likes"] <= 100 and 1 <= shown[0]["views"] <= 1000, shown


def test_a_video_young_at_as_of_grows_to_its_pinned_counts(tmp_path):
    """Pinned counts of a video an hour old at as_of: half an hour old it shows part of
    them, and exactly them from as_of on."""
    given = {"views": 1000, "likes": 100, "comments": 1, "shares": 5}
    fixture = {"followers": 10_000, "following": 10, "video_count": 5,
               "as_of": AS_OF, "newest_post": AS_OF - 3600, "videos": {"0": {"counts": given}}}
    path = write_fixtures(tmp_path, {"young_still": fixture})
    with serve_fixtures(path, AS_OF - 1800) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        page = ok(client.get("/v1/tiktok/profiles/young_still/videos", headers=SF)).json()
        video_id = page["data"]["videos"][0]["id"]
        seen = []
        for instant in (AS_OF - 1800, AS_OF - 600, AS_OF, AS_OF + DAY):
            set_clock(client, instant)
            seen.append(video_counts(client, "young_still", video_id))
    assert 0 < seen[0]["views"] < seen[1]["views"] < given["views"], seen
    assert 0 < seen[0]["likes"] < seen[1]["likes"] < given["likes"], seen
    assert seen[2:] == [given] * 2


def walked(http: httpx.Client, handle: str) -> list[dict]:
    """Every video a DumplingAI walk lists, as the items show them."""
    items: list[dict] = []
    body: dict = {"handle": handle}
    while True:
        page = ok(http.post("/api/v1/get-tiktok-profile-videos", json=body,
                            headers=DUMPLING)).json()
        items += page["aweme_list"]
        if not page["has_more"]:
            return items
        body = {"handle": handle, "maxCursor": page["max_cursor"]}


def published(item: dict) -> tuple:
    """What a video published and never changes: id, caption, create time, music, hashtags."""
    return (item["aweme_id"], item["desc"], item["create_time"], item["music"]["id"],
            item["music"]["title"], item["music"]["author"],
            [(extra["start"], extra["end"], extra["hashtag_name"], extra["hashtag_id"])
             for extra in item["text_extra"]], [tag["cha_name"] for tag in item["cha_list"]])


@pytest.mark.parametrize("handle", ["stoolpresidente", "username"])
def test_before_as_of_the_likes_total_follows_what_is_listed(http, handle):
    """From a day before its newest video at as_of to a month after as_of: the total on
    both vendors never less than the listed likes summed, both only growing; and every
    video publishes the same id, caption, create time, music and hashtags at every
    instant."""
    created = YOUNGEST[handle][1] if handle in YOUNGEST else PINNED[1]
    as_of = OWN_AS_OF.get(handle, AS_OF)
    history = []
    first_seen: dict[str, tuple] = {}
    instants = sorted({created - DAY, created + 60, created + DAY, created + 3 * DAY,
                       as_of - 3600, as_of, as_of + 30 * DAY})
    for instant in instants:
        set_clock(http, instant)
        stats = ok(http.post("/api/v1/get-tiktok-profile", json={"handle": handle},
                             headers=DUMPLING)).json()["stats"]
        metrics = ok(http.get(f"/v1/tiktok/profiles/{handle}",
                              headers=SF)).json()["data"]["metrics"]
        assert metrics["likes"] == stats["heartCount"]
        items = walked(http, handle)
        assert len(items) == stats["videoCount"]
        listed = sum(item["statistics"]["digg_count"] for item in items)
        assert stats["heartCount"] >= display_count(listed), (instant, stats, listed)
        history.append((stats["heartCount"], listed, stats["videoCount"]))
        for item in items:
            assert first_seen.setdefault(item["aweme_id"], published(item)) == published(item)
    for earlier, later in zip(history, history[1:], strict=False):
        assert all(a <= b for a, b in zip(earlier, later, strict=True)), history
    assert history[0][2] + 1 == history[1][2], history  # it posted its newest
    grew = [listed for instant, (_, listed, _) in zip(instants, history, strict=True)
            if instant in (created + 60, as_of - 3600, as_of)]
    assert grew[0] < grew[1] < grew[2], history  # which grew up to as_of


@pytest.mark.parametrize("handle", ["stoolpresidente", "username", "brand_with_ads"])
def test_the_likes_total_is_its_videos_likes_at_every_instant(handle):
    """In-process, exactly, every five hours from a day before the video above to two
    weeks after it, then at as_of: the listed likes summed down the cascade (videos still
    growing one by one, pinned ones as pinned) are what the videos show, fewer than the
    same videos show at as_of while one of them is under two weeks old, and the total is
    never less than them; both only grow."""
    world = World(1, load_fixtures())
    account = world.account(handle)
    created = YOUNGEST.get(handle, PINNED)[1]
    as_of = OWN_AS_OF.get(handle, AS_OF)
    previous = (0, 0)
    instants = [*range(created - DAY, created + 15 * DAY, 5 * 3600), as_of - 1, as_of]
    for instant in sorted(set(instants)):
        profile = world.profile(account, instant)
        videos = [world.video(account, seq) for seq in range(profile.video_count)]
        listed = sum(world.counts(account, video, instant).likes for video in videos)
        assert world.listed_likes(account, instant, profile.video_count) + \
            world._pinned_likes(account, instant, profile.video_count) == listed
        at_as_of = sum(world.counts(account, video, as_of).likes for video in videos)
        young = any(instant - video.create_time < 14 * DAY for video in videos)
        assert listed < at_as_of if young and instant < as_of - 3600 else listed <= at_as_of, \
            (instant, listed, at_as_of)
        assert instant < as_of or listed == at_as_of
        assert profile.hearts >= listed
        assert (profile.hearts, listed) >= previous and listed >= previous[1]
        previous = (profile.hearts, listed)


def test_a_page_on_the_day_a_video_is_posted_shows_it_once_it_is():
    """Pages of a still account were kept for the whole day: before as_of a video posted
    later that day was missing from the first page asked for before it."""
    video_id, created = YOUNGEST["stoolpresidente"]
    with serve(created - 10) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        before = ok(client.post("/api/v1/get-tiktok-profile-videos",
                                json={"handle": "stoolpresidente"}, headers=DUMPLING)).json()
        set_clock(client, created + 60)
        after = ok(client.post("/api/v1/get-tiktok-profile-videos",
                               json={"handle": "stoolpresidente"}, headers=DUMPLING)).json()
        latest = ok(client.get("/v1/tiktok/profiles/stoolpresidente/videos",
                               headers=SF)).json()["data"]["videos"]
    assert video_id not in [item["aweme_id"] for item in before["aweme_list"]]
    assert video_id in [item["aweme_id"] for item in after["aweme_list"]]
    assert video_id in [video["id"] for video in latest]


def test_before_as_of_the_same_instant_gives_the_same_bytes_in_any_order():
    video_id, created = YOUNGEST["stoolpresidente"]
    url = f"https://www.tiktok.com/@stoolpresidente/video/{video_id}"
    requests = [
        ("POST", "/api/v1/get-tiktok-profile", {"handle": "stoolpresidente"}, DUMPLING),
        ("POST", "/api/v1/get-tiktok-profile-videos", {"handle": "stoolpresidente"}, DUMPLING),
        ("POST", "/api/v1/get-tiktok-video", {"url": url}, DUMPLING),
        ("GET", "/v1/tiktok/profiles/stoolpresidente/videos?sortBy=popular", None, SF),
        ("GET", "/v1/tiktok/profiles/stoolpresidente/videos", None, SF),
        ("GET", "/v1/tiktok/profiles/stoolpresidente", None, SF),
        ("GET", f"/dev/tiktok/video/stoolpresidente/{video_id}", None, GW),
        ("GET", "/dev/tiktok/user/stoolpresidente", None, GW)]
    runs = []
    for order in (requests, requests[::-1]):
        with serve(AS_OF) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            set_clock(client, created + 3600)
            answers = {}
            for method, path, body, headers in order:
                answer = json.loads(ok(client.request(method, path, json=body,
                                                      headers=headers)).content)
                answer.pop("meta", None)  # request ids count requests, by design
                answers[path] = answer
            runs.append(answers)
    assert runs[0] == runs[1]


if __name__ == "__main__":  # record the digests anew: python -m tests.test_still_fixture
    RECORDED.write_text(json.dumps({f"{handle} {instant}": digests(handle, instant)
                                    for handle in HANDLES for instant in INSTANTS},
                                   indent=1) + "\n")
    sys.exit(0)
