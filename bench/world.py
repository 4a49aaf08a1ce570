"""What a living world costs: a never-seen account's first page against a repeated one, and
a full cursor walk of the 120,000-video account.

    .venv/bin/python bench/world.py             # in-process, then over HTTP (wrk if present)
    .venv/bin/python bench/world.py --quick     # fewer calls, shorter wrk runs, a sample walk
    .venv/bin/python bench/world.py --baseline none   # no walk of the baseline

The walk's target is a ratio ("5x faster than" the mock when issue 10 was filed), and this
machine's speed moves by up to 2x over a day, so the walk is also made by the baseline
revision (``--baseline``, default 8f7cde5: main before the living world), extracted with
``git archive`` into bench/.tools/ and served from there. The two walks are interleaved, a
chunk of pages each in turn, so a burst of other work on the machine hits both.

In-process figures drive the ASGI app directly (bench/hotspots.call), so they are the app's
own cost per request. Over HTTP, wrk (if installed; `bash bench/run.sh` installs it) sends
the same request again and again ("hot") or a new handle every request ("cold",
bench/wrk/distinct.lua), one mock process on a frozen clock. The figure that matters is
cold/hot from one run: wall-clock numbers on a shared VM move 10-40% between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hotspots import NOW, call  # noqa: E402

from mockserver.app import create_app  # noqa: E402
from mockserver.clock import parse_instant  # noqa: E402
from mockserver.server import tune_gc_for_serving  # noqa: E402
from mockserver.settings import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
ROUTES = {
    "dumpling videos": ("POST", "/api/v1/get-tiktok-profile-videos",
                        lambda h: b'{"handle":"%s"}' % h.encode(),
                        [(b"authorization", b"Bearer sk_bench"),
                         (b"content-type", b"application/json")]),
    "socialfetch videos": ("GET", "/v1/tiktok/profiles/{h}/videos", lambda h: b"",
                           [(b"x-api-key", b"sfk_bench")]),
    "dumpling profile": ("POST", "/api/v1/get-tiktok-profile",
                         lambda h: b'{"handle":"%s"}' % h.encode(),
                         [(b"authorization", b"Bearer sk_bench"),
                          (b"content-type", b"application/json")]),
}


def in_process(calls: int) -> list[dict]:
    app = create_app(Settings(now=parse_instant(NOW), credits=10**12, rate_limit=0))
    loop = asyncio.new_event_loop()
    tune_gc_for_serving()  # as `mockserver serve` does: a cold page allocates a lot
    rows = []
    for name, (method, path, body_of, headers) in ROUTES.items():
        def one(handle: str, method=method, path=path, body_of=body_of, headers=headers,
                name=name):
            status, _, _ = loop.run_until_complete(
                call(app, method, path.replace("{h}", handle), body_of(handle), headers))
            assert status == 200, (name, handle, status)
        one("stoolpresidente")
        started = time.process_time()
        for _ in range(calls):
            one("stoolpresidente")
        hot = (time.process_time() - started) / calls
        prefix = name.split()[0][:2] + name.split()[1][:2]
        started = time.process_time()
        for i in range(calls):
            one(f"{prefix}cold{i}")
        cold = (time.process_time() - started) / calls
        rows.append({"route": name, "hot_us": hot * 1e6, "cold_us": cold * 1e6,
                     "cold_share": hot / cold})
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BASELINE = "8f7cde5"  # main when issue 10 was filed (the last commit before the living world)
WALK_CHUNK = 100  # pages each walk makes in its turn


def start_mock(port: int, checkout: Path | None = None) -> subprocess.Popen:
    """``checkout``: serve another revision's package (first on ``PYTHONPATH``)."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--now", NOW,
               "--credits", "1000000000000", "--rate-limit", "0"]
    env = dict(os.environ, PYTHONPATH=str(checkout)) if checkout else None
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=checkout)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/__mock/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the mock did not start")


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Walk:
    """One client, keep-alive, the pages of huge_account by DumplingAI cursors, parsed with
    orjson, through the standard library's http.client: on a 180 KB page httpx's own work
    (h11 in Python, its models) cost the client 0.7-1.4 ms a page more than http.client in
    three runs of 1,000-4,000 pages, which is this client's cost and not the mock's.
    Counts the walk's wall-clock time, the mock process's CPU time (from /proc) and the
    client's, over the chunks it is given."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid, self.cursor, self.done = port, pid, None, False
        self.pages = self.videos = 0
        self.seconds = self.mock_cpu = self.client_cpu = 0.0

    def step(self, pages: int) -> None:
        """Up to ``pages`` more pages, or to the last, on a connection of their own (a
        server closes one left idle for its keep-alive timeout while the other walks)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": "Bearer sk_bench", "Content-Type": "application/json"}
        mock_cpu, client_cpu, started = (cpu_seconds(self.pid), time.process_time(),
                                         time.perf_counter())
        for _ in range(pages):
            body = {"handle": "huge_account", **({"maxCursor": self.cursor} if self.cursor else {})}
            connection.request("POST", "/api/v1/get-tiktok-profile-videos",
                               orjson.dumps(body), headers)
            answer = connection.getresponse()
            raw = answer.read()
            assert answer.status == 200, raw[:200]
            page = orjson.loads(raw)
            self.pages, self.videos = self.pages + 1, self.videos + len(page["aweme_list"])
            if not page["has_more"]:
                self.done = True
                break
            self.cursor = page["max_cursor"]
        connection.close()
        self.seconds += time.perf_counter() - started
        self.mock_cpu += cpu_seconds(self.pid) - mock_cpu
        self.client_cpu += time.process_time() - client_cpu

def interleaved_walks(walks: list[Walk], limit: int | None) -> None:
    """Every walk to its end (or ``limit`` pages), a chunk each in turn."""
    while not all(w.done or limit and w.pages >= limit for w in walks):
        for walk in walks:
            if not (walk.done or limit and walk.pages >= limit):
                chunk = WALK_CHUNK if limit is None else min(WALK_CHUNK, limit - walk.pages)
                walk.step(chunk)


def baseline_checkout(revision: str) -> Path:
    """``revision``'s tree, extracted once into bench/.tools (git-ignored)."""
    folder = HERE / ".tools" / f"baseline-{revision}"
    if not (folder / "mockserver" / "__init__.py").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", revision],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def walk_report(name: str, walk: Walk) -> str:
    return (f"| {name} | {walk.pages:,} | {walk.seconds:.1f} s | "
            f"{walk.seconds / walk.pages * 1000:.2f} ms | {walk.mock_cpu / walk.pages * 1000:.2f}"
            f" ms | {walk.client_cpu / walk.pages * 1000:.2f} ms |")


def walk_in_process() -> dict:
    """The same walk through the ASGI app directly: the mock's own CPU time per call, no
    sockets, and apart from it the time this client spends parsing the pages."""
    app = create_app(Settings(now=parse_instant(NOW), credits=10**12, rate_limit=0))
    loop = asyncio.new_event_loop()
    method, path, _, headers = ROUTES["dumpling videos"]
    pages, cursor, app_seconds, parse_seconds = 0, None, 0.0, 0.0
    while True:
        body = {"handle": "huge_account", **({"maxCursor": cursor} if cursor else {})}
        started = time.process_time()
        status, _, raw = loop.run_until_complete(
            call(app, method, path, orjson.dumps(body), headers))
        parsing = time.process_time()
        assert status == 200, raw[:200]
        page = orjson.loads(raw)
        app_seconds += parsing - started
        parse_seconds += time.process_time() - parsing
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["max_cursor"]
    return {"pages": pages, "seconds": app_seconds, "parse_seconds": parse_seconds}


def wrk(port: int, seconds: int, route: str, cold: bool, tag: str) -> dict:
    env = dict(os.environ, BENCH_ROUTE=route.split()[0], BENCH_PREFIX=f"{tag}c")
    if cold:
        script = HERE / "wrk" / "distinct.lua"
    else:
        method, path, body_of, headers = ROUTES[route]
        env.update(BENCH_METHOD=method, BENCH_BODY=body_of("stoolpresidente").decode(),
                   BENCH_HEADERS="\n".join(f"{k.decode()}: {v.decode()}" for k, v in headers
                                           if k != b"content-type"))
        path = path.replace("{h}", "stoolpresidente")
        script = HERE / "wrk" / "request.lua"
    url = f"http://127.0.0.1:{port}" + ("/" if cold else path)
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency", "-s", str(script),
                          url], capture_output=True, text=True, env=env, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON"))
    result = json.loads(line.split(" ", 1)[1])
    return {"rps": result["requests"] / (result["duration_us"] / 1e6),
            "p99_ms": result["p99_us"] / 1000, "errors": result["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", default=BASELINE, metavar="REVISION",
                        help=f"revision whose walk to compare (default {BASELINE}); none: skip")
    args = parser.parse_args()
    calls = 300 if args.quick else 1500
    print(f"# bench/world.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs\n")
    print("## In-process (app cost per request; cold = a never-seen account's first page)\n")
    print("| route | hot us | cold us | cold throughput / hot |\n|---|---:|---:|---:|")
    for row in in_process(calls):
        print(f"| {row['route']} | {row['hot_us']:.0f} | {row['cold_us']:.0f} | "
              f"{row['cold_share']:.0%} |")
    inside = walk_in_process()
    print(f"\n## Full walk of huge_account in-process (the app's CPU time, one walk)\n\n"
          f"{inside['pages']:,} pages in {inside['seconds']:.1f} s "
          f"({inside['seconds'] / inside['pages'] * 1000:.2f} ms a page; the client's "
          f"orjson.loads of them took {inside['parse_seconds']:.1f} s more)")
    port = free_port()
    proc = start_mock(port)
    baseline = None
    try:
        walks = [("this checkout", Walk(port, proc.pid))]
        if args.baseline != "none":
            baseline_port = free_port()
            baseline = start_mock(baseline_port, baseline_checkout(args.baseline))
            walks.append((f"baseline {args.baseline}", Walk(baseline_port, baseline.pid)))
        limit = 300 if args.quick else None
        interleaved_walks([w for _, w in walks], limit)
        if baseline is not None:
            baseline.terminate()
            baseline.wait(10)
        mine = walks[0][1]
        print(f"\n## {'A sample of the' if limit else 'Full'} walk of huge_account over HTTP"
              f" (one client each, interleaved {WALK_CHUNK} pages at a time)\n\n"
              "| server | pages | wall-clock | a page | the mock's CPU a page | the client's "
              "CPU a page |\n|---|---:|---:|---:|---:|---:|")
        for name, walk in walks:
            print(walk_report(name, walk))
        print(f"\n{mine.videos:,} videos in {mine.pages:,} pages, {mine.pages / mine.seconds:.0f}"
              " pages/s")
        if len(walks) > 1:
            theirs = walks[1][1]
            ratio = (theirs.seconds / theirs.pages) / (mine.seconds / mine.pages)
            print(f"\nThis checkout's walk is **{ratio:.1f}x** as fast as the baseline's (a page's"
                  f" wall-clock time; target of issue 10: 5x)")
        if shutil.which("wrk") is None:
            print("\nwrk is not installed: no HTTP throughput figures (bench/run.sh installs it)")
            return
        seconds = 3 if args.quick else 8
        print(f"\n## Over HTTP (wrk -t1 -c16 -d{seconds}s, one mock process)\n")
        print("| route | hot req/s | cold req/s | cold / hot | cold p99 ms |\n"
              "|---|---:|---:|---:|---:|")
        for number, route in enumerate(("dumpling videos", "socialfetch videos")):
            hot = wrk(port, seconds, route, cold=False, tag=str(number))
            cold = wrk(port, seconds, route, cold=True, tag=f"{number}{int(time.time())}")
            print(f"| {route} | {hot['rps']:,.0f} | {cold['rps']:,.0f} | "
                  f"{cold['rps'] / hot['rps']:.0%} | {cold['p99_ms']:.1f} |")
    finally:
        for server in (proc, baseline):
            if server is not None and server.poll() is None:
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()
