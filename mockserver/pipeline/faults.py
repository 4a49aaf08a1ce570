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


async def wait_for_disconnect(receive: Receive, timeout: float) -> None:
    """Hold the request until the client gives up (or ``timeout`` passes)."""
    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(drain(), timeout)


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
