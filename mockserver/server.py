"""Running the app under uvicorn: from the CLI, or in a thread for tests and the pytest plugin.

The connection-level limits live here, in the HTTP protocol, because they must act before
a request reaches the app: a head too large (414 / 431) or too slow (408), too many open
connections (503). A stop (SIGTERM, SIGINT, a test's teardown) wakes every hang and
latency sleep first, so the server exits within seconds whatever is in flight.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from mockserver.pipeline.faults import TRANSPORT_EXTENSION

if TYPE_CHECKING:
    from mockserver.app import Mock
    from mockserver.settings import Settings

#: seconds uvicorn waits for in-flight requests on a stop before cancelling them
STOP_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    max_body_bytes: int
    max_connections: int
    header_timeout: float
    body_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(settings.max_header_bytes, settings.max_body_bytes, settings.max_connections,
                   settings.header_timeout, settings.body_timeout)


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""


class MockProtocol(HttpToolsProtocol):
    """uvicorn's fastest HTTP protocol, with the mock's connection limits, handing the app its
    socket transport so the ``drop_connection`` scenario can close it with no response."""

    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._head_bytes = 0  # request line and headers parsed so far
        # bytes received while a head is incomplete: the parser holds a header until it ends,
        # so this bounds what one endless header can make it hold
        self._unparsed = 0
        # a chunk may end one request and start the next, so allow a whole read on top
        self._unparsed_limit = limits.max_header_bytes + limits.max_body_bytes + (256 << 10)
        self._in_head = True
        # when the current phase (head, body) must be complete; one timer per connection
        # checks it, re-armed only when it fires early, so a request costs no timer of its own
        self._due: float | None = None
        # what is late when _due passes, and the time it had: the message is written only
        # for a refusal, not on every request
        self._late: tuple[str, float] = ("", 0.0)
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._extensions = {TRANSPORT_EXTENSION: transport}  # every request's, read only
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, f"more than {self.limits.max_connections} connections are open "
                              "(--max-connections)")
            return
        self._arm(self.limits.header_timeout, "the request line and headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:  # still no end of headers after this chunk
            self._unparsed += len(data)
            if self._unparsed > self._unparsed_limit:
                self._refuse(431, self._too_long("the request headers are"))

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refusal already answered, and stopped the parser
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = self._extensions  # type: ignore[typeddict-unknown-key]
        self._head_bytes = self._unparsed = 0
        self._in_head = True
        if self._due is None:
            self._arm(self.limits.header_timeout, "the request line and headers")

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > self.limits.max_header_bytes:
            self._over(414, "the URL is")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # counted here, not in a helper: a request has several headers, each a call
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > self.limits.max_header_bytes:
            self._over(431, "the request headers are")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._unparsed = False, 0
        self._arm(self.limits.body_timeout, "the request body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # limits ------------------------------------------------------------------------

    def _too_long(self, what: str) -> str:
        return f"{what} over the limit of {self.limits.max_header_bytes} bytes " \
               "(--max-header-bytes)"

    def _over(self, status: int, what: str) -> None:
        self._refuse(status, self._too_long(what))
        raise _Refused  # the parser stops; send_400_response above stays quiet

    def _arm(self, seconds: float, what: str) -> None:
        self._due = self.loop.time() + seconds
        self._late = (what, seconds)
        if self._timer is not None and self._timer.when() > self._due:
            self._timer.cancel()  # a sooner deadline than the one it waits for
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(self._due, self._check_due)

    def _disarm(self) -> None:
        self._due = None

    def _check_due(self) -> None:
        self._timer = None
        if self._due is None:
            return
        if self.loop.time() >= self._due:
            what, seconds = self._late
            self._refuse(408, f"{what} did not arrive within {seconds:g} s")
        else:
            self._timer = self.loop.call_at(self._due, self._check_due)

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a JSON message (unless an answer is being written) and close."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._disarm()
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            body = orjson.dumps({"error": message})
            self.transport.write(b"".join((
                STATUS_LINE[status], b"content-type: application/json\r\n",
                b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body)))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() sees the client gone
            cycle.message_event.set()
        self.transport.close()


class MockUvicorn(uvicorn.Server):
    """uvicorn's server, ending the mock's hangs and sleeps as soon as it starts to stop, and
    calling ``announce(port)`` once it accepts connections, so what the CLI prints (a banner
    with a curl line to try) is true when it is printed."""

    def __init__(self, config: uvicorn.Config, mock: Mock, *, close_store: bool = False,
                 announce: Callable[[int], None] | None = None) -> None:
        super().__init__(config)
        self.mock = mock
        self.close_store = close_store
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.mock.stop_signal.resume()
        await super().startup(sockets)
        if self.started and self._announce is not None:
            self._announce(self.servers[0].sockets[0].getsockname()[1])

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.mock.stop_signal.stop()
        await super().shutdown(sockets)
        if self.close_store:  # before uvicorn re-raises the signal that stopped it
            self.mock.close()


#: allocations between young-generation collections in a serving process (CPython: 700)
SERVING_GC_THRESHOLD = (100_000, 20, 100)


def tune_gc_for_serving() -> None:
    """For a process that only serves (``mockserver serve`` and its workers, not the pytest
    plugin's thread, which shares its process with the user's tests). A never-seen page is
    thousands of short-lived dicts and tuples, and the default threshold ran a collection
    several times a page, each walking the world's caches: everything made at start (pools,
    schemas) is frozen out of collections, and young objects are collected less often.
    A walk of huge_account took 15% less time this way (six interleaved rounds). At 100,000
    young objects (not 20,000) a never-seen page costs 9% fewer instructions (callgrind:
    12.24M -> 11.12M, the same as with no collector at all); a page leaves no cycles behind,
    so the young generation holds little between collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLD)


def mock_of(app: Any) -> Mock:
    """The Mock an app serves, also through ASGI wrappers that keep it as ``.app``."""
    while not hasattr(app, "state"):
        app = app.app
    return app.state.mock


def uvicorn_config(app: Starlette, host: str, port: int, **extra: Any) -> uvicorn.Config:
    limits = ConnectionLimits.of(mock_of(app).settings)
    protocol = functools.partial(MockProtocol, limits=limits)
    return uvicorn.Config(app, host=host, port=port, http=protocol, loop="auto",  # type: ignore[arg-type]
                          lifespan="off", timeout_graceful_shutdown=STOP_GRACE_SECONDS, **extra)


#: connections the kernel queues before a process accepts them (uvicorn's default)
LISTEN_BACKLOG = 2048


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` and listen before uvicorn starts, so a busy port or a bad host is
    one clear error from the CLI (OSError) rather than a log line from inside the server,
    and a connection made while the server (or ``--workers``' spawned processes) is still
    starting waits in the backlog to be answered rather than being refused."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerThread:
    """A real uvicorn server on a loopback port, in a background thread."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn_config(app, self.host, self.port, log_level="warning", access_log=False)
        self.server = MockUvicorn(config, mock_of(app))
        self._thread = threading.Thread(target=self._run, daemon=True, name="mockserver")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"mockserver did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
