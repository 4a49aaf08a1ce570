"""Deterministic numbers, ids and URLs in TikTok's forms.

Everything here is a pure function of its arguments, so the same seed and
handle give the same bytes in any process and any request order.
"""

from __future__ import annotations

import base64
import hashlib

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SEC_UID_PREFIX = "MS4wLjABAAAA"


def digest(*parts: object, size: int = 8) -> bytes:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=size).digest()


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts``."""
    return int.from_bytes(digest(*parts), "big")


def unit(*parts: object) -> float:
    """A float in [0, 1) that depends only on ``parts``."""
    return stable_int(*parts) / 2**64


def snowflake(unix_seconds: int, *parts: object) -> str:
    """A 19-digit TikTok id: the top 32 bits are the unix time, the rest hash noise."""
    return str((unix_seconds << 32) | (stable_int(*parts) & 0xFFFFFFFF))


def snowflake_time(tiktok_id: str) -> int:
    return int(tiktok_id) >> 32


def sec_uid(*parts: object) -> str:
    """``MS4wLjABAAAA`` followed by 64 base64url characters, as TikTok's secUid."""
    raw = digest(*parts, size=48)
    return SEC_UID_PREFIX + base64.urlsafe_b64encode(raw).decode()


def base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_B62[rest])
    return "".join(chars)


def hex_token(*parts: object, size: int = 16) -> str:
    return digest(*parts, size=size).hex()


def signature(*parts: object) -> str:
    return base64.urlsafe_b64encode(digest("sig", *parts, size=21)).decode()


def cdn_image(kind: str, key: str, size: str, expires: int) -> str:
    """An image URL shaped like TikTok's signed p16 CDN links."""
    bucket = {"avatar": "tos-maliva-avt-0068", "cover": "tos-maliva-p-0068",
              "music": "tos-maliva-i-0068", "hashtag": "tos-maliva-i-0068"}[kind]
    return (f"https://p16-sign-va.tiktokcdn.com/{bucket}/{key}~tplv-tiktokx-cropcenter:{size}.jpeg"
            f"?x-expires={expires}&x-signature={signature(key, size, expires)}")


def cdn_video(key: str, expires: int, *, watermark: bool) -> str:
    """A playable-looking MP4 URL on TikTok's v16 video CDN."""
    variant = "ve-0068c799-us" if watermark else "ve-0068c001-us"
    return (f"https://v16-webapp-prime.tiktok.com/video/tos/maliva/tos-maliva-{variant}/{key}/"
            f"?mime_type=video_mp4&watermark={int(watermark)}"
            f"&x-expires={expires}&x-signature={signature(key, watermark, expires)}")


def cdn_audio(music_id: str) -> str:
    return f"https://sf16-ies-music-va.tiktokcdn.com/obj/ies-music-ttp-dup-us/{music_id}.mp3"


def short_code(prefix: str, *parts: object) -> str:
    """A share-link code: ``ZM`` + 7 base62 characters, like ``vm.tiktok.com/ZMabc1234/``."""
    return prefix + base62(stable_int("short", *parts), 7)


_MASK64 = (1 << 64) - 1


def mix(value: int) -> int:
    """SplitMix64's finaliser: a cheap, well-spread 64-bit hash of an integer. The hot
    paths (post times, like splits) call it where a blake2b digest would cost several
    times more."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)
