"""The SQLite store's tallies (coverage's counts): one row per name, its count, its first
request id and its first since each mark, in the store's own ``_tally:`` rows. A part of
:class:`~mockserver.store.sqlite.SqliteStore`, kept apart to keep that module short."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from mockserver.store import FirstId
from mockserver.store.sqlite_rows import MARKS, TALLY


class SqliteTallies:
    """Methods of SqliteStore: they use its transactions and rows."""

    _transaction: Any
    _row: Any
    _write: Any
    _checked: Any
    items: Any
    get: Any

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        shown = first() if callable(first) else first
        with self._transaction() as db:
            self._tally(db, table, names, shown)

    def _tally(self, db: sqlite3.Connection, table: str, names: Sequence[str], shown: str
               ) -> None:
        marks = self._row(db, MARKS, table) or {}
        for name in names:
            row = self._row(db, TALLY + table, name)
            if row is None:
                row = {"met": 0, "first": shown, "since": {}}
            row["met"] += 1
            for mark in marks:
                row["since"].setdefault(mark, shown)
            self._write(db, TALLY + table, name, row)

    def tallies(self, table: str) -> dict[str, dict[str, Any]]:
        return dict(self.items(TALLY + table))

    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        with self._transaction() as db:
            counts = {}
            for name, stored in db.execute("SELECT key, value FROM kv WHERE tbl=?",
                                           (TALLY + table,)).fetchall():
                row = self._checked(TALLY + table, stored)
                counts[name] = row["met"]
                if row["since"].pop(mark, None) is not None:
                    self._write(db, TALLY + table, name, row)
            marks = self._row(db, MARKS, table) or {}
            marks[mark] = counts
            self._write(db, MARKS, table, marks)
            return counts

    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        return self.get(MARKS, table) or {}
