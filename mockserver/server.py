"""Running the app under uvicorn: from the CLI, or in a thread for tests and the pytest plugin."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.pipeline.faults import TRANSPORT_EXTENSION


class TransportExposingProtocol(HttpToolsProtocol):
    """uvicorn's fastest HTTP protocol, also handing the app its socket transport so the
    ``drop_connection`` scenario can close it with no response at all."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT_EXTENSION: self.transport}  # type: ignore[typeddict-unknown-key]


def uvicorn_config(app: Starlette, host: str, port: int, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, http=TransportExposingProtocol, loop="auto",
                          lifespan="off", **extra)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` before uvicorn starts, so a busy port or a bad host is one clear
    error from the CLI (OSError) rather than a log line from inside the server."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls ``announce(port)`` once it accepts connections, so what
    the CLI prints (a banner with a curl line to try) is true when it is printed."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[int], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce(self.servers[0].sockets[0].getsockname()[1])


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
        self.server = uvicorn.Server(config)
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
