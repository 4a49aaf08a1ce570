"""An SQLite file: survives restarts, and several processes may share it on one machine.

Each ledger step is one transaction that takes the write lock before it reads
(``BEGIN IMMEDIATE``), so no two processes read the same balance and both spend it. WAL
lets readers go on while one writes; a busy timeout makes a writer wait its turn rather
than fail. Writes commit as they happen, so a killed mock loses nothing it had answered.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from mockserver import clock  # the module, not its names: it is importing this one
from mockserver.store import (
    FIRED,
    MATCHED,
    REMAINING,
    Chance,
    FirstId,
    Store,
    StoreUnavailable,
    draw,
)

BUSY_TIMEOUT_MS = 10_000
_WINDOWS, _NUMBERS, _META = "_windows", "_numbers", "_meta"  # tables of the store's own
_TALLY, _MARKS = "_tally:", "_marks:"  # prefixes of a tally's rows and marks
log = logging.getLogger("mockserver")


def _clock(raw: bytes) -> dict[str, Any] | None:
    try:
        state = orjson.loads(raw)
        values = [state[name] for name in ("frozen_at", "offset", "origin", "anchor")]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        values = None
    found = values and clock.stored_clock(*values, time.time())
    if found is None:
        log.warning("the SQLite store's clock holds %r, not a clock's state: the clock "
                    "starts again", raw[:80])
    return found


class SqliteStore(Store):
    shared = True

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()  # one connection, shared by this process's threads
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                       timeout=BUSY_TIMEOUT_MS / 1000)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction() as db:
                db.execute("CREATE TABLE IF NOT EXISTS kv"
                           " (tbl TEXT, key TEXT, value BLOB, PRIMARY KEY (tbl, key))")
                db.execute("CREATE TABLE IF NOT EXISTS log"
                           " (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, value BLOB)")
                # a write, so a file the mock may read but not write stops the start here
                # rather than every request after it
                self._write(db, _META, "opened", {})
        except StoreUnavailable as busy:  # told apart from a file that is not SQLite by the CLI
            raise sqlite3.OperationalError(busy.message) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One step, all or nothing, holding the file's write lock from its first read."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise self._unwritable(exc) from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as failed:
                with contextlib.suppress(sqlite3.Error):  # none is open if COMMIT undid it
                    self._db.execute("ROLLBACK")
                if isinstance(failed, sqlite3.DatabaseError):  # read-only, locked, damaged
                    raise self._unwritable(failed) from None
                raise

    def _unwritable(self, error: sqlite3.DatabaseError) -> StoreUnavailable:
        """The mock's 503: another process holding the lock past the busy timeout, or a
        file made read-only or lost while serving; service resumes when it can write."""
        why = "is busy" if "locked" in str(error) else "cannot be written"
        return StoreUnavailable(f"the SQLite store {self.path} {why}: {error}")

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:  # locked by another, or damaged
                raise StoreUnavailable(f"the SQLite store {self.path} cannot be read: {exc}"
                                       ) from None

    def _loads(self, raw: bytes) -> Any:
        """A stored value; one something else wrote that is not JSON is the mock's 503 (a
        reset, or putting it right, ends it), not a 500 for every request reading it."""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreUnavailable(f"the SQLite store {self.path} holds what the mock did "
                                   f"not write: {raw[:40]!r} is not JSON ({exc})") from None

    def _row(self, db: sqlite3.Connection, table: str, key: str) -> dict[str, Any] | None:
        row = db.execute("SELECT value FROM kv WHERE tbl=? AND key=?", (table, key)).fetchone()
        return None if row is None else self._loads(row[0])

    @staticmethod
    def _write(db: sqlite3.Connection, table: str, key: str, value: Any) -> None:
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)",
                   (table, key, orjson.dumps(value)))

    # records ------------------------------------------------------------------

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT value FROM kv WHERE tbl=? AND key=?", (table, key))
        return self._loads(rows[0][0]) if rows else None

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        with self._transaction() as db:
            self._write(db, table, key, value)

    def delete(self, table: str, key: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM kv WHERE tbl=? AND key=?", (table, key)).rowcount > 0

    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self._read("SELECT key, value FROM kv WHERE tbl=?", (table,))
        return [(key, self._loads(value)) for key, value in rows]

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
            start, used = self._row(db, _WINDOWS, name) or (window, 0)
            if start != window:
                used = 0
            if used >= limit:
                return None
            self._write(db, _WINDOWS, name, (window, used + 1))
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
            number = (self._row(db, _NUMBERS, name) or 0) + 1
            self._write(db, _NUMBERS, name, number)
            return number

    def append(self, log: str, value: Any, limit: int) -> None:
        with self._transaction() as db:
            newest = db.execute("INSERT INTO log (name, value) VALUES (?, ?)",
                                (log, orjson.dumps(value))).lastrowid
            # ids grow by one per entry, so this keeps the newest ``limit`` (an index walk)
            db.execute("DELETE FROM log WHERE id <= ? AND name=?", (newest - limit, log))

    def recent(self, log: str, limit: int) -> list[Any]:
        rows = self._read("SELECT value FROM log WHERE name=? ORDER BY id DESC LIMIT ?",
                          (log, limit))
        return [self._loads(row[0]) for row in rows]

    # tallies ----------------------------------------------------------------------

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        shown = first() if callable(first) else first
        with self._transaction() as db:
            marks = self._row(db, _MARKS, table) or {}
            for name in names:
                row = self._row(db, _TALLY + table, name)
                if row is None:
                    row = {"met": 0, "first": shown, "since": {}}
                row["met"] += 1
                for mark in marks:
                    row["since"].setdefault(mark, shown)
                self._write(db, _TALLY + table, name, row)

    def tallies(self, table: str) -> dict[str, dict[str, Any]]:
        return dict(self.items(_TALLY + table))

    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        with self._transaction() as db:
            counts = {}
            for name, stored in db.execute("SELECT key, value FROM kv WHERE tbl=?",
                                           (_TALLY + table,)).fetchall():
                row = self._loads(stored)
                counts[name] = row["met"]
                if row["since"].pop(mark, None) is not None:
                    self._write(db, _TALLY + table, name, row)
            marks = self._row(db, _MARKS, table) or {}
            marks[mark] = counts
            self._write(db, _MARKS, table, marks)
            return counts

    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        return self.get(_MARKS, table) or {}

    # the clock ------------------------------------------------------------------

    def clock_state(self) -> dict[str, Any] | None:
        """None when not started (a reset) or when the row holds what is not a clock's
        state: the caller starts the clock again (see clock.stored_clock)."""
        rows = self._read("SELECT value FROM kv WHERE tbl=? AND key=?", (_META, "clock"))
        return _clock(rows[0][0]) if rows else None

    def set_clock(self, state: Mapping[str, Any]) -> None:
        self.put(_META, "clock", dict(state))

    def advance_clock(self, seconds: float) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT value FROM kv WHERE tbl=? AND key=?",
                             (_META, "clock")).fetchone()
            state = row and _clock(row[0])
            if state is None:  # the caller read it first, so it was started just before
                return
            moved = "offset" if state["frozen_at"] is None else "frozen_at"
            state[moved] += seconds
            self._write(db, _META, "clock", state)

    def clear(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM kv")
            db.execute("DELETE FROM log")

    def close(self) -> None:
        with self._lock:
            self._db.close()
