"""Redis (``--store redis://HOST:PORT/DB``): one ledger for any number of processes and
replicas. Every step that reads and writes is one Lua script (see redis_scripts), which
Redis runs alone, so no two processes ever spend the same credit.

A round trip is most of what a step costs, so a request makes at most two: one script opens
it (clock, key, rate window, armed count), and one finishes it: its charge, its journal line
and its coverage counts. Most make one: a process keeps what the opening scripts read (see
``open_request_async``), so a request with no scenario armed skips the opening, its last
script checks that the store's epoch has not moved since, and counts its rate window before
anything else it writes (see store.Window).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import hiredis
import orjson
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mockserver.limits import BoundedCache
from mockserver.store import (
    BEFORE_FIRST_WRITE,
    FIRED,
    NOT_LIMITED,
    REMAINING,
    UNCOUNTED,
    Charge,
    FirstId,
    Opening,
    StaleOpening,
    Store,
    StoreUnavailable,
    Window,
    WindowSpent,
    Writes,
)
from mockserver.store import redis_scripts as lua
from mockserver.store.redis_async import DEADLINE, PipelinedRedis, deadline_ms

PREFIX = "mockserver:"
CLOCK, WINDOWS, EPOCH = f"{PREFIX}clock", f"{PREFIX}windows", f"{PREFIX}epoch"
#: the field of a table's records that is a counter of its own ('<id> <field>' in
#: ``c:<table>``), not in the JSON record: a key's balance, so a charge is a check and a
#: decrement of a whole number, exact to the credit, never an edit of the record's text
COUNTED = {"keys": "balance"}
SETTLED_KEPT = 4096  # settled records a process keeps (see get_settled)
OPENED_KEPT = 4096  # keys' records a process keeps (see open_request_async)
TIMEOUT = 2  # seconds a call waits for Redis's answer (then the mock answers 503)
T = TypeVar("T")


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A lost connection becomes StoreUnavailable (a 503 from the mock); the client's pool
    reconnects on the next call, so service resumes when Redis does."""
    @functools.wraps(method)
    def call(self: RedisStore, *args: Any) -> T:
        try:
            return method(self, *args)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(f"the mock's Redis store at {self.where} is unreachable: "
                                   f"{exc}") from None
        except redis.ResponseError as exc:
            if not _late(exc):
                raise
            raise _too_late(self.where, exc) from None
    return call


class RedisStore(Store):
    shared = True
    awaits = True
    keeps_bytes = True

    def __init__(self, url: str) -> None:
        self.where = url
        try:
            _check_database(url)
            self._redis = redis.Redis.from_url(url, socket_timeout=TIMEOUT,
                                               socket_connect_timeout=TIMEOUT,
                                               health_check_interval=0)
        except ValueError as exc:  # the URL's port, database or options
            raise ValueError(f"--store {url} is not a Redis URL that can be used: "
                             f"{str(exc).rstrip('.')}; write it as redis://HOST:PORT/DB, e.g. "
                             "redis://127.0.0.1:6379/0") from None
        try:
            self._redis.ping()
        except (redis.RedisError, OSError, ValueError) as exc:
            reason = str(exc).rstrip(".")  # redis-py ends some reasons with a period
            raise ValueError(f"cannot reach Redis at {url}: {reason}. Start Redis there, or "
                             "choose --store memory or an SQLite file") from None
        self._settled = BoundedCache(SETTLED_KEPT)  # see get_settled
        # the request's steps from the event loop (see redis_async)
        self._pipelined = PipelinedRedis(self._redis.connection_pool.connection_kwargs, url,
                                         (lua.FINISH,))
        self._epoch: str | None = None
        # what the opening scripts read, as of self._epoch (see open_request_async): the
        # keys' records, the clock's (frozen instant, offset), how many scenarios are armed
        self._keys_read = BoundedCache(OPENED_KEPT)
        self._clock: tuple[float | None, float] | None = None
        self._armed: int | None = None  # None: nothing kept (start, or a change seen)
        # the epoch this process names after a reset: new for every request, made cheaply
        self._epochs = map(f"{os.urandom(6).hex()}.%d".__mod__, itertools.count())
        script = self._redis.register_script
        self._put_new, self._charge, self._update = script(lua.PUT_NEW), script(lua.CHARGE), \
            script(lua.UPDATE)
        self._admit, self._consume, self._delete = script(lua.ADMIT), script(lua.CONSUME), \
            script(lua.DELETE)
        self._append, self._advance, self._clear = script(lua.APPEND), script(lua.ADVANCE), \
            script(lua.CLEAR)
        self._open, self._tally, self._mark_tally = script(lua.OPEN), script(lua.TALLY), \
            script(lua.MARK_TALLY)
        self._finish = script(lua.FINISH)

    @staticmethod
    def _table(table: str) -> str:
        return f"{PREFIX}t:{table}"

    @staticmethod
    def _counters(table: str) -> str:
        return f"{PREFIX}c:{table}"

    # records ------------------------------------------------------------------

    @_guarded
    def get(self, table: str, key: str) -> dict[str, Any] | None:
        field = COUNTED.get(table)
        if field is None:
            stored = self._redis.hget(self._table(table), key)
            return None if stored is None else orjson.loads(stored)
        with self._redis.pipeline() as step:  # MULTI/EXEC: the record and its counter
            step.hget(self._table(table), key)
            step.hget(self._counters(table), f"{key} {field}")
            stored, count = step.execute()
        return None if stored is None else _with_count(orjson.loads(stored), field, count)

    @_guarded
    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        self._armed = None
        field = COUNTED.get(table)
        with self._redis.pipeline() as step:  # MULTI/EXEC: the record and its counters
            counts = {}
            if field is not None and field in value:
                value = dict(value)
                counts[f"{key} {field}"] = value.pop(field)
            step.hset(self._table(table), key, orjson.dumps(value))
            step.set(EPOCH, next(self._epochs))
            if FIRED in value:
                counts[f"{key} {FIRED}"] = value[FIRED]
                if value.get(REMAINING) is not None:
                    counts[f"{key} {REMAINING}"] = value[REMAINING]
            if counts:
                step.hset(self._counters(table), mapping=counts)
            step.execute()

    @_guarded
    def delete(self, table: str, key: str) -> bool:
        _before_write()  # the gateway drops a record made after the clock as it renders
        self._armed = None
        return bool(self._delete(keys=[self._table(table), self._counters(table)],
                                 args=[key, next(self._epochs)]))

    @_guarded
    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        with self._redis.pipeline() as step:
            step.hgetall(self._table(table))
            step.hgetall(self._counters(table))
            rows, counts = step.execute()
        found = []
        counted = COUNTED.get(table)
        for key, stored in rows.items():
            name, value = key.decode(), orjson.loads(stored)
            if counted is not None:
                value = _with_count(value, counted, counts.get(f"{name} {counted}".encode()))
            for field in (FIRED, REMAINING):
                count = counts.get(f"{name} {field}".encode())
                if count is not None:
                    value[field] = int(count)
            found.append((name, value))
        return found

    def get_settled(self, table: str, key: str) -> dict[str, Any] | None:
        """Kept by this process until a request sees the store's epoch change (a reset)."""
        record = self._settled.recall((table, key))
        if record is None:
            record = self.get(table, key)
            if record is not None:
                self._settled.remember((table, key), record)
        return record

    @_guarded
    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        _before_write()
        field = COUNTED.get(table)
        if field is None:
            stored, *_ = self._put_new(keys=[self._table(table), self._counters(table)],
                                       args=[key, orjson.dumps(value), "", "", _deadline()])
            return orjson.loads(stored)
        rest = {name: v for name, v in value.items() if name != field}
        stored, count = self._put_new(keys=[self._table(table), self._counters(table)],
                                      args=[key, orjson.dumps(rest), field, value[field],
                                            _deadline()])
        return _with_count(orjson.loads(stored), field, count)

    @_guarded
    def update(self, table: str, key: str, changes: Mapping[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
        self._armed = None
        field = COUNTED.get(table)
        changes, fresh = dict(changes), dict(fresh)
        count, fresh_count = (changes.pop(field, ""), fresh.pop(field, 0)) if field else ("", "")
        stored, *counted = self._update(keys=[self._table(table), self._counters(table)], args=[
            key, orjson.dumps(changes), orjson.dumps(fresh), field or "", count, fresh_count,
            next(self._epochs)])
        record = orjson.loads(stored)
        return _with_count(record, field, counted[0]) if field else record

    # ledger steps -------------------------------------------------------------

    @_guarded
    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        """Taken from the field's counter (COUNTED); ``fresh`` (the record as the caller read
        it) is the record after, with the field's value after."""
        after = self._charge(keys=[self._table(table)],
                             args=[key, field, amount, orjson.dumps(fresh), _deadline()])
        return None if after is None else {**fresh, field: after}

    @_guarded
    def admit(self, name: str, limit: int, window: int) -> int | None:
        left = self._admit(keys=[WINDOWS], args=[name, window, limit])
        return None if left < 0 else left

    @_guarded
    def consume(self, table: str, key: str) -> dict[str, Any] | None:
        counted = self._consume(keys=[self._table(table), self._counters(table)],
                                args=[key, _deadline()])
        if not counted:
            return None
        stored = self._redis.hget(self._table(table), key)  # gone if that was its last firing
        entry = orjson.loads(stored) if stored is not None else {}
        fired, remaining = counted
        return {**entry, FIRED: fired, REMAINING: None if remaining < 0 else remaining}

    @_guarded
    def next_number(self, name: str) -> int:
        return self._redis.hincrby(f"{PREFIX}numbers", name, 1)

    @_guarded
    def append(self, log: str, value: Any, limit: int) -> None:
        self._append(keys=[f"{PREFIX}log:{log}"], args=[_logged(value), max(limit, 1)])

    @_guarded
    def recent(self, log: str, limit: int) -> list[Any]:
        return [v if v[:1] in BYTES else orjson.loads(v)
                for v in self._redis.lrange(f"{PREFIX}log:{log}", 0, limit - 1)]

    # one request's work ---------------------------------------------------------------

    def _open_call(self, keys: str, kid: str, fresh: dict[str, Any] | None, limited: bool,
                   armed: str, now: float | None, wall: float, window_seconds: int,
                   deadline: Any = DEADLINE) -> tuple[Any, list[str], list[Any]]:
        rest = b"" if fresh is None else orjson.dumps(
            {name: value for name, value in fresh.items() if name != "balance"})
        return self._open, [CLOCK, self._table(keys), WINDOWS, self._table(armed), EPOCH,
                            self._counters(keys)], [
            kid, rest, int(limited), "" if now is None else repr(now), repr(wall),
            window_seconds, next(self._epochs), "" if fresh is None else fresh["balance"],
            deadline]

    def _opened(self, found: Any, keys: str, kid: str, fresh: dict[str, Any] | None
                ) -> Opening | None:
        if not found:
            return None
        shown, stored, created, remaining, count, epoch, frozen_at, offset, balance = found
        epoch = epoch.decode()
        if epoch != self._epoch:  # a reset, a change, or an emptied Redis since the last
            self._epoch = epoch
            self._settled.clear()
            self._keys_read.clear()
        key = None if stored is None else fresh if created else _with_count(
            orjson.loads(stored), "balance", balance)
        # kept as of the epoch read with them; replies come in the order Redis made them
        if offset:  # the clock is started
            self._clock = float(frozen_at) if frozen_at else None, float(offset)
            self._armed = count
        if key is not None:
            self._keys_read.remember((keys, kid), key)
        return Opening(float(shown), key, bool(created),
                       None if remaining == -1 else NOT_LIMITED if remaining == -2 else remaining,
                       count)

    @_guarded
    def open_request(self, keys: str, kid: str, fresh: dict[str, Any] | None, limited: bool,
                     armed: str, now: float | None, wall: float, window_seconds: int
                     ) -> Opening | None:
        script, script_keys, args = self._open_call(keys, kid, fresh, limited, armed, now, wall,
                                                    window_seconds, _deadline())
        return self._opened(script(keys=script_keys, args=args), keys, kid, fresh)

    # ... and from the event loop, pipelined with every other request in flight

    async def _run_async(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """A script by EVALSHA, pipelined with the other requests' calls; one Redis has
        forgotten (it restarted) is sent again whole (EVAL)."""
        pipelined = self._pipelined
        reply = await pipelined.call(("EVALSHA", script.sha, len(keys), *keys, *args))
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("NOSCRIPT"):
                reply = await pipelined.call(("EVAL", script.script, len(keys), *keys, *args))
            if isinstance(reply, hiredis.ReplyError):
                raise self._refused(reply)
        return reply

    def _refused(self, reply: Any) -> StoreUnavailable:
        if _late(reply):
            return _too_late(self.where, reply)
        return StoreUnavailable(f"the mock's Redis store at {self.where} refused a step: "
                                f"{reply}")

    async def open_request_async(self, keys: str, kid: str, fresh: dict[str, Any] | None,
                                 limited: bool, armed: str, now: float | None, wall: float,
                                 window_seconds: int, cached: bool = False) -> Opening | None:
        """Without a round trip when ``cached`` and this process read, as of the epoch it
        knows, the key's record, the clock and no scenario armed; a rate window the request
        counts is then left to its last step (``remaining`` UNCOUNTED, see store.Window). A
        key's balance read before may be higher than it is now (only a change, which names
        a new epoch, raises it): the charge at the last step has the last word, as it does
        for a balance another process spends meanwhile."""
        if cached and self._armed == 0 and now is None:
            key = self._keys_read.recall((keys, kid))
            if key is not None:
                frozen_at, offset = self._clock  # type: ignore[misc] - kept with _armed
                counted = limited and key["status"] == "active" and key["rate_limit"] > 0
                return Opening(wall + offset if frozen_at is None else frozen_at, key, False,
                               UNCOUNTED if counted else NOT_LIMITED, 0, self._epoch)
        call = self._open_call(keys, kid, fresh, limited, armed, now, wall, window_seconds)
        return self._opened(await self._run_async(*call), keys, kid, fresh)

    async def charge_async(self, table: str, key: str, field: str, amount: int,
                           fresh: dict[str, Any]) -> dict[str, Any] | None:
        after = await self._run_async(self._charge, [self._table(table)],
                                      [key, field, amount, orjson.dumps(fresh), DEADLINE])
        return None if after is None else {**fresh, field: after}

    @_guarded
    def count_window(self, window: Window, cached_at: str | None = None) -> None:
        """:data:`lua.FINISH` with the window alone (a request that renders a stored
        record, see put_new), from this process's blocking connection, as put_new is."""
        self._checked(self._finish(keys=[EPOCH], args=[
            cached_at or "", *NO_CHARGE[1:], _deadline(), *_window(window)]), window)

    async def record_async(self, fill: Callable[[Writes], None], cached_at: str | None = None,
                           window: Window | None = None) -> None:
        writes = _Batch()
        fill(writes)
        if writes.ops or window is not None:
            self._checked(await self._finish_async(
                writes, (cached_at or "", *NO_CHARGE[1:], DEADLINE, *_window(window))), window)

    async def finish_async(self, charge: Charge, fill: Callable[[Writes], None]
                           ) -> tuple[dict[str, Any] | None, bool]:
        """One script: the window, the charge, then, if the credits were taken, the
        writes."""
        writes = _Batch()
        fill(writes)
        after, made = self._checked(await self._finish_async(writes, (
            charge.cached_at or "", self._table(charge.table), charge.key, charge.field,
            charge.amount, charge.below, int(charge.assumed_below),
            b"" if charge.cached_at else orjson.dumps(charge.fresh),  # there is a record
            DEADLINE, *_window(charge.window))), charge.window)
        if after is None:
            return None, False
        record = {**charge.fresh, charge.field: after}
        if charge.cached_at:  # the record read before, unchanged since (the epoch held)
            self._keys_read.remember((charge.table, charge.key), record)
        return record, bool(made)

    def _checked(self, finished: list[Any], window: Window | None) -> tuple[Any, int]:
        """What :data:`lua.FINISH` did: StaleOpening or WindowSpent if nothing; else the
        charged field's value after (None: refused) and whether its writes were made (the
        window's count, if any, set on ``window``)."""
        stored, made, stale, left = finished
        if stale:
            self._armed = None  # read anew by the next opening
            raise StaleOpening
        if window is not None:
            if left < 0:
                raise WindowSpent
            window.left = left
        return stored, made

    async def _finish_async(self, writes: _Batch, args: Sequence[Any]) -> list[Any]:
        """:data:`lua.FINISH` with the values its writes push before it, in one MULTI."""
        script = ("EVALSHA", self._finish.sha, 1, EPOCH, *args, *writes.ops)
        if not writes.pushed:
            return await self._run_async(self._finish, [EPOCH], [*args, *writes.ops])
        commands = [("MULTI",), *writes.pushes(), script, ("EXEC",)]
        pipelined = self._pipelined
        done = (await pipelined.calls(*commands))[-1]
        if isinstance(done, list) and _forgotten(done[-1]):
            # a Redis that forgot the script (SCRIPT FLUSH) kept the values pushed before it:
            # take them out, load the script, and run the step again
            await pipelined.calls(("SCRIPT", "LOAD", self._finish.script),
                                  *(("LREM", log, 1, value) for log, value in writes.pushed))
            done = (await pipelined.calls(*commands))[-1]
        failed = done if not isinstance(done, list) else done[-1]
        if isinstance(failed, hiredis.ReplyError) or done is None:
            raise self._refused(failed)
        return done[-1]

    @contextmanager
    def batch(self) -> Iterator[Writes]:
        writes = _Batch()
        yield writes
        if writes.ops:
            self._send(writes)

    @_guarded
    def _send(self, writes: _Batch) -> None:
        with self._redis.pipeline(transaction=bool(writes.pushed)) as step:
            for log, value in writes.pushed:
                step.lpush(log, value)
            self._finish(keys=[EPOCH], args=[*NO_CHARGE, _deadline(), *writes.ops],
                         client=step)
            step.execute()

    # tallies: HINCRBY and HSETNX, so counts from any number of processes add up --------------

    def _tally_keys(self, table: str) -> list[str]:
        return [f"{PREFIX}n:{table}", f"{PREFIX}f:{table}", f"{PREFIX}m:{table}"]

    @_guarded
    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        if names:
            self._tally(args=[table, first() if callable(first) else first, *names])

    @_guarded
    def tallies(self, table: str) -> dict[str, dict[str, Any]]:
        counts_key, firsts_key, marks_key = self._tally_keys(table)
        with self._redis.pipeline() as step:
            step.hgetall(counts_key)
            step.hgetall(firsts_key)
            step.hkeys(marks_key)
            counts, firsts, marks = step.execute()
        with self._redis.pipeline() as step:
            for mark in marks:
                step.hgetall(f"{PREFIX}s:{table}:{mark.decode()}")
            since = dict(zip((m.decode() for m in marks), step.execute(), strict=True))
        return {name.decode(): {
            "met": int(count), "first": firsts.get(name, b"").decode(),
            "since": {mark: ids[name].decode() for mark, ids in since.items() if name in ids}}
            for name, count in counts.items()}

    @_guarded
    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        counts_key, _, marks_key = self._tally_keys(table)
        return orjson.loads(self._mark_tally(keys=[counts_key, marks_key],
                                             args=[mark, f"{PREFIX}s:{table}:{mark}"]))

    @_guarded
    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        marks = self._redis.hgetall(self._tally_keys(table)[2])
        return {mark.decode(): orjson.loads(counts) for mark, counts in marks.items()}

    # the clock: a hash of floats as text ('' for "not frozen"), moved by HINCRBYFLOAT ---------

    @_guarded
    def clock_state(self) -> dict[str, Any] | None:
        fields = self._redis.hmget(CLOCK, "frozen_at", "offset", "origin", "anchor")
        if fields[1] is None:
            return None
        frozen_at, offset, origin, anchor = (float(v) if v else None for v in fields)
        return {"frozen_at": frozen_at, "offset": offset, "origin": origin, "anchor": anchor}

    @_guarded
    def set_clock(self, state: Mapping[str, Any]) -> None:
        self._armed = None
        with self._redis.pipeline() as step:  # MULTI/EXEC
            step.hset(CLOCK, mapping={
                name: "" if state.get(name) is None else repr(float(state[name]))
                for name in ("frozen_at", "offset", "origin", "anchor")})
            step.set(EPOCH, next(self._epochs))
            step.execute()

    @_guarded
    def advance_clock(self, seconds: float) -> None:
        self._armed = None
        self._advance(keys=[CLOCK], args=[repr(float(seconds)), next(self._epochs)])

    @_guarded
    def clear(self) -> None:
        self._armed = None
        self._clear(args=[f"{PREFIX}*"])
        self._settled.clear()

    def close(self) -> None:
        self._pipelined.close()
        self._redis.close()


#: :data:`lua.FINISH`'s first arguments when it takes no credits
NO_CHARGE = ("", "", "", "", "", "", "", "")
#: what a log value kept as bytes starts with: a byte below any JSON value's first
BYTES = tuple(bytes([b]) for b in range(1, 9))


def _check_database(url: str) -> None:
    """A ``redis://`` URL's database, its path, is a whole number (or absent: 0); redis-py
    would take any other (``/abc``, ``/0/1``) as no database given, and use 0."""
    if not url.startswith(("redis://", "rediss://")):
        return  # unix://: the path is the socket's, the database an option (?db=)
    path = urlsplit(url).path
    database = path[1:]
    if path not in ("", "/") and not (database.isascii() and database.isdigit()):
        raise ValueError(f"its database {database!r} is not a whole number")


def _deadline() -> int:
    """The deadline of a step sent now by the blocking client (see redis_async.DEADLINE),
    which gives up on it after :data:`TIMEOUT` seconds."""
    return deadline_ms(TIMEOUT)


def _late(reply: Any) -> bool:
    """Whether an error reply is that of a step run after its deadline (nothing written)."""
    return str(reply).startswith(lua.LATE)


def _too_late(where: str, reply: Any) -> StoreUnavailable:
    return StoreUnavailable(f"the mock's Redis store at {where} did not answer in time: "
                            f"{reply}")


def _before_write() -> None:
    """What a request rendering does before its first write (store.BEFORE_FIRST_WRITE):
    count the rate window it left to its last step, so one over its limit writes
    nothing, as when refused before rendering."""
    first = BEFORE_FIRST_WRITE.get()
    if first is not None:
        first()


def _with_count(record: dict[str, Any], field: str, count: Any) -> dict[str, Any]:
    """A record as stored, with its counted field's value from its counter (first, where
    the record was made with it); one an older mock stored with the field inside, as is."""
    if count is None:
        return record
    record.pop(field, None)
    return {field: int(count), **record}


def _window(window: Window | None) -> tuple[Any, ...]:
    """:data:`lua.FINISH`'s arguments for a window to count (or none)."""
    return () if window is None else ("w", window.name, window.number, window.limit)


def _forgotten(reply: Any) -> bool:
    return isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT")


def _logged(value: Any) -> bytes:
    """A log value as Redis keeps it: bytes as they are (they start with one of
    :data:`BYTES`), anything else as JSON."""
    if isinstance(value, bytes):
        if value[:1] not in BYTES:
            raise ValueError("a log value kept as bytes must start with a byte from 1 to 8")
        return value
    return orjson.dumps(value)


class _Batch:
    """The writes of one :data:`lua.FINISH` script, made in order when it runs (each
    atomic, with the charge before them, if any): its arguments after the charge's, and the
    log values pushed just before it, which it keeps or takes back."""

    keeps_objects = False
    keeps_bytes = True

    def __init__(self) -> None:
        self.ops: list[Any] = []
        self.pushed: list[tuple[str, bytes]] = []  # (log, value)

    def pushes(self) -> Iterator[tuple[str, str, bytes]]:
        return (("LPUSH", log, value) for log, value in self.pushed)

    def append(self, log: str, value: Any, limit: int) -> None:
        name = f"{PREFIX}log:{log}"
        self.pushed.append((name, _logged(value)))
        self.ops += ("p", name, max(limit, 1) - 1)

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        if names:
            self.ops += ("t", table, first() if callable(first) else first, len(names), *names)
