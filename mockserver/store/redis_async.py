"""Redis calls from the event loop, pipelined across requests.

A loopback round trip costs this process far more than the script it runs (two system
calls and a wake-up on each side), so requests in flight share them: every call made while
the loop runs one step is queued, the queue goes out in one write when the step ends, and
the replies, which Redis sends in the order it got the calls, are read back in that order.
32 connections' ledger steps then cost a few round trips between them, not one each, and
no request holds the loop while Redis answers. Each script stays atomic on its own; only
the trips are shared.

One connection per event loop (an app may be served by several loops in turn, as tests
do); a lost connection fails every call waiting on it, and the next call connects again.
A Redis that answers nothing for ``socket_timeout`` seconds (2 by default) is lost too:
one timer per connection watches the oldest call waiting, not one per call.

What a lost connection sent may still run when Redis wakes (a stall, not a crash), after
the mock has answered the request 503. So a ledger step carries :data:`DEADLINE`: the
wall-clock instant, in milliseconds, by which it must run, which its script checks
against Redis's own clock (see redis_scripts._LATE) and, past it, refuses, changing
nothing. It is filled in as the call is sent: :data:`LATE_MARGIN` before the moment this
process may give up on the call, which is when the oldest call waiting on the connection
times out, as a timeout fails every call waiting behind it; on Redis's clock, as far as
this process's is from it (measured as each connection is made, see :func:`skew`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import hiredis

from mockserver.store import StoreUnavailable

FAILURES = (OSError, hiredis.ProtocolError)
#: how long before the client gives up on a step that step must have run by, so that its
#: reply, made just before, has the time to reach the event loop, and an error in the
#: measured distance between the two clocks (half a round trip; nil on one machine) or
#: their drift since costs nothing
LATE_MARGIN = 0.5


class _Deadline:
    def __repr__(self) -> str:
        return "DEADLINE"


#: in a command's arguments: the step's deadline (see the module's doc), set as it is sent
DEADLINE: Any = _Deadline()


def deadline_ms(seconds_left: float, skew: float = 0.0) -> int:
    """The instant in milliseconds on Redis's clock (what a script reads from ``TIME``)
    :data:`LATE_MARGIN` before the client gives up, ``seconds_left`` from now; ``skew``:
    how far Redis's clock is ahead of this process's."""
    return int((time.time() + skew + seconds_left - LATE_MARGIN) * 1000)


def skew(reply: Sequence[Any], sent: float, received: float) -> float:
    """How far Redis's clock is ahead of this process's, from its ``TIME`` ``reply`` to a
    call sent at ``sent`` and answered at ``received`` (this process's ``time.time()``)."""
    seconds, micros = reply
    return int(seconds) + int(micros) / 1e6 - (sent + received) / 2


def _no_password_needed(reply: hiredis.ReplyError) -> bool:
    """Redis's answer to AUTH when it asks for no password: redis-py's client, which opens
    the store, goes on without one, so this connection does too (a URL with a password was
    passed at start and then refused every request)."""
    text = str(reply)
    return "called without any password configured" in text or "no password is set" in text


def wall() -> float:
    """This process's clock, as :func:`deadline_ms` reads it."""
    return time.time()


class _Connection(asyncio.Protocol):
    """The loop hands it what Redis sends as it comes (no reader task between): each
    reply completes the call waiting longest."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self.transport: Any = None  # asyncio's or uvloop's (not an asyncio.Transport)
        # each call waiting for its reply, in the order sent, with when it gives up
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.queued: list[bytes] = []
        self.lost: Exception | None = None
        self.skew = 0.0  # how far Redis's clock is ahead of this process's (see skew)
        self._watch: asyncio.TimerHandle | None = None
        self._parser = hiredis.Reader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def send(self, command: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = self.loop
        now = loop.time()
        deadline = now + self.timeout
        if DEADLINE in command:  # given up with the oldest call waiting, if not before
            gives_up = self.waiting[0][1] if self.waiting else deadline
            ms = deadline_ms(gives_up - now, self.skew)
            command = tuple(ms if part is DEADLINE else part for part in command)
        if not self.queued:
            loop.call_soon(self._flush)  # after every request of this step has queued
        self.queued.append(hiredis.pack_command(command))
        reply: asyncio.Future[Any] = loop.create_future()
        self.waiting.append((reply, deadline))
        if self._watch is None:
            self._watch = loop.call_at(deadline, self._check)
        return reply

    def _check(self) -> None:
        """The oldest call waiting has had its time: the connection is lost; or it has
        not yet: look again when it will have."""
        self._watch = None
        if not self.waiting or self.lost is not None:
            return
        deadline = self.waiting[0][1]
        if deadline <= self.loop.time():
            self.close(ConnectionError(f"no answer in {self.timeout:g} s"))
        else:
            self._watch = self.loop.call_at(deadline, self._check)

    def _flush(self) -> None:
        if self.lost is None and self.transport is not None:
            self.transport.write(b"".join(self.queued))
        self.queued.clear()

    def data_received(self, data: bytes) -> None:
        parser, waiting = self._parser, self.waiting
        try:
            parser.feed(data)
            while (reply := parser.gets()) is not False:
                future = waiting.popleft()[0]
                if not future.done():
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:  # IndexError: a reply unasked for
            self.close(hiredis.ProtocolError(str(exc)))

    def eof_received(self) -> bool:
        self.close(ConnectionError("Redis closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(exc or ConnectionError("Redis closed the connection"))

    def close(self, reason: Exception) -> None:
        if self.lost is None:
            self.lost = reason
        while self.waiting:
            waiting = self.waiting.popleft()[0]
            if not waiting.done():
                waiting.set_exception(reason)
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.transport is not None:
            with contextlib.suppress(Exception):  # its loop may be closed already
                self.transport.close()


class PipelinedRedis:
    """``call`` a command from the event loop; the reply as redis-py gives it unparsed
    (bytes, int, list, None), a ``hiredis.ReplyError`` for an error reply."""

    def __init__(self, settings: Mapping[str, Any], where: str, scripts: Sequence[str] = ()
                 ) -> None:
        self._settings = settings  # redis-py's connection_kwargs: host, port or path, db...
        self._where = where
        # loaded as each connection is made: a Redis restarted has them again before any
        # EVALSHA (a step sent in a MULTI cannot fall back to EVAL cheaply)
        self._scripts = scripts
        self._timeout = settings.get("socket_timeout") or 2
        self._connections: dict[asyncio.AbstractEventLoop, _Connection] = {}
        self._connecting: dict[asyncio.AbstractEventLoop, asyncio.Future[_Connection]] = {}

    async def call(self, command: tuple[Any, ...]) -> Any:
        """One command: its reply."""
        connection = self._connections.get(asyncio.get_running_loop())
        if connection is None or connection.lost is not None:
            connection = await self._connection()
        try:
            return await connection.send(command)
        except FAILURES as exc:
            raise self._unavailable(exc) from None

    async def calls(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Several commands, sent together, in order: their replies."""
        connection = await self._connection()
        replies = [connection.send(command) for command in commands]
        try:
            return [await reply for reply in replies]
        except FAILURES as exc:
            for reply in replies:  # failed together: each failure is seen here
                if reply.done() and not reply.cancelled():
                    reply.exception()
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"the mock's Redis store at {self._where} is unreachable: {exc}")

    async def _connection(self) -> _Connection:
        """This loop's connection, made once however many requests ask at the same time."""
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is not None and connection.lost is None:
            return connection
        made = self._connecting.get(loop)
        if made is not None:
            return await asyncio.shield(made)  # a request given up leaves it to the others
        made = self._connecting[loop] = loop.create_future()
        try:
            connection = await self._connect(loop)
        except BaseException as exc:
            made.set_exception(exc if isinstance(exc, StoreUnavailable) else
                               self._unavailable(ConnectionError("connecting was cancelled")))
            made.exception()  # seen here: the requests waiting on it see it too
            raise
        finally:
            del self._connecting[loop]
        made.set_result(connection)
        return connection

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        for old in [old for old in self._connections if old.is_closed()]:  # loops gone
            self._connections.pop(old).close(ConnectionError("its event loop is closed"))
        settings = self._settings
        try:
            async with asyncio.timeout(settings.get("socket_connect_timeout") or 2):
                if settings.get("path"):
                    _, connection = await loop.create_unix_connection(
                        lambda: _Connection(self._timeout), settings["path"])
                else:
                    _, connection = await loop.create_connection(
                        lambda: _Connection(self._timeout), settings.get("host", "localhost"),
                        settings.get("port", 6379))
        except (OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None
        self._connections[loop] = connection
        greeting = []
        if settings.get("password"):
            login = (settings["username"],) if settings.get("username") else ()
            greeting.append(connection.send(("AUTH", *login, settings["password"])))
        if settings.get("db"):
            greeting.append(connection.send(("SELECT", settings["db"])))
        greeting += [connection.send(("SCRIPT", "LOAD", script)) for script in self._scripts]
        sent = wall()
        greeting.append(connection.send(("TIME",)))
        try:
            replies = await asyncio.gather(*greeting)
        except FAILURES as exc:
            raise self._unavailable(exc) from None
        for reply in replies:
            if isinstance(reply, hiredis.ReplyError) and not _no_password_needed(reply):
                connection.close(ConnectionError(str(reply)))
                raise self._unavailable(ConnectionError(str(reply)))
        connection.skew = skew(replies[-1], sent, wall())
        return connection

    def resync(self) -> None:
        """Measure again how far Redis's clock is from this process's, for the calls sent
        after the answer: a step refused as late while this process still waited for it
        says that they moved apart (or that Redis stalled just long enough)."""
        connection = self._connections.get(asyncio.get_running_loop())
        if connection is None or connection.lost is not None:
            return  # the next connection measures it
        sent = wall()

        def measured(reply: asyncio.Future[Any]) -> None:
            if not reply.cancelled() and reply.exception() is None and \
                    not isinstance(reply.result(), hiredis.ReplyError):
                connection.skew = skew(reply.result(), sent, wall())

        connection.send(("TIME",)).add_done_callback(measured)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close(ConnectionError("the store is closed"))
        self._connections.clear()
