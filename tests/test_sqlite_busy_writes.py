"""The writes that are not a request's own steps, while another process holds an SQLite
file's write lock: an armed scenario firing, an API Gateway record stored as a request
renders, and the admin API's writes. Each used to wait inside the store holding the
event loop (every other request and the health check with it) for up to the 10 s busy
timeout; now each waits from the event loop as a request's steps do (Store.atomically),
is made once, whole, when the lock is free, and past the timeout is the same 503."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import SqliteStore, StoreUnavailable, sqlite_lock
from mockserver.vendors.gateway import USERS
from tests.calls import HANDLE, KEYS, call, journal
from tests.conftest import FROZEN
from tests.test_sqlite_busy import in_background, locked, wait_while_locked

KEY = "sk_busy_writes_key"


def served(path: str):
    """A server on the file, the rate limit off, so a request's opening writes nothing:
    the first write a call makes is the one under test."""
    return create_app(Settings.load({"now": FROZEN, "store": path, "rate_limit": 0}, env={}))


def test_an_armed_scenario_firing_waits_for_the_lock_and_fires_once(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    with ServerThread(served(path)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        armed = http.post("/__mock/scenarios", json={
            "vendor": "dumpling", "status": 418, "body": {"armed": True}, "times": 2})
        assert armed.status_code == 201, armed.text
        fired = wait_while_locked(server, path, lambda: call(http, "dumpling", key=KEY))
        assert (fired.status_code, fired.json()) == (418, {"armed": True})
        [entry] = http.get("/__mock/scenarios").json()["armed"]
        assert (entry["fired"], entry["remaining"]) == (1, 1)  # counted once
        assert [(line["status"], line["scenario_source"]) for line in journal(http)] == \
            [(418, f"armed:{entry['id']}")]


def test_a_gateway_record_stored_as_it_renders_waits_for_the_lock(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    app = served(path)
    key = KEYS["gateway"]
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{key}", json={"balance": 50}).status_code == 200
        first = wait_while_locked(server, path, lambda: call(http, "gateway"))
        assert first.status_code == 200, first.text
        stored = app.state.mock.store.items(USERS)
        assert [name for name, _ in stored] == [HANDLE]
        assert stored[0][1]["user"] == first.json()["user"]
        again = call(http, "gateway")
        assert again.json() == first.json()  # the stored record, as a second request shows
        assert http.get(f"/__mock/keys/{key}").json()["balance"] == 50 - 2
        assert [line["status"] for line in journal(http)] == [200, 200]


ADMIN_WRITES = {
    "arm": ("post", "/__mock/scenarios", {"vendor": "dumpling", "status": 503, "times": 1}),
    "key": ("put", f"/__mock/keys/{KEY}", {"balance": 7}),
    "reset": ("post", "/__mock/reset", None),
    "clock": ("post", "/__mock/clock", {"advance": 60}),
    "disarm": ("delete", "/__mock/scenarios", None),
    "mark": ("post", "/__mock/coverage/mark", {"name": "busy"}),
}


@pytest.mark.parametrize("write", ADMIN_WRITES)
def test_an_admin_write_waits_for_the_lock_and_is_made_once(tmp_path, write):
    path = str(tmp_path / "ledger.sqlite")
    with ServerThread(served(path)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200
        if write == "disarm":
            assert http.post("/__mock/scenarios", json={"vendor": "gateway",
                                                        "latency_ms": 5}).status_code == 201
        method, where, body = ADMIN_WRITES[write]
        answer = wait_while_locked(server, path, lambda: http.request(
            method, where, **({} if body is None else {"json": body})))
        assert answer.status_code == (201 if write == "arm" else 200), answer.text
        armed = http.get("/__mock/scenarios").json()["armed"]
        balance = http.get(f"/__mock/keys/{KEY}").json()["balance"]
        assert len(armed) == (write == "arm")
        assert balance == {"key": 7, "reset": 1000}.get(write, 50 - 2)
        assert len(journal(http)) == (0 if write == "reset" else 1)
        now = http.get("/__mock/clock").json()["now"]
        # advanced once, not once per try
        assert now == ("2026-11-23T12:01:00.000Z" if write == "clock" else
                       "2026-11-23T12:00:00.000Z")
        if write == "disarm":
            assert answer.json() == {"disarmed": 1}
        if write == "mark":
            assert answer.json()["marks"] == ["busy"]


def test_a_thread_calling_the_store_while_it_waits_does_not_hold_the_event_loop(tmp_path):
    """A thread that calls the store itself (the pytest plugin resets the mock between
    tests so) waits holding its own thread, not the connection: the server's event loop,
    in another thread, goes on using it meanwhile."""
    path = str(tmp_path / "ledger.sqlite")
    app = served(path)
    keys = app.state.mock.keys
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert wait_while_locked(server, path, lambda: keys.update(KEY, {"balance": 9})
                                 )["balance"] == 9
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 9


def test_a_lock_held_past_the_busy_timeout_is_the_503_and_nothing_is_written(
        tmp_path, monkeypatch):
    """Past the timeout, a scenario's firing is the 503 the request's other steps give, an
    admin write the admin API's 503 with the same message; meanwhile the loop serves."""
    monkeypatch.setattr(sqlite_lock, "BUSY_TIMEOUT_MS", 1500)
    path = str(tmp_path / "ledger.sqlite")
    with ServerThread(served(path)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        assert http.post("/__mock/scenarios", json={"vendor": "dumpling", "status": 418,
                                                    "times": 1}).status_code == 201
        with locked(path):
            asked = time.monotonic()
            waiting, answers = in_background(lambda: call(http, "dumpling", key=KEY))
            arming, armed = in_background(lambda: http.post(
                "/__mock/scenarios", json={"vendor": "gateway", "status": 500}))
            time.sleep(0.3)
            health_asked = time.monotonic()
            assert httpx.get(f"{server.url}/__mock/health", timeout=5).status_code == 200
            assert time.monotonic() - health_asked < 0.5, "the event loop is held"
            waiting.join(15)
            arming.join(15)
            waited = time.monotonic() - asked
        busy = answers[0]
        assert busy.status_code == 503, busy.text
        message = busy.json()["message"]
        assert busy.json() == {"mockserver_error": "store_unavailable", "message": message}
        assert message == f"the SQLite store {path} is busy: database is locked"
        assert (armed[0].status_code, armed[0].json()) == (503, {"error": message})
        assert 1.5 <= waited < 3
        [entry] = http.get("/__mock/scenarios").json()["armed"]  # neither fired nor armed
        assert (entry["vendor"], entry["fired"]) == ("dumpling", 0)
        assert journal(http) == []
        fired = call(http, "dumpling", key=KEY)
        assert fired.status_code == 418
        assert http.get("/__mock/scenarios").json()["armed"] == []


def test_a_step_within_one_is_undone_alone_and_written_only_with_the_whole(tmp_path):
    """Store.atomically on SQLite: one transaction, each store step in it a savepoint."""
    store = SqliteStore(str(tmp_path / "ledger.sqlite"))

    def some_then_fail() -> None:
        store.put("t", "kept", {"n": 1})
        with pytest.raises(StoreUnavailable), store._transaction():
            store.update("t", "bad", {"n": 2}, {"n": 0})
            raise StoreUnavailable("this step alone")
        assert store.get("t", "bad") is None  # undone alone
        store.put("t", "after", {"n": 3})

    asyncio.run(store.atomically(some_then_fail))
    assert sorted(name for name, _ in store.items("t")) == ["after", "kept"]

    def write_then_raise() -> None:
        store.put("t", "lost", {"n": 4})
        store.next_number("n")
        raise ValueError("the whole step fails")

    with pytest.raises(ValueError):
        asyncio.run(store.atomically(write_then_raise))
    assert store.get("t", "lost") is None and store.next_number("n") == 1
    other = sqlite3.connect(store.path)  # nothing left open: another connection may write
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    store.close()
