"""Redis (``--store redis://HOST:PORT/DB``): one ledger for any number of processes and
replicas. Every step that reads and writes is one Lua script (see redis_scripts), which
Redis runs alone, so no two processes ever spend the same credit.

A round trip is most of what a step costs, so a request makes at most two: one script opens
it (clock, key, rate window, armed count), and one finishes it: its charge, its journal line
and its coverage counts (redis_requests). Most make one: a process keeps what the opening
scripts read (see ``open_request_async``), so a request with no scenario armed skips the
opening, its last script checks that the store's epoch has not moved since, and counts its
rate window before anything else it writes (see store.Window). Here: the store opened, its
records, the single ledger steps, tallies and the clock.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis

from mockserver.limits import BoundedCache
from mockserver.store import (
    FIRED,
    MATCHED,
    REMAINING,
    Chance,
    FirstId,
    Store,
    StoreRefused,
)
from mockserver.store import redis_scripts as lua
from mockserver.store.redis_async import PipelinedRedis
from mockserver.store.redis_common import (
    BYTES,
    CLOCK,
    COUNTED,
    EPOCH,
    PREFIX,
    TIMEOUT,
    WINDOWS,
    before_write,
    check_database,
    checked,
    guarded,
    logged,
    masked,
    measured_skew,
    read_clock,
    with_count,
)
from mockserver.store.redis_requests import RequestSteps

log = logging.getLogger("mockserver")
SETTLED_KEPT = 4096  # settled records a process keeps (see get_settled)
OPENED_KEPT = 4096  # keys' records a process keeps (see open_request_async)


class RedisStore(RequestSteps, Store):
    shared = True
    awaits = True
    keeps_bytes = True

    def __init__(self, url: str) -> None:
        self.where = masked(url)
        try:
            check_database(url)
            self._redis = redis.Redis.from_url(url, socket_timeout=TIMEOUT,
                                               socket_connect_timeout=TIMEOUT,
                                               health_check_interval=0)
        except ValueError as exc:  # the URL's port, database or options
            raise _unusable(url, exc) from None
        try:
            self._redis.ping()
        except TypeError as exc:  # an option (?foo=bar) no connection takes
            raise _unusable(url, exc) from None
        except (redis.RedisError, OSError, ValueError) as exc:
            reason = str(exc).rstrip(".")  # redis-py ends some reasons with a period
            raise StoreRefused(f"cannot reach Redis at {self.where}: {reason}. Start Redis "
                               "there, or choose memory or an SQLite file as the store"
                               ) from None
        self._skew = measured_skew(self._redis, 0.0)  # see redis_async.skew
        self._settled = BoundedCache(SETTLED_KEPT)  # see get_settled
        # the request's steps from the event loop (see redis_async)
        self._pipelined = PipelinedRedis(self._redis.connection_pool.connection_kwargs, self.where,
                                         (lua.FINISH,))
        self._epoch: str | None = None
        # what the opening scripts read, as of self._epoch (see open_request_async): the
        # keys' records, the clock's (frozen instant, offset), how many scenarios are armed
        self._keys_read = BoundedCache(OPENED_KEPT)
        self._clock: tuple[float | None, float] | None = None
        self._armed: int | None = None  # None: nothing kept (start, or a change seen)
        # the armed entries as of (table, epoch, count) (see armed_entries)
        self._entries_read: tuple[tuple[str, str | None, int], list[Any]] | None = None
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

    # records ------------------------------------------------------------------

    @guarded
    def get(self, table: str, key: str) -> dict[str, Any] | None:
        field = COUNTED.get(table)
        if field is None:
            stored = self._redis.hget(self._table(table), key)
            return None if stored is None else checked(table, orjson.loads(stored))
        with self._redis.pipeline() as step:  # MULTI/EXEC: the record and its counter
            step.hget(self._table(table), key)
            step.hget(self._counters(table), f"{key} {field}")
            stored, count = step.execute()
        return None if stored is None else checked(
            table, with_count(orjson.loads(stored), field, count))

    @guarded
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
            if MATCHED in value:  # an entry armed anew under its id counts from 0 again
                counts[f"{key} {MATCHED}"] = value[MATCHED]
            if counts:
                step.hset(self._counters(table), mapping=counts)
            step.execute()

    @guarded
    def delete(self, table: str, key: str) -> bool:
        before_write()  # the gateway drops a record made after the clock as it renders
        self._armed = None
        return bool(self._delete(keys=[self._table(table), self._counters(table)],
                                 args=[key, next(self._epochs)]))

    @guarded
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
                value = with_count(value, counted, counts.get(f"{name} {counted}".encode()))
            elif not isinstance(value, dict):
                raise ValueError(f"{value!r:.60} is not an object")
            for field in (FIRED, REMAINING, MATCHED):
                count = counts.get(f"{name} {field}".encode())
                if count is not None:
                    value[field] = int(count)
            found.append((name, checked(table, value)))
        return found

    def get_settled(self, table: str, key: str) -> dict[str, Any] | None:
        """Kept by this process until a request sees the store's epoch change (a reset)."""
        record = self._settled.recall((table, key))
        if record is None:
            record = self.get(table, key)
            if record is not None:
                self._settled.remember((table, key), record)
        return record

    def armed_entries(self, table: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        """Read once for each epoch (any entry armed or disarmed, a reset, moves it) and
        count (an entry fired its last time): a request with a scenario armed then makes
        no round trip for them, only :meth:`consume`'s script for an entry it matches."""
        kept = self._entries_read
        if kept is not None and kept[0] == (table, self._epoch, count):
            return kept[1]
        entries = self.items(table)
        # kept under the epoch the opening read: one armed meanwhile moves it again
        self._entries_read = ((table, self._epoch, len(entries)), entries)
        return entries

    @guarded
    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        before_write()
        field = COUNTED.get(table)
        if field is None:
            stored, *_ = self._put_new(keys=[self._table(table), self._counters(table)],
                                       args=[key, orjson.dumps(value), "", "", self._deadline()])
            return checked(table, orjson.loads(stored))
        rest = {name: v for name, v in value.items() if name != field}
        stored, count = self._put_new(keys=[self._table(table), self._counters(table)],
                                      args=[key, orjson.dumps(rest), field, value[field],
                                            self._deadline()])
        return checked(table, with_count(orjson.loads(stored), field, count))

    @guarded
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
        return checked(table, with_count(record, field, counted[0]) if field else record)

    # ledger steps -------------------------------------------------------------

    @guarded
    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        """Taken from the field's counter (COUNTED); ``fresh`` (the record as the caller read
        it) is the record after, with the field's value after."""
        after = self._charge(keys=[self._table(table)],
                             args=[key, field, amount, orjson.dumps(fresh), self._deadline()])
        return None if after is None else {**fresh, field: after}

    @guarded
    def admit(self, name: str, limit: int, window: int) -> int | None:
        left = self._admit(keys=[WINDOWS], args=[name, window, limit])
        return None if left < 0 else left

    @guarded
    def consume(self, table: str, key: str, chance: Chance | None = None
                ) -> dict[str, Any] | None:
        counted = self._consume(keys=[self._table(table), self._counters(table)], args=[
            key, self._deadline(), "" if chance is None else repr(float(chance.probability)),
            "" if chance is None else chance.salt])
        if not counted:
            return None
        fired, remaining, stored = counted  # the entry as it was, read by the same script
        entry = orjson.loads(stored)
        if not isinstance(entry, dict):
            raise ValueError(f"{entry!r:.60} is not an object")
        return checked(table, {**entry, FIRED: fired,
                               REMAINING: None if remaining < 0 else remaining})

    @guarded
    def next_number(self, name: str) -> int:
        return self._redis.hincrby(f"{PREFIX}numbers", name, 1)

    @guarded
    def append(self, log: str, value: Any, limit: int) -> None:
        self._append(keys=[f"{PREFIX}log:{log}"], args=[logged(value), max(limit, 1)])

    @guarded
    def recent(self, log: str, limit: int) -> list[Any]:
        return [v if v[:1] in BYTES else orjson.loads(v)
                for v in self._redis.lrange(f"{PREFIX}log:{log}", 0, limit - 1)]

    # tallies: HINCRBY and HSETNX, so counts from any number of processes add up --------------

    def _tally_keys(self, table: str) -> list[str]:
        return [f"{PREFIX}n:{table}", f"{PREFIX}f:{table}", f"{PREFIX}m:{table}"]

    @guarded
    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        if names:
            self._tally(args=[table, first() if callable(first) else first, *names])

    @guarded
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

    @guarded
    def mark_tally(self, table: str, mark: str) -> dict[str, int]:
        counts_key, _, marks_key = self._tally_keys(table)
        return orjson.loads(self._mark_tally(keys=[counts_key, marks_key],
                                             args=[mark, f"{PREFIX}s:{table}:{mark}"]))

    @guarded
    def tally_marks(self, table: str) -> dict[str, dict[str, int]]:
        marks = self._redis.hgetall(self._tally_keys(table)[2])
        found = {mark.decode(): orjson.loads(counts) for mark, counts in marks.items()}
        for counts in found.values():
            if not isinstance(counts, dict) or not all(
                    type(count) is int and count >= 0 for count in counts.values()):
                raise ValueError(f"a mark's counts {counts!r:.60} are not counts")
        return found

    # the clock: a hash of floats as text ('' for "not frozen"), moved by HINCRBYFLOAT ---------

    @guarded
    def clock_state(self) -> dict[str, Any] | None:
        """None when not started (a reset) and when the key holds what is not a clock's
        state (an outside write): either way the caller starts the clock again, replacing
        it (lua.OPEN too answers such a clock as not started), rather than every clock
        call failing until a reset, which would also empty the ledger."""
        try:
            fields = self._redis.hmget(CLOCK, "frozen_at", "offset", "origin", "anchor")
        except redis.ResponseError as exc:
            if not str(exc).startswith("WRONGTYPE"):  # a string, a list... in its place
                raise
            log.warning("%s is not a hash (%s): the clock starts again", CLOCK, exc)
            return None
        if not any(fields):
            return None
        state = read_clock(fields, time.time())
        if state is None:
            log.warning("%s holds %r, not a clock's state: the clock starts again", CLOCK,
                        [field[:40] if field else field for field in fields])
        return state

    @guarded
    def set_clock(self, state: Mapping[str, Any]) -> None:
        self._armed = None
        with self._redis.pipeline() as step:  # MULTI/EXEC
            step.delete(CLOCK)  # whatever it held, of whatever type
            step.hset(CLOCK, mapping={
                name: "" if state.get(name) is None else repr(float(state[name]))
                for name in ("frozen_at", "offset", "origin", "anchor")})
            step.set(EPOCH, next(self._epochs))
            step.execute()

    @guarded
    def advance_clock(self, seconds: float) -> None:
        self._armed = None
        self._advance(keys=[CLOCK], args=[repr(float(seconds)), next(self._epochs)])

    @guarded
    def clear(self) -> None:
        self._armed = None
        self._clear(args=[f"{PREFIX}*"])
        self._settled.clear()

    def close(self) -> None:
        self._pipelined.close()
        self._redis.close()


def _unusable(url: str, problem: Exception) -> StoreRefused:
    return StoreRefused(f"{masked(url)!r} is not a Redis URL that can be used: "
                      f"{str(problem).rstrip('.')}; write it as redis://HOST:PORT/DB, e.g. "
                      "redis://127.0.0.1:6379/0")
