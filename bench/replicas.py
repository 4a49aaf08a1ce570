"""What sharing the ledger costs: Redis against the memory store, and ``--workers 2``
against ``--workers 1`` on Redis.

    .venv/bin/python bench/replicas.py                 # 10 s per measurement, ~7 minutes
    .venv/bin/python bench/replicas.py --duration 3 --rounds 1   # quicker, rougher

Starts a redis-server on a free loopback port (in a temporary folder) and
``mockserver serve`` as users do (``--credits 1000000000 --rate-limit 0 --now ...``; with
``--rate-limit 1000000000`` every request is counted in its key's rate window, as by
default, and none refused), then drives two routes with wrk (``-t1 -c32``, as
bench/run.py does):

1. **p99 added by Redis, saturated**: one process on ``--store memory`` and one on
   ``--store redis://...``, the server pinned to CPU 0, wrk to CPU 1, redis-server to
   CPU 0 beside the mock (``--redis-cpu``: on this VM, waking a process on the other CPU
   costs more than the script it runs; see row 4), measured in turn, best of
   ``--rounds``: wrk's closed loop (each connection sends its next request as soon as it
   has an answer), so the mock is saturated and p99 follows the CPU a request costs.
   Requests/s, p50, p99, the difference of p99, and per request: CPU (the mock's, and
   redis-server's), the time each waited for a CPU while ready to run, and its read and
   write system calls.
2. **p99 added by Redis, below saturation**: the same two processes, the same 32
   connections, each waiting a random think time before each request
   (bench/wrk/paced.lua) so that together they offer a fixed rate, ``--paced`` fractions
   of the memory store's saturated requests/s just measured (default 25% and 50%), the
   same rate for both stores. p99 is then what a request costs plus what queues behind
   the requests that arrive with it, as in a test suite or a staging cluster that does
   not run the mock flat out.
3. **workers on Redis**: ``--workers 1`` then ``--workers 2`` (not pinned: the workers
   need both cores, which they share with redis-server and wrk), each with its
   requests/s and its CPU per request: the CPU seconds of the mock's processes and of
   redis-server during the run (from /proc), over the requests served.
4. **what one Redis call costs the mock**: a ledger-sized EVALSHA from redis-py's
   blocking client, one call at a time, from its asyncio client, 32 calls in flight (as
   32 connections would have them), and from the mock's own pipelined connection, 32 in
   flight, then one at a time with redis-server on the other CPU and on the same one:
   wall and CPU microseconds per call, on CPU 0.

Every Redis row also shows the scripts (EVALSHA) the mock ran per request, from INFO
commandstats.

Prints a table and writes ``bench/results/replicas.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

PACED = BENCH / "wrk" / "paced.lua"

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


def waits(pids: list[int]) -> tuple[float, int]:
    """Seconds these processes' threads have waited for a CPU while ready to run (the
    scheduler's run-queue delay: another process held their core), and the system calls
    they have made that read or write (a socket's send and receive among them)."""
    waited, calls = 0, 0
    for pid in pids:
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                waited += int((task / "schedstat").read_text().split()[1])
            io = dict(line.split(": ") for line in
                      Path(f"/proc/{pid}/io").read_text().splitlines())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        calls += int(io["syscr"]) + int(io["syscw"])
    return waited / 1e9, calls


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


def redis_scripts_run(port: int) -> int:
    """EVALSHA calls redis-server has answered so far (INFO commandstats; the commands a
    script runs are counted under their own names, so this counts the mock's calls)."""
    stats = subprocess.run(["redis-cli", "-p", str(port), "info", "commandstats"],
                           capture_output=True, text=True, check=True).stdout
    for line in stats.splitlines():
        if line.startswith("cmdstat_evalsha:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def client_calls(port: int, redis_pid: int, calls: int = 4000) -> dict[str, dict[str, float]]:
    """Wall and CPU microseconds per EVALSHA of a ledger-sized script, blocking client
    against asyncio client with 32 calls in flight, this process pinned to CPU 0; and the
    mock's own connection one call at a time, with redis-server on the other CPU, then on
    this one (what waking a process on another CPU costs)."""
    import asyncio

    import redis
    import redis.asyncio

    from mockserver.store.redis_async import PipelinedRedis

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    blocking = redis.Redis(port=port)
    blocking.hset("bench:key", "k", json.dumps({"balance": 10**9, "status": "active",
                                                 "rate_limit": 0, "masked": "…ench#0000"}))
    script = blocking.register_script(
        "local v = redis.call('HGET', KEYS[1], ARGV[1]) return {v, redis.call('HLEN', KEYS[1])}")
    script(keys=["bench:key"], args=["k"])

    def timed(run: Any) -> dict[str, float]:
        wall, used = time.perf_counter(), cpu()
        run()
        return {"wall_us": (time.perf_counter() - wall) / calls * 1e6,
                "cpu_us": (cpu() - used) / calls * 1e6}

    def one_at_a_time() -> None:
        for _ in range(calls):
            script(keys=["bench:key"], args=["k"])

    def in_flight() -> None:
        async def run() -> None:
            client = redis.asyncio.Redis(port=port, max_connections=32)

            async def some() -> None:
                for _ in range(calls // 32):
                    await client.evalsha(script.sha, 1, "bench:key", "k")
            await asyncio.gather(*(some() for _ in range(32)))
            await client.aclose()
        asyncio.run(run())

    def pipelined(in_flight: int = 32) -> None:  # the mock's (mockserver/store/redis_async.py)
        async def run() -> None:
            client = PipelinedRedis({"host": "127.0.0.1", "port": port}, "bench")

            async def some() -> None:
                for _ in range(calls // in_flight):
                    await client.calls(("EVALSHA", script.sha, 1, "bench:key", "k"))
            await asyncio.gather(*(some() for _ in range(in_flight)))
            client.close()
        asyncio.run(run())

    def one_by_one_with_redis_on(cpu: int) -> dict[str, float]:
        os.sched_setaffinity(redis_pid, {cpu})
        try:
            return timed(lambda: pipelined(1))
        finally:
            os.sched_setaffinity(redis_pid, {0, 1})

    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    try:
        return {"blocking": timed(one_at_a_time), "asyncio, 32 in flight": timed(in_flight),
                "the mock's, 32 in flight": timed(pipelined),
                **({"the mock's, 1, Redis on CPU 1": one_by_one_with_redis_on(1),
                    "the mock's, 1, Redis on CPU 0": one_by_one_with_redis_on(0)}
                   if (os.cpu_count() or 1) >= 2 else {})}
    finally:
        os.sched_setaffinity(0, affinity)
        blocking.delete("bench:key")
        blocking.close()


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


def start_mock(work: Path, name: str, cpu: str | None, *extra: str, rate_limit: str = "0"
               ) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [*pin(cpu), str(ROOT / ".venv" / "bin" / "mockserver"), "serve", "--port", str(port),
           "--credits", CREDITS, "--rate-limit", rate_limit, "--now", NOW, *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    proc = PROCS.start(cmd, work / f"{name}.log", env=env)
    wait_ready(port, "/__mock/health", proc, timeout=60)
    if "--workers" in extra:
        time.sleep(3)  # the port answers once one worker is up: let the others start too
    return proc, port


def measure(opts: Opts, port: int, route: str, pids: list[int], redis: int | None = None,
            redis_port: int | None = None, delay_ms: int | None = None) -> dict[str, Any]:
    """One wrk run: closed loop, or paced by a think time of ``delay_ms`` on average.
    CPU per request: ``pids``' (the mock's), and ``redis``'s (redis-server) apart."""
    method, path, body, headers = ROUTES[route]
    paced = {} if delay_ms is None else {"script": PACED, "BENCH_DELAY_MS": str(delay_ms)}
    wrk(opts, port, method, path, body, headers, duration=opts.warmup, **paced)
    before, redis_before = cpu_seconds(pids), cpu_seconds([redis] if redis else [])
    waits_before, redis_waits_before = waits(pids), waits([redis] if redis else [])
    scripts = redis_scripts_run(redis_port) if redis_port else 0
    result = wrk(opts, port, method, path, body, headers, **paced)
    served = max(result["requests"], 1)
    for name, now, then in (("mock", waits(pids), waits_before),
                            ("redis", waits([redis] if redis else []), redis_waits_before)):
        result[f"{name}_wait_us_per_request"] = (now[0] - then[0]) / served * 1e6
        result[f"{name}_syscalls_per_request"] = (now[1] - then[1]) / served
    result["cpu_s"] = cpu_seconds(pids) - before
    result["redis_cpu_s"] = cpu_seconds([redis] if redis else []) - redis_before
    result["mock_cpu_us_per_request"] = result["cpu_s"] / served * 1e6
    result["redis_cpu_us_per_request"] = result["redis_cpu_s"] / served * 1e6
    result["cpu_us_per_request"] = (result["cpu_s"] + result["redis_cpu_s"]) / served * 1e6
    if redis_port:
        scripts = redis_scripts_run(redis_port) - scripts
        result["redis_scripts_per_request"] = scripts / served
    return result


def compare(rounds: int, memory: Any, redis: Any) -> dict[str, Any]:
    """memory and Redis measured in turn ``rounds`` times, so a disturbance hits both;
    the round of lowest p99 of each, and the p99 Redis adds."""
    runs: dict[str, list[dict[str, Any]]] = {"memory": [], "redis": []}
    for _ in range(rounds):
        runs["memory"].append(memory())
        runs["redis"].append(redis())
    best: dict[str, Any] = {name: min(rows, key=lambda r: r["p99_ms"])
                            for name, rows in runs.items()}
    best["p99_added_ms"] = best["redis"]["p99_ms"] - best["memory"]["p99_ms"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--paced", default="0.25,0.5",
                        help="offered rates below saturation, as fractions of the memory "
                        "store's saturated requests/s (comma-separated; '' for none)")
    parser.add_argument("--redis-cpu", choices=("0", "1", "any"), default="0",
                        help="where redis-server runs for the latency rows: 0, on the mock's "
                        "core (the default: each round trip then wakes no other CPU), 1, "
                        "beside wrk, or any, where the scheduler puts it")
    parser.add_argument("--rate-limit", default="0",
                        help="the keys' requests a minute (0, the default here: none "
                        "counted; 1000000000: each counted, as a limit on, none refused)")
    parser.add_argument("--skip-workers", action="store_true",
                        help="measure the latency rows only")
    args = parser.parse_args()
    fractions = [float(f) for f in args.paced.split(",") if f.strip()]
    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    pinned = Opts(duration=args.duration, warmup=2, connections=32, threads=1,
                  server_cpu="0" if two_cpus else None, client_cpu="1" if two_cpus else None)
    free = Opts(duration=args.duration, warmup=2, connections=32, threads=1,
                server_cpu=None, client_cpu=None)
    report: dict[str, Any] = {"duration_s": args.duration, "rounds": args.rounds,
                              "redis_cpu": args.redis_cpu if two_cpus else "any",
                              "rate_limit": int(args.rate_limit),
                              "latency": {}, "paced": {}, "workers": {}}
    with tempfile.TemporaryDirectory(prefix="mock-replicas-") as folder:
        work = Path(folder)
        try:
            redis_proc, redis_port = start_redis(work)
            if two_cpus and args.redis_cpu != "any":  # see --redis-cpu
                os.sched_setaffinity(redis_proc.pid, {int(args.redis_cpu)})
            store = f"redis://127.0.0.1:{redis_port}/0"
            limit = args.rate_limit
            memory, memory_port = start_mock(work, "memory", pinned.server_cpu,
                                             rate_limit=limit)
            shared, shared_port = start_mock(work, "redis", pinned.server_cpu, "--store", store,
                                             rate_limit=limit)

            def on(opts: Opts, route: str, delay: int | None = None) -> tuple[Any, Any]:
                return (lambda: measure(opts, memory_port, route, [memory.pid], None, None,
                                        delay),
                        lambda: measure(opts, shared_port, route, [shared.pid],
                                        redis_proc.pid, redis_port, delay))

            for route in ROUTES:
                report["latency"][route] = saturated = compare(args.rounds, *on(pinned, route))
                report["paced"][route] = {}
                for fraction in fractions:
                    offered = fraction * saturated["memory"]["rps"]
                    delay = max(1, round(pinned.connections * 1000 / offered))
                    row = compare(args.rounds, *on(pinned, route, delay))
                    row["offered_rps"], row["delay_ms"] = offered, delay
                    report["paced"][route][fraction] = row
            PROCS.stop(memory)
            PROCS.stop(shared)
            if two_cpus:
                os.sched_setaffinity(redis_proc.pid, {0, 1})
            for count in () if args.skip_workers else (1, 2):
                proc, port = start_mock(work, f"workers{count}", None, "--store", store,
                                        "--workers", str(count), rate_limit=limit)
                pids = family(proc.pid)
                report["workers"][count] = {
                    route: max((measure(free, port, route, pids, redis_proc.pid, redis_port)
                                for _ in range(args.rounds)), key=lambda r: r["rps"])
                    for route in ROUTES}
                PROCS.stop(proc)
            if not args.skip_workers:
                report["client_calls"] = client_calls(redis_port, redis_proc.pid)
        finally:
            PROCS.stop_all()
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "replicas.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


def _latency_row(label: str, row: dict[str, Any]) -> str:
    memory, shared = row["memory"], row["redis"]
    return (f"{label:<24}{memory['rps']:>8,.0f}{memory['p50_ms']:>7.2f}{memory['p99_ms']:>7.2f}"
            f"{memory['mock_cpu_us_per_request']:>6,.0f}{shared['rps']:>8,.0f}"
            f"{shared['p50_ms']:>7.2f}{shared['p99_ms']:>7.2f}"
            f"{shared['mock_cpu_us_per_request']:>6,.0f}{shared['redis_cpu_us_per_request']:>6,.0f}"
            f"{shared['redis_scripts_per_request']:>6.2f}{row['p99_added_ms']:>8.2f}")


def _where_row(label: str, row: dict[str, Any]) -> str:
    line = f"{label:<32}"
    for store, who in (("memory", "mock"), ("redis", "mock"), ("redis", "redis")):
        got = row[store]
        line += (f"{got[f'{who}_cpu_us_per_request']:>7,.0f}"
                 f"{got[f'{who}_wait_us_per_request']:>7,.0f}"
                 f"{got[f'{who}_syscalls_per_request']:>6.2f}")
    return line


def _rows(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    for route, row in report["latency"].items():
        rows.append((f"{route}, saturated", row))
        for fraction, paced in report["paced"].get(route, {}).items():
            rows.append((f"{route}, {float(fraction):.0%} ({paced['offered_rps']:,.0f}/s)",
                         paced))
    return rows


def print_report(report: dict[str, Any]) -> None:
    where = {"0": "CPU 0 (the mock's)", "1": "CPU 1 (wrk's)"}.get(report.get("redis_cpu", "1"),
                                                                 "either CPU")
    limit = report.get("rate_limit") or "off"
    print(f"p99 added by Redis: one process on CPU 0, wrk -t1 -c32 on CPU 1, redis-server on "
          f"{where}, rate limit {limit}; ms, and CPU µs per request (the mock's; "
          "redis-server's)")
    print(f"{'':<24}{'memory: rps':>11}{'p50':>7}{'p99':>7}{'CPU':>6}{'redis: rps':>10}"
          f"{'p50':>7}{'p99':>7}{'CPU':>6}{'redis':>6}{'calls':>6}{'added':>8}")
    for label, row in _rows(report):
        print(_latency_row(label, row))
    print("\nwhere the time went, per request: CPU µs, µs waiting for a CPU while ready to run"
          " (another process held the core), and read/write system calls")
    print(f"{'':<32}{'memory: mock':>20}{'redis: mock':>20}{'redis-server':>20}")
    for label, row in _rows(report):
        print(_where_row(label, row))
    if report["workers"]:
        print("\n--workers on Redis (not pinned: workers, redis-server and wrk share 2 cores)")
        print(f"{'route':<18}{'workers':>8}{'rps':>10}{'p99':>9}{'CPU/request':>13}"
              f"{'calls':>8}")
    for count, routes in report["workers"].items():
        for route, row in routes.items():
            print(f"{route:<18}{count:>8}{row['rps']:>10,.0f}{row['p99_ms']:>8.1f}m"
                  f"{row['cpu_us_per_request']:>11,.0f}us{row['redis_scripts_per_request']:>8.2f}")
    if "client_calls" in report:
        print("\none Redis call from the mock's side (EVALSHA, this process on CPU 0)")
    for client, row in report.get("client_calls", {}).items():
        print(f"{client:<32}{row['wall_us']:>8.1f}us wall{row['cpu_us']:>8.1f}us CPU")


if __name__ == "__main__":
    main()
