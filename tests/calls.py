"""One request helper for every vendor route, as a client would send it over real HTTP.

Shared by the scenario, fault and admin tests, so each can parametrize over vendors.
"""

from __future__ import annotations

from typing import Any

import httpx

VENDORS = ("dumpling", "socialfetch", "gateway")
HANDLE = "stoolpresidente"
#: a key of each vendor's form that no fixture names
KEYS = {"dumpling": "sk_test_key", "socialfetch": "sfk_test_key",
        "gateway": "gw_test_key_0123456789"}
#: the route each vendor-parametrized test uses
DEFAULT_ROUTE = {"dumpling": "profile", "socialfetch": "profile", "gateway": "user"}
_DUMPLING_PATHS = {"profile": "get-tiktok-profile", "videos": "get-tiktok-profile-videos",
                   "video": "get-tiktok-video"}


def call(http: httpx.Client, vendor: str, route: str | None = None, *, key: str | None = None,
         handle: str = HANDLE, video_id: str | None = None, body: Any = None,
         headers: dict[str, str] | None = None, **options: Any) -> httpx.Response:
    """Call ``vendor``'s ``route`` (its default route if None) for ``handle``/``video_id``.

    ``key`` defaults to the vendor's test key; ``""`` sends none. ``options`` go to httpx
    (e.g. ``timeout``)."""
    route = route or DEFAULT_ROUTE[vendor]
    key = KEYS[vendor] if key is None else key
    headers = dict(headers or {})
    if vendor == "dumpling":
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if body is None:
            body = ({"url": f"https://www.tiktok.com/@{handle}/video/{video_id}"}
                    if route == "video" else {"handle": handle})
        return http.post(f"/api/v1/{_DUMPLING_PATHS[route]}", json=body, headers=headers,
                         **options)
    if key:
        headers["x-api-key"] = key
    if vendor == "socialfetch":
        path = f"/v1/tiktok/profiles/{handle}" + ("/videos" if route == "videos" else "")
    elif route == "user":
        path = f"/dev/tiktok/user/{handle}"
    else:
        path = f"/dev/tiktok/video/{handle}/{video_id}"
    return http.get(path, headers=headers, **options)


def first_video_id(http: httpx.Client, handle: str = HANDLE) -> str:
    response = call(http, "socialfetch", "videos", handle=handle, key="sfk_video_lookup")
    assert response.status_code == 200, response.text
    return response.json()["data"]["videos"][0]["id"]


def arm(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/__mock/scenarios", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def journal(http: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    response = http.get("/__mock/requests", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


def error_message(vendor: str, response: httpx.Response) -> str:
    """The human message of a vendor's error body."""
    body = response.json()
    if vendor == "dumpling":
        return body["error"]
    if vendor == "socialfetch":
        return body["error"]["message"]
    return body["message"]


def utf16_slice(text: str, start: int, end: int) -> str:
    """``text[start:end]`` counted in UTF-16 code units, as TikTok counts caption offsets."""
    units = text.encode("utf-16-le")
    return units[2 * start:2 * end].decode("utf-16-le")


def tagged(extra: dict[str, Any], snake: bool = True) -> str:
    """The caption text a ``text_extra`` / ``textExtra`` entry points at: ``#name`` for a
    hashtag (type 1), ``@handle`` for a mention (type 0)."""
    if extra["type"] == 1:
        return "#" + extra["hashtag_name" if snake else "hashtagName"]
    return "@" + extra["user_unique_id" if snake else "userUniqueId"]
