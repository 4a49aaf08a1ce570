"""An SQLite file: survives restarts, and several processes may share it on one machine.

Each ledger step is one transaction that takes the write lock before it reads
(``BEGIN IMMEDIATE``), so no two processes read the same balance and both spend it. WAL
lets readers go on while one writes. A writer waits its turn rather than fail, without
holding the event loop (mockserver.store.sqlite_lock). Writes commit as they happen, so a
killed mock loses nothing it had answered.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson

from mockserver.store import (
    FIRED,
    MATCHED,
    NOT_LIMITED,
    REMAINING,
    Chance,
    Charge,
    FirstId,
    Opening,
    Store,
    StoreUnavailable,
    Writes,
    draw,
    shape_problem,
    sqlite_lock,
)
from mockserver.store.sqlite_rows import (
    META,
    NUMBERS,
    WINDOWS,
    clock_row,
    internal_problem,
)
from mockserver.store.sqlite_tallies import SqliteTallies

T = TypeVar("T")


class _Recorded:
    """A request's last writes (journal line, coverage counts) as :meth:`Store.record_async`
    fills them, made later in one transaction (so a step tried again writes them once)."""

    keeps_objects = False
    keeps_bytes = False

    def __init__(self) -> None:
        self.appends: list[tuple[str, bytes, int]] = []
        self.tallies: list[tuple[str, Sequence[str], str]] = []

    def append(self, log: str, value: Any, limit: int) -> None:
        self.appends.append((log, orjson.dumps(value), limit))

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        self.tallies.append((table, names, first() if callable(first) else first))


class SqliteStore(SqliteTallies, Store):
    shared = True
    awaits = True  # a request's steps wait for another process's lock from the event loop

    def __init__(self, path: str) -> None:
        self.path = path
        # one connection, shared by this process's threads; taken again by a step within
        # one (see atomically)
        self._lock = threading.RLock()
        self._depth = 0  # how many steps are open, one within another (see _transaction)
        try:
            # the start waits its turn in SQLite's busy handler (processes starting at once
            # each set WAL); then only sqlite_lock.BUSY_SLICE_MS at a time (see sqlite_lock)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                       timeout=sqlite_lock.BUSY_TIMEOUT_MS / 1000)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction() as db:
                db.execute("CREATE TABLE IF NOT EXISTS kv"
                           " (tbl TEXT, key TEXT, value BLOB, PRIMARY KEY (tbl, key))")
                db.execute("CREATE TABLE IF NOT EXISTS log"
                           " (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, value BLOB)")
                # a write, so a file the mock may read but not write stops the start here
                # rather than every request after it
                self._write(db, META, "opened", {})
            self._db.execute(f"PRAGMA busy_timeout={sqlite_lock.BUSY_SLICE_MS}")
        except StoreUnavailable as busy:  # told apart from a file that is not SQLite by the CLI
            raise sqlite3.OperationalError(busy.message) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One step, all or nothing, holding the file's write lock from its first read. A
        step within one (see :meth:`atomically`) is a savepoint of it: undone alone if it
        fails, written only with the whole."""
        with self._lock:
            outer = not self._depth
            if outer:  # waiting for another process's lock as sqlite_lock says
                sqlite_lock.begin(self._db, self._unwritable, self._lock)
            else:
                self._db.execute("SAVEPOINT step")
            self._depth += 1
            try:
                yield self._db
                self._db.execute("COMMIT" if outer else "RELEASE step")
            except BaseException as failed:
                with contextlib.suppress(sqlite3.Error):  # none is open if COMMIT undid it
                    self._db.execute("ROLLBACK" if outer else "ROLLBACK TO step")
                    if not outer:
                        self._db.execute("RELEASE step")
                if isinstance(failed, sqlite3.DatabaseError):  # read-only, locked, damaged
                    raise self._unwritable(failed) from None
                raise
            finally:
                self._depth -= 1

    def _unwritable(self, error: sqlite3.DatabaseError) -> StoreUnavailable:
        """The mock's 503: another process holding the lock past the busy timeout, or a
        file made read-only or lost while serving; service resumes when it can write."""
        why = "is busy" if "locked" in str(error) else "cannot be written"
        return StoreUnavailable(f"the SQLite store {self.path} {why}: {error}")

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """A read: WAL lets it go on while another process writes (it waits, for at most
        :data:`BUSY_TIMEOUT_MS`, only while another recovers or resets the WAL)."""
        deadline = time.monotonic() + sqlite_lock.BUSY_TIMEOUT_MS / 1000
        with self._lock:
            while True:
                try:
                    return self._db.execute(sql, args).fetchall()
                except sqlite3.DatabaseError as exc:  # locked by another, or damaged
                    if not sqlite_lock.locked(exc) or time.monotonic() >= deadline:
                        raise StoreUnavailable(f"the SQLite store {self.path} cannot be read:"
                                               f" {exc}") from None
                time.sleep(sqlite_lock.FIRST_PAUSE_SECONDS)

    def _loads(self, raw: bytes) -> Any:
        """A stored value; one something else wrote that is not JSON is the mock's 503 (a
        reset, or putting it right, ends it), not a 500 for every request reading it."""
        if not isinstance(raw, (bytes, str)):  # a number or NULL written by hand (SQL 5)
            raise StoreUnavailable(f"the SQLite store {self.path} holds what the mock did "
                                   f"not write: {raw!r:.40} is not JSON text")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreUnavailable(f"the SQLite store {self.path} holds what the mock did "
                                   f"not write: {raw[:40]!r} is not JSON ({exc})") from None

    def _checked(self, table: str, raw: bytes) -> Any:
        """A stored record of ``table``: one of another shape than the mock writes there
        (valid JSON: a list for a key's record, a string for a count...) is the same 503
        as one that is not JSON, not a 500 where it is used."""
        value = self._loads(raw)
        if table != META:  # the clock's row: see clock_row
            problem = internal_problem(table, value) if table.startswith("_") else \
                shape_problem(table, value)
            if problem is not None:
                raise StoreUnavailable(f"the SQLite store {self.path} holds what the mock "
                                       f"did not write: {problem}")
        return value

    def _row(self, db: sqlite3.Connection, table: str, key: str) -> dict[str, Any] | None:
        row = db.execute("SELECT value FROM kv WHERE tbl=? AND key=?", (table, key)).fetchone()
        return None if row is None else self._checked(table, row[0])

    @staticmethod
    def _write(db: sqlite3.Connection, table: str, key: str, value: Any) -> None:
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)",
                   (table, key, orjson.dumps(value)))

    # records ------------------------------------------------------------------

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT value FROM kv WHERE tbl=? AND key=?", (table, key))
        return self._checked(table, rows[0][0]) if rows else None

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        with self._transaction() as db:
            self._write(db, table, key, value)

    def delete(self, table: str, key: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM kv WHERE tbl=? AND key=?", (table, key)).rowcount > 0

    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self._read("SELECT key, value FROM kv WHERE tbl=?", (table,))
        return [(key, self._checked(table, value)) for key, value in rows]

    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        with self._transaction() as db:
            stored = self._row(db, table, key)
            if stored is None:
                self._write(db, table, key, value)
                return value
            return stored

    def update(self, table: str, key: str, changes: Mapping[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
        with self._transaction() as db:
            record = {**(self._row(db, table, key) or fresh), **changes}
            self._write(db, table, key, record)
            return record

    # ledger steps -------------------------------------------------------------

    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        with self._transaction() as db:
            record = self._row(db, table, key) or fresh
            if record[field] < amount:
                return None
            record = {**record, field: record[field] - amount}
            self._write(db, table, key, record)
            return record

    def admit(self, name: str, limit: int, window: int) -> int | None:
        with self._transaction() as db:
            start, used = self._row(db, WINDOWS, name) or (window, 0)
            if start != window:
                used = 0
            if used >= limit:
                return None
            self._write(db, WINDOWS, name, (window, used + 1))
            return limit - used - 1

    def consume(self, table: str, key: str, chance: Chance | None = None
                ) -> dict[str, Any] | None:
        with self._transaction() as db:
            entry = self._row(db, table, key)
            if entry is None:
                return None
            if chance is not None:
                entry[MATCHED] = entry.get(MATCHED, 0) + 1
                if draw(chance.salt, key, entry[MATCHED]) >= chance.probability:
                    self._write(db, table, key, entry)  # counted, in the same transaction
                    return None
            entry[FIRED] += 1
            if entry[REMAINING] is not None:
                entry[REMAINING] -= 1
            if entry[REMAINING] is not None and entry[REMAINING] <= 0:
                db.execute("DELETE FROM kv WHERE tbl=? AND key=?", (table, key))
            else:
                self._write(db, table, key, entry)
            return entry

    def next_number(self, name: str) -> int:
        with self._transaction() as db:
            number = (self._row(db, NUMBERS, name) or 0) + 1
            self._write(db, NUMBERS, name, number)
            return number

    def append(self, log: str, value: Any, limit: int) -> None:
        with self._transaction() as db:
            self._append(db, log, orjson.dumps(value), limit)

    @staticmethod
    def _append(db: sqlite3.Connection, log: str, value: bytes, limit: int) -> None:
        newest = db.execute("INSERT INTO log (name, value) VALUES (?, ?)",
                            (log, value)).lastrowid
        # ids grow by one per entry, so this keeps the newest ``limit`` (an index walk)
        db.execute("DELETE FROM log WHERE id <= ? AND name=?", (newest - limit, log))

    def recent(self, log: str, limit: int) -> list[Any]:
        rows = self._read("SELECT value FROM log WHERE name=? ORDER BY id DESC LIMIT ?",
                          (log, limit))
        return [self._loads(row[0]) for row in rows]

    # a request's steps, from the event loop: each waits for another process's lock
    # there (see sqlite_lock.retried), tried again whole, one transaction -----------------------

    async def open_request_async(self, keys: str, kid: str, fresh: dict[str, Any] | None,
                                 limited: bool, armed: str, now: float | None, wall: float,
                                 window_seconds: int, cached: bool = False) -> Opening | None:
        """:meth:`open_request`, its writes (the key's record made, its window counted)
        each waiting for the lock from the event loop."""
        now = self.opening_instant(now, wall)
        if now is None:
            return None
        key, created = self.get(keys, kid), False
        if key is None and fresh is not None:
            key = await sqlite_lock.retried(self.put_new, keys, kid, fresh)
            created = key is fresh
        remaining = NOT_LIMITED
        if self.counts_window(key, limited):
            remaining = await sqlite_lock.retried(self.admit, kid, key["rate_limit"],
                                            int(now // window_seconds))
        return Opening(now, key, created, remaining, len(self.items(armed)))

    async def charge_async(self, table: str, key: str, field: str, amount: int,
                           fresh: dict[str, Any]) -> dict[str, Any] | None:
        return await sqlite_lock.retried(self.charge, table, key, field, amount, fresh)

    async def record_async(self, fill: Callable[[Writes], None], cached_at: str | None = None,
                           window: Any = None) -> None:
        """The writes ``fill`` makes, in one transaction (``window``: only Redis leaves
        one to a request's last step)."""
        if window is not None:
            self.count_window(window)
        writes = _Recorded()
        fill(writes)
        if writes.appends or writes.tallies:
            await sqlite_lock.retried(self._make_writes, writes)

    async def finish_async(self, charge: Charge, fill: Callable[[Writes], None]
                           ) -> tuple[dict[str, Any] | None, bool]:
        """:meth:`Store.finish_async` as one transaction: its window's count, its charge
        and its writes are made together or not at all, so a journal or tally row something
        else wrote (the 503) takes the charge and the count back with it."""
        return await sqlite_lock.retried(self._finish, charge, fill)

    def _finish(self, charge: Charge, fill: Callable[[Writes], None]
                ) -> tuple[dict[str, Any] | None, bool]:
        with self._transaction():
            if charge.window is not None:
                self.count_window(charge.window)
            after = self.charge(charge.table, charge.key, charge.field, charge.amount,
                                charge.fresh)
            if after is None or (after[charge.field] < charge.below) != charge.assumed_below:
                return after, False
            writes = _Recorded()
            fill(writes)
            self._make_writes(writes)
            return after, True

    async def atomically(self, step: Callable[..., T], *args: Any) -> T:
        """``step(*args)`` in one transaction, its writes savepoints of it (see
        :meth:`_transaction`), waiting for another process's lock from the event loop and
        tried again whole, as a request's steps are: the lock is taken before ``step``
        runs, so it runs once, and past the busy timeout not at all (the mock's 503)."""
        return await sqlite_lock.retried(self._in_one_transaction, step, *args)

    async def atomically_if_writing(self, step: Callable[..., T], *args: Any) -> T:
        """``step(*args)`` outside any transaction, taking no lock; if it goes to write, run
        again in :meth:`atomically`, its reads made again holding the lock (see
        :func:`sqlite_lock.reading_first`)."""
        return await sqlite_lock.reading_first(step, args, self.atomically)

    def _in_one_transaction(self, step: Callable[..., T], *args: Any) -> T:
        with self._transaction():
            return step(*args)

    def _make_writes(self, writes: _Recorded) -> None:
        with self._transaction() as db:
            for log, value, limit in writes.appends:
                self._append(db, log, value, limit)
            for table, names, shown in writes.tallies:
                self._tally(db, table, names, shown)

    # the clock ------------------------------------------------------------------

    def clock_state(self) -> dict[str, Any] | None:
        """None when not started (a reset) or when the row holds what is not a clock's
        state: the caller starts the clock again (see clock.stored_clock)."""
        rows = self._read("SELECT value FROM kv WHERE tbl=? AND key=?", (META, "clock"))
        return clock_row(rows[0][0]) if rows else None

    def set_clock(self, state: Mapping[str, Any]) -> None:
        self.put(META, "clock", dict(state))

    def advance_clock(self, seconds: float) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT value FROM kv WHERE tbl=? AND key=?",
                             (META, "clock")).fetchone()
            state = row and clock_row(row[0])
            if state is None:  # the caller read it first, so it was started just before
                return
            moved = "offset" if state["frozen_at"] is None else "frozen_at"
            state[moved] += seconds
            self._write(db, META, "clock", state)

    def clear(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM kv")
            db.execute("DELETE FROM log")

    def close(self) -> None:
        with self._lock:
            self._db.close()
