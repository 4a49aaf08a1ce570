"""On Redis the clock lives in the key ``mockserver:clock``, in an SQLite file in a row of
its own. What an outside write leaves there that is not a clock's state (a field that is
no number, an instant outside the clock's range, a key of another type, text that is not
JSON) is read as a clock not started: the next request or clock call starts it again, as
after a reset, and the balances and the journal stay as they were. Before, clock calls
(and requests) were 500s with a traceback until a reset, and an SQLite file holding such
a row stopped the mock's start with one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from mockserver.app import create_app
from mockserver.clock import parse_instant
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call, journal
from tests.conftest import FROZEN

KEY = "sk_clock_key"  # DumplingAI: 2 credits a profile
CLOCK = "mockserver:clock"


def replaced(client: redis.Redis, value: Callable[[redis.Redis], Any]) -> None:
    client.delete(CLOCK)
    value(client)


GARBAGE: dict[str, Callable[[redis.Redis], Any]] = {
    "offset not a number": lambda r: r.hset(CLOCK, "offset", "abc"),
    "frozen_at not a number": lambda r: r.hset(CLOCK, "frozen_at", "xyz"),
    "frozen_at NaN": lambda r: r.hset(CLOCK, "frozen_at", "nan"),
    "frozen_at past the clock's range": lambda r: r.hset(CLOCK, "frozen_at", "1e308"),
    "offset infinite": lambda r: r.hset(CLOCK, mapping={"frozen_at": "", "offset": "inf"}),
    "anchor not a number": lambda r: r.hset(CLOCK, "anchor", "abc"),
    "origin not a number": lambda r: r.hset(CLOCK, "origin", "abc"),
    "a string": lambda r: replaced(r, lambda c: c.set(CLOCK, "x")),
    "a list": lambda r: replaced(r, lambda c: c.rpush(CLOCK, "x")),
}


@pytest.mark.parametrize("then", ["request", "clock call"])
@pytest.mark.parametrize("garbage", GARBAGE)
def test_a_clock_key_that_is_no_clock_starts_again_and_the_ledger_is_untouched(
        redis_server, two_processes, garbage, then):
    first, second = two_processes
    assert first.post("/__mock/clock", json={"advance": 3600}).status_code == 200
    assert call(first, "dumpling", key=KEY).status_code == 200
    with redis.Redis.from_url(redis_server.url) as client:
        GARBAGE[garbage](client)

        answer = call(second, "dumpling", key=KEY) if then == "request" else \
            second.post("/__mock/clock", json={"advance": 60})
        assert answer.status_code == 200, answer.text
        for process in (first, second):  # neither answers a 500 now
            assert call(process, "dumpling", key=KEY).status_code == 200
            assert process.get("/__mock/clock").status_code == 200
        assert client.type(CLOCK) == b"hash"

    # started again where --now puts it (the hour moved before was in what was lost)
    unix = parse_instant(FROZEN) + (60 if then == "clock call" else 0)
    assert second.get("/__mock/clock").json() == first.get("/__mock/clock").json() == {
        "now": "2026-11-23T12:01:00.000Z" if then == "clock call" else
        "2026-11-23T12:00:00.000Z", "unix": unix, "frozen": True}
    requests = 1 + (then == "request") + 2
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 2 * requests
    assert [line["status"] for line in journal(first)] == [200] * requests


SQLITE_GARBAGE = {
    "not JSON": b"garbage",
    "a list": b"[1, 2]",
    "no clock's fields": b'{"a": 1}',
    "frozen_at not a number": b'{"frozen_at": "x", "offset": 0, "origin": null, "anchor": 1}',
    "offset true": b'{"frozen_at": null, "offset": true, "origin": null, "anchor": 1}',
    "frozen_at past the clock's range":
        b'{"frozen_at": 1e300, "offset": 0, "origin": null, "anchor": 1}',
}


def put_clock_row(path: str, raw: bytes) -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT OR REPLACE INTO kv VALUES ('_meta', 'clock', ?)", (raw,))


@pytest.mark.parametrize("garbage", SQLITE_GARBAGE)
def test_an_sqlite_clock_row_that_is_no_clock_starts_again_and_the_ledger_is_untouched(
        tmp_path, garbage):
    path = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": path, "rate_limit": 0}, env={})
    with ServerThread(create_app(settings)) as one, ServerThread(create_app(settings)) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        assert first.post("/__mock/clock", json={"advance": 3600}).status_code == 200
        assert call(first, "dumpling", key=KEY).status_code == 200
        put_clock_row(path, SQLITE_GARBAGE[garbage])
        assert second.post("/__mock/clock", json={"advance": 60}).status_code == 200
        for process in (first, second):
            assert call(process, "dumpling", key=KEY).status_code == 200
        assert first.get("/__mock/clock").json()["now"] == "2026-11-23T12:01:00.000Z"
        assert second.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 2 * 3
        assert [line["status"] for line in journal(second)] == [200] * 3

    put_clock_row(path, SQLITE_GARBAGE[garbage])  # and a start on such a file
    with ServerThread(create_app(settings)) as again, httpx.Client(base_url=again.url) as client:
        assert client.get("/__mock/clock").json()["now"] == "2026-11-23T12:00:00.000Z"
        assert client.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 2 * 3
