"""The response memo: validated once, a tail spliced into it, bounded in bytes."""

from __future__ import annotations

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
    for n in range(100):  # 100 distinct 50 KB bodies: about 5 MB of keys
        body = b'{"handle": "%d", "pad": "%s"}' % (n, b"x" * 50_000)
        document, violations = enforcer.request(
            "dumpling/profile.request", ("dumpling/profile.request", "/p", "", body),
            lambda body=body: {"body": orjson.loads(body)})
        assert document["body"]["handle"] == str(n)
    assert 0 < enforcer._requests.size <= 1_000_000
    assert 0 < len(enforcer._requests) < 100
