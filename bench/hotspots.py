"""Where the mock spends its time, per route: cProfile of the ASGI app called in-process.

    .venv/bin/python bench/hotspots.py                 # every DumplingAI route, 3000 calls each
    .venv/bin/python bench/hotspots.py -n 5000 --top 30 --route videos
    .venv/bin/python bench/hotspots.py --handles       # distinct handles (uncached path)

No HTTP server and no client: each call drives ``create_app(...)`` directly with an ASGI
scope, so the figures are the app's own cost (routing, pipeline, validation, rendering,
journal), without uvicorn's parsing and socket work. Prints per-route microseconds per
call (unprofiled) and the top functions by cumulative time (profiled).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
from typing import Any

from mockserver.app import create_app
from mockserver.clock import parse_instant
from mockserver.settings import Settings

NOW = "2026-11-23T12:00:00Z"
AUTH = [(b"authorization", b"Bearer sk_bench"), (b"content-type", b"application/json")]


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}


async def call(app: Any, method: str, path: str, body: bytes,
               headers: list[tuple[bytes, bytes]] = AUTH
               ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request straight into the ASGI app, with the headers wrk sends: status, response
    headers, body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    sent_headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"wrk"), *headers]
    if body:
        sent_headers.append((b"content-length", str(len(body)).encode()))
    await app(scope(method, path, sent_headers), receive, send)
    return sent[0]["status"], sent[0]["headers"], b"".join(m.get("body", b"") for m in sent[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="calls per route")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--route", action="append", help="profile, videos, video, huge-deep")
    parser.add_argument("--handles", action="store_true",
                        help="also profile distinct handles on the profile route")
    parser.add_argument("--no-validate-responses", action="store_true")
    args = parser.parse_args()

    settings = Settings(now=parse_instant(NOW), credits=10**9, rate_limit=0,
                        validate_responses=not args.no_validate_responses)
    app = create_app(settings)
    loop = asyncio.new_event_loop()

    status, _, first = loop.run_until_complete(call(
        app, "POST", "/api/v1/get-tiktok-profile-videos", b'{"handle":"stoolpresidente"}'))
    page = json.loads(first)
    video_id = page["aweme_list"][0]["aweme_id"]
    _, _, huge = loop.run_until_complete(call(
        app, "POST", "/api/v1/get-tiktok-profile-videos", b'{"handle":"huge_account"}'))
    huge_page = json.loads(huge)
    span = int(huge_page["min_cursor"]) - int(huge_page["max_cursor"])
    deep_cursor = int(huge_page["max_cursor"]) - span * 2000
    routes = {
        "profile": ("/api/v1/get-tiktok-profile", lambda i: b'{"handle":"stoolpresidente"}'),
        "videos": ("/api/v1/get-tiktok-profile-videos",
                   lambda i: b'{"handle":"stoolpresidente"}'),
        "video": ("/api/v1/get-tiktok-video", lambda i: json.dumps(
            {"url": f"https://www.tiktok.com/@stoolpresidente/video/{video_id}"}).encode()),
        "huge-deep": ("/api/v1/get-tiktok-profile-videos", lambda i: json.dumps(
            {"handle": "huge_account", "maxCursor": str(deep_cursor)}).encode()),
    }
    if args.handles:
        routes["distinct-handles"] = ("/api/v1/get-tiktok-profile",
                                      lambda i: b'{"handle":"prof%d"}' % i)
    for name in args.route or list(routes):
        path, body_of = routes[name]
        status, _, body = loop.run_until_complete(call(app, "POST", path, body_of(10**8)))
        assert status == 200, (name, status, body[:200])

        async def loop_calls(offset: int, path: str = path, body_of: Any = body_of) -> None:
            for i in range(args.n):
                await call(app, "POST", path, body_of(offset + i))

        t0 = time.perf_counter()
        loop.run_until_complete(loop_calls(0))
        per_call = (time.perf_counter() - t0) / args.n * 1e6
        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(loop_calls(args.n))
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
        print(f"\n===== {name}: {per_call:.0f} us per call unprofiled "
              f"({1e6 / per_call:,.0f} calls/s in-process), body {len(body):,} B =====")
        text = out.getvalue()
        print(text[text.find("   ncalls"):].rstrip())


if __name__ == "__main__":
    main()
