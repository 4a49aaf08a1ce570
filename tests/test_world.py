"""The canonical world, in-process: deterministic, realistic, alive in time, and O(page)
however big an account is."""

from __future__ import annotations

import re

import pytest

from mockserver.world import World
from mockserver.world.fixtures import load_fixtures
from mockserver.world.ids import snowflake_time
from mockserver.world.timeline import DAY, GROWTH_DAYS
from tests.calls import utf16_slice

NOW = 1_795_435_200  # 2026-11-23T12:00:00Z
HANDLES = ("alpha", "beta_2", "gamma.3", "clocktest", "stoolpresidente", "username",
           "brand_with_ads", "tiny_account")


def world(seed: int = 1) -> World:
    return World(seed, load_fixtures())


@pytest.fixture(scope="module")
def w() -> World:
    return world()


def test_same_seed_same_world_in_any_order():
    first, second = world(), world()
    for handle in ("alice", "bob.smith", "stoolpresidente"):
        first.profile(first.account(handle), NOW)
    for handle in ("stoolpresidente", "bob.smith", "alice"):
        account = second.account(handle)
        assert account == first.account(handle)
        assert second.profile(account, NOW) == first.profile(account, NOW)
        for seq in (3, 0):
            assert second.video(account, seq) == first.video(account, seq)


def test_another_seed_is_another_world():
    assert world(1).account("alice").user_id != world(2).account("alice").user_id


def test_ids_look_like_tiktoks(w):
    account = w.account("some_creator")
    assert re.fullmatch(r"MS4wLjABAAAA[A-Za-z0-9_-]{64}", account.sec_uid)
    assert len(account.user_id) == 19
    assert abs(snowflake_time(account.user_id) - account.created) < 5
    for position in range(min(w.count(account, NOW), 20)):
        video = w.nth_newest(account, NOW, position)
        assert len(video.id) == 19
        assert 1 <= video.create_time - snowflake_time(video.id) <= 5


@pytest.mark.parametrize("handle", HANDLES)
def test_counts_are_plausible_and_extras_match_the_caption(w, handle):
    account = w.account(handle)
    count = w.count(account, NOW)
    for seq in range(max(0, count - 40), count):
        if seq in account.videos:
            continue  # a page's example, pinned by the fixture: tests/test_page_examples.py
        video = w.video(account, seq)
        c = w.counts(account, video, NOW)
        assert 0 <= c.likes <= c.views
        if c.views > 2000:
            assert 0.02 <= c.likes / c.views <= 0.15
            assert c.shares < c.views * 0.01
        assert c.comments <= c.likes * 0.02 + 1
        assert video.duration_ms % 1000 or video.duration_ms  # milliseconds, not whole seconds
        for extra in video.text_extra:
            text = utf16_slice(video.caption, extra.start, extra.end)
            assert text == ("#" + extra.hashtag.name if extra.hashtag
                            else "@" + extra.mention.handle)


def test_text_carries_non_ascii_emoji_and_mentions(w):
    videos = [w.video(w.account(f"probe{n}"), seq) for n in range(40) for seq in range(3)]
    captions = "".join(v.caption for v in videos)
    assert any(ord(ch) > 0xFFFF for ch in captions)  # emoji outside the BMP: 2 UTF-16 units
    assert any(0x7F < ord(ch) <= 0xFFFF for ch in captions)  # accented letters
    assert any(e.mention for v in videos for e in v.text_extra)
    nicknames = "".join(w.account(f"probe{n}").nickname for n in range(80))
    assert not nicknames.isascii()
    assert len({v.duration_ms % 1000 for v in videos}) > 10


@pytest.mark.parametrize("handle", HANDLES)
def test_totals_are_made_of_their_parts(w, handle):
    account = w.account(handle)
    profile = w.profile(account, NOW)
    videos = w.videos(account, range(profile.video_count))
    listed = [w.counts(account, v, NOW).likes for v in videos]
    assert sum(listed) <= profile.hearts <= sum(listed) * 1.2 + 1
    assert profile.friends <= min(profile.followers, profile.following)


def test_a_pinned_total_is_fitted_exactly(w):
    account = w.account("stoolpresidente")
    profile = w.profile(account, NOW)
    assert (profile.followers, profile.hearts, profile.video_count, profile.friends) == (
        4_100_000, 190_400_000, 2017, 52)
    listed = sum(v.final.likes for v in w.videos(account, range(2017)))
    assert 0.8 * 190_400_000 < listed <= 190_400_000


def test_friends_never_exceed_followers_or_following(w):
    for n in range(300):
        profile = w.profile(w.account(f"friendly{n}"), NOW)
        assert profile.friends <= min(profile.followers, profile.following)


def test_time_brings_new_videos_and_growth_never_falls(w):
    account = w.account("clocktest")
    before = w.profile(account, NOW)
    oldest = w.video(account, 0)
    later = NOW + 60 * DAY
    after = w.profile(account, later)
    assert after.video_count > before.video_count
    assert after.hearts >= before.hearts and after.followers >= before.followers
    newest = w.nth_newest(account, later)
    assert before_count_created(w, account, before.video_count) < newest.create_time <= later
    assert w.video(account, 0) == oldest  # nothing published changes
    young = w.video(account, before.video_count)  # posted after NOW
    ages = [young.create_time + hours * 3600 for hours in (0, 1, 6, 24, 72, 24 * 7, 24 * 30)]
    views = [w.counts(account, young, at).views for at in ages]
    assert views == sorted(views) and views[0] == 0 and views[-1] == young.final.views
    assert views[3] > views[-1] * 0.2  # fast in the first days
    assert w.counts(account, young, young.create_time + GROWTH_DAYS * DAY) == young.final


def before_count_created(w: World, account, count: int) -> int:
    return w.create_time(account, count - 1)


def test_a_still_fixture_shows_the_same_at_every_instant(w):
    account = w.account("stoolpresidente")
    assert w.profile(account, NOW) == w.profile(account, NOW + 400 * DAY)
    video = w.nth_newest(account, NOW)
    assert w.counts(account, video, NOW) == w.counts(account, video, NOW + 400 * DAY)


def test_find_video_by_id_and_reject_foreign_or_future_ids(w):
    account, other = w.account("huge_account"), w.account("tiny_account")
    video = w.video(account, 54_321)
    assert w.find_video(account, video.id, NOW) == video
    assert w.find_video(other, video.id, NOW) is None
    assert w.find_video(account, "123", NOW) is None
    growing = w.account("clocktest")
    future = w.video(growing, w.count(growing, NOW) + 2)
    assert w.find_video(growing, future.id, NOW) is None
    assert w.find_video(growing, future.id, future.create_time) == future


def test_a_deep_page_generates_only_that_page(w):
    account = w.account("huge_account")
    before = w.generated
    below = w.posted_before(account, NOW, w.create_time(account, 20_000) * 1000 + 1)
    page, more = w.latest(account, NOW, below, 30)
    videos = w.videos(account, page)
    assert page[0] == 20_000 and more and len(videos) == 30
    assert w.generated - before == 30


def test_memory_is_bounded_however_many_handles():
    small = World(1, load_fixtures(), cache_size=64)
    for n in range(500):
        small.video(small.account(f"user{n}"), 0)
    assert small.account.cache_info().currsize <= 64
    assert len(small._videos) <= 64 * 4


def test_a_mention_names_the_account_it_mentions(w):
    mentions = [e.mention for n in range(40) for seq in range(3)
                for e in w.video(w.account(f"probe{n}"), seq).text_extra if e.mention]
    assert mentions
    for mention in mentions[:10]:
        account = w.account(mention.handle)
        assert (mention.user_id, mention.sec_uid) == (account.user_id, account.sec_uid)


@pytest.mark.parametrize("seconds", [
    0, 1, 59, 3599, 86_399, 86_400, 1_472_688_000, 1_767_225_599, 1_767_225_600,
    1_767_312_061, 4_102_444_799, 1_767_225_600.5, 1_767_225_600.9996,
    1_767_225_600.0, 1_767_225_599.9999996, 1_767_225_600.0004995, 4_102_444_799.999])
def test_iso_prints_an_instant_as_javascript_does(seconds):
    """Printed from tables, not strftime: the same text datetime prints, fractions rounded
    to the microsecond as it rounds them."""
    from datetime import UTC, datetime

    from mockserver.clock import iso
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    assert iso(seconds) == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_page_survives_its_own_videos_evicting_each_other_from_the_cache():
    """A page's cached videos were re-read from the cache after its new ones were made and
    remembered, which could evict them first: a walk after an account-wide ranking filled
    the cache answered 500 (KeyError) on some page."""
    small = World(7, cache_size=8)  # at most 32 videos cached
    account = small.account("huge_account")
    older = list(range(32))
    small.videos(account, older)
    page = older[:10] + list(range(32, 52))
    assert [v.seq for v in small.videos(account, page)] == page
    assert small.videos(account, page) == World(7).videos(World(7).account("huge_account"), page)


def test_a_still_fixture_ranks_by_views_only_the_videos_posted_by_the_instant(w):
    """Social Fetch's popular order of a still fixture was ranked once at the world's epoch:
    before it, videos posted after the clock; after ``as_of``, newer ones left out."""
    account = w.account("tiny_account")
    assert account.still
    for instant in (1_764_547_200, 1_767_225_600, 1_795_435_200):  # 2025-12-01 .. 2026-11-23
        posted = w.count(account, instant)
        assert sorted(w.popular(account, instant)) == list(range(posted))
    before = w.popular(account, 1_764_547_200)
    assert before and len(before) < w.count(account, 1_795_435_200)


def test_the_popular_order_ranks_only_an_accounts_newest_videos(monkeypatch):
    """Ranking is O(videos): an account posting hundreds a day until 2100 would take
    minutes and gigabytes, so the popular order ranks its newest ``RANKED_MOST``."""
    from mockserver.world import world as world_module
    w = World(7)
    account = w.account("clocktest")
    instant = 1_795_435_200
    count = w.count(account, instant)
    everything = w.popular(account, instant)
    assert sorted(everything) == list(range(count))
    monkeypatch.setattr(world_module, "RANKED_MOST", 40)
    newest = World(7).popular(account, instant)
    assert sorted(newest) == list(range(count - 40, count))
    assert newest == [seq for seq in everything if seq >= count - 40]
