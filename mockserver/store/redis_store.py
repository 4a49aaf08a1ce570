"""Redis (``--store redis://HOST:PORT/DB``): one ledger for any number of processes and
replicas. Every step that reads and writes is one Lua script, which Redis runs alone, so
no two processes ever spend the same credit.

Layout, all under the ``mockserver:`` prefix: a hash per table (record key -> JSON), a hash
of counters beside it for the fields :meth:`consume` counts (scripts never re-encode a
user's JSON), one hash of rate windows, one of numbers, one for the clock, a list per log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mockserver.store import FIRED, REMAINING, Store, StoreUnavailable

PREFIX = "mockserver:"
T = TypeVar("T")

_PUT_NEW = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then return stored end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
"""
# balances are whole numbers and the other fields of a key strings or small tables, so
# cjson's decode / encode keeps them as they were
_CHARGE = """
local stored = redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[4]
local record = cjson.decode(stored)
local amount = tonumber(ARGV[3])
if record[ARGV[2]] < amount then return false end
record[ARGV[2]] = record[ARGV[2]] - amount
stored = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[1], stored)
return stored
"""
_UPDATE = """
local record = cjson.decode(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[3])
for name, value in pairs(cjson.decode(ARGV[2])) do record[name] = value end
local stored = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[1], stored)
return stored
"""
_ADMIT = """
local window, limit, used = ARGV[2], tonumber(ARGV[3]), 0
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
  local start, count = string.match(stored, '^(%S+) (%d+)$')
  if start == window then used = tonumber(count) end
end
if used >= limit then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], window .. ' ' .. (used + 1))
return limit - used - 1
"""
# counters: '<id> remaining' (absent: no end) and '<id> fired'; returns {fired, remaining}
_CONSUME = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local fired = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' fired', 1)
local remaining = redis.call('HGET', KEYS[2], ARGV[1] .. ' remaining')
if not remaining then return {fired, -1} end
remaining = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' remaining', -1)
if remaining <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining')
end
return {fired, remaining}
"""
_DELETE = """
redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining')
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
_APPEND = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
"""
_ADVANCE = """
local field = 'offset'
if redis.call('HGET', KEYS[1], 'frozen_at') ~= '' then field = 'frozen_at' end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBYFLOAT', KEYS[1], field, ARGV[1]) end
"""
_CLEAR = """
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
return #keys
"""


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
    return call


class RedisStore(Store):
    shared = True

    def __init__(self, url: str) -> None:
        self.where = url
        try:
            self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                               health_check_interval=0)
            self._redis.ping()
        except (redis.RedisError, OSError, ValueError) as exc:
            raise ValueError(f"cannot reach Redis at {url}: {exc}. Start Redis there, or "
                             "choose --store memory or an SQLite file") from None
        script = self._redis.register_script
        self._put_new, self._charge, self._update = script(_PUT_NEW), script(_CHARGE), \
            script(_UPDATE)
        self._admit, self._consume, self._delete = script(_ADMIT), script(_CONSUME), \
            script(_DELETE)
        self._append, self._advance, self._clear = script(_APPEND), script(_ADVANCE), \
            script(_CLEAR)

    @staticmethod
    def _table(table: str) -> str:
        return f"{PREFIX}t:{table}"

    @staticmethod
    def _counters(table: str) -> str:
        return f"{PREFIX}c:{table}"

    # records ------------------------------------------------------------------

    @_guarded
    def get(self, table: str, key: str) -> dict[str, Any] | None:
        stored = self._redis.hget(self._table(table), key)
        return None if stored is None else orjson.loads(stored)

    @_guarded
    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        with self._redis.pipeline() as step:  # MULTI/EXEC: the record and its counters
            step.hset(self._table(table), key, orjson.dumps(value))
            if FIRED in value:
                counts = {f"{key} {FIRED}": value[FIRED]}
                if value.get(REMAINING) is not None:
                    counts[f"{key} {REMAINING}"] = value[REMAINING]
                step.hset(self._counters(table), mapping=counts)
            step.execute()

    @_guarded
    def delete(self, table: str, key: str) -> bool:
        return bool(self._delete(keys=[self._table(table), self._counters(table)], args=[key]))

    @_guarded
    def items(self, table: str) -> list[tuple[str, dict[str, Any]]]:
        with self._redis.pipeline() as step:
            step.hgetall(self._table(table))
            step.hgetall(self._counters(table))
            rows, counts = step.execute()
        found = []
        for key, stored in rows.items():
            name, value = key.decode(), orjson.loads(stored)
            for field in (FIRED, REMAINING):
                count = counts.get(f"{name} {field}".encode())
                if count is not None:
                    value[field] = int(count)
            found.append((name, value))
        return found

    @_guarded
    def put_new(self, table: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        return orjson.loads(self._put_new(keys=[self._table(table)],
                                          args=[key, orjson.dumps(value)]))

    @_guarded
    def update(self, table: str, key: str, changes: Mapping[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
        return orjson.loads(self._update(keys=[self._table(table)], args=[
            key, orjson.dumps(dict(changes)), orjson.dumps(fresh)]))

    # ledger steps -------------------------------------------------------------

    @_guarded
    def charge(self, table: str, key: str, field: str, amount: int, fresh: dict[str, Any]
               ) -> dict[str, Any] | None:
        stored = self._charge(keys=[self._table(table)],
                              args=[key, field, amount, orjson.dumps(fresh)])
        return None if stored is None else orjson.loads(stored)

    @_guarded
    def admit(self, name: str, limit: int, window: int) -> int | None:
        left = self._admit(keys=[f"{PREFIX}windows"], args=[name, window, limit])
        return None if left < 0 else left

    @_guarded
    def consume(self, table: str, key: str) -> dict[str, Any] | None:
        counted = self._consume(keys=[self._table(table), self._counters(table)], args=[key])
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
        self._append(keys=[f"{PREFIX}log:{log}"], args=[orjson.dumps(value), max(limit, 1)])

    @_guarded
    def recent(self, log: str, limit: int) -> list[Any]:
        return [orjson.loads(v) for v in self._redis.lrange(f"{PREFIX}log:{log}", 0, limit - 1)]

    # the clock: a hash of floats as text ('' for "not frozen"), moved by HINCRBYFLOAT ---------

    @_guarded
    def clock_state(self) -> dict[str, Any] | None:
        fields = self._redis.hmget(f"{PREFIX}clock", "frozen_at", "offset", "origin", "anchor")
        if fields[1] is None:
            return None
        frozen_at, offset, origin, anchor = (float(v) if v else None for v in fields)
        return {"frozen_at": frozen_at, "offset": offset, "origin": origin, "anchor": anchor}

    @_guarded
    def set_clock(self, state: Mapping[str, Any]) -> None:
        self._redis.hset(f"{PREFIX}clock", mapping={
            name: "" if state.get(name) is None else repr(float(state[name]))
            for name in ("frozen_at", "offset", "origin", "anchor")})

    @_guarded
    def advance_clock(self, seconds: float) -> None:
        self._advance(keys=[f"{PREFIX}clock"], args=[repr(float(seconds))])

    @_guarded
    def clear(self) -> None:
        self._clear(args=[f"{PREFIX}*"])

    def close(self) -> None:
        self._redis.close()
