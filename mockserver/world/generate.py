"""Single accounts, videos, tracks and hashtags, each from one keyed digest and the pools.

An entity's numbers come from a blake2b digest of (seed, its name), split into sixteen
32-bit draws; its text is picked from the seed's pools by those draws. Nothing here
depends on what was generated before, and nothing reseeds Faker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.world import cascade, ids, timeline
from mockserver.world.model import Account, Counts, Hashtag, Mention, Music, TextExtra, Video
from mockserver.world.pools import EMOJI, TRENDING_TAGS, Pools

REGIONS = (("US", "en", 50), ("GB", "en", 10), ("CA", "en", 6), ("AU", "en", 5),
           ("DE", "de", 5), ("FR", "fr", 5), ("BR", "pt", 6), ("MX", "es", 5),
           ("ID", "id", 4), ("PH", "en", 4))
TRACK_POOL = 2000
LAUNCH = 1_472_688_000  # 2016-09-01, TikTok's launch
_DAY = timeline.DAY
_HORIZON = 4_102_444_800  # 2100-01-01: an account's like cascade has a slot per post until then
_MIN_GAP = 8 * 3600  # generated accounts post at most three times a day
_HASHTAG_COUNTS = (0, 1, 2, 2, 3, 3, 4, 5)
_SIZES = ((576, 1024), (720, 1280), (1080, 1920))
_DOUBLE = 0x100000000
BASE_LIKES = 20  # what a video averages besides its followers' share
_FOUR_WORDS = struct.Struct(">4I").pack
_new_tuple = tuple.__new__  # a NamedTuple built without its Python-level __new__


def draws(*parts: object) -> tuple[int, ...]:
    """Sixteen independent 32-bit numbers keyed by ``parts``."""
    raw = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=64).digest()
    return struct.unpack("<16I", raw)


def _unit(value: int) -> float:
    return value / _DOUBLE


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as TikTok counts caption offsets."""
    return len(text.encode("utf-16-le")) // 2


def _region(value: float) -> tuple[str, str]:
    pick = value * sum(weight for *_, weight in REGIONS)
    for region, language, weight in REGIONS:
        pick -= weight
        if pick < 0:
            return region, language
    return REGIONS[0][0], REGIONS[0][1]


def _decorate(text: str, value: int) -> str:
    """Real nicknames and bios often carry an emoji or two."""
    if value % 4:
        return text
    return f"{text} {EMOJI[value // 4 % len(EMOJI)]}"


def _created(u: tuple[int, ...]) -> int:
    return int(LAUNCH + _unit(u[0]) * (timeline.EPOCH - 90 * _DAY - LAUNCH))


def identity(seed: int, handle: str) -> Mention:
    """A generated account's ids without making the account (a caption mentions it)."""
    u = draws(seed, "account", handle)
    return Mention(handle, str(_created(u) << 32 | u[6]), ids.sec_uid(seed, handle))


def make_account(pools: Pools, seed: int, handle: str,
                 fixture: Mapping[str, Any] | None = None) -> Account:
    u = draws(seed, "account", handle)
    f = [_unit(x) for x in u]
    created = _created(u)
    mention = identity(seed, handle)
    region, language = _region(f[5])
    words = pools.language(language)
    followers = int(10 ** (1 + 6 * f[1] ** 1.6))
    following = int(10 ** (f[2] * 3.3))
    first_post = created + int(f[4] * 30 * _DAY)
    target = int(10 ** (0.3 + f[3] * 2.9))
    gap = int(min(max((timeline.EPOCH - first_post) // target, _MIN_GAP), 20 * _DAY))
    flags = u[15]
    values: dict[str, Any] = {
        "handle": handle, "exists": True,
        "user_id": mention.user_id, "sec_uid": mention.sec_uid,
        "short_id": "", "nickname": _decorate(words.names[u[7] % len(words.names)], u[8]),
        "signature": "" if u[9] % 5 == 0 else _decorate(
            words.sentences[u[9] % len(words.sentences)] + ".", u[10]),
        "created": created, "verified": followers > 1_000_000 and f[11] < 0.6,
        "private": False, "region": region, "language": language,
        "followers": followers, "following": following,
        "diggs": 0 if flags & 1 else int(10 ** (f[12] * 4.5)),
        "friend_share": f[13] * 0.6,
        "follower_growth": 0.0 if flags & 6 == 0 else round(f[14] * 0.6, 3),
        "reference": timeline.EPOCH,
        "bio_link": pools.urls[u[10] % len(pools.urls)] if flags & 0x18 == 0 else None,
        "commerce_user": flags & 0xE0 < 0x20, "seller": flags & 0x700 == 0,
        "organization": flags & 0x1F800 == 0, "open_favorite": flags & 0x60000 == 0,
        "following_visibility": (1, 1, 1, 2)[flags >> 19 & 3], "embed_permission": 1,
        "comment_setting": (0, 0, 0, 1)[flags >> 21 & 3],
        "duet_setting": (0, 0, 1, 3)[flags >> 23 & 3],
        "stitch_setting": (0, 0, 1, 3)[flags >> 25 & 3],
        "download_setting": (0, 0, 0, 3)[flags >> 27 & 3],
        "embed_banned": u[12] % 50 == 0, "show_playlist_tab": u[13] % 10 < 3,
        "avatar_key": ids.hex_token(seed, handle, "avatar"), "key": u[14] << 32 | u[13],
        "first_post": first_post, "post_gap": gap, "video_limit": None,
        "likes_root": 0, "levels": 1, "hidden_share": 0.12 + f[14] * 0.08, "hearts": None,
        "pinned": (), "ads": (), "scenario": None, "video_scenarios": (), "video_ids": (),
    }
    mean_likes = followers * 10 ** (-2.2 + 1.5 * f[11]) + BASE_LIKES
    if fixture:
        from mockserver.world.fixtures import account_values  # fixtures build on this module
        values, mean_likes, hearts = account_values(fixture, values, seed, mean_likes)
    else:
        hearts = None
    _fit_likes(values, mean_likes, hearts, u)
    return Account(**values)


def _fit_likes(values: dict[str, Any], mean_likes: float, hearts: int | None,
               u: tuple[int, ...]) -> None:
    """Size the like cascade: generated accounts average ``mean_likes`` a video at the
    reference instant; a fixture's pinned ``hearts`` sizes it as if every listed video had
    settled (``fit_hearts`` then meets it exactly, as the videos show it then). Works on
    the field values, so the Account is built once."""
    key, first, gap, limit = (values["key"], values["first_post"], values["post_gap"],
                              values["video_limit"])
    capacity = max(limit, 1) if limit is not None else timeline.posted(
        first, gap, 1 << 40, key, _HORIZON) + 1
    levels = max(1, (capacity - 1).bit_length())
    listed = timeline.posted(first, gap, limit if limit is not None else 1 << levels, key,
                             values["reference"])
    generated = values["pinned"] or values["ads"] or limit is not None
    if not generated and listed >= 10 and u[3] % 5 < 2:  # pin 1-3 recent videos
        pins = sorted({listed - 1 - (3 + v % 37) for v in u[:1 + u[4] % 3]} - {-1})
        values["pinned"] = tuple(p for p in pins if p >= 0)
    if not generated and listed and u[2] % 10 == 0:
        values["ads"] = (u[1] % listed,)
    wanted = (hearts / (1 + values["hidden_share"]) if hearts is not None
              else mean_likes * max(listed, 1))
    probe, cascade_key = 1 << 64, key ^ LIKES_SALT
    reached = cascade.prefix(cascade_key, levels, probe, max(listed, 1))
    # never below the listed videos' even share of the cascade: a few listed videos may hold
    # far less than that (splits are heavy-tailed within 32 posts), and sizing the root from
    # them alone made every later post hundreds of times what the followers imply
    expected = (probe * max(listed, 1) >> levels) + max(listed, 1) * cascade.LEAF_FLOOR
    root = int(probe * wanted // max(reached, expected, 1))
    values.update(levels=levels, likes_root=root, hearts=hearts)


def fit_hearts(account: Account, listed_at: Callable[[Account], int]) -> Account:
    """A pinned likes total (``hearts``) met exactly at the instant the fixture describes:
    the cascade sized so that the videos listed then show about ``1 / (1 + hidden_share)``
    of it as they show it then (young videos still growing, pinned likes counted as
    pinned), hidden likes the rest. ``listed_at(account)`` sums what the listed videos
    show at its reference instant: linear in the root but for rounding, and at root 0
    just the pinned likes and each video's floor like, the least it can be: a smaller
    ``hearts`` is a ValueError naming it. With nothing listed then, the first guess's root
    stays."""
    hearts = account.hearts or 0
    pinned = listed_at(dataclasses.replace(account, likes_root=0))
    if pinned > hearts:  # no root shows fewer: the total could not be met, only overridden
        raise ValueError(
            f"fixture account {account.handle!r} field 'hearts': {hearts} is less than its "
            f"videos show at as_of at the least ({pinned}: a like on each video, and the "
            "likes its 'videos' pin): give more 'hearts', fewer videos or smaller pinned likes")
    probe = 1 << 64
    reached = listed_at(dataclasses.replace(account, likes_root=probe)) - pinned
    if reached > 0:
        wanted = max(hearts / (1 + account.hidden_share) - pinned, 0)
        account = dataclasses.replace(account, likes_root=int(probe * wanted // reached))
    listed = listed_at(account)
    return dataclasses.replace(account, hidden_likes=max(hearts - listed, 0),
                               reference_listed=listed)


LIKES_SALT = 0x5DEECE66D5DEECE6


def likes_key(account: Account) -> int:
    return account.key ^ LIKES_SALT


def count_noise(account: Account, seq: int) -> int:
    """64 bits that shape a video's counts around its likes; cheap, so ranking every video
    of an account by views needs no digest per video."""
    return ids.mix(account.key ^ (seq << 20) ^ 0xC0FFEE)


def views_of(likes: int, noise: int) -> int:
    """Rounded up, so likes stay within 2-15% of views at any size (no floor of views: a
    video with 3 likes and 300 views would be 1%)."""
    ratio = 20 + int(130 * ((noise & 0xFFFF) / 0x10000) ** 1.5)  # likes per thousand views
    return -(-likes * 1000 // ratio)


def final_counts(likes: int, noise: int) -> Counts:
    """A video's counts around its likes: likes 2-15% of views, comments about 1% of likes
    (rounded up or down by the noise, so small accounts keep the ratio in aggregate), shares
    under 1% of views. Every count rises with ``likes``, so a video's counts at any age are
    these of its likes at that age."""
    views = views_of(likes, noise)
    shares = views * (5 + (noise >> 32 & 0xFF) % 76) // 10_000
    return _new_tuple(Counts, (
        views, likes,
        (likes * (5 + (noise >> 40 & 0xFF) % 16) + (noise >> 16 & 0xFFFF) % 1000) // 1000,
        shares, likes * (30 + (noise >> 48 & 0xFF) % 121) // 1000,  # saves
        shares * (5 + (noise >> 56 & 0xF) % 26) // 100,  # downloads
        shares * ((noise >> 60) % 11) // 100))  # reposts


# hashtag i of a caption is named by u[5 + i % 4] >> 8 * (i // 4)
_TAG_DRAWS = ((5, 0), (6, 0), (7, 0), (8, 0), (5, 8))
# (emoji run, its width in UTF-16 units) by draw: the caption's emoji counted once, not per video
_EMOJI_RUNS = tuple((e * n, n * utf16_len(e)) for n in (1, 2) for e in EMOJI)


def _caption(pools: Pools, language: str, u: tuple[int, ...], hashtag: Callable[[str], Hashtag],
             mention: Callable[[str], Mention]) -> tuple[str, tuple[TextExtra, ...]]:
    """Offsets count UTF-16 units: every pool word and handle is in the BMP (one unit a
    character), so only the emoji need counting, and their widths are known."""
    words = pools.language(language)
    sentences = words.sentences
    text = sentences[u[2] % len(sentences)]
    at = len(text)
    pick = u[3]
    if pick % 3 == 0:
        emoji, units = _EMOJI_RUNS[pick // 3 % len(EMOJI) + len(EMOJI) * (pick // 97 % 2)]
        text += " " + emoji
        at += 1 + units
    extras: list[TextExtra] = []
    pick = u[9]
    if pick % 5 == 0:
        handle = pools.handles[pick // 5 % len(pools.handles)]
        text += " @" + handle
        end = at + 2 + len(handle)
        extras.append(_new_tuple(TextExtra, (at + 1, end, None, mention(handle))))
        at = end
    count = _HASHTAG_COUNTS[u[4] % 8]
    if count:
        vocabulary = words.words
        names: list[str] = []
        for index, shift in _TAG_DRAWS[:count]:
            draw = u[index] >> shift
            name = (TRENDING_TAGS[draw % len(TRENDING_TAGS)] if draw & 0x100
                    else vocabulary[draw % len(vocabulary)])
            if name not in names:
                names.append(name)
                end = at + 2 + len(name)
                extras.append(_new_tuple(TextExtra, (at + 1, end, hashtag(name), None)))
                at = end
        text += " #" + " #".join(names)
    return text, tuple(extras)


def make_video(pools: Pools, seed: int, account: Account, seq: int, create_time: int,
               likes: int, track: Music | None, hashtag: Callable[[str], Hashtag],
               mention: Callable[[str], Mention]) -> Video:
    """``track`` is a pool song, or None for an original sound."""
    handle = account.handle
    u = draws(seed, "video", handle, seq)
    caption, extras = _caption(pools, account.language, u, hashtag, mention)
    seconds = (10 + u[0] % 51 if u[1] % 4 else 61 + u[0] % 120 if u[1] % 8 < 6
               else 5 + u[0] % 5)
    duration_ms = seconds * 1000 + u[1] % 1000 if seconds < 60 else seconds * 1000 + u[1] % 600
    width, height = _SIZES[u[6] % 3]
    if track is None:
        track = _new_tuple(Music, (  # id, title, author, album, duration, original, private, ...
            str((create_time - 7) << 32 | u[7]), f"original sound - {account.nickname}",
            account.nickname, "", (duration_ms + 500) // 1000, True, account.private,
            create_time, ("avatar", account.avatar_key, "100:100"),  # its author's avatar
            ids.cdn_audio(str(u[7]))))
    media_key = _FOUR_WORDS(u[13], u[14], u[15], u[8]).hex()  # 32 hex digits, no big int
    video_id = (account.video_ids and dict(account.video_ids).get(seq)
                or str((create_time - 1 - u[0] % 5) << 32 | u[10]))
    # every field in order, defaults included, without NamedTuple's Python-level __new__:
    # keyword arguments cost ten times as much, and a never-seen page makes thirty videos
    return _new_tuple(Video, (
        handle, seq, video_id, create_time, caption, extras, duration_ms, width, height,
        400_000 + u[12] % 2_100_000,  # bitrate
        final_counts(likes, count_noise(account, seq)), track,
        seq in account.pinned, seq in account.ads, account.region, media_key,
        account.video_scenarios and dict(account.video_scenarios).get(seq) or None,
        None, "", "",  # challenges, ratio, stream_id: a fixture's, by overrides.apply
    ))


def make_hashtag(pools: Pools, seed: int, name: str) -> Hashtag:
    u = draws(seed, "hashtag", name)
    digits = 6 + u[0] % 14
    lowest = 10 ** (digits - 1)
    tag_id = str(lowest + (u[1] << 32 | u[2]) % (9 * lowest))
    words = pools.language("en")
    key = f"{u[3]:08x}{u[4]:08x}{u[5]:08x}{u[6]:08x}"
    return Hashtag(id=tag_id, name=name,
                   description=words.sentences[u[7] % len(words.sentences)] + ".",
                   cover=("hashtag", key, "720:720"))


def make_track(pools: Pools, seed: int, number: int) -> Music:
    u = draws(seed, "track", number)
    created = int(LAUNCH + _unit(u[0]) * (timeline.EPOCH - 30 * _DAY - LAUNCH))
    music_id = str(created << 32 | u[1])
    names = pools.language(("en", "en", "es", "de", "fr", "pt")[u[2] % 6]).names
    return Music(
        id=music_id, title=pools.song_titles[u[3] % len(pools.song_titles)],
        author=names[u[4] % len(names)],
        album=pools.albums[u[5] % len(pools.albums)] if u[6] % 5 < 3 else "",
        duration=15 + u[7] % 46, original=False, private=False, created=created,
        cover=("music", f"{u[8]:08x}{u[9]:08x}{u[10]:08x}{u[11]:08x}", "100:100"),
        play_url=ids.cdn_audio(music_id),
    )
