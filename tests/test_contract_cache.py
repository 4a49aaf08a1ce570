"""The response memo: validated once, a tail spliced into it, bounded in bytes."""

from __future__ import annotations

import asyncio

import orjson

from mockserver.contract import Enforcer, Schemas


def page(n: int) -> dict:
    return {"aweme_list": [], "max_cursor": str(n), "min_cursor": "0", "has_more": 0,
            "padding": "x" * 50_000}


def test_tail_is_spliced_into_the_cached_body_as_valid_json():
    enforcer = Enforcer(Schemas())
    built = []
    for now in (1, 2):
        raw = enforcer.body("dumpling/videos.200", ("k",), lambda: built.append(1) or page(1),
                            tail={"extra": {"now": now}})
        body = orjson.loads(raw)
        assert body["extra"] == {"now": now} and body["max_cursor"] == "1"
    assert built == [1]  # rendered and validated once


def test_the_body_memo_is_bounded_in_bytes():
    enforcer = Enforcer(Schemas())
    enforcer._bodies.max_bytes = 1_000_000
    for n in range(100):  # about 5 MB of distinct pages
        enforcer.body("dumpling/videos.200", (n,), lambda n=n: page(n), tail={"extra": {"now": 1}})
    assert enforcer._bodies.size <= 1_000_000
    assert enforcer._bodies.size == sum(map(len, enforcer._bodies.values()))
    assert 0 < len(enforcer._bodies) < 100


def test_the_request_memo_is_bounded_in_bytes():
    enforcer = Enforcer(Schemas())
    enforcer._requests.max_bytes = 1_000_000
    for n in range(100):  # 100 distinct 5 KB bodies, each weighed as what parsing can make
        body = b'{"handle": "%d", "pad": "%s"}' % (n, b"x" * 5_000)
        document, violations = enforcer.request(
            "dumpling/profile.request", ("dumpling/profile.request", "/p", "", body),
            lambda body=body: {"body": orjson.loads(body)})
        assert document["body"]["handle"] == str(n)
    assert 0 < enforcer._requests.size <= 1_000_000
    assert 0 < len(enforcer._requests) < 100
    enforcer.clear()  # as a reset does
    assert len(enforcer._requests) == enforcer._requests.size == 0
    big = b'{"handle": "x", "pad": "%s"}' % (b"x" * 50_000)  # over REQUEST_MEMO_LARGEST
    enforcer.request("dumpling/profile.request", ("dumpling/profile.request", "/p", "", big),
                     lambda: {"body": orjson.loads(big)})
    assert len(enforcer._requests) == 0  # parsed anew each time, never kept


def test_a_spliced_body_goes_out_in_one_message():
    """A body with a tail (here Social Fetch's meta) is one http.response.body: a second
    message is a second write to the socket, which costs more than the copy."""
    from mockserver.app import create_app
    from mockserver.settings import Settings

    app = create_app(Settings.load({"now": "2026-11-23T12:00:00Z"}, env={}))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    path = "/v1/tiktok/profiles/stoolpresidente"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [(b"x-api-key", b"sfk_test")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
    asyncio.run(app(scope, receive, send))
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200 and len(bodies) == 1
    assert not bodies[0].get("more_body", False)
    assert orjson.loads(bodies[0]["body"])["meta"]["creditsCharged"] == 1
