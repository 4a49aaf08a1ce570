"""What sharing the ledger costs: Redis against the memory store, and ``--workers 2``
against ``--workers 1`` on Redis.

    .venv/bin/python bench/replicas.py                 # 10 s per measurement, ~2 minutes
    .venv/bin/python bench/replicas.py --duration 3    # quicker, rougher

Starts a redis-server on a free loopback port (in a temporary folder) and
``mockserver serve`` as users do (``--credits 1000000000 --rate-limit 0 --now ...``),
then drives two routes with wrk (``-t1 -c32``, as bench/run.py does):

1. **p99 added by Redis**: one process on ``--store memory`` and one on ``--store
   redis://...``, the server pinned to CPU 0 and wrk to CPU 1, measured in turn, best of
   ``--rounds``: requests/s, p50, p99 and the difference of p99.
2. **workers on Redis**: ``--workers 1`` then ``--workers 2`` (not pinned: the workers
   need both cores, which they share with redis-server and wrk), each with its
   requests/s and its CPU per request: the CPU seconds of the mock's processes and of
   redis-server during the run (from /proc), over the requests served.

Prints a table and writes ``bench/results/replicas.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402
    CREDITS,
    HANDLE,
    KEYS,
    NOW,
    PROCS,
    ROOT,
    Opts,
    free_port,
    pin,
    wait_ready,
    wrk,
)

ROUTES = {  # name -> (method, path, body, headers)
    "dumpling profile": ("POST", "/api/v1/get-tiktok-profile",
                         json.dumps({"handle": HANDLE}, separators=(",", ":")),
                         dict([KEYS["dumpling"]])),
    "gateway user": ("GET", f"/dev/tiktok/user/{HANDLE}", None, dict([KEYS["gateway"]])),
}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def family(pid: int) -> list[int]:
    """A process and its children (uvicorn's workers), from /proc."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[1]) in found:
                found.append(int(entry.name))
    return found


def start_redis(work: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = PROCS.start([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(work)], work / "redis.log")
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True
                         ).stdout.strip() != b"PONG":
        if time.monotonic() > deadline:
            sys.exit("redis-server did not start")
        time.sleep(0.05)
    return proc, port


def start_mock(work: Path, name: str, cpu: str | None, *extra: str
               ) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [*pin(cpu), str(ROOT / ".venv" / "bin" / "mockserver"), "serve", "--port", str(port),
           "--credits", CREDITS, "--rate-limit", "0", "--now", NOW, *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    proc = PROCS.start(cmd, work / f"{name}.log", env=env)
    wait_ready(port, "/__mock/health", proc, timeout=60)
    if "--workers" in extra:
        time.sleep(3)  # the port answers once one worker is up: let the others start too
    return proc, port


def measure(opts: Opts, port: int, route: str, pids: list[int]) -> dict[str, Any]:
    method, path, body, headers = ROUTES[route]
    wrk(opts, port, method, path, body, headers, duration=opts.warmup)
    before = cpu_seconds(pids)
    result = wrk(opts, port, method, path, body, headers)
    result["cpu_s"] = cpu_seconds(pids) - before
    result["cpu_us_per_request"] = result["cpu_s"] / max(result["requests"], 1) * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    pinned = Opts(duration=args.duration, warmup=2, connections=32, threads=1,
                  server_cpu="0" if two_cpus else None, client_cpu="1" if two_cpus else None)
    free = Opts(duration=args.duration, warmup=2, connections=32, threads=1,
                server_cpu=None, client_cpu=None)
    report: dict[str, Any] = {"duration_s": args.duration, "rounds": args.rounds,
                              "latency": {}, "workers": {}}
    with tempfile.TemporaryDirectory(prefix="mock-replicas-") as folder:
        work = Path(folder)
        try:
            redis_proc, redis_port = start_redis(work)
            store = f"redis://127.0.0.1:{redis_port}/0"
            memory, memory_port = start_mock(work, "memory", pinned.server_cpu)
            shared, shared_port = start_mock(work, "redis", pinned.server_cpu, "--store", store)
            for route in ROUTES:
                rounds: dict[str, list[dict[str, Any]]] = {"memory": [], "redis": []}
                for _ in range(args.rounds):  # in turn, so a disturbance hits both
                    rounds["memory"].append(measure(pinned, memory_port, route,
                                                    [memory.pid]))
                    rounds["redis"].append(measure(pinned, shared_port, route,
                                                   [shared.pid, redis_proc.pid]))
                best = {store_name: min(rows, key=lambda r: r["p99_ms"])
                        for store_name, rows in rounds.items()}
                best["p99_added_ms"] = best["redis"]["p99_ms"] - best["memory"]["p99_ms"]
                report["latency"][route] = best
            PROCS.stop(memory)
            PROCS.stop(shared)
            for count in (1, 2):
                proc, port = start_mock(work, f"workers{count}", None, "--store", store,
                                        "--workers", str(count))
                pids = [*family(proc.pid), redis_proc.pid]
                report["workers"][count] = {
                    route: max((measure(free, port, route, pids) for _ in range(args.rounds)),
                               key=lambda r: r["rps"])
                    for route in ROUTES}
                PROCS.stop(proc)
        finally:
            PROCS.stop_all()
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "replicas.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    print("p99 added by Redis (one process, server on CPU 0, wrk -t1 -c32 on CPU 1)")
    print(f"{'route':<18}{'memory rps':>12}{'p99':>9}{'redis rps':>12}{'p99':>9}{'added':>9}")
    for route, row in report["latency"].items():
        memory, shared = row["memory"], row["redis"]
        print(f"{route:<18}{memory['rps']:>12,.0f}{memory['p99_ms']:>8.2f}m"
              f"{shared['rps']:>12,.0f}{shared['p99_ms']:>8.2f}m{row['p99_added_ms']:>8.2f}m")
    print("\n--workers on Redis (not pinned: workers, redis-server and wrk share 2 cores)")
    print(f"{'route':<18}{'workers':>8}{'rps':>10}{'p99':>9}{'CPU/request':>13}")
    for count, routes in report["workers"].items():
        for route, row in routes.items():
            print(f"{route:<18}{count:>8}{row['rps']:>10,.0f}{row['p99_ms']:>8.2f}m"
                  f"{row['cpu_us_per_request']:>11,.0f}us")


if __name__ == "__main__":
    main()
