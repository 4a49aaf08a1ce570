"""``mockserver serve --workers N``: N processes answering one port, sharing nothing but
the store (the world is a pure function of the seed, the handle and the clock; the ledger
is in SQLite or Redis).

The parent binds the port, listens on it and checks the settings and the store once, then
starts the workers (spawned, so each builds its own app: seconds) and keeps N of them: a
worker that dies is replaced. A connection made meanwhile waits in the port's backlog, and
the banner is printed once the first worker serves, as a single ``mockserver serve``
prints it, so a script that waits for the banner is answered at once. SIGTERM or SIGINT
stops them all, each as a single ``mockserver serve`` stops. A worker that cannot start
(a Redis gone since the parent's check) prints the one line a single ``mockserver serve``
prints and exits 2; if :data:`START_TRIES` workers per slot in a row die before any has
served, the parent says so on stderr and stops (:class:`NoWorkerServed`), rather than
start them again for ever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

from mockserver.server import STOP_GRACE_SECONDS

log = logging.getLogger("mockserver")
RESTART_PAUSE_SECONDS = 1.0  # between replacing workers, so a failing start cannot spin
#: workers per slot that may die in a row, before any has served, before the parent stops
START_TRIES = 3
#: a worker's exit code when its start failed (and it printed why), as the CLI's
START_FAILED = 2


class NoWorkerServed(Exception):
    """Every worker started died before any served (:data:`START_TRIES` per slot in a row):
    the message is the parent's one line, naming the last one's exit code."""


def serve_worker(flags: dict[str, Any], sock: socket.socket, serving: Event) -> None:
    """One worker: the app from the same flags as the command, on the parent's socket;
    ``serving`` is set once it accepts connections."""
    from mockserver.app import START_ERRORS, create_app, start_error
    from mockserver.server import MockUvicorn, tune_gc_for_serving, uvicorn_config
    from mockserver.settings import Settings

    settings = Settings.load(flags)
    logging.basicConfig(level=settings.log_level.upper())
    try:
        app = create_app(settings)
    except START_ERRORS as exc:  # the parent's check passed: the store has gone since
        # one write: the workers dying at once share the parent's stderr
        sys.stderr.write(f"mockserver: worker {os.getpid()}: {start_error(settings, exc)}\n")
        sys.stderr.flush()
        sys.exit(START_FAILED)
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
    ``announce`` once the first of them accepts connections. :class:`NoWorkerServed` if
    ``START_TRIES * count`` workers in a row die before any serves."""
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
    died = 0  # workers in a row that died before any served
    try:
        while not stopping:
            for number, worker in enumerate(workers):
                if not worker.is_alive() and not stopping:
                    if not announced and not serving.is_set():
                        died += 1
                        if died >= START_TRIES * count:
                            raise NoWorkerServed(
                                f"--workers: no worker started serving: {died} in a row "
                                f"exited before they served, the last with exit code "
                                f"{worker.exitcode}; stopping")
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
