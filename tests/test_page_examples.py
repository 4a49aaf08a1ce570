"""Every example body on the vendor pages is what the mock answers to the request the page
implies, value for value where the page gives a value, over real HTTP. The examples and
requests are read from the pages' own text (tests/data/pages/, copied verbatim); URLs the
page elides (``https://...jpg``) may differ. Where an example contradicts the world, the
example wins in its own answer; the exceptions below are the README's list."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.clock import iso
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.world import World
from mockserver.world.fixtures import load_fixtures
from tests.calls import utf16_slice
from tests.conftest import FROZEN

PAGES = Path(__file__).parent / "data" / "pages"
ROOT = Path(__file__).resolve().parents[1]
BEARER = {"Authorization": "Bearer YOUR_API_KEY"}  # the pages' own curl key
SF = {"x-api-key": "sfk_page_examples"}
GW = {"x-api-key": "gw_page_examples_0123456789"}
STOOL_ID = "6659752019493208069"  # stoolpresidente's id on the profile page


def page(name: str) -> str:
    return (PAGES / f"{name}.txt").read_text()


def _strip_comments(text: str) -> str:
    """JSON with the pages' ``// ...`` comments removed (never inside a string)."""
    out, in_string, i = [], False, 0
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\":
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _block(text: str, start: int) -> str:
    """The balanced ``{...}`` that opens at or after ``start``."""
    begin = text.index("{", start)
    depth, in_string = 0, False
    for i in range(begin, len(text)):
        ch = text[i]
        if ch == '"' and text[i - 1] != "\\":
            in_string = not in_string
        elif not in_string and ch == "{":
            depth += 1
        elif not in_string and ch == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i + 1]
    raise AssertionError("unbalanced example")


def success_example(name: str) -> dict:
    text = page(name)
    return json.loads(_strip_comments(_block(text, text.index("Success (200 OK)"))))


def curl_body(name: str) -> dict:
    return json.loads(re.search(r"-d '(.*?)'", page(name))[1])


def _elided(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("https://") and "..." in value


def differences(example: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` departs from the page's example: every key the example shows, with
    its value (an elided URL only as a URL); lists item by item."""
    if _elided(example):
        return [] if isinstance(actual, str) and actual.startswith("https://") else [
            f"{path}: {actual!r} is not a URL"]
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        return [d for key, value in example.items()
                for d in (differences(value, actual[key], f"{path}.{key}") if key in actual
                          else [f"{path}.{key}: missing"])]
    if isinstance(example, list) and example and all(map(_elided, example)):
        return [] if isinstance(actual, list) and actual and all(  # mirrors: 1 or more
            isinstance(url, str) and url.startswith("https://") for url in actual) else [
            f"{path}: {actual!r} is not a list of URLs"]
    if isinstance(example, list):
        if not isinstance(actual, list) or len(actual) != len(example):
            return [f"{path}: {actual!r} does not have {len(example)} items"]
        return [d for i, (a, b) in enumerate(zip(example, actual, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    if type(example) is not type(actual) or example != actual:
        return [f"{path}: page {example!r}, mock {actual!r}"]
    return []


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    server = ServerThread(create_app(Settings.load({"now": FROZEN}, env={})))
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def post(http: httpx.Client, route: str, body: dict) -> dict:
    response = http.post(f"/api/v1/{route}", json=body, headers=BEARER)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_profile_example_is_stoolpresidentes_profile(http):
    example = success_example("dumpling-get-tiktok-profile")
    request = curl_body("dumpling-get-tiktok-profile")
    assert request == {"handle": "stoolpresidente"}
    assert differences(example, post(http, "get-tiktok-profile", request)) == []


def test_the_video_example_is_the_video_at_its_url(http):
    example = success_example("dumpling-get-tiktok-video")
    request = curl_body("dumpling-get-tiktok-video")
    assert request == {"url": "https://www.tiktok.com/@username/video/7321234567890123456"}
    body = post(http, "get-tiktok-video", request)
    # the one exception the world wins: the example's author.id is stoolpresidente's id on
    # the profile page, and one id cannot name two accounts
    own_id = post(http, "get-tiktok-profile", {"handle": "username"})["user"]["id"]
    assert example["author"]["id"] == STOOL_ID != own_id == body["author"]["id"]
    example["author"]["id"] = own_id
    assert differences(example, body) == []
    # the example's own departures from the world's rules, kept in its answer
    extra = body["textExtra"][0]
    assert utf16_slice(body["desc"], extra["start"], extra["end"]) != "#" + extra["hashtagName"]
    assert int(body["id"]) >> 32 > body["createTime"] + 6 * 86_400


def test_the_videos_example_item_is_in_its_accounts_list(http):
    example = success_example("dumpling-get-tiktok-profile-videos")
    item = example["aweme_list"][0]
    handle = item["author"]["unique_id"]
    for trim in (True, False):
        body = post(http, "get-tiktok-profile-videos", {"handle": handle, "trim": trim})
        listed = {a["aweme_id"]: a for a in body["aweme_list"]}
        assert differences(item, listed[item["aweme_id"]]) == []
        if trim:  # the trimmed item has exactly the example's fields
            assert set(listed[item["aweme_id"]]) == set(item)
            assert set(listed[item["aweme_id"]]["statistics"]) == set(item["statistics"])
    assert body["has_more"] == example["has_more"] == 1
    assert list(body) == list(example)  # the same keys, in the page's order
    # the example's id encodes a time ten days after its create_time, kept as the page has it
    assert (int(item["aweme_id"]) >> 32) - item["create_time"] > 10 * 86_400


def test_the_videos_example_top_level_at_the_examples_own_instant():
    """At the instant the example's ``extra.now`` names, its body is the answer but for the
    cursors, which keep the mock's documented meaning (the README's exceptions)."""
    example = success_example("dumpling-get-tiktok-profile-videos")
    now = example["extra"]["now"] // 1000
    server = ServerThread(create_app(Settings.load({"now": str(now)}, env={})))
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        body = post(client, "get-tiktok-profile-videos", {"handle": "username", "trim": True})
    assert body["extra"] == example["extra"] and body["has_more"] == example["has_more"]
    assert differences(example["aweme_list"][0], body["aweme_list"][0]) == []
    # the page's max_cursor is its newest item and min_cursor a week older; the mock's
    # max_cursor is the page's oldest (what a client passes back) and min_cursor its newest
    assert int(example["max_cursor"]) > int(example["min_cursor"])
    assert body["min_cursor"] == example["max_cursor"]
    assert int(body["max_cursor"]) < int(body["min_cursor"])


def _gateway_template(name: str) -> list[dict]:
    """The gateway page's bodies, which give types (``"id": string``) where others give
    values."""
    text = re.sub(r":\s*(string|number|boolean)\b", r': "<\1>"', page(name))
    blocks, at = [], 0
    while (at := text.find("{\n", at)) >= 0:
        block = _block(text, at)
        blocks.append(json.loads(block))
        at += len(block)
    return blocks


_TYPES = {"<string>": str, "<number>": int, "<boolean>": bool}


def _type_differences(template: Any, actual: Any, path: str = "$") -> list[str]:
    if isinstance(template, dict):
        if not isinstance(actual, dict) or set(actual) != set(template):
            return [f"{path}: keys {sorted(actual)} are not {sorted(template)}"]
        return [d for key in template
                for d in _type_differences(template[key], actual[key], f"{path}.{key}")]
    wanted = _TYPES[template]
    if type(actual) is not wanted:
        return [f"{path}: {actual!r} is not a {template}"]
    return []


def test_the_gateway_pages_bodies_are_the_gateways_answers_key_for_key(http):
    user, video = _gateway_template("gateway-tiktok-apis")
    assert _type_differences(user, http.get("/dev/tiktok/user/username", headers=GW).json()) == []
    answer = http.get("/dev/tiktok/video/username/7321234567890123456", headers=GW).json()
    assert _type_differences(video, answer) == []


def test_both_examples_are_the_same_videos_through_every_vendor(http):
    """Each vendor renders the one world: the pinned captions, times and counts show on
    Social Fetch and the gateway too."""
    listed = http.get("/v1/tiktok/profiles/username/videos", params={"sortBy": "latest"},
                      headers=SF).json()["data"]["videos"]
    newest, second = listed[0], listed[1]
    assert (newest["id"], newest["caption"], newest["createdAt"]) == (
        "7460293617584139566", "Video description text here", iso(1736092800))
    assert {k: newest["stats"][k] for k in ("views", "likes", "comments", "shares")} == {
        "views": 987654, "likes": 56789, "comments": 1234, "shares": 456}
    assert (second["id"], second["caption"], second["createdAt"]) == (
        "7321234567890123456", "This is the video description with #hashtags",
        iso(1704067200))
    assert second["stats"] == {"views": 567890, "likes": 12345, "comments": 234,
                               "shares": 678, "saves": 123}
    assert second["details"]["music"]["title"] == "Song Title"
    stored = http.get("/dev/tiktok/video/username/7321234567890123456", headers=GW).json()
    assert (stored["description"], stored["createTime"], stored["duration"]) == (
        second["caption"], "1704067200", 15)
    assert stored["music"]["id"] == "7123456789" and stored["music"]["authorName"] == \
        "Artist Name"
    assert {k: stored["stats"][k] for k in ("playCount", "diggCount", "commentCount",
                                            "shareCount", "collectCount")} == {
        "playCount": 567890, "diggCount": 12345, "commentCount": 234, "shareCount": 678,
        "collectCount": 123}


def test_the_readme_lists_the_exceptions():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Where the pages' examples depart from the world"):]
    for words in ("author.id", "textExtra", "7460293617584139566", "7321234567890123456",
                  "max_cursor"):
        assert words in section.split("\n## ")[0], words


@pytest.mark.parametrize("seed", [1, 2, 7, 90210])
def test_the_examples_hold_in_every_seeds_world(seed):
    """username's schedule leaves room for both pinned times whatever the seed."""
    world = World(seed, load_fixtures())
    account = world.account("username")
    now = 1_795_435_200
    newest, second, third = (world.nth_newest(account, now, p) for p in range(3))
    assert (newest.id, newest.create_time) == ("7460293617584139566", 1736092800)
    assert (second.id, second.create_time) == ("7321234567890123456", 1704067200)
    assert third.create_time < second.create_time
    assert world.count(account, 1736092799) == world.count(account, now) - 1
