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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from mockserver.store.errors import StaleOpening, StoreRefused, StoreUnavailable, WindowSpent
from mockserver.store.firing import DRAW_DIGITS, FIRED, MATCHED, REMAINING, Chance, draw
from mockserver.store.records import (
    MAX_COUNT,
    RECORD_CHECKS,
    is_count,
    is_limited,
    shape_problem,
    stored_key_record,
)

T = TypeVar("T")


@lru_cache(maxsize=4096)  # every request asks, and a run uses few keys
def key_id(key: str) -> str:
    """What a store keeps instead of an API key: a digest that names it, never reveals it."""
    return hashlib.blake2b(key.encode(), digest_size=12, person=b"mockserver-key").hexdigest()


#: :attr:`Opening.remaining` of a request no rate limit counted
NOT_LIMITED = -1
#: :attr:`Opening.remaining` of a request whose rate window its last step counts: an
#: opening from what the process read before, which counts nothing (see :class:`Window`)
UNCOUNTED = -2
#: what a request does before its rendering's first write to a shared store (a stored
#: record made, see RedisStore.put_new), set while it renders: count the window it left to
#: its last step, so a request over its limit writes nothing, as one refused as it opened
BEFORE_FIRST_WRITE: ContextVar[Callable[[], None] | None] = ContextVar(
    "before_first_write", default=None)


def clock_now(state: Mapping[str, Any], wall: float) -> float:
    """The instant a shared clock's state shows when this process's ``time.time()`` is
    ``wall``: its frozen instant, or the wall clock moved by its offset."""
    frozen_at = state["frozen_at"]
    return frozen_at if frozen_at is not None else wall + state["offset"]


@dataclass(slots=True)
class Opening:
    """What a request's first ledger step found (see :meth:`Store.open_request`)."""

    now: float  # the mock's clock for this request
    key: dict[str, Any] | None  # the key's record (None: the store has none, none was made)
    created: bool  # whether this step made it
    # left in the key's rate window; None: refused; or NOT_LIMITED, or UNCOUNTED
    remaining: int | None
    armed: int  # how many scenarios are armed
    # set when it came from what this process read before, not from the store: the store's
    # epoch it holds for, which the request's last write checks (StaleOpening if it moved)
    cached_at: str | None = None


@dataclass(slots=True)
class Window:
    """One request to count, with the request's last writes, in the fixed rate window
    ``number`` of ``name`` that admits ``limit`` (see :meth:`Store.admit`). So a request
    opened from what its process read before makes one round trip, not two: it renders,
    then its last step counts it and, only if the window admits it, charges and journals
    it; if not (:class:`WindowSpent`), nothing is written and it answers the refusal, as
    if refused as it opened. ``left``: set by the step that counted it."""

    name: str
    limit: int
    number: int
    left: int | None = None


@dataclass(slots=True)
class Charge:
    """A charge made with a request's last writes (see :meth:`Store.finish_async`)."""

    table: str
    key: str
    field: str
    amount: int
    fresh: dict[str, Any]  # the record if the store has none (a reset took it meanwhile)
    below: int  # the writes assume the field's value after is below this...
    assumed_below: bool  # ... exactly when this is True
    cached_at: str | None = None  # the request's Opening.cached_at: checked first
    window: Window | None = None  # counted next (see Window), then the charge


#: the id a tally keeps for a name met first: the id itself, or made only when needed
FirstId = str | Callable[[], str]


class Writes(Protocol):
    """What :meth:`Store.batch` gives: the writes that may travel together."""

    keeps_objects: bool
    keeps_bytes: bool

    def append(self, log: str, value: Any, limit: int) -> None: ...

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None: ...


class Store(ABC):
    #: whether values are kept as given rather than serialised (a log may then hold objects)
    keeps_objects = False
    #: whether a log may hold bytes as they are, cheaper to make than a JSON-able value
    keeps_bytes = False
    #: whether other processes may share it: the clock then lives in the store
    shared = False
    #: whether a request's steps are worth awaiting (the ``*_async`` methods): a store
    #: with round trips; the others are called directly, which costs less
    awaits = False

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

    def put_new_kept(self, table: str, key: str, value: dict[str, Any], kept: int
                     ) -> dict[str, Any]:
        """:meth:`put_new` in a table of records that requests make (one per handle asked):
        the memory store holds at most ``kept`` of them, forgetting the oldest made, so
        distinct handles cannot grow the process without bound. The other stores keep
        every one, outside the mock's memory."""
        return self.put_new(table, key, value)

    def get_settled(self, table: str, key: str) -> dict[str, Any] | None:
        """:meth:`get` of a record that never changes once stored (written by
        :meth:`put_new` only, until a reset): a store with round trips may answer from what
        this process read of it before."""
        return self.get(table, key)

    def armed_entries(self, table: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        """:meth:`items` of a table of armed entries, for a request whose opening found
        ``count`` in it: a store with round trips may answer from what this process read
        before, as of the store's epoch. Only the fields an entry is armed with hold: its
        counters are :meth:`consume`'s, which finds an entry gone."""
        return self.items(table)

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
    def consume(self, table: str, key: str, chance: Chance | None = None
                ) -> dict[str, Any] | None:
        """One firing of an armed entry: its ``fired`` counts up, its ``remaining`` (None:
        no end) down, and at 0 it is removed. The entry after, or None if it is gone. With
        ``chance``, first its ``matched`` counts up, and only if its :func:`draw` for that
        count is below the probability does it fire (None, changing nothing else, if not),
        in the same atomic step: N processes draw exactly as one."""

    @abstractmethod
    def next_number(self, name: str) -> int:
        """1, 2, 3... for ``name``, never the same twice (until :meth:`clear`)."""

    @abstractmethod
    def append(self, log: str, value: Any, limit: int) -> None:
        """Add to a bounded, ordered log; the oldest entries beyond ``limit`` are dropped."""

    @abstractmethod
    def recent(self, log: str, limit: int) -> list[Any]:
        """At most ``limit`` entries of the log, newest first."""

    # one request's ledger work, in as few round trips as the store allows -----------

    def opening_instant(self, now: float | None, wall: float) -> float | None:
        """A request's instant as its opening reads it: ``now`` if given, else the store's
        clock at this process's ``time.time()`` ``wall``; None when that clock is not
        started (a reset)."""
        if now is not None:
            return now
        state = self.clock_state()
        return None if state is None else clock_now(state, wall)

    def open_request(self, keys: str, kid: str, fresh: dict[str, Any] | None, limited: bool,
                     armed: str, now: float | None, wall: float, window_seconds: int
                     ) -> Opening | None:
        """A request's first ledger step: the clock (``now``, or, when it is None, the
        store's clock at this process's ``time.time()`` ``wall``), the record ``kid`` of
        table ``keys`` (made from ``fresh`` if there is none and ``fresh`` is given), one
        request counted in its fixed rate window of ``window_seconds`` (:meth:`admit`, under
        the name ``kid``) when ``limited`` and the key is ``active`` with a ``rate_limit``
        above 0, and how many entries table ``armed`` holds. None, doing nothing, when the
        store's clock is not started (a reset): start it and ask again.

        Here each part is its own atomic step (no round trips in memory, local ones in
        SQLite); Redis does it all in one script."""
        now = self.opening_instant(now, wall)
        if now is None:
            return None
        key, created = self.get(keys, kid), False
        if key is None and fresh is not None:
            key = self.put_new(keys, kid, fresh)
            created = key is fresh
        remaining = NOT_LIMITED
        if self.counts_window(key, limited):
            remaining = self.admit(kid, key["rate_limit"], int(now // window_seconds))
        return Opening(now, key, created, remaining, len(self.items(armed)))

    def counts_window(self, key: Mapping[str, Any] | None, limited: bool) -> bool:
        """Whether an opening counts ``key``'s rate window: ``limited`` and the key limited
        (:func:`is_limited`). A shared store first checks the record it read is one the mock
        writes (something else may have written it: a balance below 0...): if not, its 503,
        before the window is counted, as Redis's opening script refuses it, so a request
        refused for what the store holds has spent nothing."""
        if not (limited and key is not None and is_limited(key)):
            return False
        if self.shared:
            stored_key_record(key)
        return True

    @contextmanager
    def batch(self) -> Iterator[Writes]:
        """Writes (:meth:`append`, :meth:`tally`) that may travel together: the store
        itself here; Redis sends them in one round trip when the block ends. Each write is
        atomic on its own; the batch is not a transaction."""
        yield self

    # the same from the event loop: here they run at once (nothing to wait for); Redis
    # pipelines the calls of every request in flight (see redis_async) ----------------

    async def open_request_async(self, keys: str, kid: str, fresh: dict[str, Any] | None,
                                 limited: bool, armed: str, now: float | None, wall: float,
                                 window_seconds: int, cached: bool = False) -> Opening | None:
        """:meth:`open_request`; with ``cached``, a store with round trips may answer from
        what this process read before (an Opening with ``cached_at``) when nothing has to be
        counted: the request's last write then checks that nothing changed meanwhile."""
        return self.open_request(keys, kid, fresh, limited, armed, now, wall, window_seconds)

    async def charge_async(self, table: str, key: str, field: str, amount: int,
                           fresh: dict[str, Any]) -> dict[str, Any] | None:
        return self.charge(table, key, field, amount, fresh)

    async def atomically(self, step: Callable[..., T], *args: Any) -> T:
        """``step(*args)`` from the event loop: code that is not a request's own step and
        may write (the admin API's writes, an armed scenario firing, a record stored as a
        request renders), its writes all or nothing where the store can make them so. Here
        it runs at once; SQLite makes it one transaction waiting for another process's
        write lock as a request's steps do, without holding the event loop."""
        return step(*args)

    async def atomically_if_writing(self, step: Callable[..., T], *args: Any) -> T:
        """:meth:`atomically` for a step that mostly only reads (a Gateway render): SQLite
        runs it first without the write lock, and again, whole, in :meth:`atomically` only
        if it goes to write (so ``step`` must be one that may be run again up to its first
        write). Here, as :meth:`atomically`, it runs at once."""
        return step(*args)

    def count_window(self, window: Window, cached_at: str | None = None) -> None:
        """Count ``window`` now (see :class:`Window`): its ``left`` set, or
        :class:`WindowSpent`. ``cached_at``: the request's Opening.cached_at, checked
        first. (Only Redis leaves a window to a request's last step.)"""
        window.left = self.admit(window.name, window.limit, window.number)
        if window.left is None:
            raise WindowSpent

    async def record_async(self, fill: Callable[[Writes], None], cached_at: str | None = None,
                           window: Window | None = None) -> None:
        """``fill`` a batch of writes (:meth:`batch`), and send it; here each write is made
        at once. ``cached_at``: the request's Opening.cached_at, checked first; then
        ``window`` counted (:meth:`count_window`): if it is spent, nothing is written."""
        if window is not None:
            self.count_window(window)
        fill(self)

    async def finish_async(self, charge: Charge, fill: Callable[[Writes], None]
                           ) -> tuple[dict[str, Any] | None, bool]:
        """A request's last step: ``charge.window`` counted, if given (nothing written
        and :class:`WindowSpent` if it is spent), ``charge`` (as :meth:`charge`) and, if the
        credits were taken, the writes ``fill`` makes (as :meth:`record_async`), so a
        request that is charged is journalled and counted in the same step (one round trip
        to Redis). ``fill`` may assume that the charged field's value after is below
        ``charge.below`` exactly when ``charge.assumed_below`` is true; where that is not
        so, the writes are not made, and the caller makes them anew, knowing the value.
        The record after the charge (None: refused, and nothing written but the window's
        count), and whether the writes were made."""
        if charge.window is not None:
            self.count_window(charge.window)
        after = await self.charge_async(charge.table, charge.key, charge.field, charge.amount,
                                        charge.fresh)
        if after is None or (after[charge.field] < charge.below) != charge.assumed_below:
            return after, False
        await self.record_async(fill)
        return after, True

    # tallies: counts that any number of processes add to exactly ---------------------

    @abstractmethod
    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        """Count one more of each name in ``table``. A name counted for the first time keeps
        ``first`` (a request id) as its first, and each of the table's marks keeps it as
        the name's first since that mark (see :meth:`mark_tally`)."""

    @abstractmethod
    def tallies(self, table: str) -> dict[str, dict[str, Any]]:
        """name -> ``{"met": count, "first": id, "since": {mark: id}}``."""

    @abstractmethod
    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        """Atomically: the counts now, kept as ``mark`` (a mark made again starts over),
        from which the next first of each name since the mark is kept. The counts."""

    @abstractmethod
    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        """mark -> the counts when it was made."""

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

__all__ = ["BEFORE_FIRST_WRITE", "DRAW_DIGITS", "FIRED", "MATCHED", "MAX_COUNT", "NOT_LIMITED",
           "RECORD_CHECKS", "REMAINING", "UNCOUNTED", "Chance", "Charge", "MemoryStore",
           "Opening", "SqliteStore", "StaleOpening", "Store", "StoreRefused",
           "StoreUnavailable", "Window", "WindowSpent", "Writes", "clock_now", "draw",
           "is_count", "is_limited", "key_id", "open_store", "shape_problem"]
