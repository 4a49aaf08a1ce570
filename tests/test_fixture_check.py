"""Fixture files are checked when the mock starts: a typo or a wrong type is one error
naming the file, the handle or key and the field, never a 500 when a request meets it."""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import mockserver.fixture_check as fixture_check
from mockserver.app import create_app
from mockserver.fixture_check import FixtureError, account_field_types
from mockserver.settings import Settings
from mockserver.world.fixtures import ACCOUNT_FIELDS
from mockserver.world.world import World
from tests.calls import VENDORS, call
from tests.conftest import FROZEN


def start_with(tmp_path: Path, document: Any, now: str = FROZEN, **settings: Any) -> TestClient:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document))
    return TestClient(create_app(Settings.load(
        {"now": now, "fixture_paths": (str(path),), **settings}, env={})))


BAD = [
    ({"accounts": {"typo": {"folowers": 5}}},
     "account 'typo': unknown field 'folowers' (did you mean 'followers'?)"),
    ({"accounts": {"wrong": {"followers": "many"}}},
     "account 'wrong' field 'followers': 'many' is not a whole number >= 0"),
    ({"accounts": {"wrong": {"followers": -3}}},
     "account 'wrong' field 'followers': -3 is not a whole number >= 0"),
    ({"accounts": {"wrong": {"created": 10**11}}},
     "account 'wrong' field 'created': 100000000000 is outside the clock's range"),
    ({"accounts": {"Alice": {"followers": 1}, "@alice": {"followers": 2}}},
     "account '@alice': the same account as 'Alice' (a handle's case and a leading @ do not "
     "count)"),
    ({"accounts": {"@@alice": {"followers": 1}}},
     "account '@@alice': not a well-formed handle (2-24 of a-z 0-9 _ .)"),
    ({"accounts": {"alice\n": {"followers": 1}}},
     "account 'alice\\n': not a well-formed handle (2-24 of a-z 0-9 _ .)"),
    ({"accounts": {"wrong": {"video_ids": {"\u00b2": "7321234567890123456"}}}},
     "field 'video_ids': {'\u00b2': '7321234567890123456'} is not an object of position -> "
     "a video id"),
    ({"accounts": {"wrong": {"videos": {"\u00b2": {}}}}},
     "field 'videos': {'\u00b2': {}} is not an object of position -> object"),
    ({"keys": {"": {"balance": 5}}}, "key '': a key is not empty"),
    ({"accounts": {"wrong": {"private": "yes"}}},
     "account 'wrong' field 'private': 'yes' is not true or false"),
    ({"accounts": {"wrong": {"pinned": [1, "two"]}}},
     "account 'wrong' field 'pinned': [1, 'two'] is not a list of a whole number >= 0"),
    ({"accounts": {"wrong": {"bio_link": 7}}},
     "account 'wrong' field 'bio_link': 7 is not a string or null"),
    ({"accounts": {"wrong": {"video_ids": {"first": "7321234567890123456"}}}},
     "field 'video_ids': {'first': '7321234567890123456'} is not an object of position -> "
     "a video id"),
    ({"accounts": {"wrong": {"videos": {"0": {"music": {"titel": "Song"}}}}}},
     "account 'wrong' field 'videos.0.music': unknown field 'titel' (did you mean 'title'?)"),
    ({"accounts": {"wrong": {"videos": {"1": {"counts": {"likes": -5}}}}}},
     "account 'wrong' field 'videos.1.counts.likes': -5 is not a whole number >= 0"),
    ({"accounts": {"wrong": {"videos": {"0": {"text_extra": [{"hashtag": "fyp"}]}}}}},
     "account 'wrong' field 'videos.0.text_extra.0': missing field 'start'"),
    ({"accounts": {"wrong": {"videos": {"newest": {}}}}},
     "account 'wrong' field 'videos': {'newest': {}} is not an object of position -> object"),
    ({"accounts": {"wrong": {"as_of": "yesterday"}}},
     "account 'wrong' field 'as_of': 'yesterday' is neither ISO-8601 nor unix seconds"),
    ({"accounts": {"wrong": {"as_of": "2200-01-01T00:00:00Z"}}},
     "account 'wrong' field 'as_of': 7258118400 is outside the clock's range "
     "(2016-09-01T00:00:00.000Z to 2099-12-31T23:59:59.999Z)"),
    ({"accounts": {"wrong": {"as_of": 1772323200.5}}},
     "account 'wrong' field 'as_of': 1772323200.5 is not a whole second"),
    ({"accounts": {"wrong": {"as_of": True}}},
     "account 'wrong' field 'as_of': True is not an ISO-8601 instant or whole unix seconds"),
    ({"accounts": {"wrong": {"posts_per_day": 1000}}},
     "account 'wrong' field 'posts_per_day': 1000 is more than 864 (the schedule has one "
     "slot for a post every 100 seconds)"),
    # TikTok's counts are 64-bit: 2**63 followers answered 500 on every route, and 2**64 - 1
    # hearts were served as a heartCount no int64 holds
    ({"accounts": {"huge": {"followers": 2**63}}},
     f"account 'huge' field 'followers': {2**63} is not a whole number >= 0 and at most 2^63-1"),
    ({"accounts": {"huge": {"hearts": 2**64 - 1}}},
     f"account 'huge' field 'hearts': {2**64 - 1} is not a whole number >= 0 and at most"),
    ({"accounts": {"huge": {"videos": {"0": {"counts": {"views": 2**64}}}}}},
     f"account 'huge' field 'videos.0.counts.views': {2**64} is not a whole number >= 0 and"),
    ({"accounts": {"huge": {"video_count": 100_000_000_000}}},
     "account 'huge' field 'video_count': 100000000000 is more than 1,000,000 (more videos "
     "than any TikTok account has posted)"),
    # ids in the forms the vendors' schemas require: 'abc' broke DumplingAI's videos body
    ({"accounts": {"wrong": {"video_ids": {"0": "abc"}}}},
     "account 'wrong' field 'video_ids': {'0': 'abc'} is not an object of position -> a video "
     "id (a string of 1 to 20 digits"),
    ({"accounts": {"wrong": {"video_ids": {"0": "123456789012345678901"}}}},
     "account 'wrong' field 'video_ids': {'0': '123456789012345678901'} is not an object of"),
    ({"accounts": {"wrong": {"videos": {"0": {"id": "7321-234"}}}}},
     "account 'wrong' field 'videos.0.id': '7321-234' is not a video id (a string of 1 to 20 "
     "digits, e.g. '7321234567890123456') or null"),
    ({"accounts": {"wrong": {"user_id": "abc"}}},
     "account 'wrong' field 'user_id': 'abc' is not a user id (a string of 1 to 20 digits)"),
    ({"accounts": {"wrong": {"sec_uid": "bad"}}},
     "account 'wrong' field 'sec_uid': 'bad' is not a secUid (MS4wLjABAAAA then base64url"),
    ({"acounts": {"typo": {}}}, "unknown top-level key 'acounts' (did you mean 'accounts'?)"),
    ({"accounts": {"Bad Handle!": {}}}, "account 'Bad Handle!': not a well-formed handle"),
    ({"accounts": {"a": {}}}, "account 'a': not a well-formed handle"),
    ({"accounts": ["alice"]}, "'accounts' must be an object keyed by handle"),
    ({"accounts": {"wrong": 3}}, "account 'wrong': expected an object of fields"),
    ({"accounts": {"wrong": {"scenario": "nope"}}},
     "account 'wrong' field 'scenario': unknown scenario 'nope'"),
    ({"accounts": {"wrong": {"scenario": {"dumpling": "lookup_failed"}}}},
     "account 'wrong' field 'scenario': unknown scenario 'lookup_failed'"),
    ({"accounts": {"wrong": {"scenario": {"twitter": "hang"}}}},
     "account 'wrong' field 'scenario': unknown vendor 'twitter'"),
    ({"accounts": {"wrong": {"video_scenarios": {"1": "upstream_on_fire"}}}},
     "account 'wrong' field 'video_scenarios': unknown scenario 'upstream_on_fire'"),
    ({"keys": {"sk_negative": {"balance": -1}}},
     "key 'sk_negative': balance must be a whole number from 0 to"),
    ({"keys": {"sk_typo": {"balanse": 3}}}, "key 'sk_typo': unknown key fields ['balanse']"),
    ({"keys": {"sk_odd": {"status": "paused"}}},
     "key 'sk_odd': status must be one of ['active', 'inactive']"),
    ({"keys": {"sk_odd": {"scenario": "nope"}}},
     "key 'sk_odd' field 'scenario': unknown scenario 'nope'"),
    (["not", "an", "object"], "expected a JSON object with accounts and/or keys"),
]


@pytest.mark.parametrize(("document", "words"), BAD, ids=[w[:40] for _, w in BAD])
def test_a_bad_fixture_stops_the_start_naming_file_handle_and_field(tmp_path, document, words):
    with pytest.raises(FixtureError) as error:
        start_with(tmp_path, document)
    assert str(error.value).startswith(f"fixture {tmp_path / 'mine.json'}: ")
    assert words in str(error.value)


def as_json(value: Any) -> Any:
    """A record's value as a fixture file writes it."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return {str(position): item for position, item in value}
    return list(value) if isinstance(value, tuple) else value


def test_every_field_the_check_accepts_is_one_the_world_serves(tmp_path):
    generated = World(7).account("donor_account")
    values = {name: as_json(getattr(generated, name)) for name in account_field_types()
              if hasattr(generated, name)}
    values |= {"scenario": None, "video_scenarios": {"0": "upstream_unavailable"},
               "video_ids": {"0": "7321234567890199999"}, "pinned": [1], "ads": [2],
               "video_count": 5, "hearts": 5000, "friends": 3, "newest_post": 1_790_000_000,
               "as_of": 1_790_000_000, "posts_per_day": 1.5, "follower_growth": 0.2,
               "videos": {"1": {"caption": "Pinned #caption", "counts": {"likes": 77},
                                "music": {"title": "Pinned Song"}}}}
    assert set(values) == set(account_field_types())
    with start_with(tmp_path, {"accounts": {"every_field": values}}) as client:
        for vendor in VENDORS:
            assert call(client, vendor, handle="every_field").status_code == 200, vendor


def test_a_field_added_to_the_account_record_is_checked_with_no_change(monkeypatch):
    @dataclass(frozen=True)
    class Grown:
        followers: int
        growth_per_year: float

    monkeypatch.setattr(fixture_check, "field_types", lambda: {
        name: hint for name, hint in typing.get_type_hints(Grown).items()})
    check = fixture_check.check_document
    check(Path("f.json"), {"accounts": {"grower": {"growth_per_year": 0.5}}}, {})
    with pytest.raises(FixtureError, match="'growth_per_year': 'fast' is not a number >= 0"):
        check(Path("f.json"), {"accounts": {"grower": {"growth_per_year": "fast"}}}, {})


def test_the_checked_fields_are_the_ones_the_world_reads():
    assert set(account_field_types()) == ACCOUNT_FIELDS


@pytest.mark.parametrize(("pinned", "words"), [
    ({"1": {"create_time": 1_765_000_000}, "0": {"create_time": 1_764_000_000}},
     "position 1: create_time 1765000000 must fall after the older video's"),
    ({"0": {"create_time": 1_800_000_000}},
     "position 0: create_time 1800000000 is after the instant the fixture describes"),
    ({"0": {"caption": "short", "text_extra": [{"hashtag": "fyp", "start": 2, "end": 9}]}},
     "position 0: text_extra 2..9 is not inside the caption (5 UTF-16 units)"),
])
def test_pinned_videos_the_world_cannot_serve_stop_the_start(tmp_path, pinned, words):
    document = {"accounts": {"pins": {"video_count": 5, "newest_post": 1_760_000_000,
                                      "videos": pinned}}}
    with pytest.raises(ValueError, match=re.escape(words)):
        start_with(tmp_path, document)


def test_a_pinned_video_shows_on_every_vendor_and_in_the_totals(tmp_path):
    document = {"accounts": {"pins": {"video_count": 3, "hearts": 90_000, "videos": {
        "1": {"caption": "Pinned @someone #here", "counts": {"likes": 50_000, "views": 900_000}}}}}}
    with start_with(tmp_path, document) as client:
        listed = call(client, "socialfetch", "videos", handle="pins").json()["data"]["videos"]
        pinned = listed[1]
        assert (pinned["caption"], pinned["stats"]["likes"], pinned["stats"]["views"]) == (
            "Pinned @someone #here", 50_000, 900_000)
        video = call(client, "dumpling", "video", handle="pins", video_id=pinned["id"]).json()
        assert [(e["start"], e["end"], e["type"]) for e in video["textExtra"]] == [
            (7, 15, 0), (16, 21, 1)]
        assert video["stats"]["diggCount"] == 50_000
        profile = call(client, "dumpling", handle="pins").json()
        assert profile["stats"]["heartCount"] == 90_000  # a pinned total still holds


def newest_videos(client: TestClient, handle: str) -> list[dict[str, Any]]:
    response = call(client, "socialfetch", "videos", handle=handle)
    assert response.status_code == 200, response.text
    return response.json()["data"]["videos"]


def test_as_of_is_an_iso_instant_or_whole_unix_seconds(tmp_path):
    march = 1_772_323_200  # 2026-03-01T00:00:00Z, two months after the default as_of
    forms = ("2026-03-01T00:00:00Z", "2026-03-01T01:00:00+01:00", march, float(march),
             str(march))
    seen = []
    for form in forms:
        document = {"accounts": {"dated": {"video_count": 4, "as_of": form}}}
        with start_with(tmp_path, document) as client:
            seen.append(([call(client, vendor, handle="dated").content for vendor in VENDORS],
                         newest_videos(client, "dated")))
    assert all(one == seen[0] for one in seen)
    newest = seen[0][1][0]["createdAt"]
    # the schedule's newest post went out within ten days before as_of, after the default's
    assert "2026-02-19T00:00:00.000Z" < newest <= "2026-03-01T00:00:00.000Z", newest


def test_newest_post_takes_an_instant_as_as_of_does(tmp_path):
    """It was unix seconds only, where ``as_of`` beside it took ISO-8601 too."""
    seen = []
    for form in ("2026-02-20T08:00:00Z", 1_771_574_400, "1771574400"):
        document = {"accounts": {"dated": {"video_count": 4, "as_of": "2026-03-01T00:00:00Z",
                                           "newest_post": form}}}
        with start_with(tmp_path, document) as client:
            seen.append(newest_videos(client, "dated")[0]["createdAt"])
    assert seen == ["2026-02-20T08:00:00.000Z"] * 3
    document["accounts"]["dated"]["newest_post"] = "last week"
    with pytest.raises(ValueError, match=re.escape(
            "account 'dated' field 'newest_post': 'last week' is neither ISO-8601 nor unix")):
        start_with(tmp_path, document)


def test_an_as_of_at_tiktoks_launch_stops_the_start_not_every_call(tmp_path):
    """It started, then answered 500 on every route naming the account, blaming a
    'posts_per_day' the fixture never gave."""
    document = {"accounts": {"early": {"video_count": 0, "as_of": "2016-09-01T00:00:00Z"}}}
    with pytest.raises(ValueError, match=re.escape(
            "fixture account 'early': its newest post at 2016-08-")) as stopped:
        start_with(tmp_path, document)
    assert "give a later 'as_of' or 'newest_post'" in str(stopped.value)


def test_posts_per_day_is_at_most_864(tmp_path):
    document = {"accounts": {"busy": {"video_count": 3, "posts_per_day": 864,
                                      "as_of": "2026-11-23T11:00:00Z"}}}
    with start_with(tmp_path, document) as client:
        times = [video["createdAt"] for video in newest_videos(client, "busy")]
    gaps = [datetime.fromisoformat(a).timestamp() - datetime.fromisoformat(b).timestamp()
            for a, b in zip(times, times[1:], strict=False)]
    # one slot every 100 seconds, each post up to 90 seconds late in its slot
    assert len(gaps) == 29 and min(gaps) >= 10 and 96 <= sum(gaps) / len(gaps) <= 104, gaps


def test_a_posting_rate_too_slow_for_its_videos_stops_the_start(tmp_path):
    """20 videos at one a billion days once put create times in year -22243: a DumplingAI
    page broke its schema and a Social Fetch page answered 500. The start names the field."""
    document = {"accounts": {"slowpoke": {"video_count": 20, "posts_per_day": 1e-9}}}
    with pytest.raises(ValueError, match=re.escape(
            "fixture account 'slowpoke' field 'posts_per_day': 1e-09 a day for 20 videos puts "
            "the first post before TikTok's launch (2016-09-01)")):
        start_with(tmp_path, document)
    document["accounts"]["slowpoke"]["posts_per_day"] = 0.01  # one post in 100 days: 2021
    with start_with(tmp_path, document) as client:
        for vendor, route in (("dumpling", "videos"), ("socialfetch", "videos")):
            assert call(client, vendor, route, handle="slowpoke").status_code == 200, vendor


UNSERVABLE = [
    # each value passes its own check, yet with the rest of the account (or as the clock
    # moves) a count passes 2^63-1: every route answered 500, or a body broke its schema
    ({"hearts": 2**63 - 1, "video_count": 1},
     f"account 'absurd' field 'hearts': {2**63 - 1} sizes its videos' likes so that a video's "
     "views (likes are at least 2% of views) could pass 2^63-1"),
    ({"followers": 2**63 - 1}, "account 'absurd' field 'followers': 9223372036854775807 sizes "
     "its videos' likes so that its likes total could pass 2^63-1"),
    ({"hearts": 10**18, "video_count": 2, "posts_per_day": 800},
     "account 'absurd' field 'hearts': 1000000000000000000 sizes its videos' likes so that its "
     "likes total could pass 2^63-1 (TikTok's counts are 64-bit) by the clock's end "
     "(2100-01-01), as it keeps posting"),
    ({"video_count": 60, "videos": {str(position): {"counts": {
        "likes": 18 * 10**16, "views": 9 * 10**18}} for position in range(60)}},
     "account 'absurd' field 'videos': what it pins sizes its videos' likes so that its likes "
     "total could pass 2^63-1 (TikTok's counts are 64-bit): give smaller pinned likes"),
    ({"video_count": 3, "videos": {"0": {"counts": {"likes": 2**63 - 1}}}},
     "account 'absurd' field 'videos.0.counts': its views would be"),
]


def test_any_growth_rate_serves_to_the_clocks_end_its_followers_capped(tmp_path):
    """Followers compounding for decades stop at two billion (more than TikTok has users)
    rather than pass what a body can carry: a rate of 1e308 once answered 500."""
    document = {"accounts": {"grower": {"followers": 38, "follower_growth": 1e308},
                             "steady": {"followers": 100_000_000, "follower_growth": 0.6}}}
    with start_with(tmp_path, document, now="2099-12-31T23:59:59Z") as client:
        for handle in ("grower", "steady"):
            for vendor in VENDORS:
                assert call(client, vendor, handle=handle).status_code == 200, vendor
            stats = call(client, "dumpling", handle=handle).json()["stats"]
            assert stats["followerCount"] == 2_000_000_000, handle


def test_a_generated_account_serves_when_the_clock_is_decades_on(tmp_path):
    """A generated account grows its followers up to 60% a year: seed 0's user6 (2.4M at
    2026, 0.549 a year) passed 2^63 by 2099 and answered 500 on every vendor."""
    with start_with(tmp_path, {"accounts": {}}, now="2099-12-01T00:00:00Z", seed=0) as client:
        for vendor in VENDORS:
            assert call(client, vendor, handle="user6").status_code == 200, vendor
        stats = call(client, "dumpling", handle="user6").json()["stats"]
        assert stats["followerCount"] == 2_000_000_000


def test_a_tiktok_scale_account_serves_every_route(tmp_path):
    """The bounds refuse what no body carries, not large accounts: 10**17 likes on one
    video (its views near 2^63) and 10**9 followers growing 20% a year."""
    document = {"accounts": {"big": {"hearts": 10**17, "video_count": 1, "followers": 10**9,
                                     "follower_growth": 0.2, "friends": 10}}}
    with start_with(tmp_path, document, now="2099-12-31T23:59:59Z") as client:
        for vendor in VENDORS:
            assert call(client, vendor, handle="big").status_code == 200, vendor
        for vendor in ("dumpling", "socialfetch"):
            assert call(client, vendor, "videos", handle="big").status_code == 200, vendor


SILENT = [
    # each was accepted and quietly dropped, clamped or shown as no video at all
    ({"video_count": 5, "pinned": [999]},
     "account 'quiet' field 'pinned': position 999 is not one of its 5 videos at as_of "
     "(2026-01-01T00:00:00.000Z; positions 0 to 4, 0 the newest): give a larger 'video_count' "
     "or a smaller position"),
    ({"video_count": 5, "videos": {"10": {"caption": "lost"}}},
     "account 'quiet' field 'videos': position 10 is not one of its 5 videos"),
    ({"video_count": 0, "ads": [0]}, "field 'ads': position 0 is not one of its 0 videos at "
     "as_of (2026-01-01T00:00:00.000Z; none)"),
    ({"video_count": 5, "video_ids": {"5": "7321234567890123456"}},
     "field 'video_ids': position 5 is not one of its 5 videos"),
    ({"video_count": 5, "newest_post": "2099-06-01T00:00:00Z"},
     "account 'quiet' field 'newest_post': 2099-06-01T00:00:00.000Z is after the instant the "
     "fixture describes (as_of, 2026-01-01T00:00:00.000Z)"),
    ({"video_count": 5, "video_ids": {"1": "7321234567890123456"},
      "videos": {"3": {"id": "7321234567890123456"}}},
     "account 'quiet' field 'video_ids': 7321234567890123456 is given to positions 1 and 3; "
     "a video id names one video"),
    ({"hearts": 5, "video_count": 30},
     "account 'quiet' field 'hearts': 5 is less than its videos show at as_of at the least "
     "(30: a like on each video, and the likes its 'videos' pin)"),
    ({"hearts": 1000, "video_count": 3, "videos": {"0": {"counts": {"likes": 900_000}}}},
     "account 'quiet' field 'hearts': 1000 is less than its videos show at as_of at the "
     "least (900002"),
    ({"video_count": 5, "created": 1_790_000_000},
     "account 'quiet' field 'created': 2026-09-21T14:13:20.000Z is after the instant the "
     "fixture describes (as_of, 2026-01-01T00:00:00.000Z)"),
    ({"followers": 10, "following": 100, "friends": 50},
     "account 'quiet' field 'friends': 50 is more than its followers (10) or following (100) "
     "at as_of: a friend is an account it follows that follows it back"),
]


# each account's fields, and what the start says of them: counts past 64 bits (UNSERVABLE,
# account 'absurd') and values the world once dropped or clamped (SILENT, 'quiet')
REFUSED = [("absurd", *case) for case in UNSERVABLE] + [("quiet", *case) for case in SILENT]


@pytest.mark.parametrize(("handle", "fields", "words"), REFUSED,
                         ids=[words[:40] for _, _, words in REFUSED])
def test_values_no_body_can_carry_or_the_world_would_drop_stop_the_start(
        tmp_path, handle, fields, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        start_with(tmp_path, {"accounts": {handle: fields}})


def test_the_edges_of_those_checks_serve(tmp_path):
    """The last position, a newest post at as_of itself, and as many friends as the
    smaller of followers and following are all the world's to show."""
    document = {"accounts": {"edges": {
        "video_count": 5, "pinned": [4], "videos": {"4": {"caption": "oldest"}},
        "newest_post": "2026-01-01T00:00:00Z", "followers": 10, "following": 100,
        "friends": 10}}}
    with start_with(tmp_path, document) as client:
        videos = newest_videos(client, "edges")
        assert videos[0]["caption"] == "oldest"  # pinned first
        assert videos[1]["createdAt"] == "2026-01-01T00:00:00.000Z"
        stats = call(client, "dumpling", handle="edges").json()["stats"]
        assert (stats["friendCount"], stats["videoCount"]) == (10, 5)


def test_a_video_id_another_fixture_account_has_stops_the_start(tmp_path):
    """The gateway keeps its records by video id: an id pinned on a second account made
    GET /dev/tiktok/video/username/<id> answer with the other account's video."""
    taken = "7460293617584139566"  # a video of the shipped fixture account 'username'
    with pytest.raises(ValueError) as refused:
        start_with(tmp_path, {"accounts": {"copycat": {
            "video_count": 5, "videos": {"0": {"id": taken}}}}})
    assert str(refused.value) in (
        f"fixture account {one!r} field 'video_ids': {taken} is also a video of {two!r}; a "
        "video id names one video" for one, two in (("copycat", "username"),
                                                     ("username", "copycat")))
