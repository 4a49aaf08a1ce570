"""A Redis that stalls past the client's timeout: the mock answers its 503, and what those
requests sent runs when Redis wakes. Each ledger step carries the instant by which it must
have run (see store/redis_async.py, DEADLINE): run later, it changes nothing, so a request
answered 503 is neither charged, counted nor journalled."""

from __future__ import annotations

import asyncio
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
import redis

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import StoreUnavailable, open_store, redis_async
from tests.calls import KEYS, call
from tests.conftest import FROZEN
from tests.redis_server import RedisServer


def _ledger(http: httpx.Client) -> tuple[int, int, int, list[int]]:
    dumpling = http.get(f"/__mock/keys/{KEYS['dumpling']}").json()["balance"]
    social = http.get(f"/__mock/keys/{KEYS['socialfetch']}").json()["balance"]
    journal = http.get("/__mock/requests").json()["requests"]
    return dumpling, social, len(journal), [line["status"] for line in journal]


def test_requests_answered_503_by_a_stalled_redis_are_not_charged_when_it_wakes(tmp_path):
    redis_server = RedisServer(tmp_path / "redis").start()
    app = create_app(Settings.load({"now": FROZEN, "store": redis_server.url}, env={}))
    try:
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
            # each key read once: the requests below are one script each (see redis_store)
            assert call(http, "dumpling").status_code == 200
            assert call(http, "socialfetch").status_code == 200
            assert call(http, "dumpling", body={}).status_code == 400
            before = _ledger(http)
            limit_left = int(call(http, "dumpling").headers["x-ratelimit-remaining"])
            before = _ledger(http)

            def one(index: int) -> httpx.Response:
                with httpx.Client(base_url=server.url, timeout=30) as own:
                    if index % 3 == 2:  # no charge, its journal line alone
                        return call(own, "dumpling", body={})
                    return call(own, "dumpling" if index % 3 == 0 else "socialfetch")

            redis_server.process.send_signal(signal.SIGSTOP)
            try:
                with ThreadPoolExecutor(6) as pool:
                    answers = list(pool.map(one, range(6)))
            finally:
                redis_server.process.send_signal(signal.SIGCONT)
            # a 400 is answered all the same: only its journal line is lost (a warning)
            assert [a.status_code for a in answers] == [503, 503, 400] * 2, \
                [a.text for a in answers]
            assert all(a.json()["mockserver_error"] == "store_unavailable"
                       for a in answers if a.status_code == 503)
            # what the stalled connections sent has run (or been refused) by now
            with redis.Redis.from_url(redis_server.url) as client:
                client.ping()
            time.sleep(0.3)

            assert _ledger(http) == before  # nothing charged, nothing journalled
            resumed = call(http, "dumpling")
            assert resumed.status_code == 200, resumed.text
            # the 503s counted nothing in the rate window either
            assert int(resumed.headers["x-ratelimit-remaining"]) == limit_left - 1
            after = _ledger(http)
            assert after[0] == before[0] - 2 and after[2] == before[2] + 1
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        redis_server.stop()


def test_a_step_given_up_with_an_older_call_on_its_connection_is_not_applied(tmp_path):
    """A timeout fails every call waiting on the connection, the newest too, long before
    its own 2 s: its deadline is the oldest call's, not its own."""
    redis_server = RedisServer(tmp_path / "redis").start()
    app = create_app(Settings.load({"now": FROZEN, "store": redis_server.url}, env={}))
    try:
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http, \
                ThreadPoolExecutor(2) as pool:
            assert call(http, "dumpling").status_code == 200
            before = _ledger(http)

            def one(_: int) -> httpx.Response:
                with httpx.Client(base_url=server.url, timeout=30) as own:
                    return call(own, "dumpling")

            redis_server.process.send_signal(signal.SIGSTOP)
            try:
                older = pool.submit(one, 0)
                time.sleep(1.2)
                newer = pool.submit(one, 1)  # its own 2 s would end 1.2 s after the older's
                assert older.result().status_code == 503
                assert newer.result().status_code == 503, newer.result().text
            finally:  # woken well before the newer call's own 2 s (less the margin) are up
                redis_server.process.send_signal(signal.SIGCONT)
            with redis.Redis.from_url(redis_server.url) as client:
                client.ping()
            time.sleep(0.3)
            assert _ledger(http) == before
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        redis_server.stop()


def test_the_blocking_clients_steps_given_up_are_not_applied_when_redis_wakes(tmp_path):
    """The steps a request makes from the blocking client (a scenario's firing, a stored
    record made while rendering, a window counted before it) carry a deadline too."""
    redis_server = RedisServer(tmp_path / "redis").start()
    store = open_store(redis_server.url)
    try:
        # each script run once (loaded: a step Redis does not know yet never runs late)
        # records as the mock writes them (the store refuses others: test_store_garbage)
        armed = {"id": "a1", "vendor": None, "route": None, "handle": None, "key": None,
                 "scenario": "backend_error", "status": None, "body": None, "latency_ms": 0,
                 "times": 3, "remaining": 3, "probability": None, "fired": 0, "matched": 0,
                 "order": 1}
        key = {"balance": 10, "status": "active", "rate_limit": 0}
        store.put("armed", "a1", armed)
        assert store.consume("armed", "a1")["fired"] == 1
        store.put_new("records", "first", {"n": 0})
        store.charge("keys", "k", "balance", 1, key)
        steps = [lambda: store.consume("armed", "a1"),
                 lambda: store.put_new("records", "r", {"n": 1}),
                 lambda: store.charge("keys", "k", "balance", 1, key)]
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(len(steps)) as pool:
                for running in [pool.submit(step) for step in steps]:
                    with pytest.raises(StoreUnavailable):
                        running.result()
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        with redis.Redis.from_url(redis_server.url) as client:
            client.ping()
        time.sleep(0.3)
        assert store.items("armed") == [("a1", {**armed, "remaining": 2, "fired": 1})]
        assert store.get("records", "r") is None
        assert store.get("keys", "k")["balance"] == 9
        assert store.consume("armed", "a1")["fired"] == 2  # service resumes
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        store.close()
        redis_server.stop()


FRESH = {"balance": 100, "status": "active"}


def test_deadlines_are_set_on_redis_clock_however_far_this_process_clock_is(
        redis_server, monkeypatch):
    """Replicas on other machines: a process whose clock is 5 s behind Redis's would send
    steps already late (every request a 503), one 5 s ahead steps that are never late."""
    redis_server.flush()
    behind = SimpleNamespace(time=lambda: time.time() - 5)
    monkeypatch.setattr(redis_async, "time", behind)
    store = open_store(redis_server.url)
    try:
        assert store.charge("keys", "k", "balance", 1, FRESH)["balance"] == 99  # blocking
        pipelined = store.charge_async("keys", "k", "balance", 1, FRESH)
        assert asyncio.run(pipelined)["balance"] == 98
    finally:
        store.close()


def test_a_step_refused_as_late_has_the_clocks_measured_again(redis_server, monkeypatch):
    """The process's clock moved (a step of NTP) after the distance was measured: the first
    step is refused as late (a 503), the next ones are on time again."""
    redis_server.flush()
    store = open_store(redis_server.url)

    async def twice() -> list[object]:
        taken = [await store.charge_async("keys", "k", "balance", 1, FRESH)]  # connected
        monkeypatch.setattr(redis_async, "time", behind)
        for _ in range(2):
            try:
                taken.append((await store.charge_async("keys", "k", "balance", 1, FRESH)
                              )["balance"])
            except StoreUnavailable as late:
                taken.append(late.message)
            await asyncio.sleep(0.05)  # the clocks measured meanwhile
        return taken

    behind = SimpleNamespace(time=lambda: time.time() - 5)
    try:
        store.charge("keys", "k", "balance", 1, FRESH)
        taken = asyncio.run(twice())
        assert "did not answer in time: LATE" in taken[1] and taken[2] == 97, taken
        with pytest.raises(StoreUnavailable, match="did not answer in time"):
            store.charge("keys", "k", "balance", 1, FRESH)  # the blocking client's
        assert store.charge("keys", "k", "balance", 1, FRESH)["balance"] == 96
    finally:
        store.close()
