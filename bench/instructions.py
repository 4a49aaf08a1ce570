"""Instructions per request, per route, in-process: a steady figure for A/B work on a
machine whose wall-clock figures move 10-40% between runs.

    .venv/bin/python bench/instructions.py                         # every route
    .venv/bin/python bench/instructions.py --route "gateway video" -n 2000
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/instructions.py   # the A side
    .venv/bin/python bench/instructions.py --no-ceiling --route "cold dumpling videos" -n 200
    .venv/bin/python bench/instructions.py --no-ceiling --store redis://127.0.0.1:6379/0

Each figure comes from two runs under valgrind's callgrind, one making N calls after a
warm-up and one making none; their difference over N cancels start-up and warm-up. Both
the mock and the ceiling (bench/ceiling.py's app, fed the mock's own answers) are called
in-process with an ASGI scope like wrk's request, so "mock - ceiling" is what the mock's
pipeline adds to what any Starlette app pays. Figures repeat within about 0.5%.

With ``--store`` the mock keeps its ledger there (say, a Redis the caller started for it
alone); the figure is then the mock's side of each round trip, one request at a time,
not redis-server's.

What it does not weigh: the kernel (syscalls, the socket), and memory copies as the CPU
does them (valgrind swaps memcpy for a plain loop). A change that moves bytes or adds a
write is judged with bench/run.sh, not here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from ceiling import build  # noqa: E402
from hotspots import call  # noqa: E402
from run import HANDLE, KEYS, NOW, known_targets  # noqa: E402

WARM_UP = 200


def child(route: str, calls: int, ceiling: bool, store: str = "memory") -> None:
    """Runs under valgrind: build the apps, warm up, then make ``calls`` calls. A route
    named ``cold <route>`` asks for a never-seen account's first page every call."""
    cold = route.startswith("cold ")
    route = route.removeprefix("cold ")
    from mockserver.app import create_app
    from mockserver.clock import parse_instant
    from mockserver.settings import Settings

    mock = create_app(Settings(now=parse_instant(NOW), credits=10**9, rate_limit=0,
                               store=store))
    loop = asyncio.new_event_loop()
    json_type = [(b"content-type", b"application/json")]
    auth = [(KEYS["dumpling"][0].lower().encode(), KEYS["dumpling"][1].encode()), *json_type]
    _, _, raw = loop.run_until_complete(call(
        mock, "POST", "/api/v1/get-tiktok-profile-videos",
        json.dumps({"handle": HANDLE}).encode(), auth))
    targets = {}
    for template, (vendor, name, path, body) in known_targets(
            json.loads(raw)["aweme_list"][0]["aweme_id"]).items():
        header, value = KEYS[vendor]
        targets[name] = (template.split()[0], path, (body or "").encode(),
                         [(header.lower().encode(), value.encode()), *(json_type if body else [])])
    recorded = []
    for method, path, body, headers in targets.values():
        status, sent_headers, payload = loop.run_until_complete(
            call(mock, method, path, body, headers))
        assert status == 200, (path, status, payload[:200])
        recorded.append({"method": method, "path": path, "status": status, "body_b64":
                         base64.b64encode(payload).decode(), "headers": [
                             [k.decode(), v.decode()] for k, v in sent_headers
                             if k not in (b"content-length", b"content-type")]})
    app = build(recorded) if ceiling else mock
    if not ceiling:  # the collector as `mockserver serve` sets it (it only matters cold)
        from mockserver.server import tune_gc_for_serving
        tune_gc_for_serving()
    method, path, body, headers = targets[route]

    async def repeat(times: int, prefix: str) -> None:
        for number in range(times):
            if not cold:
                await call(app, method, path, body, headers)
                continue
            handle = f"{prefix}{number}"  # a never-seen account every call
            await call(app, method, path.replace(HANDLE, handle),
                       body.replace(HANDLE.encode(), handle.encode()), headers)

    loop.run_until_complete(repeat(WARM_UP // 10 if cold else WARM_UP, "warm"))
    loop.run_until_complete(repeat(calls, "cold"))


def collected(route: str, calls: int, ceiling: bool, store: str = "memory") -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", route, str(calls), "--store", store]
    if ceiling:
        command.append("--ceiling")
    # a fixed hash seed, so dict layouts (and so the counts) repeat from run to run
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{route}: callgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(route: str, calls: int, ceiling: bool, store: str = "memory") -> float:
    with ThreadPoolExecutor(2) as pool:  # the two runs side by side, one per core
        none, some = pool.map(lambda n: collected(route, n, ceiling, store), (0, calls))
    return (some - none) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="calls per measured run")
    parser.add_argument("--route", action="append", help='e.g. "dumpling profile"')
    parser.add_argument("--no-ceiling", action="store_true", help="measure the mock only")
    parser.add_argument("--store", default="memory",
                        help="the mock's --store (redis://... of a Redis you started)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.ceiling, args.store)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    routes = args.route or [name for _, name, _, _ in known_targets("0").values()]
    print(f"{'route':<20} {'mock':>10} {'ceiling':>10} {'mock - ceiling':>15}   "
          "(instructions per request, in-process)", flush=True)
    for route in routes:
        mock = per_request(route, args.n, ceiling=False, store=args.store)
        if args.no_ceiling:
            print(f"{route:<20} {mock:>10,.0f}", flush=True)
            continue
        ceiling = per_request(route, args.n, ceiling=True)
        print(f"{route:<20} {mock:>10,.0f} {ceiling:>10,.0f} {mock - ceiling:>15,.0f}",
              flush=True)


if __name__ == "__main__":
    main()
