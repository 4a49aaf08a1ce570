"""The default store: dicts in this process. One process, so one lock makes each ledger step
atomic (the event loop already runs them one at a time; the lock covers threads, such as a
test calling the mock while its server thread serves)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.store import FIRED, MATCHED, REMAINING, Chance, FirstId, Store, draw

_NOTHING: dict[str, Any] = {}  # a missing table, never written to


class MemoryStore(Store):
    keeps_objects = True

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._logs: dict[str, deque[Any]] = {}
        self._windows: dict[str, tuple[int, int]] = {}
        self._numbers: dict[str, int] = {}
        self._tallies: dict[str, dict[str, dict[str, Any]]] = {}
        self._marks: dict[str, dict[str, dict[str, int]]] = {}
        self._lock = threading.Lock()

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        return self._tables.get(table, _NOTHING).get(key)

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        self._tables.setdefault(table, {})[key] = value

    def delete(self, table: str, key: str) -> bool:
        return self._tables.get(table, {}).pop(key, None) is not None

    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self._tables.get(table, _NOTHING).items())

    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._tables.setdefault(table, {}).setdefault(key, value)

    def put_new_kept(self, table: str, key: str, value: dict[str, Any], kept: int
                     ) -> dict[str, Any]:
        with self._lock:
            rows = self._tables.setdefault(table, {})
            record = rows.get(key)
            if record is None:
                while len(rows) >= kept:  # a dict keeps insertion order: the oldest first
                    del rows[next(iter(rows))]
                record = rows[key] = value
            return record

    def update(self, table: str, key: str, changes: Mapping[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            rows = self._tables.setdefault(table, {})
            record = rows[key] = {**rows.get(key, fresh), **changes}
            return record

    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        with self._lock:
            rows = self._tables.setdefault(table, {})
            record = rows.get(key, fresh)
            if record[field] < amount:
                return None
            record = rows[key] = {**record, field: record[field] - amount}
            return record

    def admit(self, name: str, limit: int, window: int) -> int | None:
        with self._lock:
            start, used = self._windows.get(name, (window, 0))
            if start != window:
                used = 0
            if used >= limit:
                return None
            self._windows[name] = (window, used + 1)
            return limit - used - 1

    def consume(self, table: str, key: str, chance: Chance | None = None
                ) -> dict[str, Any] | None:
        with self._lock:
            rows = self._tables.get(table, _NOTHING)
            entry = rows.get(key)
            if entry is None:
                return None
            if chance is not None:
                matched = entry.get(MATCHED, 0) + 1
                entry = rows[key] = {**entry, MATCHED: matched}
                if draw(chance.salt, key, matched) >= chance.probability:
                    return None
            entry = {**entry, FIRED: entry[FIRED] + 1}
            if entry[REMAINING] is not None:
                entry[REMAINING] -= 1
            if entry[REMAINING] is not None and entry[REMAINING] <= 0:
                del rows[key]
            else:
                rows[key] = entry
            return entry

    def next_number(self, name: str) -> int:
        with self._lock:
            number = self._numbers[name] = self._numbers.get(name, 0) + 1
            return number

    def append(self, log: str, value: Any, limit: int) -> None:
        entries = self._logs.get(log)
        if entries is None or entries.maxlen != limit:
            entries = self._logs[log] = deque(entries or (), maxlen=max(limit, 1))
        entries.append(value)

    def recent(self, log: str, limit: int) -> list[Any]:
        return list(reversed(self._logs.get(log, ())))[:limit]

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        # on every request: rows change in place, and an id is made only where one is kept
        with self._lock:
            rows = self._tallies.setdefault(table, {})
            marks = self._marks.get(table, _NOTHING)
            shown: str | None = None
            for name in names:
                row = rows.get(name)
                if row is None:
                    shown = shown or (first() if callable(first) else first)
                    rows[name] = {"met": 1, "first": shown, "since": dict.fromkeys(marks, shown)}
                    continue
                row["met"] += 1
                for mark in marks:
                    if mark not in row["since"]:
                        shown = shown or (first() if callable(first) else first)
                        row["since"][mark] = shown

    def tallies(self, table: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: {**row, "since": dict(row["since"])}
                    for name, row in self._tallies.get(table, _NOTHING).items()}

    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        with self._lock:
            rows = self._tallies.get(table, _NOTHING)
            for row in rows.values():
                row["since"].pop(mark, None)
            counts = self._marks.setdefault(table, {})[mark] = {
                name: row["met"] for name, row in rows.items()}
            return dict(counts)

    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        with self._lock:
            return {mark: dict(counts) for mark, counts in self._marks.get(table, {}).items()}

    def clear(self) -> None:
        with self._lock:
            self._tallies.clear()
            self._marks.clear()
            self._tables.clear()
            self._logs.clear()
            self._windows.clear()
            self._numbers.clear()
