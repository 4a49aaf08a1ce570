"""Rendering helpers more than one vendor uses: display counts, media URLs, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.errors import MockError
from mockserver.world import Account, Counts, Hashtag, Music, Profile, Video, ids
from mockserver.world.model import Mention

_DAY = 86_400


def display_count(value: int) -> int:
    """A count as TikTok's web pages show it: exact below 10,000, else cut to one decimal
    of K/M/B (4,149,321 followers show as 4.1M, i.e. 4100000)."""
    if value < 10_000:
        return value
    unit = 1_000 if value < 1_000_000 else 1_000_000 if value < 1_000_000_000 else 1_000_000_000
    step = unit // 10
    return value // step * step


def shown_friends(profile: Profile) -> int:
    """Friends as shown beside the cut follower count: never more than it, so what a client
    reads keeps friends <= followers (a fixture's 10,040 friends of 10,050 followers would
    show beside 10000)."""
    return min(profile.friends, display_count(profile.followers))


def day_of(instant: int) -> int:
    """The UTC day an instant falls in: signed CDN links are made per day."""
    return instant // _DAY * _DAY


def expires(day: int) -> int:
    """CDN links made on a day expire two days after it starts, like TikTok's signed URLs."""
    return day + 2 * _DAY


_SIDES = {"large": "1080:1080", "medium": "720:720", "thumb": "100:100"}


def avatar(account: Account, day: int, size: str) -> str:
    """Every video of a page carries its author's avatar: made once per account and day."""
    return image(("avatar", account.avatar_key, _SIDES[size]), day)


def media(video: Video, day: int) -> ids.Media:
    """cover, original cover, play (no watermark) and download (watermarked) URLs, and their
    mirrors."""
    return ids.cdn_media(video.media_key, _size(video.width, video.height), _expiry(day))


@lru_cache(maxsize=64)
def _size(width: int, height: int) -> str:
    """Numbers printed once, not per link: an int in an f-string costs a thousand
    instructions, and a page prints 150 links."""
    return f"{width}:{height}"


@lru_cache(maxsize=64)
def _expiry(day: int) -> str:
    return str(expires(day))


def ratio(video: Video) -> str:
    return video.ratio or _RATIOS.get(video.width, "720p")


_RATIOS = {576: "540p", 720: "720p", 1080: "1080p"}


# TikTok's app-API shapes (``aweme_list`` items): exact counts, lists of mirrors -------


def _url_object(uri: str, url: str) -> dict[str, Any]:
    """TikTok lists two or three CDN mirrors of every media file."""
    return {"uri": uri, "url_list": [url, ids.mirror(url)]}


def app_statistics(counts: Counts, video: Video, full: bool = True) -> dict[str, Any]:
    statistics: dict[str, Any] = {
        "comment_count": counts.comments, "digg_count": counts.likes,
        "download_count": counts.downloads, "play_count": counts.views,
        "share_count": counts.shares,
    }
    if full:
        statistics["collect_count"] = counts.saves
        statistics["forward_count"] = counts.reposts
        statistics["aweme_id"] = video.id
    return statistics


_PLAY_API = "https://api16-normal-c-useast1a.tiktokv.com/aweme/v1/play/?video_id="


def app_video(video: Video, day: int, full: bool = True, milliseconds: bool = False,
              urls: ids.Media | None = None) -> dict[str, Any]:
    """``milliseconds``: TikTok's own unit; DumplingAI's page shows seconds. ``urls``: the
    video's ``media`` when the caller has made them already. Lists and dicts a page shows
    twice are one object (bodies are serialised, never changed)."""
    duration = video.duration_ms if milliseconds else video.duration
    links = urls or media(video, day)
    if not full:
        return {"duration": duration, "cover": {"url_list": [links.cover]}}
    key, shown, width, height = video.media_key, ratio(video), video.width, video.height
    mirrors = [links.play, links.play_mirror]
    play = {"uri": key, "url_list": [*mirrors, f"{_PLAY_API}{key}&line=0&ratio={shown}"],
            "width": width, "height": height}
    return {
        "duration": duration,
        "cover": {"uri": key, "url_list": [links.cover, links.cover_mirror]},
        "height": height, "width": width, "ratio": shown,
        "bit_rate": [
            {"bit_rate": video.bitrate, "gear_name": f"adapt_{shown[:-1]}_1",
             "quality_type": 28, "is_h265": 0, "play_addr": play},
            {"bit_rate": video.bitrate * 3 // 5, "gear_name": "lower_540_0",
             "quality_type": 24, "is_h265": 0,
             "play_addr": {"uri": key + "_540", "url_list": mirrors,
                           "width": 576, "height": 1024}},
        ],
        "origin_cover": {"uri": key, "url_list": [links.origin, links.origin_mirror]},
        "play_addr": play,
        "download_addr": {"uri": key, "url_list": [links.download, links.download_mirror]},
    }


# Every item of a page names the same author, and most name one of a few thousand pool
# tracks and trending hashtags: those parts are rendered once and shared by the items that
# show them (bodies are serialised, never changed, so sharing a dict is safe).


def app_author(account: Account, day: int, full: bool = True) -> dict[str, Any]:
    return _author(account.handle, account.nickname, account.user_id, account.sec_uid,
                   account.signature, account.verified, account.avatar_key, day, full)


@lru_cache(maxsize=1024)
def _author(handle: str, nickname: str, user_id: str, sec_uid: str, signature: str,
            verified: bool, avatar_key: str, day: int, full: bool) -> dict[str, Any]:
    if not full:
        return {"unique_id": handle, "nickname": nickname}
    return {"unique_id": handle, "nickname": nickname, "uid": user_id, "sec_uid": sec_uid,
            "signature": signature, "verified": verified,
            "avatar_thumb": _url_object(
                avatar_key, image(("avatar", avatar_key, _SIDES["thumb"]), day))}


@lru_cache(maxsize=8192)
def image(cover: tuple[str, str, str], day: int) -> str:
    """A record's CDN image, signed on ``day`` like every other link of the body."""
    kind, key, size = cover
    return ids.cdn_image(kind, key, size, expires(day))


def app_music(video: Video, day: int) -> dict[str, Any]:
    music = video.music
    return _music_object(music, day) if music.original else _track_object(music, day)


def _music_object(music: Music, day: int) -> dict[str, Any]:
    return {"id": music.id, "id_str": music.id, "title": music.title, "author": music.author,
            "duration": music.duration, "original": music.original,
            "play_url": {"uri": music.play_url, "url_list": [music.play_url]},
            "cover_thumb": _url_object(music.id, image(music.cover, day))}


_track_object = lru_cache(maxsize=4096)(_music_object)  # an original sound is used once


def app_text_extra(video: Video) -> list[dict[str, Any]]:
    """Hashtags (type 1) and mentions (type 0) with every key TikTok sends on both."""
    return [{"start": extra.start, "end": extra.end, **_extra_fields(extra.hashtag, extra.mention)}
            for extra in video.text_extra]


@lru_cache(maxsize=8192)
def _extra_fields(tag: Hashtag | None, who: Mention | None) -> dict[str, Any]:
    """What a hashtag or mention entry shows besides its offsets: the same wherever it is
    used, so made once and copied into each entry."""
    fields: dict[str, Any] = {
        "type": 1 if tag else 0,
        "hashtag_name": tag.name if tag else "", "hashtag_id": tag.id if tag else "",
        "is_commerce": False, "user_id": who.user_id if who else "",
        "sec_uid": who.sec_uid if who else ""}
    if who:
        fields["user_unique_id"] = who.handle
    return fields


def app_challenges(video: Video) -> list[dict[str, Any]]:
    return [_challenge(h) for h in video.hashtags]


@lru_cache(maxsize=4096)
def _challenge(tag: Hashtag) -> dict[str, Any]:
    return {"cid": tag.id, "cha_name": tag.name, "desc": tag.description}


# TikTok's web shapes: profile totals rounded as the web pages show them ----------------


def web_user_stats(profile: Profile) -> dict[str, int]:
    return {
        "followerCount": display_count(profile.followers),
        "followingCount": profile.following,
        "heart": display_count(profile.hearts),
        "heartCount": display_count(profile.hearts),
        "videoCount": profile.video_count, "diggCount": profile.diggs,
        "friendCount": shown_friends(profile),
    }


def web_video_stats(counts: Counts) -> dict[str, int]:
    """Exact, as TikTok gives per-video counts (the video page's example: 567890 plays)."""
    return {
        "diggCount": counts.likes, "shareCount": counts.shares,
        "commentCount": counts.comments, "playCount": counts.views,
        "collectCount": counts.saves,
    }


def web_text_extra(video: Video) -> list[dict[str, Any]]:
    """The video page's ``textExtra``: its four keys, and TikTok's web keys for mentions."""
    out = []
    for extra in video.text_extra:
        tag, who = extra.hashtag, extra.mention
        item: dict[str, Any] = {"hashtagName": tag.name if tag else "",
                                "hashtagId": tag.id if tag else "",
                                "start": extra.start, "end": extra.end,
                                "type": 1 if tag else 0}
        if who:
            item.update(userId=who.user_id, secUid=who.sec_uid, userUniqueId=who.handle)
        out.append(item)
    return out


def query_params(query_string: str) -> dict[str, str]:
    """A query string as a flat map (the last of repeated names wins), blanks kept."""
    return dict(parse_qsl(query_string, keep_blank_values=True))


def json_object(raw: bytes) -> Any:
    """The parsed request body, or the vendor-neutral ``bad_json`` error."""
    if not raw.strip():
        raise MockError("bad_json")
    try:
        return orjson.loads(raw)
    except ValueError:
        raise MockError("bad_json") from None


def json_text(value: Any, limit: int = 40) -> str:
    """A request value as JSON, cut short for a contract note."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def undocumented_fields(given: Any, documented: Mapping[str, Any], what: str = "body field"
                        ) -> list[str]:
    """Contract notes: fields (or query parameters) the vendor's page does not document."""
    if not isinstance(given, dict):
        return []
    return [f"{what} {name!r} is not documented by the vendor; it is ignored"
            for name in given if name not in documented]
