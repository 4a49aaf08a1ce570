"""TikTok video URLs in every form a user pastes, parsed into what the world can look up."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WEB = re.compile(
    r"^https?://(?:www\.|m\.)?tiktok\.com/@(?P<handle>[A-Za-z0-9_.]{2,24})/video/(?P<id>\d{1,20})"
    r"/?(?:[?#].*)?$", re.ASCII)  # ASCII: \d would also take "٣" or "７", no id of TikTok's
_MOBILE = re.compile(r"^https?://m\.tiktok\.com/v/(?P<id>\d{1,20})(?:\.html)?/?(?:[?#].*)?$",
                     re.ASCII)
_SHORT = re.compile(
    r"^https?://(?:(?:vm|vt)\.tiktok\.com|(?:www\.)?tiktok\.com/t)/(?P<code>[A-Za-z0-9]{5,16})"
    r"/?(?:[?#].*)?$")


@dataclass(frozen=True)
class VideoLink:
    """What a URL names: a handle and id, an id alone, or a share code to resolve."""

    handle: str | None = None
    video_id: str | None = None
    short_code: str | None = None


def parse_video_url(url: str) -> VideoLink | None:
    """None when the text is not a TikTok video URL of any known form."""
    url = url.strip()
    if match := _WEB.match(url):
        return VideoLink(handle=match["handle"].lower(), video_id=match["id"])
    if match := _MOBILE.match(url):
        return VideoLink(video_id=match["id"])
    if match := _SHORT.match(url):
        return VideoLink(short_code=match["code"])
    return None
