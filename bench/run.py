"""mockserver benchmark: the mock against its ceiling and its peers, on loopback.

Run it with ``bash bench/run.sh`` (which installs what is missing, then runs this file
with the project's venv). Flags: ``--quick`` (3 s runs), ``--duration S``,
``--connections N``, ``--warmup S``, ``--rounds N``, ``--handles 10000,50000,100000``,
``--skip PEER`` (mock-extras, ceiling, wiremock, prism, memory, coldstart, plugin).

What it does, in order (every process it starts is stopped on exit):

1. ``mockserver serve`` (one process, pinned to CPU 0 with taskset) with
   ``--credits 1000000000 --rate-limit 0 --now 2026-11-23T12:00:00Z``; reads
   ``GET /__mock/health`` to learn which vendor routes exist, fetches stoolpresidente's
   first page for a real video id, and records each route's response.
2. wrk (pinned to CPU 1, ``-t1 -c32 -d10s --latency``, bench/wrk/request.lua) against
   each route on: the mock; bench/ceiling.py (bare Starlette returning the recorded
   bytes, same uvicorn settings: the ceiling); WireMock standalone (recorded mappings,
   JVM pinned to CPU 0); Stoplight Prism on the mock's own OpenAPI document
   (``GET /__mock/openapi/<vendor>.json``; skipped when the mock does not serve it).
3. Extras: response validation on vs off (videos route); pages of huge_account
   (120,000 videos: its last, first and a deep page) vs pages of as many videos of
   tiny_account (10 videos) and the reference account;
   RSS after N distinct handles on the profile route; cold start of
   ``mockserver serve`` to its first answered request (median of 5); start-up of what
   the pytest plugin does (``ServerThread(create_app(Settings())).start()``, median of 5).
4. Prints the tables and writes bench/results/<stamp>.{json,md} (and latest.{json,md}).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TOOLS = BENCH / ".tools"
RESULTS = BENCH / "results"
REQUEST_LUA = BENCH / "wrk" / "request.lua"
NOW = "2026-11-23T12:00:00Z"
CREDITS = "1000000000"
HOST = "127.0.0.1"
HANDLE = "stoolpresidente"
KEYS = {
    "dumpling": ("Authorization", "Bearer sk_bench"),
    "socialfetch": ("x-api-key", "sfk_bench"),
    "gateway": ("x-api-key", "gw_bench_key_0123456789abcdef"),
}
# Headers that differ per response or that each server sets itself.
NOT_REPLAYED = {"date", "server", "content-length", "content-type", "transfer-encoding",
                "connection"}


# --------------------------------------------------------------------------- processes

class Procs:
    """Every process the benchmark starts, each in its own session, stopped on exit."""

    def __init__(self) -> None:
        self.live: list[subprocess.Popen] = []

    def start(self, cmd: list[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path = ROOT) -> subprocess.Popen:
        with open(log, "wb") as handle:
            proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd,
                                    env=env, start_new_session=True)
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            self.stop(proc)


PROCS = Procs()


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pin(cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu] if cpu is not None else []


def hit(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 10.0
         ) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float,
               interval: float = 0.05) -> float:
    """Seconds until ``path`` answers (any status); raises if the process dies first."""
    started = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering")
        try:
            hit(port, "GET", path, timeout=1.0)
            return time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            if time.perf_counter() - started > timeout:
                raise RuntimeError(
                    f"nothing answered on port {port} within {timeout:.0f}s") from None
            time.sleep(interval)


# --------------------------------------------------------------------------- routes

@dataclass
class Target:
    vendor: str
    name: str          # e.g. "dumpling profile"
    template: str      # "POST /api/v1/get-tiktok-profile" as /__mock/health lists it
    method: str
    path: str
    body: str | None
    headers: dict[str, str]
    recorded: dict[str, Any] = field(default_factory=dict)


def known_targets(video_id: str) -> dict[str, tuple[str, str, str, str | None]]:
    """health template -> (vendor, name, concrete path, body)."""
    handle_body = json.dumps({"handle": HANDLE}, separators=(",", ":"))
    video_url = f"https://www.tiktok.com/@{HANDLE}/video/{video_id}"
    return {
        "POST /api/v1/get-tiktok-profile":
            ("dumpling", "dumpling profile", "/api/v1/get-tiktok-profile", handle_body),
        "POST /api/v1/get-tiktok-profile-videos":
            ("dumpling", "dumpling videos", "/api/v1/get-tiktok-profile-videos", handle_body),
        "POST /api/v1/get-tiktok-video":
            ("dumpling", "dumpling video", "/api/v1/get-tiktok-video",
             json.dumps({"url": video_url}, separators=(",", ":"))),
        "GET /v1/tiktok/profiles/{handle}/videos":
            ("socialfetch", "socialfetch videos", f"/v1/tiktok/profiles/{HANDLE}/videos", None),
        "GET /v1/tiktok/profiles/{handle}":
            ("socialfetch", "socialfetch profile", f"/v1/tiktok/profiles/{HANDLE}", None),
        "GET /dev/tiktok/user/{userHandle}":
            ("gateway", "gateway user", f"/dev/tiktok/user/{HANDLE}", None),
        "GET /dev/tiktok/video/{userHandle}/{videoId}":
            ("gateway", "gateway video", f"/dev/tiktok/video/{HANDLE}/{video_id}", None),
    }


def vendor_of(path: str) -> str:
    if path.startswith("/api/v1/"):
        return "dumpling"
    if path.startswith("/v1/tiktok/"):
        return "socialfetch"
    return "gateway"


def discover(port: int) -> tuple[dict[str, Any], list[Target], list[str], str]:
    status, _, raw = hit(port, "GET", "/__mock/health")
    health = json.loads(raw)
    listed = [r for routes in health.get("vendors", {}).values() for r in routes]
    auth = dict([KEYS["dumpling"]])
    status, _, raw = hit(port, "POST", "/api/v1/get-tiktok-profile-videos",
                          json.dumps({"handle": HANDLE}).encode(), auth)
    if status != 200:
        raise RuntimeError(f"first page of {HANDLE}: HTTP {status}: {raw[:200]!r}")
    video_id = json.loads(raw)["aweme_list"][0]["aweme_id"]
    known = known_targets(video_id)
    targets, unknown = [], []
    for template in listed:
        norm = " ".join(template.split())
        if norm not in known:
            unknown.append(norm)
            continue
        vendor, name, path, body = known[norm]
        hname, hval = KEYS[vendor]
        targets.append(Target(vendor, name, norm, norm.split()[0], path, body, {hname: hval}))
    return health, targets, unknown, video_id


def record(port: int, targets: list[Target]) -> None:
    for t in targets:
        status, headers, body = hit(port, t.method, t.path,
                                     t.body.encode() if t.body is not None else None, t.headers)
        t.recorded = {
            "method": t.method, "path": t.path, "status": status,
            "headers": [[k.lower(), v] for k, v in headers if k.lower() not in NOT_REPLAYED],
            "body_b64": base64.b64encode(body).decode(), "size": len(body),
        }


# --------------------------------------------------------------------------- wrk

@dataclass
class Opts:
    duration: int
    warmup: int
    connections: int
    threads: int
    server_cpu: str | None
    client_cpu: str | None
    timeout: str = "2s"


def wrk(opts: Opts, port: int, method: str, path: str, body: str | None,
        headers: dict[str, str], duration: int | None = None, script: Path = REQUEST_LUA,
        **script_env: str) -> dict[str, Any]:
    duration = opts.duration if duration is None else duration
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=body or "",
               BENCH_HEADERS="\n".join(f"{k}: {v}" for k, v in headers.items()),
               BENCH_REQUEST_LUA=str(REQUEST_LUA), **script_env)
    cmd = [*pin(opts.client_cpu), "wrk", f"-t{opts.threads}", f"-c{opts.connections}",
           f"-d{duration}s", "--timeout", opts.timeout, "--latency", "-s", str(script),
           f"http://{HOST}:{port}{path}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         timeout=duration + 30)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON "):])
            secs = raw["duration_us"] / 1e6 or 1
            socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
            return {
                "rps": raw["requests"] / secs, "requests": raw["requests"],
                "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
                "errors": raw["status"] + socket_errors, "non2xx": raw["status"],
                "socket_errors": socket_errors, "seconds": secs,
            }
    raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")


def probe(port: int, t: Target) -> dict[str, Any]:
    """One request before the run: status and body size this server answers with."""
    try:
        status, _, body = hit(port, t.method, t.path,
                               t.body.encode() if t.body is not None else None, t.headers)
        return {"status": status, "size": len(body)}
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "size": 0, "error": str(exc)}


def best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the most requests/s (the least disturbed by anything else on the
    machine); every round's figure is kept under ``rounds_rps``."""
    top = dict(max(rows, key=lambda r: r["rps"]))
    top["rounds_rps"] = [round(r["rps"]) for r in rows]
    return top


def bench_servers(servers: list[tuple[str, int]], targets: list[Target], opts: Opts,
                  results: dict[str, dict[str, Any]], rounds: int = 1,
                  warmup_total: int = 0) -> None:
    """Warm every route on every server (``warmup`` s each, or ``warmup_total`` s spread
    over the routes if longer: a JVM needs ~15 s to compile its hot paths); then, route
    by route, measure the servers in turn, ``rounds`` times, so that servers compared
    with each other are measured minutes apart at most; keep each server's best round.
    results[route][label] = figures."""
    each = max(opts.warmup, -(-warmup_total // max(len(targets), 1)))
    for _, port in servers:
        for t in targets:
            if each:
                wrk(opts, port, t.method, t.path, t.body, t.headers, duration=each)
    for t in targets:
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in servers}
        firsts = {label: probe(port, t) for label, port in servers}
        for _ in range(rounds):
            for label, port in servers:
                runs[label].append(wrk(opts, port, t.method, t.path, t.body, t.headers))
        for label, _ in servers:
            row = best(runs[label])
            first = firsts[label]
            row.update(status=first["status"], size=first["size"])
            results.setdefault(t.name, {})[label] = row
            print(f"  {label:<9} {t.name:<20} {row['rps']:>9.0f} req/s  p50 "
                  f"{row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms  errors "
                  f"{row['errors']}  (HTTP {first['status']}, {first['size']} B; rounds "
                  f"{row['rounds_rps']})", flush=True)


# --------------------------------------------------------------------------- servers

def mock_cmd(port: int, opts: Opts, *extra: str) -> list[str]:
    return [*pin(opts.server_cpu), str(ROOT / ".venv" / "bin" / "mockserver"), "serve",
            "--port", str(port), "--credits", CREDITS, "--rate-limit", "0", "--now", NOW,
            *extra]


def start_mock(opts: Opts, work: Path, name: str, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = PROCS.start(mock_cmd(port, opts, *extra), work / f"{name}.log")
    wait_ready(port, "/__mock/health", proc, timeout=30)
    return proc, port


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def find_wiremock_jar() -> Path | None:
    base = TOOLS / "node_modules" / "wiremock"
    jars = sorted(base.glob("**/wiremock-standalone-*.jar")) if base.exists() else []
    return jars[-1] if jars else None


def wiremock_mappings(root: Path, targets: list[Target]) -> None:
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(targets):
        request: dict[str, Any] = {"method": t.method, "url": t.path, "headers": {
            k: {"equalTo": v} for k, v in t.headers.items()}}
        if t.body is not None:
            request["bodyPatterns"] = [{"equalToJson": t.body}]
        rec = t.recorded
        headers = {"Content-Type": "application/json"}
        headers.update({k: v for k, v in rec["headers"]})
        mapping = {"request": request, "response": {
            "status": rec["status"], "headers": headers,
            "body": base64.b64decode(rec["body_b64"]).decode("utf-8")}}
        (mappings / f"{i:02d}.json").write_text(json.dumps(mapping))


# --------------------------------------------------------------------------- extras

async def distinct_handles(port: int, first: int, last: int, connections: int,
                           deadline: float) -> dict[str, int]:
    """POST the profile route for handles user<first>..user<last-1> over keep-alive
    connections; a bounded count (and a time cap), returns status counts."""
    counter = iter(range(first, last))
    counts: dict[str, int] = {}
    auth = KEYS["dumpling"]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for n in counter:
                if time.monotonic() > deadline:
                    return
                body = b'{"handle":"user%d"}' % n
                writer.write(
                    b"POST /api/v1/get-tiktok-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"%s: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (auth[0].encode(), auth[1].encode(), len(body), body))
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                counts[status] = counts.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return counts


def memory(opts: Opts, work: Path, checkpoints: list[int], cap_seconds: float
           ) -> dict[str, Any]:
    proc, port = start_mock(opts, work, "mock-memory")
    try:
        hit(port, "POST", "/api/v1/get-tiktok-profile",
                 json.dumps({"handle": HANDLE}).encode(), dict([KEYS["dumpling"]]))
        rows = [{"handles": 0, "rss_mb": rss_kb(proc.pid) / 1024}]
        print(f"  RSS at start (one request served): {rows[0]['rss_mb']:.1f} MB", flush=True)
        done, statuses, began = 0, {}, time.monotonic()
        deadline = began + cap_seconds
        for target in checkpoints:
            t0 = time.monotonic()
            counts = asyncio.run(distinct_handles(port, done, target, opts.connections,
                                                  deadline))
            got = sum(counts.values())
            for k, v in counts.items():
                statuses[k] = statuses.get(k, 0) + v
            done += got
            secs = time.monotonic() - t0
            rows.append({"handles": done, "rss_mb": rss_kb(proc.pid) / 1024,
                         "rps": got / secs if secs else 0})
            print(f"  after {done:>7,} distinct handles: RSS {rows[-1]['rss_mb']:7.1f} MB"
                  f"  ({rows[-1]['rps']:.0f} new profiles/s)", flush=True)
            if done < target:
                print(f"  stopped at the {cap_seconds:.0f} s cap", flush=True)
                break
        return {"rows": rows, "statuses": statuses}
    finally:
        PROCS.stop(proc)


def bytecode_env(work: Path) -> dict[str, str]:
    """The environment of a start as an install has it: with its modules' bytecode cached.
    A checkout run with PYTHONDONTWRITEBYTECODE set (as this project's VM sets it) compiles
    every module at every start, a third of a second; pip compiles a wheel at install and an
    editable install writes __pycache__ at its first start. The cache goes to ``work``, not
    into the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    # and the pools a start draws for its seed, kept as every start after a user's first
    # keeps them (--cache-dir): the first start, not counted, writes them
    env["MOCKSERVER_CACHE_DIR"] = str(work / "pools")
    return env


def cold_start(opts: Opts, work: Path, runs: int = 5) -> dict[str, Any]:
    env = bytecode_env(work)
    times = []
    first = 0.0
    for i in range(-1, runs):  # the first start, not counted, writes bytecode and pools
        port = free_port()
        t0 = time.perf_counter()
        proc = PROCS.start(mock_cmd(port, opts), work / f"cold-{i}.log", env=env)
        try:
            wait_ready(port, "/__mock/health", proc, timeout=30, interval=0.01)
            if i >= 0:
                times.append(time.perf_counter() - t0)
            else:
                first = time.perf_counter() - t0
        finally:
            PROCS.stop(proc)
    return {"runs_s": times, "median_s": statistics.median(times), "first_start_s": first}


PLUGIN_SNIPPET = r"""
import json, time, urllib.request
t0 = time.perf_counter()
from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
t1 = time.perf_counter()
app = create_app(Settings())
t2 = time.perf_counter()
server = ServerThread(app).start()
t3 = time.perf_counter()
urllib.request.urlopen(server.url + "/__mock/health").read()
t4 = time.perf_counter()
server.stop()
print(json.dumps({"import_s": t1 - t0, "create_app_s": t2 - t1, "start_s": t3 - t2,
                  "first_request_s": t4 - t3, "to_first_answer_s": t4 - t0}))
"""


def plugin_startup(work: Path, runs: int = 5) -> dict[str, Any]:
    python = str(ROOT / ".venv" / "bin" / "python")
    env = bytecode_env(work)
    rows = []
    for i in range(-1, runs):  # the first, not counted, writes the bytecode
        t0 = time.perf_counter()
        out = subprocess.run([python, "-c", PLUGIN_SNIPPET], capture_output=True, text=True,
                             cwd=ROOT, timeout=60, env=env)
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-800:])
        if i < 0:
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["process_wall_s"] = wall
        rows.append(row)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    return {"plugin_present": (ROOT / "mockserver" / "pytest_plugin.py").exists(),
            "runs": rows, "median": med}


def last_page_cursor(fetch: Any, oldest_ms: int, videos: int) -> int:
    """A ``maxCursor`` whose page of huge_account holds its last ``videos`` videos: the
    smallest cursor with that many older videos (page length grows with the cursor)."""
    lo, hi = 1, oldest_ms
    while lo < hi:
        mid = (lo + hi) // 2
        _, page, _ = fetch({"handle": "huge_account", "maxCursor": str(mid)})
        if len(page.get("aweme_list", [])) >= videos:
            hi = mid
        else:
            lo = mid + 1
    return lo


def page_cost(opts: Opts, port: int, rounds: int) -> dict[str, Any]:
    """Pages of huge_account against like-sized pages of small accounts: its last page
    (10 videos, the deepest there is) against tiny_account's only page (10 videos), its first
    and a deep page (30 videos) against the reference account's first page (30 videos)."""
    auth = dict([KEYS["dumpling"]])
    path = "/api/v1/get-tiktok-profile-videos"

    def fetch(body: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
        status, _, raw = hit(port, "POST", path, json.dumps(body).encode(), auth)
        return status, (json.loads(raw) if status == 200 else {}), len(raw)

    status, first, _ = fetch({"handle": "huge_account"})
    if status != 200:
        raise RuntimeError(f"huge_account first page: HTTP {status}")
    newest, oldest = int(first["min_cursor"]), int(first["max_cursor"])
    span = max(newest - oldest, 1)
    pages = 2000
    while True:
        cursor = oldest - span * pages
        if cursor > 0:
            status, deep, _ = fetch({"handle": "huge_account", "maxCursor": str(cursor)})
            if status == 200 and len(deep.get("aweme_list", [])) >= 30:
                break
        pages //= 2
        if pages < 5:
            cursor = oldest
            break
    last = last_page_cursor(fetch, oldest, 10)
    # (label, body, cursor, index of the like-sized page it is compared with)
    cases = [
        ("tiny_account page", {"handle": "tiny_account"}, None, None),
        ("huge_account last page", {"handle": "huge_account", "maxCursor": str(last)}, last, 0),
        (f"{HANDLE} first page", {"handle": HANDLE}, None, None),
        ("huge_account first page", {"handle": "huge_account"}, None, 2),
        (f"huge_account deep page (~#{pages + 2})",
         {"handle": "huge_account", "maxCursor": str(cursor)}, cursor, 2),
    ]
    texts = [json.dumps(body, separators=(",", ":")) for _, body, _, _ in cases]
    runs: list[list[dict[str, Any]]] = [[] for _ in cases]
    for text in texts:
        if opts.warmup:
            wrk(opts, port, "POST", path, text, auth, duration=opts.warmup)
    for _ in range(rounds):
        for i, text in enumerate(texts):
            runs[i].append(wrk(opts, port, "POST", path, text, auth))
    rows = []
    for (label, body, cur, like), measured in zip(cases, runs, strict=True):
        status, doc, size = fetch(body)
        row = best(measured)
        row.update(case=label, status=status, size=size, cursor=cur, like=like,
                   videos=len(doc.get("aweme_list", [])), has_more=doc.get("has_more"),
                   oldest=(dt.datetime.fromtimestamp(int(doc["max_cursor"]) / 1000, dt.UTC)
                           .strftime("%Y-%m-%d") if doc.get("max_cursor") else None))
        rows.append(row)
        print(f"  {label:<36} {row['rps']:>8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
              f"p99 {row['p99_ms']:7.2f} ms  {row['videos']} videos, {size} B, "
              f"oldest {row['oldest']}", flush=True)
    return {"rows": rows, "approx_depth_videos": (pages + 1) * 30}


# --------------------------------------------------------------------------- report

def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    py = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                         "import sys, uvicorn, starlette; print(sys.version.split()[0], "
                         "uvicorn.__version__, starlette.__version__)"],
                        capture_output=True, text=True).stdout.split()
    info = {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "python": py[0] if py else platform.python_version(),
            "uvicorn": py[1] if len(py) > 1 else None,
            "starlette": py[2] if len(py) > 2 else None}
    for name, cmd in (("wrk", ["wrk", "-v"]), ("java", ["java", "-version"]),
                      ("node", ["node", "-v"])):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            info[name] = (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            info[name] = None
    for pkg in ("@stoplight/prism-cli", "wiremock"):
        manifest = TOOLS / "node_modules" / pkg / "package.json"
        info[pkg] = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    info["commit"] = head_commit()
    return info


def head_commit() -> str | None:
    """HEAD's commit read from .git without running git."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return None


SERVERS = ("mock", "ceiling", "wiremock", "prism")


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(headers))) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    m = report["machine"]
    out.append(f"# mockserver benchmark, {report['date']}")
    out.append("")
    out.append(f"Machine: {m['nproc']} CPU ({m['cpu']}), Linux {m['kernel']}, Python "
               f"{m['python']}, uvicorn {m['uvicorn']}, Starlette {m['starlette']}; "
               f"{m['wrk']}; Prism {m['@stoplight/prism-cli']}; WireMock {m['wiremock']} "
               f"({m['java']}); commit {(m['commit'] or '?')[:12]}.")
    o = report["options"]
    out.append(f"Load: wrk -t{o['threads']} -c{o['connections']} -d{o['duration']}s "
               f"(after {o['warmup']} s warm-up per route; WireMock's JVM {o['jvm_warmup']} s; "
               f"best of {o.get('rounds', 1)} interleaved rounds for the mock, its ceiling "
               f"and the extras),"
               f" client on CPU {o['client_cpu']}, "
               f"each server one process on CPU {o['server_cpu']}; loopback.")
    la = report.get("loadavg")
    if la:
        out.append(f"Load average (1/5/15 min) at start {la['start'][0]:.2f}/"
                   f"{la['start'][1]:.2f}/{la['start'][2]:.2f}, at end {la['end'][0]:.2f}/"
                   f"{la['end'][1]:.2f}/{la['end'][2]:.2f} (the run itself keeps ~2 busy).")
    for note in report["notes"]:
        out.append(f"\n> {note}")
    out.append("\n## Routes\n")
    for route, servers in report["routes"].items():
        ceiling = servers.get("ceiling", {}).get("rps")
        rows = []
        for name in SERVERS:
            if name not in servers:
                continue
            r = servers[name]
            ratio = f"{r['rps'] / ceiling:.0%}" if ceiling else "n/a"
            rows.append([name, f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
                         f"{r['errors']:,}" + (f" ({r['non2xx']:,} non-2xx)" if r["non2xx"]
                                               else ""),
                         f"{r['status']} / {r['size']:,} B", ratio])
        out.append(f"### {route}\n")
        out.append(md_table(["server", "req/s", "p50 ms", "p99 ms", "errors", "HTTP / body",
                             "vs ceiling"], rows))
        out.append("")
    summary = []
    for route, servers in report["routes"].items():
        mock = servers.get("mock", {}).get("rps")
        cells = [route] + [f"{servers[s]['rps']:,.0f}" if s in servers else "-"
                           for s in SERVERS]
        for peer in ("ceiling", "wiremock", "prism"):
            cells.append(f"{mock / servers[peer]['rps']:.2f}x"
                         if mock and peer in servers and servers[peer]["rps"] else "-")
        summary.append(cells)
    if summary:
        out.append("### Summary (req/s; mock / peer)\n")
        out.append(md_table(["route", *SERVERS, "mock/ceiling", "mock/WireMock", "mock/Prism"],
                            summary))
    ex = report["extras"]
    if "validation" in ex:
        v = ex["validation"]
        out.append("\n## Response validation (dumpling videos route)\n")
        out.append(md_table(["mock", "req/s", "p50 ms", "p99 ms", "errors"], [
            [k, f"{v[k]['rps']:,.0f}", f"{v[k]['p50_ms']:.2f}", f"{v[k]['p99_ms']:.2f}",
             f"{v[k]['errors']:,}"] for k in ("validate on (default)", "--no-validate-responses")
            if k in v]))
        if v.get("cost"):
            out.append(f"\nValidation on costs {v['cost']:.0%} of the throughput (a negative "
                       f"figure means the difference is below the noise).")
    if "pages" in ex:
        p = ex["pages"]
        rows = p["rows"]
        out.append("\n## Page cost by account size (dumpling videos route)\n")
        out.append(md_table(["page", "videos", "body", "req/s", "p50 ms", "p99 ms", "errors",
                             "vs the small account's page of as many videos"], [
            [r["case"], str(r["videos"]), f"{r['size']:,} B", f"{r['rps']:,.0f}",
             f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['errors']:,}",
             "-" if r.get("like") is None else
             f"{r['rps'] / rows[r['like']]['rps']:.0%} of {rows[r['like']]['case']}"]
            for r in rows]))
        out.append(f"\nThe deep page starts about {p['approx_depth_videos']:,} videos down; "
                   "the last page holds the account's oldest 10 videos. A page is compared "
                   "with a page of as many videos, so that only the account's size differs.")
    if "memory" in ex:
        mem = ex["memory"]
        out.append("\n## Resident memory vs distinct handles (dumpling profile route)\n")
        out.append(md_table(["distinct handles", "RSS MB", "new profiles/s"], [
            [f"{r['handles']:,}", f"{r['rss_mb']:.1f}",
             f"{r['rps']:,.0f}" if "rps" in r else "-"] for r in mem["rows"]]))
        out.append(f"\nStatuses: {mem['statuses']}")
    if "coldstart" in ex:
        c = ex["coldstart"]
        out.append(f"\n## Cold start\n\n`mockserver serve` to its first answered "
                   f"`/__mock/health` (polled every 10 ms): median **{c['median_s'] * 1000:.0f}"
                   f" ms** of {len(c['runs_s'])} runs "
                   f"({', '.join(f'{x * 1000:.0f}' for x in c['runs_s'])} ms), with bytecode "
                   f"and the seed's pools kept by the start before; that first start, which "
                   f"wrote them: {c.get('first_start_s', 0) * 1000:.0f} ms.")
    if "plugin" in ex:
        pl = ex["plugin"]
        med = pl["median"]
        which = ("the pytest plugin's start-up" if pl["plugin_present"] else
                 "what the pytest plugin will do (mockserver/pytest_plugin.py absent)")
        out.append(f"\n## Pytest plugin start-up\n\n{which}: `ServerThread(create_app("
                   f"Settings())).start()` in a fresh `python -c`, median of "
                   f"{len(pl['runs'])}:\n")
        out.append(md_table(["import", "create_app", "start", "first request",
                             "total in-process", "whole process (incl. interpreter, stop)"],
                            [[f"{med[k] * 1000:.0f} ms" for k in (
                                "import_s", "create_app_s", "start_s", "first_request_s",
                                "to_first_answer_s", "process_wall_s")]]))
    if report.get("targets"):
        out.append("\n## Targets (issue 6)\n")
        out.append(md_table(["target", "measured", "met"], [
            [t["target"], t["measured"], "yes" if t["met"] else "**no**"]
            for t in report["targets"]]))
    return "\n".join(out) + "\n"


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for route, servers in report["routes"].items():
        if "mock" in servers and "ceiling" in servers:
            ratio = servers["mock"]["rps"] / servers["ceiling"]["rps"]
            rows.append({"target": f"{route}: >= 60% of ceiling",
                         "measured": f"{ratio:.0%}", "met": ratio >= 0.6})
        if "mock" in servers:
            p99 = servers["mock"]["p99_ms"]
            rows.append({"target": f"{route}: p99 < 10 ms", "measured": f"{p99:.2f} ms",
                         "met": p99 < 10})
    ex = report["extras"]
    if "pages" in ex:
        r = ex["pages"]["rows"]
        for row in r:
            if row.get("like") is None:
                continue
            like = r[row["like"]]
            ratio = row["rps"] / like["rps"]
            rows.append({"target": f"{row['case']} ({row['videos']} videos) within 10% of "
                                   f"{like['case']} ({like['videos']} videos)",
                         "measured": f"{ratio:.0%}", "met": ratio >= 0.9})
    if "memory" in ex:
        mem = ex["memory"]["rows"]
        last = mem[-1]
        rows.append({"target": "RSS after 100,000 handles < 200 MB",
                     "measured": f"{last['rss_mb']:.0f} MB after {last['handles']:,}",
                     "met": last["handles"] >= 100_000 and last["rss_mb"] < 200})
        ten = next((r for r in mem if r["handles"] >= 10_000), None)
        if ten and last is not ten:
            growth = last["rss_mb"] - ten["rss_mb"]
            rows.append({"target": "RSS flat after 10,000 handles (grows < 10%)",
                         "measured": f"+{growth:.0f} MB from {ten['handles']:,} to "
                                     f"{last['handles']:,}",
                         "met": growth < 0.1 * ten["rss_mb"]})
    if "coldstart" in ex:
        med = ex["coldstart"]["median_s"]
        rows.append({"target": "cold start < 1 s", "measured": f"{med * 1000:.0f} ms",
                     "met": med < 1})
    return rows


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mockserver benchmark (see bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-up")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per route (default 1)")
    parser.add_argument("--jvm-warmup", type=int, default=None,
                        help="seconds of warm-up for WireMock's JVM, spread over the routes "
                             "(default 15, quick 6)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="measure mock and ceiling (and each extra) this many times in "
                             "turn and keep the best (default 2; 1 with more than 4 routes)")
    parser.add_argument("--connections", "-c", type=int, default=32)
    parser.add_argument("--threads", "-t", type=int, default=1)
    parser.add_argument("--handles", default=None,
                        help="RSS checkpoints (default 10000,50000,100000)")
    parser.add_argument("--memory-cap", type=float, default=150,
                        help="seconds the distinct-handle run may take at most")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["mock-extras", "ceiling", "wiremock", "prism", "memory",
                                 "coldstart", "plugin"])
    parser.add_argument("--openapi-dir", type=Path,
                        help="use <dir>/<vendor>.json for Prism instead of the mock's own")
    args = parser.parse_args(argv)

    duration = args.duration or (3 if args.quick else 10)
    warmup = args.warmup if args.warmup is not None else 1
    if args.jvm_warmup is None:
        args.jvm_warmup = 6 if args.quick else 15
    handles = [int(x) for x in (args.handles or "10000,50000,100000").split(",")]
    cpus = os.cpu_count() or 1
    has_taskset = shutil.which("taskset") is not None
    two = cpus >= 2 and has_taskset
    opts = Opts(duration=duration, warmup=warmup, connections=args.connections,
                threads=args.threads, server_cpu="0" if two else None,
                client_cpu="1" if two else None)
    notes = []
    if not two:
        notes.append("One CPU (or no taskset): server and client share the CPU; ratios "
                     "still hold, absolute figures are low.")
    if shutil.which("wrk") is None:
        print("wrk is not installed (bash bench/run.sh installs it)", file=sys.stderr)
        return 2
    if two:
        os.sched_setaffinity(0, {1})   # this script, its pollers and loaders stay off CPU 0

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    work = TOOLS / "work" / stamp
    work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "notes": notes,
        "options": {"duration": duration, "warmup": warmup, "connections": args.connections,
                    "threads": args.threads, "jvm_warmup": args.jvm_warmup,
                    "server_cpu": opts.server_cpu,
                    "client_cpu": opts.client_cpu, "quick": args.quick},
        "routes": {}, "extras": {}, "skipped": []}
    routes: dict[str, dict[str, Any]] = report["routes"]
    began = time.monotonic()

    load_before = os.getloadavg()

    # 1. the mock, as users start it
    print(f"== mock (mockserver serve, CPU {opts.server_cpu})", flush=True)
    proc, port = start_mock(opts, work, "mock")
    health, tgts, unknown, video_id = discover(port)
    report["health_vendors"] = health.get("vendors")
    report["video_id"] = video_id
    if unknown:
        notes.append(f"Routes listed by /__mock/health but not known to the bench: {unknown}")
    record(port, tgts)
    (work / "recorded.json").write_text(json.dumps([t.recorded for t in tgts], indent=1))
    print(f"  routes: {', '.join(t.name for t in tgts)}; video {video_id}", flush=True)
    rounds = args.rounds or (2 if len(tgts) <= 4 else 1)
    report["options"]["rounds"] = rounds
    openapi: dict[str, bytes] = {}
    for vendor in sorted({t.vendor for t in tgts}):
        if args.openapi_dir:
            spec = args.openapi_dir / f"{vendor}.json"
            if spec.exists():
                openapi[vendor] = spec.read_bytes()
            continue
        status, _, raw = hit(port, "GET", f"/__mock/openapi/{vendor}.json")
        if status == 200:
            openapi[vendor] = raw
    # 2. the mock and its ceiling, side by side (both idle but the one under load),
    #    measured in turn route by route
    servers = [("mock", port)]
    ceiling = None
    if "ceiling" not in args.skip:
        cport = free_port()
        ceiling = PROCS.start([*pin(opts.server_cpu), str(ROOT / ".venv" / "bin" / "python"),
                               str(BENCH / "ceiling.py"), "--port", str(cport), "--recorded",
                               str(work / "recorded.json")], work / "ceiling.log")
        wait_ready(cport, "/", ceiling, timeout=30)
        servers.append(("ceiling", cport))
    print(f"== {' and '.join(label for label, _ in servers)}: {rounds} round(s) per route",
          flush=True)
    bench_servers(servers, tgts, opts, routes, rounds=rounds)
    if ceiling is not None:
        PROCS.stop(ceiling)
    if "mock-extras" not in args.skip:
        print("== page cost by account size (mock)", flush=True)
        report["extras"]["pages"] = page_cost(opts, port, rounds)
        videos = next((t for t in tgts if t.name == "dumpling videos"), None)
        if videos:
            print("== response validation on vs off (dumpling videos)", flush=True)
            noval, nport = start_mock(opts, work, "mock-novalidate", "--no-validate-responses")
            found: dict[str, dict[str, Any]] = {}
            bench_servers([("on", port), ("off", nport)], [videos], opts, found, rounds=rounds)
            PROCS.stop(noval)
            on, off = found[videos.name]["on"], found[videos.name]["off"]
            report["extras"]["validation"] = {
                "validate on (default)": on, "--no-validate-responses": off,
                "cost": 1 - on["rps"] / off["rps"] if off["rps"] else None}
    PROCS.stop(proc)

    # 3. WireMock (one round: it is a peer, not a ratio we hold ourselves to)
    jar = find_wiremock_jar()
    if "wiremock" in args.skip:
        pass
    elif jar is None or shutil.which("java") is None:
        msg = "WireMock skipped: no standalone jar in bench/.tools or no java on PATH"
        print(msg, flush=True)
        report["skipped"].append(msg)
    else:
        print(f"== WireMock ({jar.name}, JVM on CPU {opts.server_cpu})", flush=True)
        root = work / "wiremock"
        wiremock_mappings(root, tgts)
        port = free_port()
        proc = PROCS.start([*pin(opts.server_cpu), "java", "-jar", str(jar), "--port",
                            str(port), "--bind-address", HOST, "--root-dir", str(root),
                            "--disable-banner", "--no-request-journal"], work / "wiremock.log")
        try:
            wait_ready(port, "/__admin/health", proc, timeout=60)
            bench_servers([("wiremock", port)], tgts, opts, routes,
                          warmup_total=args.jvm_warmup)
        except RuntimeError as exc:
            print(f"  WireMock failed: {exc}", flush=True)
            report["skipped"].append(f"WireMock failed: {exc}")
        PROCS.stop(proc)

    # 4. Prism (one round), one process per vendor document
    prism = TOOLS / "node_modules" / ".bin" / "prism"
    if "prism" in args.skip:
        pass
    elif not prism.exists():
        msg = "Prism skipped: @stoplight/prism-cli is not installed in bench/.tools"
        print(msg, flush=True)
        report["skipped"].append(msg)
    else:
        for vendor in sorted({t.vendor for t in tgts}):
            if vendor not in openapi:
                msg = (f"Prism skipped for {vendor}: the mock does not serve "
                       f"/__mock/openapi/{vendor}.json yet")
                print(msg, flush=True)
                report["skipped"].append(msg)
                continue
            print(f"== Prism on {vendor}.json (node on CPU {opts.server_cpu})", flush=True)
            spec = work / f"openapi-{vendor}.json"
            spec.write_bytes(openapi[vendor])
            port = free_port()
            proc = PROCS.start([*pin(opts.server_cpu), str(prism), "mock", "-h", HOST, "-p",
                                str(port), str(spec)], work / f"prism-{vendor}.log")
            try:
                wait_ready(port, "/", proc, timeout=60)
                bench_servers([("prism", port)], [t for t in tgts if t.vendor == vendor],
                              opts, routes)
            except RuntimeError as exc:
                print(f"  Prism failed: {exc}", flush=True)
                report["skipped"].append(f"Prism failed on {vendor}: {exc}")
            PROCS.stop(proc)

    # 5. memory, cold start, plugin start-up
    if "memory" not in args.skip:
        print(f"== RSS vs distinct handles ({', '.join(f'{h:,}' for h in handles)})",
              flush=True)
        report["extras"]["memory"] = memory(opts, work, handles, args.memory_cap)
    if "coldstart" not in args.skip:
        print("== cold start (median of 5)", flush=True)
        report["extras"]["coldstart"] = cold_start(opts, work)
        print(f"  median {report['extras']['coldstart']['median_s'] * 1000:.0f} ms", flush=True)
    if "plugin" not in args.skip:
        print("== pytest plugin start-up (median of 5)", flush=True)
        try:
            report["extras"]["plugin"] = plugin_startup(work)
            med = report["extras"]["plugin"]["median"]
            print(f"  to first answer {med['to_first_answer_s'] * 1000:.0f} ms in-process, "
                  f"process wall {med['process_wall_s'] * 1000:.0f} ms", flush=True)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"  failed: {exc}", flush=True)
            report["skipped"].append(f"plugin start-up failed: {exc}")

    report["loadavg"] = {"start": load_before, "end": os.getloadavg()}
    report["targets"] = targets(report)
    report["elapsed_s"] = round(time.monotonic() - began, 1)
    text = render(report)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"{stamp}.md").write_text(text)
    shutil.copyfile(RESULTS / f"{stamp}.json", RESULTS / "latest.json")
    shutil.copyfile(RESULTS / f"{stamp}.md", RESULTS / "latest.md")
    print()
    print(text)
    print(f"(took {report['elapsed_s']:.0f} s; written to {RESULTS / (stamp + '.md')} and .json;"
          f" logs in {work})")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        sys.exit(main())
    finally:
        PROCS.stop_all()
