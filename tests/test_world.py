"""The canonical world: deterministic, realistic, and O(page) however big an account is."""

from __future__ import annotations

import re

from mockserver.world import World
from mockserver.world.fixtures import load_fixtures
from mockserver.world.ids import snowflake_time

ANCHOR = 1_795_435_200  # 2026-11-23T12:00:00Z


def world(seed: int = 1) -> World:
    return World(seed, ANCHOR, load_fixtures())


def test_same_seed_same_world_in_any_order():
    first, second = world(), world()
    for handle in ("alice", "bob.smith", "stoolpresidente"):
        first.account(handle)
    for handle in ("stoolpresidente", "bob.smith", "alice"):
        assert second.account(handle) == first.account(handle)
        account = second.account(handle)
        for index in (min(3, account.video_count - 1), 0):
            assert second.video(account, index) == first.video(first.account(handle), index)


def test_another_seed_is_another_world():
    assert world(1).account("alice").user_id != world(2).account("alice").user_id


def test_ids_look_like_tiktoks():
    w = world()
    account = w.account("some_creator")
    assert re.fullmatch(r"MS4wLjABAAAA[A-Za-z0-9_-]{64}", account.sec_uid)
    assert len(account.user_id) == 19
    assert abs(snowflake_time(account.user_id) - account.created) < 5
    for index in range(min(account.video_count, 20)):
        video = w.video(account, index)
        assert len(video.id) == 19
        assert 1 <= video.create_time - snowflake_time(video.id) <= 5


def test_stats_are_plausible_and_hashtags_match_caption():
    w = world()
    for handle in ("alpha", "beta_2", "gamma.3", "stoolpresidente"):
        account = w.account(handle)
        for index in range(min(account.video_count, 25)):
            v = w.video(account, index)
            assert 0 <= v.likes <= v.views
            if v.views > 1000:
                assert 0.02 <= v.likes / v.views <= 0.15
                assert v.shares < v.views * 0.01
            assert v.comments <= v.likes * 0.02 + 1
            assert 0 <= len(v.text_extra) <= 5
            for extra in v.text_extra:
                assert v.caption[extra.start:extra.end] == "#" + extra.hashtag.name


def test_create_times_fall_strictly_and_cursor_search_agrees():
    w = world()
    account = w.account("huge_account")
    assert account.video_count == 120_000
    times = [w.create_time(account, i) for i in range(0, 2000)]
    assert all(a > b for a, b in zip(times, times[1:], strict=False))
    for index in (0, 1, 29, 30, 1999):
        assert w.index_before(account, times[index]) == index + 1


def test_popularity_order_is_a_permutation_with_falling_views():
    w = world()
    account = w.account("tiny_account")
    ranked = [w.by_popularity(account, rank) for rank in range(account.video_count)]
    assert sorted(ranked) == list(range(account.video_count))
    views = [w.video(account, index).views for index in ranked]
    assert views == sorted(views, reverse=True)


def test_find_video_by_id_and_reject_foreign_ids():
    w = world()
    account, other = w.account("huge_account"), w.account("tiny_account")
    video = w.video(account, 54_321)
    assert w.find_video(account, video.id) == video
    assert w.find_video(other, video.id) is None
    assert w.find_video(account, "123") is None


def test_a_deep_page_generates_only_that_page():
    w = world()
    account = w.account("huge_account")
    before = w._video.cache_info().misses
    start = w.index_before(account, w.create_time(account, 100_000) + 1)
    page = [w.video(account, i) for i in range(start, start + 30)]
    assert page[0].index == 100_000
    assert w._video.cache_info().misses - before == 30


def test_memory_is_bounded_however_many_handles():
    w = World(1, ANCHOR, load_fixtures(), cache_size=64)
    for n in range(500):
        w.account(f"user{n}")
    assert w.account.cache_info().currsize <= 64


def test_fixtures_pin_the_documented_account():
    account = world().account("stoolpresidente")
    assert (account.nickname, account.followers, account.video_count, account.region) == (
        "Dave Portnoy", 4_100_000, 2017, "US")
    assert account.verified and not account.private
    assert not world().account("ghost_account_404").exists
