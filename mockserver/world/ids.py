"""Deterministic numbers, ids and URLs in TikTok's forms.

Everything here is a pure function of its arguments, so the same seed and
handle give the same bytes in any process and any request order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any, NamedTuple

SEC_UID_PREFIX = "MS4wLjABAAAA"
_new_tuple = tuple.__new__  # a NamedTuple built without its Python-level __new__


def digest(*parts: object, size: int = 8) -> bytes:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=size).digest()


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts``."""
    return int.from_bytes(digest(*parts), "big")


class VideoId(str):
    """The type of a fixture's pinned video id: a string of 1 to 20 digits, as TikTok's
    (a snowflake under 2**64 below, e.g. ``7321234567890123456``). The vendors' schemas
    require digits (DumplingAI's ``aweme_id``) and their video routes take 1 to 20 (a URL's
    ``/video/ID``, the gateway's path), so any other id breaks a body or cannot be asked
    for. The fixture check asks ``fits`` and says ``description``."""

    description = "a video id (a string of 1 to 20 digits, e.g. '7321234567890123456')"
    _FORM = re.compile(r"[0-9]{1,20}")

    @classmethod
    def fits(cls, value: Any) -> bool:
        return isinstance(value, str) and cls._FORM.fullmatch(value) is not None


def snowflake(unix_seconds: int, *parts: object) -> str:
    """A 19-digit TikTok id: the top 32 bits are the unix time, the rest hash noise."""
    return str((unix_seconds << 32) | (stable_int(*parts) & 0xFFFFFFFF))


def snowflake_time(tiktok_id: str) -> int:
    return int(tiktok_id) >> 32


def sec_uid(*parts: object) -> str:
    """``MS4wLjABAAAA`` followed by 64 base64url characters, as TikTok's secUid."""
    raw = digest(*parts, size=48)
    return SEC_UID_PREFIX + base64.urlsafe_b64encode(raw).decode()


def hex_token(*parts: object, size: int = 16) -> str:
    return digest(*parts, size=size).hex()


def signature(*parts: object) -> str:
    """28 base64url characters keyed by ``parts``: the look of TikTok's ``x-signature``."""
    raw = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=21,
                          person=b"sig").digest()
    return base64.urlsafe_b64encode(raw).decode()


_BUCKETS = {"avatar": "tos-maliva-avt-0068", "cover": "tos-maliva-p-0068",
            "music": "tos-maliva-i-0068", "hashtag": "tos-maliva-i-0068"}


_IMAGE_HOST = "https://p16-sign-va.tiktokcdn.com/"
_VIDEO_HOST = "https://v16-webapp-prime.tiktok.com/"
# a signed link's second mirror: the same path on another host, by the host's letter
_MIRRORS = {"p": (_IMAGE_HOST, "https://p19-sign.tiktokcdn.com/"),
            "v": (_VIDEO_HOST, "https://v19-webapp-prime.tiktok.com/")}


def cdn_image(kind: str, key: str, size: str, expires: int) -> str:
    """An image URL shaped like TikTok's signed p16 CDN links."""
    bucket = _BUCKETS[kind]
    return (f"{_IMAGE_HOST}{bucket}/{key}~tplv-tiktokx-cropcenter:{size}.jpeg"
            f"?x-expires={expires}&x-signature={signature(key, size, expires)}")


def mirror(url: str) -> str:
    """The same signed file on TikTok's second CDN host (a slice: str.replace cost eight
    times as much, and a page lists 150 mirrors). A link on no known host is its own."""
    host, second = _MIRRORS.get(url[8:9], ("", ""))
    return second + url[len(host):] if host and url.startswith(host) else url


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_IMAGE_PATH = "tos-maliva-p-0068/"
_VIDEO_PATH = "video/tos/maliva/tos-maliva-ve-0068c"
_IMAGES = tuple(host + _IMAGE_PATH for host in _MIRRORS["p"])
_VIDEOS = tuple(host + _VIDEO_PATH for host in _MIRRORS["v"])


class Media(NamedTuple):
    """A video's signed files, each on TikTok's two CDN hosts (``*_mirror``): made together
    here rather than cut from each other, since a page lists 240 of them."""

    cover: str
    origin: str  # the cover at the video's own size
    play: str  # no watermark
    download: str  # watermarked
    cover_mirror: str
    origin_mirror: str
    play_mirror: str
    download_mirror: str


def cdn_media(key: str, origin_size: str, expires: str) -> Media:
    """A video's cover, original-size cover, play and watermarked download URLs and their
    mirrors: each signed, the four signatures cut from one digest (base64 is called without
    its Python wrappers)."""
    raw = binascii.b2a_base64(hashlib.blake2b(
        f"{key}\x1f{origin_size}\x1f{expires}".encode(), digest_size=63,
        person=b"media").digest(), newline=False).translate(_URLSAFE).decode()
    tail = f"?x-expires={expires}&x-signature="
    image = f"{key}~tplv-tiktokx-cropcenter:"
    cover = f"{image}720:1280.jpeg{tail}{raw[:21]}"
    origin = f"{image}{origin_size}.jpeg{tail}{raw[21:42]}"
    video = f"-us/{key}/?mime_type=video_mp4&watermark="
    play = f"001{video}0&x-expires={expires}&x-signature={raw[42:63]}"
    download = f"799{video}1&x-expires={expires}&x-signature={raw[63:84]}"
    first, second = _IMAGES
    on, mirror_on = _VIDEOS
    return _new_tuple(Media, (first + cover, first + origin, on + play, on + download,
                              second + cover, second + origin, mirror_on + play,
                              mirror_on + download))


def cdn_audio(music_id: str) -> str:
    return f"https://sf16-ies-music-va.tiktokcdn.com/obj/ies-music-ttp-dup-us/{music_id}.mp3"


_MASK64 = (1 << 64) - 1


def mix(value: int) -> int:
    """SplitMix64's finaliser: a cheap, well-spread 64-bit hash of an integer. The hot
    paths (post times, like splits) call it where a blake2b digest would cost several
    times more."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)
