"""How the SQLite store waits for another process's write lock without holding the event
loop. SQLite's own wait (its busy handler) holds the thread, and so every request in flight
in the process: the connection's busy timeout is only :data:`BUSY_SLICE_MS`, and a step
made from the event loop waits there (:func:`retried`: an ``asyncio.sleep``, then the whole
step, one transaction, again): a request's own steps, and, through ``Store.atomically``, the
writes made as a request renders or fires an armed scenario and the admin API's. A step
called directly (the start, a thread) waits in :func:`begin`, holding the thread, as SQLite
would. A step that mostly only reads (a Gateway request's render, which stores a record
only the first time it serves it) is tried first taking no lock at all
(:func:`reading_first`), and waits for the lock only if it goes to write.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from mockserver.store import StoreUnavailable

#: how long a step waits for another process's write lock before the mock answers 503
BUSY_TIMEOUT_MS = 10_000
#: how long SQLite's busy handler may hold the thread (and the event loop) at a time
BUSY_SLICE_MS = 5
#: the pauses between tries of a step waiting for the lock: doubling from the first
FIRST_PAUSE_SECONDS, LONGEST_PAUSE_SECONDS = 0.002, 0.05
#: set while a step runs from the event loop: a lock another process holds is then
#: :class:`Busy` at once, and the step is tried again after an ``asyncio.sleep``
FROM_LOOP: ContextVar[bool] = ContextVar("sqlite_from_loop", default=False)
#: set while a step runs reading only (see :func:`reading_first`): a write it goes to make
#: is :class:`WouldWrite` before it takes the lock
READING: ContextVar[bool] = ContextVar("sqlite_reading", default=False)
T = TypeVar("T")


class Busy(StoreUnavailable):
    """Another process holds the file's write lock: nothing of the step was written."""


class WouldWrite(Exception):
    """A step run reading only went to write: it stopped there, nothing written."""


def locked(error: sqlite3.DatabaseError) -> bool:
    """Whether ``error`` is another connection holding a lock (SQLITE_BUSY)."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def begin(db: sqlite3.Connection,
          unwritable: Callable[[sqlite3.DatabaseError], StoreUnavailable],
          held: threading.RLock) -> None:
    """``BEGIN IMMEDIATE``: the write lock, or, while another process holds it,
    :class:`Busy` at once from the event loop (see :func:`retried`); from a step
    called directly (the start, a thread), tried again here, holding the thread, until
    :data:`BUSY_TIMEOUT_MS` is spent, as SQLite's busy handler would. ``held``: the
    connection's lock, which its caller holds once; let go of between tries, so the
    event loop, in another thread, is not held behind a thread waiting here. Within
    :func:`reading_first`'s first try: :class:`WouldWrite`, the lock not asked for."""
    if READING.get():
        raise WouldWrite
    deadline = None
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.DatabaseError as exc:
            if not locked(exc):
                raise unwritable(exc) from None
            if FROM_LOOP.get():
                raise Busy(unwritable(exc).message) from None
            now = time.monotonic()
            deadline = deadline or now + BUSY_TIMEOUT_MS / 1000
            if now >= deadline:
                raise unwritable(exc) from None
            held.release()
            try:
                time.sleep(min(pause, deadline - now))
            finally:
                held.acquire()
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


async def retried(step: Callable[..., T], *args: Any) -> T:
    """``step`` (one transaction: all of it or nothing) from the event loop. While
    another process holds the write lock, the loop goes on serving (other requests,
    the health check) and the step is tried again, whole, after a pause, until
    :data:`BUSY_TIMEOUT_MS` is spent: then the mock's 503, "is busy"."""
    deadline = None
    pause = FIRST_PAUSE_SECONDS
    while True:
        from_loop = FROM_LOOP.set(True)
        try:
            return step(*args)
        except Busy as busy:
            now = time.monotonic()
            deadline = deadline or now + BUSY_TIMEOUT_MS / 1000
            if now >= deadline:
                raise StoreUnavailable(busy.message) from None
        finally:
            FROM_LOOP.reset(from_loop)
        await asyncio.sleep(min(pause, deadline - now))
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


async def reading_first(step: Callable[..., T], args: tuple[Any, ...],
                        atomically: Callable[..., Awaitable[T]]) -> T:
    """``step(*args)`` run first reading only, outside any transaction, so it takes no
    lock and never waits for another process's: its answer if it writes nothing. If it
    goes to write, it stops there (:class:`WouldWrite`, from :func:`begin`, before its
    first write) and is run again, whole, by ``atomically`` (the store's
    ``Store.atomically``: one transaction, waiting for the lock from the event loop), so
    what it read is read again holding the lock: what another process wrote meanwhile
    counts. ``step`` must be one that may be run again up to its first write."""
    reading = READING.set(True)
    try:
        return step(*args)
    except WouldWrite:
        pass
    finally:
        READING.reset(reading)
    return await atomically(step, *args)
