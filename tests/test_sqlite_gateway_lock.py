"""An API Gateway request on an SQLite file takes the file's write lock to store a record
only when it has one to store. It used to render inside a transaction of its own
(``BEGIN IMMEDIATE``) every time, so every Gateway request of every process on the file
waited its turn for the lock to render, even one that served a record stored long before
and wrote nothing there.

A request always ends with writes of its own (its charge, its journal line), so one made
while another connection holds the lock still answers only once the lock is free. What
these tests show: its render did not wait (the journal's ``duration_ms`` runs to the end of
the render, before those writes), and it took the lock only for them."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import SqliteStore, sqlite_lock
from mockserver.vendors.gateway import USERS, VIDEOS
from tests.calls import KEYS, call, first_video_id, journal
from tests.conftest import FROZEN
from tests.test_sqlite_busy import in_background, locked

KEY = KEYS["gateway"]
HELD = 1.2  # seconds another connection holds the lock while a request is made
#: a render that did not wait for the lock takes a small part of that
QUICK_MS = HELD * 1000 / 4
#: the write transactions of a Gateway request's last step on SQLite: one, its charge,
#: journal line and coverage counts together
LAST_STEPS = 1


def served(path: str, seed: int = 0):
    """A server on the file, the rate limit off, so a request's opening writes nothing."""
    return create_app(Settings.load({"now": FROZEN, "store": path, "rate_limit": 0,
                                     "seed": seed}, env={}))


@contextmanager
def write_locks_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The instants at which this process's SQLite stores took the write lock."""
    taken: list[float] = []
    begin = sqlite_lock.begin

    def counted(*args, **kwargs):
        begin(*args, **kwargs)
        taken.append(time.monotonic())

    monkeypatch.setattr(sqlite_lock, "begin", counted)
    yield taken


def while_locked(path: str, request):
    """``request``'s answer, made while another connection holds the file's write lock
    for :data:`HELD` s: not before the lock is free, as its last step writes."""
    with locked(path):
        waiting, answers = in_background(request)
        time.sleep(HELD)
        assert not answers, "answered while the lock was held (its last step writes)"
    waiting.join(15)
    assert answers, "not answered once the lock was released"
    return answers[0]


def gateway_lines(http: httpx.Client) -> list[dict]:
    """The Gateway's journal lines, the newest first."""
    return journal(http, vendor="gateway")


@contextmanager
def keyed_server(path: str, route: str) -> Iterator[tuple[SqliteStore, httpx.Client, str | None]]:
    """A server on the file, :data:`KEY` given 50 credits: its store, a client, and for the
    video route the id of a video to ask for."""
    app = served(path)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        yield app.state.mock.store, http, first_video_id(http) if route == "video" else None


@pytest.mark.parametrize("route", ["user", "video"])
def test_a_stored_record_is_served_without_waiting_for_the_lock(tmp_path, monkeypatch, route):
    path = str(tmp_path / "ledger.sqlite")
    with keyed_server(path, route) as (store, http, video_id):
        first = call(http, "gateway", route, video_id=video_id)
        assert first.status_code == 200, first.text
        stored = store.items(USERS), store.items(VIDEOS)
        with write_locks_taken(monkeypatch) as taken:
            again = while_locked(path, lambda: call(http, "gateway", route,
                                                       video_id=video_id))
            assert again.status_code == 200, again.text
            assert again.json() == first.json()  # the stored record
            # its render did not wait: only its last step (charge, journal line) did
            assert gateway_lines(http)[0]["duration_ms"] < QUICK_MS, gateway_lines(http)[0]
            assert len(taken) == LAST_STEPS, "took the lock to render a record it only read"
        assert (store.items(USERS), store.items(VIDEOS)) == stored  # nothing stored anew
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 50 - 2


@pytest.mark.parametrize("route", ["user", "video"])
def test_a_record_never_stored_waits_for_the_lock_and_is_stored_once(tmp_path, monkeypatch,
                                                                     route):
    path = str(tmp_path / "ledger.sqlite")
    with keyed_server(path, route) as (store, http, video_id):
        with write_locks_taken(monkeypatch) as taken:
            first = while_locked(path, lambda: call(http, "gateway", route,
                                                       video_id=video_id))
            assert first.status_code == 200, first.text
            # its render waited for the lock
            assert gateway_lines(http)[0]["duration_ms"] >= HELD * 1000 * 0.8
            assert len(taken) == 1 + LAST_STEPS  # its records stored in one step, then the last
        [(_, user)] = store.items(USERS)
        assert user["user"] == (first.json()["author"] if route == "video"
                                else first.json()["user"])
        if route == "video":
            [(stored_id, video)] = store.items(VIDEOS)
            assert stored_id == video_id and video["music"] == first.json()["music"]
        again = call(http, "gateway", route, video_id=video_id)
        assert again.json() == first.json()
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 50 - 2
        assert [line["status"] for line in gateway_lines(http)] == [200, 200]


def test_two_servers_storing_one_new_user_at_once_serve_the_same_record(tmp_path):
    """Two processes' worlds differ (their seeds do), so each would store its own record;
    both read it missing, wait for the lock, and the one that stores second finds, inside
    its transaction, the record stored first and serves that."""
    path = str(tmp_path / "ledger.sqlite")
    handle = "lock_race_newcomer"
    apps = served(path, seed=1), served(path, seed=2)
    with ServerThread(apps[0]) as one, ServerThread(apps[1]) as two, \
            httpx.Client(base_url=one.url, timeout=30) as first, \
            httpx.Client(base_url=two.url, timeout=30) as second:
        assert first.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        with locked(path):
            asked = [in_background(lambda http=http: call(http, "gateway", handle=handle))
                     for http in (first, second)]
            time.sleep(0.5)  # both have read the record missing and wait for the lock
            assert not any(answers for _, answers in asked)
        for waiting, _ in asked:
            waiting.join(15)
        answers = [answers[0] for _, answers in asked]
        assert [answer.status_code for answer in answers] == [200, 200], answers[1].text
        assert answers[0].json() == answers[1].json()
        [(name, stored)] = apps[0].state.mock.store.items(USERS)
        assert name == handle and stored["user"] == answers[0].json()["user"]
        # each process would have stored a record of its own world
        made = [app.state.mock.world.account(handle) for app in apps]
        assert made[0].nickname != made[1].nickname or made[0].user_id != made[1].user_id
        assert stored["user"]["id"] in {account.user_id for account in made}


def test_a_step_that_only_reads_takes_no_lock_and_one_that_writes_takes_it_once(tmp_path):
    """Store.atomically_if_writing on SQLite: tried first reading only, outside any
    transaction; a step that goes to write is run again, whole, in one transaction."""
    store = SqliteStore(str(tmp_path / "ledger.sqlite"))
    store.put("t", "kept", {"n": 1})
    runs: list[str] = []

    def read() -> dict | None:
        runs.append("read")
        return store.get("t", "kept")

    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's lock: a read goes on
    try:
        asked = time.monotonic()
        assert asyncio.run(store.atomically_if_writing(read)) == {"n": 1}
        assert time.monotonic() - asked < 0.5 and runs == ["read"]
    finally:
        other.execute("ROLLBACK")

    def read_then_store() -> dict:
        runs.append("store")
        found = store.get("t", "new")
        return found if found is not None else store.put_new("t", "new", {"n": len(runs)})

    runs.clear()
    assert asyncio.run(store.atomically_if_writing(read_then_store)) == {"n": 2}
    assert runs == ["store", "store"]  # stopped before its write, then run whole
    assert store.get("t", "new") == {"n": 2}
    other.execute("BEGIN IMMEDIATE")  # nothing left open: another connection may write
    other.execute("ROLLBACK")
    other.close()
    store.close()
