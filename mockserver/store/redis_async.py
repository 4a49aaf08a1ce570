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
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Mapping
from typing import Any

import hiredis

from mockserver.store import StoreUnavailable

READ_BYTES = 1 << 16


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.queued: list[bytes] = []
        self.lost: Exception | None = None
        self._parser = hiredis.Reader()
        self._reading = asyncio.get_running_loop().create_task(self._read(reader))

    def send(self, command: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if not self.queued:
            loop.call_soon(self._flush)  # after every request of this step has queued
        self.queued.append(hiredis.pack_command(command))
        reply: asyncio.Future[Any] = loop.create_future()
        self.waiting.append(reply)
        return reply

    def _flush(self) -> None:
        if self.lost is None:
            self.writer.write(b"".join(self.queued))
        self.queued.clear()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(READ_BYTES)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                self._parser.feed(data)
                while (reply := self._parser.gets()) is not False:
                    waiting = self.waiting.popleft()
                    if not waiting.done():
                        waiting.set_result(reply)
        except (OSError, asyncio.IncompleteReadError, hiredis.ProtocolError) as exc:
            self.close(exc)

    def close(self, reason: Exception) -> None:
        self.lost = reason
        while self.waiting:
            waiting = self.waiting.popleft()
            if not waiting.done():
                waiting.set_exception(reason)
        with contextlib.suppress(Exception):  # its loop may be closed already
            self._reading.cancel()
            self.writer.close()


class PipelinedRedis:
    """``call`` a command from the event loop; the reply as redis-py gives it unparsed
    (bytes, int, list, None), a ``hiredis.ReplyError`` for an error reply."""

    def __init__(self, settings: Mapping[str, Any], where: str) -> None:
        self._settings = settings  # redis-py's connection_kwargs: host, port or path, db...
        self._where = where
        self._connections: dict[asyncio.AbstractEventLoop, _Connection] = {}

    async def calls(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Several commands, sent together, in order: their replies."""
        connection = await self._connection()
        replies = [connection.send(command) for command in commands]
        seconds = self._settings.get("socket_timeout") or 2
        try:
            async with asyncio.timeout(seconds):
                return [await reply for reply in replies]
        except TimeoutError:  # a stalled Redis: the next call connects afresh
            stalled = ConnectionError(f"no answer in {seconds} s")
            connection.close(stalled)
            raise self._unavailable(stalled) from None
        except (OSError, asyncio.IncompleteReadError, hiredis.ProtocolError) as exc:
            raise self._unavailable(exc) from None
        finally:
            for reply in replies:  # failed together: each failure is seen here
                if reply.done() and not reply.cancelled():
                    reply.exception()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"the mock's Redis store at {self._where} is unreachable: {exc}")

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is not None and connection.lost is None:
            return connection
        for old in [old for old in self._connections if old.is_closed()]:  # loops gone
            self._connections.pop(old).close(ConnectionError("its event loop is closed"))
        settings = self._settings
        try:
            async with asyncio.timeout(settings.get("socket_connect_timeout") or 2):
                if settings.get("path"):
                    reader, writer = await asyncio.open_unix_connection(settings["path"])
                else:
                    reader, writer = await asyncio.open_connection(
                        settings.get("host", "localhost"), settings.get("port", 6379))
        except (OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None
        connection = self._connections[loop] = _Connection(reader, writer)
        greeting = []
        if settings.get("password"):
            login = (settings["username"],) if settings.get("username") else ()
            greeting.append(connection.send(("AUTH", *login, settings["password"])))
        if settings.get("db"):
            greeting.append(connection.send(("SELECT", settings["db"])))
        for reply in await asyncio.gather(*greeting):
            if isinstance(reply, hiredis.ReplyError):
                connection.close(ConnectionError(str(reply)))
                raise self._unavailable(ConnectionError(str(reply)))
        return connection

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close(ConnectionError("the store is closed"))
        self._connections.clear()
