"""What redis-server spends per mock request, in instructions: a steady figure for A/B work
on the Redis store, where redis-server's own CPU and its command statistics move with the
machine's load.

    .venv/bin/python bench/redis_instructions.py                       # DumplingAI profile
    .venv/bin/python bench/redis_instructions.py --route "gateway user" -n 2000
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/redis_instructions.py  # A side

Starts redis-server under valgrind's callgrind on a free loopback port, twice: once while
the mock (in-process, as bench/instructions.py calls it, 32 requests in flight as wrk's
connections have them, ``--rate-limit 0`` unless ``--rate-limit N``) makes a warm-up
only, once while it makes the warm-up and N requests more; the difference over N is
redis-server's side of a request: its scripts, its parsing and replies, its system calls'
user-space part. It also prints the scripts (EVALSHA and EVAL) and the commands Redis ran
per request, from INFO commandstats: a rate-limited key's window is counted in a script,
so ``--rate-limit 1000000000`` (every request counted, none refused) shows what the
default, a limit on, costs. The mock's side is bench/instructions.py's
``--store redis://...``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import free_port  # noqa: E402

WARM_UP = 100
# the mock's side, run in a child from a neutral folder so PYTHONPATH picks its code
CHILD = """
import asyncio, json, sys
sys.path.insert(0, {bench!r})
from hotspots import call
from run import HANDLE, KEYS, NOW
from mockserver.app import create_app
from mockserver.clock import parse_instant
from mockserver.settings import Settings

mock = create_app(Settings(now=parse_instant(NOW), credits=10**9, rate_limit={rate_limit},
                           store={url!r}))
routes = {{
    "dumpling profile": ("POST", "/api/v1/get-tiktok-profile",
                         json.dumps({{"handle": HANDLE}}).encode(),
                         [(b"authorization", KEYS["dumpling"][1].encode()),
                          (b"content-type", b"application/json")]),
    "gateway user": ("GET", f"/dev/tiktok/user/{{HANDLE}}", b"",
                     [(b"x-api-key", KEYS["gateway"][1].encode())]),
}}
method, path, body, headers = routes[{route!r}]

async def requests(count):
    left = [None] * count
    async def connection():
        while left:
            left.pop()
            status, _, answer = await call(mock, method, path, body, headers)
            assert status == 200, answer[:300]
    await asyncio.gather(*(connection() for _ in range(32)))

asyncio.run(requests({count}))
"""


def instructions(route: str, count: int, rate_limit: int) -> tuple[int, int, int]:
    """redis-server's instructions, start to shutdown, while the mock makes ``count``, and
    the scripts and the commands it ran."""
    folder = tempfile.mkdtemp(prefix="mockserver-redis-")
    out, port = f"{folder}/callgrind.out", free_port()
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "redis-server",
         "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(600):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        code = CHILD.format(bench=str(BENCH), url=f"redis://127.0.0.1:{port}/0",
                            route=route, count=count, rate_limit=rate_limit)
        subprocess.run([sys.executable, "-c", code], check=True, cwd=folder)
        stats = client.info("commandstats")
        scripts = sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0)
                      for name in ("evalsha", "eval"))
        commands = sum(row.get("calls", 0) for name, row in stats.items()
                       if name not in ("cmdstat_info", "cmdstat_ping"))
    finally:
        with contextlib.suppress(redis.ConnectionError):  # it closes the connection
            client.shutdown(nosave=True)
        server.wait()
    total = int(re.search(r"^(?:summary|totals): (\d+)", Path(out).read_text(), re.M)[1])
    return total, scripts, commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="requests per measured run")
    parser.add_argument("--route", default="dumpling profile",
                        choices=["dumpling profile", "gateway user"])
    parser.add_argument("--rate-limit", type=int, default=0,
                        help="the keys' requests a minute (0: no limit, nothing counted)")
    args = parser.parse_args()
    none = instructions(args.route, WARM_UP, args.rate_limit)
    some = instructions(args.route, WARM_UP + args.n, args.rate_limit)
    spent, scripts, commands = ((b - a) / args.n for a, b in zip(none, some, strict=True))
    print(f"{args.route}, rate limit {args.rate_limit or 'off'}: redis-server {spent:,.0f} "
          f"instructions, {scripts:.2f} scripts, {commands:.2f} commands per request")


if __name__ == "__main__":
    main()
