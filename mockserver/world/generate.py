"""Faker-backed generation of single accounts, videos, tracks and hashtags.

Each function reseeds the one shared Faker instance from the entity's own key
before drawing, so an entity never depends on what was generated before it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from faker import Faker

from mockserver.world import ids
from mockserver.world.model import Account, Hashtag, Music, TextExtra, Video

TRENDING_TAGS = ("fyp", "foryou", "foryoupage", "viral", "trending", "comedy", "funny", "duet",
                 "tutorial", "dance", "food", "travel", "sports", "music", "pov", "storytime",
                 "lifehack", "fitness", "pets", "fashion")
REGIONS = (("US", "en", 50), ("GB", "en", 10), ("CA", "en", 6), ("AU", "en", 5),
           ("DE", "de", 5), ("FR", "fr", 5), ("BR", "pt", 6), ("MX", "es", 5),
           ("ID", "id", 4), ("PH", "en", 4))
TRACK_POOL = 2000
_EPOCH_2016 = 1_472_688_000  # 2016-09-01, TikTok's launch
_DAY = 86_400
_ACCOUNT_FIELDS = {f.name for f in fields(Account)}


def _weighted_region(rng: Any) -> tuple[str, str]:
    pick = rng.random() * sum(weight for *_, weight in REGIONS)
    for region, language, weight in REGIONS:
        pick -= weight
        if pick < 0:
            return region, language
    return REGIONS[0][0], REGIONS[0][1]


def make_account(faker: Faker, seed: int, handle: str, anchor: int,
                 fixture: Mapping[str, Any] | None) -> Account:
    faker.seed_instance(ids.stable_int(seed, "account", handle))
    rng = faker.random
    created = int(_EPOCH_2016 + rng.random() * (anchor - 90 * _DAY - _EPOCH_2016))
    followers = int(10 ** (1 + 6 * rng.random() ** 1.6))
    following = int(10 ** (rng.random() * 3.3))
    video_count = int(10 ** (0.3 + rng.random() * 2.9))
    region, language = _weighted_region(rng)
    newest = anchor - int(rng.uniform(3_600, 10 * _DAY))
    pins = ()
    if video_count >= 10 and rng.random() < 0.4:
        pins = tuple(sorted(rng.sample(range(3, min(video_count, 40)), rng.randint(1, 3))))
    ads = (rng.randrange(video_count),) if video_count and rng.random() < 0.1 else ()
    values: dict[str, Any] = {
        "handle": handle, "exists": True,
        "user_id": ids.snowflake(created, seed, handle, "uid"),
        "sec_uid": ids.sec_uid(seed, handle), "short_id": "",
        "nickname": faker.name(),
        "signature": "" if rng.random() < 0.2 else faker.sentence(nb_words=rng.randint(3, 10)),
        "created": created,
        "verified": followers > 1_000_000 and rng.random() < 0.6,
        "private": False, "region": region, "language": language,
        "followers": followers, "following": following,
        "hearts": int(followers * rng.uniform(3, 40)) + rng.randint(0, 500),
        "diggs": 0 if rng.random() < 0.5 else int(10 ** (rng.random() * 4.5)),
        "friends": int(following * rng.uniform(0, 0.5)),
        "video_count": video_count,
        "bio_link": faker.url() if rng.random() < 0.2 else None,
        "commerce_user": rng.random() < 0.15, "seller": rng.random() < 0.05,
        "organization": rng.random() < 0.03, "open_favorite": rng.random() < 0.3,
        "following_visibility": rng.choice((1, 1, 1, 2)), "embed_permission": 1,
        "comment_setting": rng.choice((0, 0, 0, 1)), "duet_setting": rng.choice((0, 0, 1, 3)),
        "stitch_setting": rng.choice((0, 0, 1, 3)), "download_setting": rng.choice((0, 0, 0, 3)),
        "embed_banned": rng.random() < 0.02, "show_playlist_tab": rng.random() < 0.3,
        "avatar_key": ids.hex_token(seed, handle, "avatar"),
        "newest_post": newest, "post_gap": 0, "pinned": pins, "ads": ads,
        "scenario": None, "video_scenarios": (), "video_ids": (),
    }
    if fixture:
        values.update(_fixture_values(fixture, values))
    count = values["video_count"]
    span = max(values["newest_post"] - values["created"] - _DAY, 0)
    values["post_gap"] = int(min(max(span // max(count, 1), 100), 20 * _DAY))
    values["pinned"] = tuple(i for i in values["pinned"] if i < count)
    values["ads"] = tuple(i for i in values["ads"] if i < count)
    return Account(**values)


def _fixture_values(fixture: Mapping[str, Any], generated: Mapping[str, Any]) -> dict[str, Any]:
    """A fixture's fields, with the ones derived from them kept consistent."""
    unknown = set(fixture) - _ACCOUNT_FIELDS
    if unknown:
        raise ValueError(f"unknown account fixture fields: {sorted(unknown)}")
    values = dict(fixture)
    if "user_id" in values and "created" not in values:
        values["created"] = ids.snowflake_time(values["user_id"])
    if "created" in values and "user_id" not in values:
        values["user_id"] = ids.snowflake(values["created"], generated["user_id"])
    for name in ("pinned", "ads"):
        if name in values:
            values[name] = tuple(values[name])
    for name in ("video_scenarios", "video_ids"):
        if name in values:
            pairs = dict(values[name]).items()
            values[name] = tuple(sorted((int(k), str(v)) for k, v in pairs))
    return values


def make_hashtag(faker: Faker, seed: int, name: str, anchor: int) -> Hashtag:
    faker.seed_instance(ids.stable_int(seed, "hashtag", name))
    digits = 6 + ids.stable_int(seed, "tagdigits", name) % 14
    lowest = 10 ** (digits - 1)
    tag_id = str(lowest + ids.stable_int(seed, "tagid", name) % (9 * lowest))
    key = ids.hex_token(seed, "hashtag", name)
    return Hashtag(id=tag_id, name=name, description=faker.sentence(nb_words=8),
                   cover_url=ids.cdn_image("hashtag", key, "720:720", anchor + 2 * _DAY))


def make_track(faker: Faker, seed: int, number: int, anchor: int) -> Music:
    faker.seed_instance(ids.stable_int(seed, "track", number))
    rng = faker.random
    created = int(_EPOCH_2016 + rng.random() * (anchor - 30 * _DAY - _EPOCH_2016))
    music_id = ids.snowflake(created, seed, "track", number)
    return Music(
        id=music_id,
        title=" ".join(faker.words(rng.randint(1, 4))).title(),
        author=faker.name(),
        album=faker.catch_phrase() if rng.random() < 0.6 else "",
        duration=rng.randint(15, 60), original=False, private=False, created=created,
        cover_url=ids.cdn_image("music", ids.hex_token(seed, "track", number), "100:100",
                                anchor + 2 * _DAY),
        play_url=ids.cdn_audio(music_id),
    )


def views_at_rank(account: Account, rank: int) -> int:
    """Views fall with popularity rank, from a few times the follower count to ~1% of it."""
    count = account.video_count
    top = account.followers * (1.5 + 6 * ids.unit(account.sec_uid, "top")) + 2_000
    bottom = max(150.0, account.followers * 0.01)
    steepness = math.log(top / bottom) / math.log(count) if count > 1 else 0.0
    return int(top * (rank + 1) ** -steepness)


def make_video(faker: Faker, seed: int, account: Account, index: int, create_time: int,
               rank: int, track: Music | None, hashtag: Any, anchor: int) -> Video:
    """``track`` is a pool song, or None for an original sound; ``hashtag(name)`` makes tags."""
    handle = account.handle
    faker.seed_instance(ids.stable_int(seed, "video", handle, index))
    rng = faker.random
    video_id = ids.snowflake(create_time - rng.randint(1, 5), seed, handle, index)
    video_id = dict(account.video_ids).get(index, video_id)
    sentence = faker.sentence(nb_words=rng.randint(3, 12))
    names: list[str] = []
    for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5))):
        word = rng.choice(TRENDING_TAGS) if rng.random() < 0.5 else faker.word()
        if word not in names:
            names.append(word)
    caption = sentence
    spans = []
    for name in names:
        caption += " "
        spans.append((name, len(caption), len(caption) + 1 + len(name)))
        caption += "#" + name
    views = views_at_rank(account, rank)
    likes = int(views * rng.uniform(0.02, 0.15))
    shares = int(views * rng.uniform(0.0005, 0.008))
    duration = (rng.randint(10, 60) if rng.random() < 0.75
                else rng.randint(61, 180) if rng.random() < 0.7 else rng.randint(5, 9))
    width, height = rng.choice(((576, 1024), (720, 1280), (1080, 1920)))
    bitrate = rng.randint(400_000, 2_500_000)
    comments = int(likes * rng.uniform(0.005, 0.02))
    saves = int(likes * rng.uniform(0.03, 0.15))
    downloads = int(shares * rng.uniform(0.05, 0.3))
    reposts = int(shares * rng.uniform(0, 0.1))
    # Hashtags last: making one reseeds the shared Faker, so no draw of this video may follow.
    extras = [TextExtra(hashtag(name), start, end) for name, start, end in spans]
    if track is None:
        track = Music(
            id=ids.snowflake(create_time - 7, seed, handle, index, "sound"),
            title=f"original sound - {account.nickname}", author=account.nickname, album="",
            duration=duration, original=True, private=account.private, created=create_time,
            cover_url=ids.cdn_image("avatar", account.avatar_key, "100:100", anchor + 2 * _DAY),
            play_url=ids.cdn_audio(ids.hex_token(seed, handle, index, "sound")),
        )
    return Video(
        handle=handle, index=index, id=video_id, create_time=create_time,
        caption=caption, text_extra=tuple(extras), duration=duration,
        width=width, height=height, bitrate=bitrate,
        views=views, likes=likes, comments=comments, shares=shares, saves=saves,
        downloads=downloads, reposts=reposts,
        music=track, pinned=index in account.pinned, is_ad=index in account.ads,
        region=account.region, media_key=ids.hex_token(seed, handle, index, "media"),
        short_url=f"https://vm.tiktok.com/{ids.short_code('ZM', seed, handle, index)}/",
        scenario=dict(account.video_scenarios).get(index),
    )
