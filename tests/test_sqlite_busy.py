"""An SQLite file whose write lock another process holds: the mock's event loop goes on
serving (it used to wait inside SQLite's busy handler, every request in flight with it,
for up to the 10 s busy timeout), a request's step waits for the lock from the event loop
and is tried again whole, and past the timeout the request is the mock's 503 "is busy"
with nothing of it written."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.store import key_id, sqlite_lock
from tests.calls import call, journal
from tests.conftest import FROZEN

KEY = "sk_busy_key"
HELD = 1.2  # seconds the lock is held while a call waits for it
T = TypeVar("T")
COST = 2  # a DumplingAI profile's credits


@contextmanager
def locked(path: str) -> Iterator[None]:
    """The file's write lock, held as another process's transaction holds it."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def in_background(request) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(request()), daemon=True)
    thread.start()
    return thread, answers


def wait_while_locked(server: ServerThread, path: str, blocked: Callable[[], T],
                      held: float = HELD) -> T:
    """``blocked`` made while another connection holds the file's write lock for
    ``held`` seconds: the health check answers at once meanwhile, and ``blocked`` only once
    the lock is released. Its answer."""
    with locked(path):
        started = time.monotonic()
        waiting, answers = in_background(blocked)
        time.sleep(0.2)  # the call is waiting for the lock
        for _ in range(3):
            asked = time.monotonic()
            health = httpx.get(f"{server.url}/__mock/health", timeout=5)
            assert health.status_code == 200
            assert time.monotonic() - asked < 0.5, "the event loop is held"
            time.sleep(0.2)
        assert not answers, "answered while the lock was held"
        time.sleep(max(0.0, held - (time.monotonic() - started)))
    waiting.join(15)
    assert answers, "not answered once the lock was released"
    return answers[0]


def test_a_lock_held_by_another_process_does_not_stop_the_event_loop(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": path}, env={})  # the rate limit on
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200  # the key's window made
        started = time.monotonic()
        answer = wait_while_locked(server, path, lambda: call(http, "dumpling", key=KEY), 2)
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started >= 2
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 50 - 2 * COST
        assert [line["status"] for line in journal(http)] == [200, 200]
        assert http.get("/__mock/health").status_code == 200


def test_a_lock_held_past_the_busy_timeout_is_a_503_with_nothing_written(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(sqlite_lock, "BUSY_TIMEOUT_MS", 600)
    path = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": path}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200
        with locked(path):
            asked = time.monotonic()
            busy = call(http, "dumpling", key=KEY)
            waited = time.monotonic() - asked
        assert busy.status_code == 503, busy.text
        assert busy.json()["mockserver_error"] == "store_unavailable"
        assert "is busy: database is locked" in busy.json()["message"]
        assert 0.6 <= waited < 2
        assert call(http, "dumpling", key=KEY).status_code == 200
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 50 - 2 * COST
        assert [line["status"] for line in journal(http)] == [200, 200]


@pytest.mark.parametrize("step", ["open", "finish"])
def test_each_step_of_a_request_waits_for_the_lock_and_is_made_once(tmp_path, step):
    """The lock taken just before one of the request's steps: that step waits for it from
    the event loop, and is made once when it is free (none made twice, none lost)."""
    path = str(tmp_path / "ledger.sqlite")
    app = create_app(Settings.load({"now": FROZEN, "store": path}, env={}))
    store = app.state.mock.store
    # a request's last step (its charge, journal line and counts) is one transaction
    names = {"open": "admit", "finish": "_finish"}
    real = getattr(store, names[step])
    holder: list[sqlite3.Connection] = []

    def take_the_lock_first(*args):
        if not holder:  # once: then the step runs as it does
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            holder.append(other)
            threading.Timer(1.0, lambda: other.execute("ROLLBACK")).start()
        return real(*args)

    setattr(store, names[step], take_the_lock_first)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        waiting, answers = in_background(lambda: call(http, "dumpling", key=KEY))
        time.sleep(0.3)
        asked = time.monotonic()
        assert httpx.get(f"{server.url}/__mock/health", timeout=5).status_code == 200
        assert time.monotonic() - asked < 0.5, "the event loop is held"
        waiting.join(15)
        assert holder and answers and answers[0].status_code == 200, answers
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 50 - COST
        lines = journal(http)
        assert [line["status"] for line in lines] == [200]
        assert store.get("_windows", key_id(KEY))[1] == 1  # counted once
        holder[0].close()
