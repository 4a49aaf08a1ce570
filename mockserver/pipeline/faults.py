"""Transport faults acted out on the real connection: hang, drop, broken 200 bodies."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import Receive, Scope, Send

#: fault -> what a client sees, for the catalogue
DESCRIPTIONS = {
    "hang": "no answer until the client gives up (after hang_seconds the server closes the "
            "connection)",
    "drop_connection": "the socket closes with no response: the client sees a connection error",
    "truncated_body": "a 200 whose JSON body stops halfway (not parseable)",
    "non_json_body": "a 200 with an HTML body where JSON was expected",
    "empty_body": "a 200 with an empty body",
}
TRANSPORT_FAULTS = tuple(DESCRIPTIONS)
# Faults that answer with a broken success body rather than withholding the answer.
BODY_FAULTS = ("truncated_body", "non_json_body", "empty_body")
TRANSPORT_EXTENSION = "mockserver.transport"
NON_JSON = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


class StopSignal:
    """Set when the server begins to stop, so hangs and latency sleeps end at once rather
    than holding the process until its supervisor kills it."""

    def __init__(self) -> None:
        self.stopping = False
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Event:
        # an Event belongs to one event loop; an app may be served by several in turn (tests)
        loop = asyncio.get_running_loop()
        if self._event is None or self._loop is not loop:
            self._event, self._loop = asyncio.Event(), loop
            if self.stopping:
                self._event.set()
        return self._event

    def resume(self) -> None:
        """Serving (again): pauses and hangs last their full time."""
        self.stopping = False
        self._event = None

    def stop(self) -> None:
        """Wake every pause and hang; call from the loop serving the app."""
        self.stopping = True
        if self._event is not None:
            self._event.set()

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the server stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._current().wait(), seconds)

    async def wait_for_disconnect(self, receive: Receive, timeout: float) -> None:
        """Hold the request until the client gives up, ``timeout`` passes or the server stops."""
        await wait_for_disconnect(receive, timeout, self._current())


async def wait_for_disconnect(receive: Receive, timeout: float,
                              stop: asyncio.Event | None = None) -> None:
    """Hold the request until the client gives up (or ``timeout`` passes, or ``stop`` is set)."""
    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
    waits = [asyncio.ensure_future(drain())]
    if stop is not None:
        waits.append(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def drop(scope: Scope, receive: Receive, send: Send) -> None:
    """Close the socket with no response at all.

    Under ``mockserver serve`` and the pytest plugin the server exposes its
    transport to the app; elsewhere the best an ASGI app can do is start a
    response and abort it, which clients see as a broken connection too.
    """
    transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
    if transport is not None:
        transport.close()
        await wait_for_disconnect(receive, 5)
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ConnectionAbortedError("drop_connection scenario")


def broken_body(fault: str, body: bytes) -> tuple[bytes, bytes]:
    """(content type, body) of a 200 that a JSON client cannot use."""
    if fault == "truncated_body":
        return b"application/json", body[: max(1, len(body) // 2)]
    if fault == "non_json_body":
        return b"text/html; charset=utf-8", NON_JSON
    return b"application/json", b""
