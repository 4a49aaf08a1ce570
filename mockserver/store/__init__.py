"""The ledger's one interface: balances, rate windows, armed scenarios, stored records, the
journal and the clock.

The world is a pure function of (seed, handle, instant); only the ledger is state. Every
step that reads and then writes it is one operation here, atomic in every store (a lock in
memory, one ``BEGIN IMMEDIATE`` transaction in SQLite, one Lua script in Redis), so N
processes sharing a store answer exactly as one: the same balance, the same admitted count
under a limit, the same number of firings of an armed scenario.

Values are JSON-able dicts, so the stores behave the same and a test can swap one for
another. API keys never reach a store in full: records are kept under :func:`key_id`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any


class StoreUnavailable(Exception):
    """The shared store cannot be reached (Redis down, SQLite locked past its timeout).
    The mock answers 503 with this message until it comes back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def key_id(key: str) -> str:
    """What a store keeps instead of an API key: a digest that names it, never reveals it."""
    return hashlib.blake2b(key.encode(), digest_size=12, person=b"mockserver-key").hexdigest()


#: the fields of an armed entry that :meth:`Store.consume` counts
REMAINING, FIRED = "remaining", "fired"


class Store(ABC):
    #: whether values are kept as given rather than serialised (a log may then hold objects)
    keeps_objects = False
    #: whether other processes may share it: the clock then lives in the store
    shared = False

    # records ------------------------------------------------------------------

    @abstractmethod
    def get(self, table: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def put(self, table: str, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def delete(self, table: str, key: str) -> bool:
        """Remove a record; whether it was there (so two processes never both remove it)."""

    @abstractmethod
    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]: ...

    @abstractmethod
    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        """Get or create: the stored record, or ``value`` stored now if there was none."""

    @abstractmethod
    def update(self, table: str, key: str, changes: Mapping[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
        """Set ``changes`` on the record (``fresh`` if there is none); the record after."""

    # ledger steps -------------------------------------------------------------

    @abstractmethod
    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        """Take ``amount`` from the record's ``field`` if it holds that much (the record is
        ``fresh`` if there is none): the record after, or None, changing nothing, if not."""

    @abstractmethod
    def admit(self, name: str, limit: int, window: int) -> int | None:
        """Count one use of ``name`` in fixed window number ``window``: how many remain, or
        None, counting nothing, once ``limit`` are spent in that window."""

    @abstractmethod
    def consume(self, table: str, key: str) -> dict[str, Any] | None:
        """One firing of an armed entry: its ``fired`` counts up, its ``remaining`` (None:
        no end) down, and at 0 it is removed. The entry after, or None if it is gone."""

    @abstractmethod
    def next_number(self, name: str) -> int:
        """1, 2, 3... for ``name``, never the same twice (until :meth:`clear`)."""

    @abstractmethod
    def append(self, log: str, value: Any, limit: int) -> None:
        """Add to a bounded, ordered log; the oldest entries beyond ``limit`` are dropped."""

    @abstractmethod
    def recent(self, log: str, limit: int) -> list[Any]:
        """At most ``limit`` entries of the log, newest first."""

    # the clock (kept here only by shared stores; see clock.SharedClock) -----------------

    def clock_state(self) -> dict[str, Any] | None:
        """``{"frozen_at": float | None, "offset": float, "origin": float | None,
        "anchor": float}``, or None when no process has started the clock."""
        raise NotImplementedError

    def set_clock(self, state: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def advance_clock(self, seconds: float) -> None:
        """Move the frozen instant, or the offset of a running clock, in one step."""
        raise NotImplementedError

    # all of it ------------------------------------------------------------------

    @abstractmethod
    def clear(self) -> None:
        """Forget everything: every process sharing the store starts again."""

    def close(self) -> None:  # noqa: B027 - optional for stores holding nothing open
        pass


def open_store(spec: str) -> Store:
    """``memory``, ``redis://HOST:PORT/DB`` or an SQLite file path."""
    if spec in ("", "memory"):
        return MemoryStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from mockserver.store.redis_store import RedisStore  # the client loads only if used
        return RedisStore(spec)
    return SqliteStore(spec)


from mockserver.store.memory import MemoryStore  # noqa: E402 - they build on Store above
from mockserver.store.sqlite import SqliteStore  # noqa: E402

__all__ = ["MemoryStore", "SqliteStore", "Store", "StoreUnavailable", "key_id", "open_store"]
