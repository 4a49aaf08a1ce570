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


if __name__ == "__main__":  # record the digests anew: python -m tests.test_still_fixture
    RECORDED.write_text(json.dumps({f"{handle} {instant}": digests(handle, instant)
                                    for handle in HANDLES for instant in INSTANTS},
                                   indent=1) + "\n")
    sys.exit(0)
