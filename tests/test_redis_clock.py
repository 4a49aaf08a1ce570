"""On Redis the clock lives in the key ``mockserver:clock``. What an outside write leaves
there that is not a clock's state (a field that is no number, an instant outside the
clock's range, a key of another type) is read as a clock not started: the next request or
clock call starts it again, as after a reset, and the balances and the journal stay as
they were. Before, clock calls (and requests) were 500s with a traceback until a reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from mockserver.clock import parse_instant
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
