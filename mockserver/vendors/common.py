"""Rendering helpers more than one vendor uses: display counts, media URLs, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.errors import MockError
from mockserver.world import Account, Video, ids

_DAY = 86_400


def display_count(value: int) -> int:
    """A count as TikTok's web pages show it: exact below 10,000, else cut to one decimal
    of K/M/B (4,149,321 followers show as 4.1M, i.e. 4100000)."""
    if value < 10_000:
        return value
    unit = 1_000 if value < 1_000_000 else 1_000_000 if value < 1_000_000_000 else 1_000_000_000
    step = unit // 10
    return value // step * step


def expires(anchor: int) -> int:
    """CDN links in a day's world expire two days after it starts, like TikTok's signed URLs."""
    return anchor + 2 * _DAY


def avatar(account: Account, anchor: int, size: str) -> str:
    side = {"large": "1080:1080", "medium": "720:720", "thumb": "100:100"}[size]
    return ids.cdn_image("avatar", account.avatar_key, side, expires(anchor))


def cover(video: Video, anchor: int, origin: bool = False) -> str:
    size = f"{video.width}:{video.height}" if origin else "720:1280"
    return ids.cdn_image("cover", video.media_key, size, expires(anchor))


def play_url(video: Video, anchor: int, watermark: bool) -> str:
    return ids.cdn_video(video.media_key, expires(anchor), watermark=watermark)


def ratio(video: Video) -> str:
    return {576: "540p", 720: "720p", 1080: "1080p"}.get(video.width, "720p")


# TikTok's app-API shapes (``aweme_list`` items): exact counts -------------------------


def app_statistics(video: Video, full: bool = True) -> dict[str, Any]:
    statistics: dict[str, Any] = {
        "comment_count": video.comments, "digg_count": video.likes,
        "download_count": video.downloads, "play_count": video.views,
        "share_count": video.shares,
    }
    if full:
        statistics.update(collect_count=video.saves, forward_count=video.reposts,
                          aweme_id=video.id)
    return statistics


def app_video(video: Video, anchor: int, full: bool = True) -> dict[str, Any]:
    thumbnail = cover(video, anchor)
    if not full:
        return {"duration": video.duration, "cover": {"url_list": [thumbnail]}}
    return {
        "duration": video.duration, "cover": {"uri": video.media_key, "url_list": [thumbnail]},
        "height": video.height, "width": video.width, "ratio": ratio(video),
        "bit_rate": video.bitrate,
        "origin_cover": {"uri": video.media_key, "url_list": [cover(video, anchor, origin=True)]},
        "play_addr": {"uri": video.media_key,
                      "url_list": [play_url(video, anchor, watermark=False)]},
        "download_addr": {"uri": video.media_key,
                          "url_list": [play_url(video, anchor, watermark=True)]},
    }


def app_author(account: Account, anchor: int, full: bool = True) -> dict[str, Any]:
    author: dict[str, Any] = {"unique_id": account.handle, "nickname": account.nickname}
    if full:
        author.update({
            "uid": account.user_id, "sec_uid": account.sec_uid, "signature": account.signature,
            "verified": account.verified,
            "avatar_thumb": {"uri": account.avatar_key,
                             "url_list": [avatar(account, anchor, "thumb")]},
        })
    return author


def app_music(video: Video) -> dict[str, Any]:
    music = video.music
    return {"id": music.id, "id_str": music.id, "title": music.title, "author": music.author,
            "duration": music.duration, "original": music.original,
            "play_url": {"uri": music.play_url, "url_list": [music.play_url]},
            "cover_thumb": {"uri": music.id, "url_list": [music.cover_url]}}


def app_text_extra(video: Video) -> list[dict[str, Any]]:
    return [{"hashtag_name": e.hashtag.name, "hashtag_id": e.hashtag.id,
             "start": e.start, "end": e.end, "type": 1} for e in video.text_extra]


def app_challenges(video: Video) -> list[dict[str, Any]]:
    return [{"cid": h.id, "cha_name": h.name, "desc": h.description} for h in video.hashtags]


# TikTok's web shapes: counts rounded as the web pages show them ----------------------


def web_user_stats(account: Account) -> dict[str, int]:
    return {
        "followerCount": display_count(account.followers),
        "followingCount": account.following,
        "heart": display_count(account.hearts),
        "heartCount": display_count(account.hearts),
        "videoCount": account.video_count, "diggCount": account.diggs,
        "friendCount": account.friends,
    }


def web_video_stats(video: Video) -> dict[str, int]:
    return {
        "diggCount": display_count(video.likes),
        "shareCount": display_count(video.shares),
        "commentCount": display_count(video.comments),
        "playCount": display_count(video.views),
        "collectCount": display_count(video.saves),
    }


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
