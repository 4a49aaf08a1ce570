"""The response memo: validated once, a tail spliced into it, bounded in bytes."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mockserver.contract import SPLIT_BYTES, Enforcer, Schemas, whole


def page(n: int) -> dict:
    return {"aweme_list": [], "max_cursor": str(n), "min_cursor": "0", "has_more": 0,
            "padding": "x" * 50_000}


def test_tail_is_spliced_into_the_cached_body_as_valid_json():
    enforcer = Enforcer(Schemas())
    built = []
    for now in (1, 2):
        raw = enforcer.body("dumpling/videos.200", ("k",), lambda: built.append(1) or page(1),
                            tail={"extra": {"now": now}})
        body = orjson.loads(whole(raw))
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


def _served(path: str, method: str = "GET", body: bytes = b"",
            headers: tuple = ((b"x-api-key", b"sfk_test"),)) -> list[dict]:
    """The messages the app sends for one request, called as a server calls it."""
    from mockserver.app import create_app
    from mockserver.settings import Settings

    app = create_app(Settings.load({"now": "2026-11-23T12:00:00Z"}, env={}))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": list(headers),
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
    asyncio.run(app(scope, receive, send))
    return sent


def test_a_small_spliced_body_goes_out_in_one_message():
    """A small body with a tail (here Social Fetch's meta) is one http.response.body: a
    second message is a second write to the socket, which costs more than the copy."""
    sent = _served("/v1/tiktok/profiles/stoolpresidente")
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200 and len(bodies) == 1
    assert not bodies[0].get("more_body", False)
    assert orjson.loads(bodies[0]["body"])["meta"]["creditsCharged"] == 1


@pytest.mark.parametrize("path, method, body, headers, tail", [
    ("/v1/tiktok/profiles/stoolpresidente/videos", "GET", b"",
     ((b"x-api-key", b"sfk_test"),), "meta"),
    ("/api/v1/get-tiktok-profile-videos", "POST", b'{"handle": "stoolpresidente"}',
     ((b"authorization", b"Bearer sk_test"),), "extra"),
])
def test_a_page_goes_out_in_two_messages_that_make_one_json_body(path, method, body, headers,
                                                                 tail):
    """A page (180-200 KB) is not copied to add its tail: the page, then the tail."""
    sent = _served(path, method, body, headers)
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200 and len(bodies) == 2
    assert bodies[0]["more_body"] is True and not bodies[1].get("more_body", False)
    whole_body = bodies[0]["body"] + bodies[1]["body"]
    length = dict(sent[0]["headers"])[b"content-length"]
    assert int(length) == len(whole_body) > SPLIT_BYTES
    assert tail in orjson.loads(whole_body) and len(bodies[1]["body"]) < 200


def test_the_first_bytes_of_a_body_in_two_parts_are_those_of_the_whole():
    from mockserver.contract import Spliced, prefix

    body = Spliced(b'{"a":1', b',"b":2}')
    assert whole(body) == b'{"a":1,"b":2}'
    for size in (0, 3, 6, 7, 10, 100):
        assert prefix(body, size) == whole(body)[:size]
        assert prefix(whole(body), size) == whole(body)[:size]


def test_a_schema_the_metaschema_refuses_is_named_in_words(tmp_path):
    # jsonschema is imported only when something fails: this is the path that needs it
    from jsonschema.exceptions import SchemaError

    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "broken.json").write_text('{"type": "strin"}')
    with pytest.raises(SchemaError, match="'strin' is not valid"):
        Schemas(tmp_path)
