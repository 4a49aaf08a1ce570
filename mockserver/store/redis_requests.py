"""A request's ledger steps on Redis (see redis_store): one script opens it, one finishes
it, each from the event loop, pipelined with every other request in flight
(redis_async), or, for the few made while a request renders, from the blocking client."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import hiredis
import orjson
import redis

from mockserver.limits import BoundedCache
from mockserver.store import (
    NOT_LIMITED,
    UNCOUNTED,
    Charge,
    Opening,
    StaleOpening,
    StoreUnavailable,
    Window,
    WindowSpent,
    Writes,
    is_limited,
)
from mockserver.store import redis_scripts as lua
from mockserver.store.redis_async import DEADLINE, PipelinedRedis
from mockserver.store.redis_common import (
    CLOCK,
    EPOCH,
    NO_CHARGE,
    PREFIX,
    WINDOWS,
    Batch,
    blocking_deadline,
    checked,
    forgotten,
    guarded,
    is_late,
    not_written,
    too_late,
    window_args,
    with_count,
)


class RequestSteps:
    """What :class:`~mockserver.store.redis_store.RedisStore` does of one request's work,
    and the names of a table's hashes; the attributes below are the store's (set in its
    ``__init__``)."""

    where: str
    _redis: redis.Redis
    _pipelined: PipelinedRedis
    _open: Any  # the scripts these steps run (redis-py's Script)
    _charge: Any
    _finish: Any
    _epoch: str | None
    _epochs: Iterator[str]  # new epoch names
    _settled: BoundedCache
    _keys_read: BoundedCache
    _clock: tuple[float | None, float] | None
    _armed: int | None
    _skew: float  # how far Redis's clock is ahead of this process's (the blocking client's)

    def _deadline(self) -> int:
        """The deadline of a step the blocking client sends now (see redis_async.DEADLINE)."""
        return blocking_deadline(self._skew)

    @staticmethod
    def _table(table: str) -> str:
        return f"{PREFIX}t:{table}"

    @staticmethod
    def _counters(table: str) -> str:
        return f"{PREFIX}c:{table}"

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
        key = None if stored is None else fresh if created else checked(keys, with_count(
            orjson.loads(stored), "balance", balance))
        # kept as of the epoch read with them; replies come in the order Redis made them
        if offset:  # the clock is started
            self._clock = float(frozen_at) if frozen_at else None, float(offset)
            self._armed = count
        if key is not None:
            self._keys_read.remember((keys, kid), key)
        return Opening(float(shown), key, bool(created),
                       None if remaining == -1 else NOT_LIMITED if remaining == -2 else remaining,
                       count)

    @guarded
    def open_request(self, keys: str, kid: str, fresh: dict[str, Any] | None, limited: bool,
                     armed: str, now: float | None, wall: float, window_seconds: int
                     ) -> Opening | None:
        script, script_keys, args = self._open_call(keys, kid, fresh, limited, armed, now, wall,
                                                    window_seconds, self._deadline())
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
        if is_late(reply):
            self._pipelined.resync()
            return too_late(self.where, reply)
        text = str(reply)
        # a script that found what the mock never writes: said so, or failed on it
        if text.startswith((lua.UNWRITTEN, "WRONGTYPE")) or "user_script" in text:
            return not_written(self.where, reply)
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
                counted = limited and is_limited(key)
                return Opening(wall + offset if frozen_at is None else frozen_at, key, False,
                               UNCOUNTED if counted else NOT_LIMITED, 0, self._epoch)
        call = self._open_call(keys, kid, fresh, limited, armed, now, wall, window_seconds)
        found = await self._run_async(*call)
        try:
            return self._opened(found, keys, kid, fresh)
        except ValueError as exc:  # a record that is not JSON, a balance below 0...
            raise not_written(self.where, exc) from None

    async def charge_async(self, table: str, key: str, field: str, amount: int,
                           fresh: dict[str, Any]) -> dict[str, Any] | None:
        after = await self._run_async(self._charge, [self._table(table)],
                                      [key, field, amount, orjson.dumps(fresh), DEADLINE])
        return None if after is None else {**fresh, field: after}

    @guarded
    def count_window(self, window: Window, cached_at: str | None = None) -> None:
        """:data:`lua.FINISH` with the window alone (a request that renders a stored
        record, see put_new), from this process's blocking connection, as put_new is."""
        self._checked(self._finish(keys=[EPOCH], args=[
            cached_at or "", *NO_CHARGE[1:], self._deadline(), *window_args(window)]), window)

    async def record_async(self, fill: Callable[[Writes], None], cached_at: str | None = None,
                           window: Window | None = None) -> None:
        writes = Batch()
        fill(writes)
        if writes.ops or window is not None:
            self._checked(await self._finish_async(
                writes, (cached_at or "", *NO_CHARGE[1:], DEADLINE, *window_args(window))), window)

    async def finish_async(self, charge: Charge, fill: Callable[[Writes], None]
                           ) -> tuple[dict[str, Any] | None, bool]:
        """One script: the window, the charge, then, if the credits were taken, the
        writes."""
        writes = Batch()
        fill(writes)
        after, made = self._checked(await self._finish_async(writes, (
            charge.cached_at or "", self._table(charge.table), charge.key, charge.field,
            charge.amount, charge.below, int(charge.assumed_below),
            b"" if charge.cached_at else orjson.dumps(charge.fresh),  # there is a record
            DEADLINE, *window_args(charge.window))), charge.window)
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

    async def _finish_async(self, writes: Batch, args: Sequence[Any]) -> list[Any]:
        """:data:`lua.FINISH` with the values its writes push before it, in one MULTI."""
        script = ("EVALSHA", self._finish.sha, 1, EPOCH, *args, *writes.ops)
        if not writes.pushed:
            return await self._run_async(self._finish, [EPOCH], [*args, *writes.ops])
        commands = [("MULTI",), *writes.pushes(), script, ("EXEC",)]
        pipelined = self._pipelined
        done = (await pipelined.calls(*commands))[-1]
        if isinstance(done, list) and forgotten(done[-1]):
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
        writes = Batch()
        yield writes
        if writes.ops:
            self._send(writes)

    @guarded
    def _send(self, writes: Batch) -> None:
        with self._redis.pipeline(transaction=bool(writes.pushed)) as step:
            for log, value in writes.pushed:
                step.lpush(log, value)
            self._finish(keys=[EPOCH], args=[*NO_CHARGE, self._deadline(), *writes.ops],
                         client=step)
            step.execute()
