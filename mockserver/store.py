"""The one state interface: balances, stored records and the journal.

In memory by default; an SQLite file (standard library) when the user wants a
restarted mock to keep what it held. Values are JSON-able dicts, so both
stores behave the same and a test can swap one for the other.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections import deque
from typing import Any

import orjson


class Store(ABC):
    #: whether values are kept as given rather than serialised (a log may then hold objects)
    keeps_objects = False

    @abstractmethod
    def get(self, table: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def put(self, table: str, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def delete(self, table: str, key: str) -> None: ...

    @abstractmethod
    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]: ...

    @abstractmethod
    def append(self, log: str, value: dict[str, Any], limit: int) -> None:
        """Add to a bounded log; the oldest entries beyond ``limit`` are dropped."""

    @abstractmethod
    def recent(self, log: str) -> list[dict[str, Any]]:
        """The log, newest first."""

    @abstractmethod
    def clear(self) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional for stores holding nothing open
        pass


_NOTHING: dict[str, Any] = {}  # a missing table, never written to


class MemoryStore(Store):
    keeps_objects = True

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._logs: dict[str, deque[Any]] = {}

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        return self._tables.get(table, _NOTHING).get(key)

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        self._tables.setdefault(table, {})[key] = value

    def delete(self, table: str, key: str) -> None:
        self._tables.get(table, {}).pop(key, None)

    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self._tables.get(table, _NOTHING).items())

    def append(self, log: str, value: Any, limit: int) -> None:
        entries = self._logs.get(log)
        if entries is None or entries.maxlen != limit:
            entries = self._logs[log] = deque(entries or (), maxlen=max(limit, 1))
        entries.append(value)

    def recent(self, log: str) -> list[Any]:
        return list(reversed(self._logs.get(log, ())))

    def clear(self) -> None:
        self._tables.clear()
        self._logs.clear()


class SqliteStore(Store):
    """One file; survives restarts. Writes are autocommitted (WAL) rather than batched,
    so a killed mock loses nothing it had answered."""

    _PRUNE_EVERY = 64

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kv"
            " (tbl TEXT, key TEXT, value BLOB, PRIMARY KEY (tbl, key))")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " name TEXT, value BLOB)")
        self._appends = 0

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM kv WHERE tbl=? AND key=?", (table, key)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)",
                             (table, key, orjson.dumps(value)))

    def delete(self, table: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM kv WHERE tbl=? AND key=?", (table, key))

    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM kv WHERE tbl=?", (table,)).fetchall()
        return [(key, orjson.loads(value)) for key, value in rows]

    def append(self, log: str, value: dict[str, Any], limit: int) -> None:
        with self._lock:
            self._db.execute("INSERT INTO log (name, value) VALUES (?, ?)",
                             (log, orjson.dumps(value)))
            self._appends += 1
            if self._appends % self._PRUNE_EVERY == 0:
                self._db.execute(
                    "DELETE FROM log WHERE name=? AND id NOT IN"
                    " (SELECT id FROM log WHERE name=? ORDER BY id DESC LIMIT ?)",
                    (log, log, limit))

    def recent(self, log: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT value FROM log WHERE name=? ORDER BY id DESC", (log,)).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM kv")
            self._db.execute("DELETE FROM log")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(spec: str) -> Store:
    """``memory`` or a file path."""
    return MemoryStore() if spec in ("", "memory") else SqliteStore(spec)
