"""What the Redis store's parts (redis_store, redis_requests) share: the names of its keys,
how its URL is checked, how a lost or late step becomes :class:`StoreUnavailable` (the
mock's 503), and the writes a request's last script makes (:class:`Batch`)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import hiredis
import orjson
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mockserver.clock import stored_clock
from mockserver.store import (
    BEFORE_FIRST_WRITE,
    MAX_COUNT,
    FirstId,
    StoreUnavailable,
    Window,
    shape_problem,
)
from mockserver.store import redis_scripts as lua
from mockserver.store.redis_async import deadline_ms, skew, wall

PREFIX = "mockserver:"
CLOCK, WINDOWS, EPOCH = f"{PREFIX}clock", f"{PREFIX}windows", f"{PREFIX}epoch"
#: the field of a table's records that is a counter of its own ('<id> <field>' in
#: ``c:<table>``), not in the JSON record: a key's balance, so a charge is a check and a
#: decrement of a whole number, exact to the credit, never an edit of the record's text
COUNTED = {"keys": "balance"}
TIMEOUT = 2  # seconds a call waits for Redis's answer (then the mock answers 503)
T = TypeVar("T")
log = logging.getLogger("mockserver")


def guarded(method: Callable[..., T]) -> Callable[..., T]:
    """A lost connection becomes StoreUnavailable (a 503 from the mock); the client's pool
    reconnects on the next call, so service resumes when Redis does."""
    @functools.wraps(method)
    def call(self: Any, *args: Any) -> T:
        try:
            return method(self, *args)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(f"the mock's Redis store at {self.where} is unreachable: "
                                   f"{exc}") from None
        except redis.ResponseError as exc:
            if not is_late(exc):  # WRONGTYPE, a counter that is no number: an outside write
                raise not_written(self.where, exc) from None
            self._skew = measured_skew(self._redis, self._skew)  # see PipelinedRedis.resync
            raise too_late(self.where, exc) from None
        except ValueError as exc:  # a record that is not JSON, a counter that is no number
            raise not_written(self.where, exc) from None
    return call


def not_written(where: str, problem: Exception) -> StoreUnavailable:
    """The mock's 503 for what something else wrote where the mock keeps its ledger: a
    reset (or putting it right) ends it, rather than a 500 for every request reading it."""
    log.warning("the Redis store at %s holds what the mock did not write: %s", where, problem)
    return StoreUnavailable(f"the mock's Redis store at {where} holds what the mock did not "
                            f"write: {problem}")


#: :data:`lua.FINISH`'s first arguments when it takes no credits
NO_CHARGE = ("", "", "", "", "", "", "", "")
#: what a log value kept as bytes starts with: a byte below any JSON value's first
BYTES = tuple(bytes([b]) for b in range(1, 9))


_SECRET_IN_URL = re.compile(r"(?<=://)([^/@?#]*?:)[^/@?#]*(?=@)|(?<=[?&]password=)[^&#]*")


def masked(url: str) -> str:
    """``url`` with its password (``redis://:PASSWORD@host``, ``?password=``) as ``***``, as
    it goes into every message: a 503 goes to whichever client asked, and logs get shared."""
    return _SECRET_IN_URL.sub(lambda found: f"{found.group(1) or ''}***", url)


def check_database(url: str) -> None:
    """A ``redis://`` URL's database, its path, is a whole number (or absent: 0); redis-py
    would take any other (``/abc``, ``/0/1``) as no database given, and use 0."""
    if not url.startswith(("redis://", "rediss://")):
        return  # unix://: the path is the socket's, the database an option (?db=)
    path = urlsplit(url).path
    database = path[1:]
    if path not in ("", "/") and not (database.isascii() and database.isdigit()):
        raise ValueError(f"its database {database!r} is not a whole number")


def blocking_deadline(skew: float) -> int:
    """The deadline of a step sent now by the blocking client (see redis_async.DEADLINE),
    which gives up on it after :data:`TIMEOUT` seconds; ``skew``: :func:`measured_skew`."""
    return deadline_ms(TIMEOUT, skew)


def measured_skew(client: redis.Redis, known: float) -> float:
    """How far Redis's clock is ahead of this process's (redis_async.skew), read through
    the blocking ``client``; ``known`` (as measured before) if it cannot be read now."""
    sent = wall()
    try:
        reply = client.execute_command("TIME")
    except (redis.RedisError, OSError):
        return known
    return skew(reply, sent, wall())


#: how the mock writes the clock's numbers (repr of a float, or HINCRBYFLOAT's result);
#: lua.CLOCK_FUNCTION's pattern, so both refuse the same text
_DECIMAL = re.compile(rb"-?[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?")


def _decimal(raw: bytes | None) -> float:
    if raw is None or not _DECIMAL.fullmatch(raw):
        raise ValueError(raw)
    return float(raw)


def _decimal_or_blank(raw: bytes | None) -> float | None:
    return _decimal(raw) if raw else None


def read_clock(fields: Sequence[bytes | None], wall: float) -> dict[str, Any] | None:
    """The clock's state from its fields (frozen_at, offset, origin, anchor) as Redis holds
    them, at this process's ``wall`` time; None if they are not a state the mock wrote
    showing an instant the clock may show (as lua.CLOCK_FUNCTION decides)."""
    try:
        frozen_at, origin = _decimal_or_blank(fields[0]), _decimal_or_blank(fields[2])
        offset, anchor = _decimal(fields[1]), _decimal(fields[3])
    except ValueError:
        return None
    return stored_clock(frozen_at, offset, origin, anchor, wall)


def is_late(reply: Any) -> bool:
    """Whether an error reply is that of a step run after its deadline (nothing written)."""
    return str(reply).startswith(lua.LATE)


def too_late(where: str, reply: Any) -> StoreUnavailable:
    return StoreUnavailable(f"the mock's Redis store at {where} did not answer in time: "
                            f"{reply}")


def before_write() -> None:
    """What a request rendering does before its first write (store.BEFORE_FIRST_WRITE):
    count the rate window it left to its last step, so one over its limit writes
    nothing, as when refused before rendering."""
    first = BEFORE_FIRST_WRITE.get()
    if first is not None:
        first()


#: the order of a counted record's fields after its counted one, as the memory and SQLite
#: stores keep them (the order the record was made in): Lua's cjson writes a table's
#: fields in no set order, so a record a script rewrote is put back in this one
ORDER = ("status", "rate_limit")


def with_count(record: dict[str, Any], field: str, count: Any) -> dict[str, Any]:
    """A record as stored, with its counted field's value from its counter (one an older
    mock stored with the field inside: that value), its fields in the order the other
    stores keep: the counted field, then :data:`ORDER`, then the rest as stored."""
    if not isinstance(record, dict):  # valid JSON of another shape: an outside write
        raise ValueError(f"{record!r:.60} is not an object")
    if count is None and field not in record:
        return record
    # a counter as the mock writes it: digits alone, as the scripts read it (lua.counted);
    # int() would take '+5', ' 5' or '1_0', which the scripts refuse
    if isinstance(count, bytes | str) and not (count.isascii() and count.isdigit()):
        raise ValueError(f"the {field} {count!r:.40} is not a whole number")
    value = record[field] if count is None else int(count)
    # the mock takes credits only while they last, and sets none below 0 or above MAX_COUNT
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"the {field} {value} is not from 0 to {MAX_COUNT}")
    ordered = {field: value}
    for name in ORDER:
        if name in record:
            ordered[name] = record[name]
    for name, value in record.items():
        if name not in ordered:
            ordered[name] = value
    return ordered


def checked(table: str, value: Any) -> Any:
    """``value`` read from ``table``; ValueError (the mock's 503, see :func:`guarded`) if it
    is not a record the mock writes there (store.shape_problem)."""
    problem = shape_problem(table, value)
    if problem is not None:
        raise ValueError(problem)
    return value


def window_args(window: Window | None) -> tuple[Any, ...]:
    """:data:`lua.FINISH`'s arguments for a window to count (or none)."""
    return () if window is None else ("w", window.name, window.number, window.limit)


def forgotten(reply: Any) -> bool:
    return isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT")


def logged(value: Any) -> bytes:
    """A log value as Redis keeps it: bytes as they are (they start with one of
    :data:`BYTES`), anything else as JSON."""
    if isinstance(value, bytes):
        if value[:1] not in BYTES:
            raise ValueError("a log value kept as bytes must start with a byte from 1 to 8")
        return value
    return orjson.dumps(value)


class Batch:
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
        self.pushed.append((name, logged(value)))
        self.ops += ("p", name, max(limit, 1) - 1)

    def tally(self, table: str, names: Sequence[str], first: FirstId) -> None:
        if names:
            self.ops += ("t", table, first() if callable(first) else first, len(names), *names)
