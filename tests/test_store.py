"""The store's ledger steps, the same in memory, in SQLite and in a real Redis: each one
atomic, so threads (here) or processes (test_replicas) hammering it lose nothing."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
import redis

from mockserver.app import create_app
from mockserver.clock import SharedClock, parse_instant
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import (
    BEFORE_FIRST_WRITE,
    NOT_LIMITED,
    Chance,
    Charge,
    Opening,
    Store,
    draw,
    open_store,
)
from tests.calls import call
from tests.conftest import FROZEN
from tests.redis_server import RedisServer

FRESH = {"balance": 100, "status": "active"}
T = parse_instant(FROZEN)  # a shared clock in Redis shows only instants the clock may


def _spec(request, tmp_path, kind: str) -> str:
    """A fresh store of ``kind`` (memory, sqlite, redis), as --store names it."""
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        return server.url
    return str(tmp_path / "ledger.sqlite") if kind == "sqlite" else "memory"


def _open(request, tmp_path, kind: str) -> Store:
    return open_store(_spec(request, tmp_path, kind))


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path) -> Iterator[Store]:
    opened = _open(request, tmp_path, request.param)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request, tmp_path) -> Iterator[Store]:
    opened = _open(request, tmp_path, request.param)
    yield opened
    opened.close()


def test_get_or_create_keeps_the_first_record(store):
    assert store.put_new("t", "a", {"n": 1}) == {"n": 1}
    assert store.put_new("t", "a", {"n": 2}) == {"n": 1}
    assert store.get("t", "a") == {"n": 1}
    assert store.update("t", "a", {"m": 3}, {"n": 0}) == {"n": 1, "m": 3}
    assert store.update("t", "b", {"m": 3}, {"n": 0}) == {"n": 0, "m": 3}
    assert store.delete("t", "a") is True and store.delete("t", "a") is False


def test_a_charge_takes_all_or_nothing_and_racing_threads_spend_each_credit_once(store):
    assert store.charge("keys", "k", "balance", 101, FRESH) is None
    assert store.get("keys", "k") is None  # a refused charge changes nothing
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: store.charge("keys", "k", "balance", 3, FRESH),
                              range(60)))
    assert sum(1 for t in taken if t is not None) == 33  # 33 * 3 = 99 of 100
    assert store.get("keys", "k")["balance"] == 1
    assert sorted(t["balance"] for t in taken if t is not None) == list(range(1, 100, 3))


def test_balances_up_to_the_largest_allowed_stay_exact_whole_numbers(store):
    big = {"balance": 10**15, "status": "active", "masked": "…big#0a1b"}
    assert store.charge("keys", "k", "balance", 1, big)["balance"] == 10**15 - 1
    assert store.update("keys", "k", {"rate_limit": 7}, big) == {**big, "balance": 10**15 - 1,
                                                                 "rate_limit": 7}
    kept = store.get("keys", "k")["balance"]
    assert kept == 10**15 - 1 and isinstance(kept, int)


def test_a_request_is_charged_with_its_last_writes_or_not_at_all(store):
    def fill(writes):
        writes.append("journal", {"n": len(store.recent("journal", 9))}, 9)
        writes.tally("cov", ["ok"], "id")

    def finish(amount, assumed_low):
        charge = Charge("keys", "k", "balance", amount, FRESH, amount, assumed_low)
        return asyncio.run(store.finish_async(charge, fill))

    after, made = finish(30, False)  # 70 left: not below 30, as assumed
    assert (after["balance"], made) == (70, True)
    assert store.tallies("cov")["ok"]["met"] == 1 and len(store.recent("journal", 9)) == 1
    assert finish(80, False) == (None, False)  # refused: nothing taken, nothing written
    after, made = finish(40, False)  # 30 left is below 40: charged, the writes left out
    assert (after["balance"], made) == (30, False)
    assert store.get("keys", "k")["balance"] == 30 and store.tallies("cov")["ok"]["met"] == 1
    assert finish(30, True) == ({**FRESH, "balance": 0}, True)
    assert store.tallies("cov")["ok"]["met"] == 2 and len(store.recent("journal", 9)) == 2


def test_a_journal_line_pushed_before_its_step_is_taken_back_when_the_step_refuses(
        redis_server):
    """Redis keeps a request's journal line by a plain LPUSH just before its last step
    (cheaper than passing it to the script); a refused charge takes it back, and a Redis
    that forgot the script (SCRIPT FLUSH) neither keeps it twice nor loses it."""
    redis_server.flush()
    store = open_store(redis_server.url)

    async def finish(amount: int, line: int) -> tuple:
        def fill(writes):
            writes.append("journal", {"line": line}, 3)
            writes.tally("cov", ["ok"], f"id{line}")
        return await store.finish_async(Charge("keys", "k", "balance", amount, FRESH, 0, False),
                                        fill)

    async def requests() -> None:  # on one connection, as a serving process has them
        for line in range(4):
            assert (await finish(10, line))[1] is True
        assert await finish(1000, 4) == (None, False)  # refused: its line taken back
        with redis.Redis.from_url(redis_server.url) as client:
            client.script_flush()
        assert (await finish(10, 5))[0]["balance"] == 50

    asyncio.run(requests())
    assert store.recent("journal", 9) == [{"line": n} for n in (5, 3, 2)]
    assert store.tallies("cov")["ok"]["met"] == 5 and store.get("keys", "k")["balance"] == 50
    store.close()


def test_on_redis_a_balance_is_a_whole_number_counter_of_its_own(redis_server):
    """Not a field in the key's JSON record that a charge edits: its own counter, checked
    and taken from in one step, exact to the credit. A record an older mock stored with
    its balance inside is read as it is, and its first charge moves it to the counter."""
    redis_server.flush()
    store = open_store(redis_server.url)
    big = {"balance": 10**15, "status": "active", "rate_limit": 5, "masked": "…big#0a1b"}
    rest = {name: value for name, value in big.items() if name != "balance"}
    with redis.Redis.from_url(redis_server.url) as client:
        def kept(kid: str) -> tuple[bytes | None, dict]:
            return (client.hget("mockserver:c:keys", f"{kid} balance"),
                    orjson.loads(client.hget("mockserver:t:keys", kid)))

        assert store.put_new("keys", "k", big) == big
        assert kept("k") == (b"1000000000000000", rest)
        assert store.charge("keys", "k", "balance", 3, big)["balance"] == 10**15 - 3
        assert kept("k") == (b"999999999999997", rest)
        assert store.update("keys", "k", {"balance": 7, "rate_limit": 9}, big) == {
            **big, "balance": 7, "rate_limit": 9}
        assert kept("k") == (b"7", {**rest, "rate_limit": 9})
        assert store.charge("keys", "k", "balance", 8, big) is None  # refused: unchanged
        assert store.items("keys") == [("k", {**big, "balance": 7, "rate_limit": 9})]

        client.hset("mockserver:t:keys", "old", orjson.dumps(big))  # an older mock's
        assert store.get("keys", "old") == big
        assert store.charge("keys", "old", "balance", 1, big)["balance"] == 10**15 - 1
        assert kept("old") == (b"999999999999999", rest)
        assert store.get("keys", "old") == {**big, "balance": 10**15 - 1}
        store.clear()
        assert client.hlen("mockserver:c:keys") == 0 and store.get("keys", "k") is None
    store.close()


def test_on_redis_a_request_rendering_counts_its_window_before_it_stores_or_drops_a_record(
        redis_server):
    """What a request does first (store.BEFORE_FIRST_WRITE: count the window it left to
    its last step) runs before the Gateway's records are stored or dropped as it renders,
    and a refusal there leaves them as they were."""
    redis_server.flush()
    store = open_store(redis_server.url)
    store.put_new("users", "u", {"n": 1})
    counted = []

    def refuse() -> None:
        counted.append(1)
        raise RuntimeError("over the limit")

    token = BEFORE_FIRST_WRITE.set(refuse)
    try:
        with pytest.raises(RuntimeError):
            store.delete("users", "u")
        with pytest.raises(RuntimeError):
            store.put_new("users", "v", {"n": 2})
    finally:
        BEFORE_FIRST_WRITE.reset(token)
    assert counted == [1, 1]
    assert store.get("users", "u") == {"n": 1} and store.get("users", "v") is None
    store.close()


def test_admit_counts_exactly_the_limit_per_window(store):
    with ThreadPoolExecutor(8) as pool:
        left = list(pool.map(lambda _: store.admit("k", 10, 5), range(25)))
    assert sorted(x for x in left if x is not None) == list(range(10))
    assert left.count(None) == 15
    assert store.admit("k", 10, 6) == 9  # a new window starts from nothing
    assert store.admit("other", 1, 6) == 0 and store.admit("other", 1, 6) is None


def test_an_armed_entry_fires_exactly_its_times_then_goes(store):
    store.put("armed", "a1", {"id": "a1", "body": [], "remaining": 4, "fired": 0, "x": 0.1})
    store.put("armed", "a2", {"id": "a2", "body": {}, "remaining": None, "fired": 0})
    with ThreadPoolExecutor(8) as pool:
        fired = list(pool.map(lambda _: store.consume("armed", "a1"), range(20)))
    kept = [f for f in fired if f is not None]
    assert sorted(f["fired"] for f in kept) == [1, 2, 3, 4]
    assert sorted(f["remaining"] for f in kept) == [0, 1, 2, 3]
    assert store.consume("armed", "a2")["fired"] == 1
    assert store.consume("armed", "a2")["remaining"] is None
    # what was stored comes back as it was given (no [] turned into {}, no float rounded)
    assert store.items("armed") == [("a2", {"id": "a2", "body": {}, "remaining": None,
                                            "fired": 2})]
    assert store.get("armed", "a1") is None


def test_a_chance_fires_by_the_draw_for_each_match_counted_in_the_store(store):
    """Each store counts the matches and draws the same (Redis in Lua), racing or not."""
    store.put("armed", "a1", {"id": "a1", "remaining": None, "fired": 0, "matched": 0})
    chance = Chance(0.3, "7")
    with ThreadPoolExecutor(8) as pool:
        fired = list(pool.map(lambda _: store.consume("armed", "a1", chance), range(60)))
    expected = [n for n in range(1, 61) if draw("7", "a1", n) < 0.3]
    assert 5 < len(expected) < 40
    assert sorted(f["fired"] for f in fired if f is not None) == list(
        range(1, len(expected) + 1))
    (_, entry), = store.items("armed")
    assert (entry["matched"], entry["fired"]) == (60, len(expected))
    # one after another, the n-th match fires exactly when its draw is below the chance
    store.put("armed", "a1", {"id": "a1", "remaining": None, "fired": 0, "matched": 0})
    hits = [store.consume("armed", "a1", chance) is not None for _ in range(60)]
    assert [n for n, hit in enumerate(hits, 1) if hit] == expected


def test_numbers_never_repeat_and_the_log_is_ordered_and_bounded(store):
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: store.next_number("armed"), range(50)))
    assert sorted(numbers) == list(range(1, 51))
    for n in range(30):
        store.append("journal", {"n": n}, 10)
    assert store.recent("journal", 100) == [{"n": n} for n in range(29, 19, -1)]
    assert store.recent("journal", 3) == [{"n": 29}, {"n": 28}, {"n": 27}]
    store.clear()
    assert store.recent("journal", 10) == [] and store.next_number("armed") == 1


def test_tallies_add_up_from_racing_threads_and_keep_first_ids_since_each_mark(store):
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: store.tally("cov", ["a", "b"] if n % 2 else ["a"], f"id{n}"),
                      range(40)))
    rows = store.tallies("cov")
    assert (rows["a"]["met"], rows["b"]["met"]) == (40, 20)
    assert rows["a"]["first"].startswith("id") and rows["b"]["since"] == {}
    assert store.mark_tally("cov", "m") == {"a": 40, "b": 20}
    store.tally("cov", ["b", "c"], lambda: "later")  # an id made only where one is kept
    store.tally("cov", ["b"], "after that")
    rows = store.tallies("cov")
    assert rows["b"] == {"met": 22, "first": rows["b"]["first"], "since": {"m": "later"}}
    assert rows["c"] == {"met": 1, "first": "later", "since": {"m": "later"}}
    assert rows["a"]["since"] == {} and store.tally_marks("cov") == {"m": {"a": 40, "b": 20}}
    assert store.mark_tally("cov", "m")["b"] == 22  # marked again: it starts over
    assert store.tallies("cov")["b"]["since"] == {}
    with store.batch() as writes:  # one round trip to Redis; the same writes everywhere
        writes.tally("cov", ["a"], "x")
        writes.append("journal", {"n": 1}, 5)
    assert store.tallies("cov")["a"]["met"] == 41 and store.recent("journal", 5) == [{"n": 1}]
    store.clear()
    assert store.tallies("cov") == {} and store.tally_marks("cov") == {}


def test_a_request_opens_with_its_clock_key_and_rate_window_in_one_step(store):
    now = T + 120
    if store.shared:  # the clock lives in the store: none until a process starts it
        assert store.open_request("keys", "k", FRESH, True, "armed", None, T + 100, 60) is None
        assert store.get("keys", "k") is None
        store.set_clock({"frozen_at": None, "offset": 20.0, "origin": None, "anchor": T})
        now = None  # read from the store: T + 100 on this process's clock, 20 s ahead

    def opened(fresh: dict | None) -> Opening:
        return store.open_request("keys", "k", fresh, True, "armed", now, T + 100, 60)

    assert opened(None) == Opening(T + 120, None, False, NOT_LIMITED, 0)  # not made
    fresh = {"balance": 5, "status": "active", "rate_limit": 2}
    assert opened(fresh) == Opening(T + 120, fresh, True, 1, 0)
    assert opened(fresh) == Opening(T + 120, fresh, False, 0, 0)
    assert opened(None).remaining is None  # the window's limit is spent
    store.put("armed", "a1", {"id": "a1", "remaining": None, "fired": 0})
    store.update("keys", "k", {"status": "inactive"}, fresh)
    assert opened(None) == Opening(T + 120, {**fresh, "status": "inactive"}, False,
                                   NOT_LIMITED, 1)  # an inactive key is not counted


def test_a_settled_record_is_read_anew_once_a_request_sees_a_reset(shared_store):
    store = shared_store
    other = open_store(getattr(store, "where", None) or store.path)  # another process
    clock = {"frozen_at": T, "offset": 0.0, "origin": T, "anchor": T}

    def next_request(of: Store) -> None:
        assert of.open_request("keys", "k", None, False, "armed", None, 0.0, 60) is not None

    store.set_clock(clock)
    next_request(other)
    store.put_new("users", "u", {"made": 1})
    assert other.get_settled("users", "u") == {"made": 1}
    store.clear()
    store.set_clock(clock)
    store.put_new("users", "u", {"made": 2})
    next_request(other)
    assert other.get_settled("users", "u") == {"made": 2}
    other.close()


def test_a_shared_clock_is_one_clock_and_a_new_now_starts_it_afresh(shared_store):
    store = shared_store
    first, second = SharedClock(store, T + 1000), SharedClock(store, T + 1000)
    first.advance(30.5)
    assert second.now() == T + 1030.5 and second.frozen
    second.unfreeze()
    assert not first.frozen and abs(first.now() - (T + 1030.5)) < 5
    first.set(T + 5000)
    assert abs(second.now() - (T + 5000)) < 5
    assert SharedClock(store, T + 1000).now() > T + 4000  # the same --now joins the moved clock
    assert SharedClock(store, T + 7).now() == T + 7  # another --now is what the user asked for
    store.clear()
    assert first.now() == T + 1000  # a reset starts it again from the settings


def test_a_lost_redis_is_a_503_and_service_resumes_when_it_returns(tmp_path):
    redis_server = RedisServer(tmp_path / "redis").start()
    app = create_app(Settings.load({"now": FROZEN, "store": redis_server.url}, env={}))
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling").status_code == 200
        redis_server.stop()
        for vendor in ("dumpling", "socialfetch", "gateway"):
            lost = call(http, vendor)
            assert lost.status_code == 503, lost.text
            assert lost.json()["mockserver_error"] == "store_unavailable"
            assert "Redis store at redis://127.0.0.1" in lost.json()["message"]
            assert lost.headers["retry-after"] == "1"
        # nor do DumplingAI's 503s show a rate window they could not read or count: not the
        # default limit with nothing counted (a key never read), not the last count kept
        for key in ("sk_test_key", "sk_never_read_key"):
            lost = call(http, "dumpling", key=key)
            assert lost.status_code == 503, lost.text
            assert not [name for name in lost.headers if name.startswith("x-ratelimit")], \
                dict(lost.headers)
        admin = http.get("/__mock/keys/sk_test_key")
        assert admin.status_code == 503 and "unreachable" in admin.json()["error"]
        redis_server.start()  # empty again: the ledger starts afresh, as after a reset
        assert call(http, "dumpling").status_code == 200
        assert http.get("/__mock/keys/sk_test_key").json()["balance"] == 998
        assert http.get("/__mock/clock").json()["now"] == "2026-11-23T12:00:00.000Z"
    redis_server.stop()


def test_a_stalled_redis_is_a_503_after_2_s_and_service_resumes(tmp_path):
    redis_server = RedisServer(tmp_path / "redis").start()
    app = create_app(Settings.load({"now": FROZEN, "store": redis_server.url}, env={}))
    try:
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
            assert call(http, "dumpling").status_code == 200
            redis_server.process.send_signal(signal.SIGSTOP)  # connected, never answering
            started = time.monotonic()
            stalled = call(http, "dumpling")
            assert stalled.status_code == 503 and 1.5 < time.monotonic() - started < 10
            assert "no answer in 2 s" in stalled.json()["message"]
            redis_server.process.send_signal(signal.SIGCONT)
            assert call(http, "dumpling").status_code == 200
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        redis_server.stop()


def test_an_unreachable_redis_at_start_is_a_clear_error(capsys):
    from mockserver.cli import main
    from mockserver.server import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["serve", "--store", url, "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert error.splitlines()[-1].startswith(f"mockserver: --store: cannot reach Redis at {url}")
    assert "Traceback" not in error
    assert ".." not in error  # "Connection refused.. Start Redis there"
    with pytest.raises(ValueError, match="cannot reach Redis"):
        open_store(url)


def test_a_redis_url_whose_database_is_not_a_whole_number_is_refused_at_start(
        capsys, redis_server):
    from mockserver.cli import main
    from mockserver.server import free_port

    for database in ("abc", "1x", "-1", "0/1"):
        with pytest.raises(ValueError, match=f"its database '{database}' is not a whole number"):
            open_store(f"redis://127.0.0.1:{redis_server.port}/{database}")  # Redis is there
    url = f"redis://127.0.0.1:{free_port()}/abc"
    assert main(["serve", "--store", url, "--port", "0"]) == 2
    # the last line: warnings (CI's own MOCKSERVER_ variables) may come before it
    error = capsys.readouterr().err
    assert error.splitlines()[-1] == (
        f"mockserver: --store: {url!r} is not a Redis URL that can be used: its database 'abc' "
        "is not a whole number; write it as redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0")
    assert "is not a Redis URL" in str(pytest.raises(
        ValueError, open_store, "redis://127.0.0.1:port/0").value)  # as a port that is not one
    for fine in ("", "/", "/0", "/3"):
        open_store(f"redis://127.0.0.1:{redis_server.port}{fine}").close()
    # an option no connection takes was a TypeError traceback and exit 1
    optioned = f"redis://127.0.0.1:{redis_server.port}/0?foo=bar"
    assert main(["serve", "--store", optioned, "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert error.splitlines()[-1].startswith(
        f"mockserver: --store: {optioned!r} is not a Redis URL that can be used: ")
    assert "foo" in error.splitlines()[-1] and "Traceback" not in error


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_key_set_by_put_reads_back_byte_for_byte_in_the_memory_stores_field_order(
        request, tmp_path, kind):
    """Redis's Lua (cjson) writes a record's fields in no set order: PUT's answer, GET's
    and the listing's show them in the order the memory store keeps, in every store."""
    settings = Settings.load({"now": FROZEN, "store": _spec(request, tmp_path, kind)}, env={})
    changes = [{"rate_limit": 7, "status": "active"}, {"status": "inactive"},
               {"balance": 5, "rate_limit": 2, "status": "active"}, {"rate_limit": 1}]
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling", key="sk_made_by_a_request").status_code == 200
        for key in ("sk_order_key", "sk_made_by_a_request"):
            for body in changes:
                put = http.put(f"/__mock/keys/{key}", json=body)
                got = http.get(f"/__mock/keys/{key}")
                assert put.status_code == got.status_code == 200, put.text
                assert put.content == got.content
                assert list(orjson.loads(put.content)) == [
                    "key", "balance", "status", "rate_limit"], put.text
                listed = http.get("/__mock/keys").json()["keys"]
                assert [list(entry) for entry in listed] == [
                    ["key", "balance", "status", "rate_limit"]] * 2
