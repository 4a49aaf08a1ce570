"""A real ``redis-server`` on a free loopback port, in a temporary folder, for the tests of
the shared stores. CI installs Debian's ``redis-server`` (see .ci/run); a machine without
it fails these tests rather than skipping them, so a green run always means they ran."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from mockserver.server import free_port


class RedisServer:
    def __init__(self, folder: Path, port: int = 0, password: str | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.password = password  # what it asks clients for (requirepass), if anything
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        login = f":{self.password}@" if self.password else ""
        return f"redis://{login}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder),
             *(("--requirepass", self.password) if self.password else ())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, password=self.password, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}"
                                       ) from None
                time.sleep(0.02)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def flush(self) -> None:
        with redis.Redis(port=self.port, password=self.password) as client:
            client.flushdb()

    def dump(self) -> bytes:
        """Every key and value Redis holds, as bytes, to look for what must not be there."""
        parts = []
        with redis.Redis(port=self.port, password=self.password) as client:
            for name in client.keys("*"):
                kind = client.type(name)
                parts.append(name)
                if kind == b"hash":
                    for field, value in client.hgetall(name).items():
                        parts += [field, value]
                elif kind == b"list":
                    parts += client.lrange(name, 0, -1)
                elif kind == b"string":
                    parts.append(client.get(name))
        return b"\n".join(parts)
