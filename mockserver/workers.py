"""``mockserver serve --workers N``: N processes answering one port, sharing nothing but
the store (the world is a pure function of the seed, the handle and the clock; the ledger
is in SQLite or Redis).

The parent binds the port, listens on it and checks the settings and the store once, then
starts the workers (spawned, so each builds its own app: seconds) and keeps N of them: a
worker that dies is replaced. A connection made meanwhile waits in the port's backlog, and
the banner is printed once the first worker serves, as a single ``mockserver serve``
prints it, so a script that waits for the banner is answered at once. SIGTERM or SIGINT
stops them all, each as a single ``mockserver serve`` stops.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from mockserver.server import STOP_GRACE_SECONDS

log = logging.getLogger("mockserver")
RESTART_PAUSE_SECONDS = 1.0  # between replacing workers, so a failing start cannot spin


def serve_worker(flags: dict[str, Any], sock: socket.socket, serving: Event) -> None:
    """One worker: the app from the same flags as the command, on the parent's socket;
    ``serving`` is set once it accepts connections."""
    from mockserver.app import create_app
    from mockserver.server import MockUvicorn, tune_gc_for_serving, uvicorn_config
    from mockserver.settings import Settings

    settings = Settings.load(flags)
    logging.basicConfig(level=settings.log_level.upper())
    app = create_app(settings)
    config = uvicorn_config(app, settings.host, settings.port, log_level=settings.log_level,
                            access_log=settings.access_log)
    if settings.access_log:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    tune_gc_for_serving()
    MockUvicorn(config, app.state.mock, close_store=True,
                announce=lambda _port: serving.set()).run(sockets=[sock])


def run_workers(flags: dict[str, Any], sock: socket.socket, count: int,
                announce: Callable[[], None] = lambda: None) -> None:
    """Serve ``sock`` from ``count`` worker processes until SIGTERM or SIGINT, calling
    ``announce`` once the first of them accepts connections."""
    context = multiprocessing.get_context("spawn")
    serving = context.Event()
    announced = False

    def start() -> BaseProcess:
        process = context.Process(target=serve_worker, args=(flags, sock, serving),
                                  name="mockserver-worker")
        process.start()
        return process

    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    workers = [start() for _ in range(count)]
    try:
        while not stopping:
            for number, worker in enumerate(workers):
                if not worker.is_alive() and not stopping:
                    log.warning("worker %s exited (%s); starting another", worker.pid,
                                worker.exitcode)
                    time.sleep(RESTART_PAUSE_SECONDS)
                    workers[number] = start()
            if announced:
                time.sleep(0.1)
            elif serving.wait(0.1):  # woken as soon as a worker serves
                announced = True
                announce()
    finally:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.join(STOP_GRACE_SECONDS + 5)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
