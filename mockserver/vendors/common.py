"""Rendering helpers more than one vendor uses: display counts, media URLs, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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


def json_object(raw: bytes) -> Any:
    """The parsed request body, or the vendor-neutral ``bad_json`` error."""
    if not raw.strip():
        raise MockError("bad_json")
    try:
        return json.loads(raw)
    except ValueError:
        raise MockError("bad_json") from None


def undocumented_fields(body: Any, documented: Mapping[str, Any]) -> list[str]:
    """Contract notes: body fields the vendor's page does not document."""
    if not isinstance(body, dict):
        return []
    return [f"body field {name!r} is not documented by the vendor; it is ignored"
            for name in body if name not in documented]
