"""The ceiling: a bare Starlette app that answers each benchmarked route with the very
bytes (status, headers, body) the mock returned for it, recorded by bench/run.py.

Same server settings as ``mockserver serve``: uvicorn, httptools, uvloop, one process,
no access log, no lifespan. Nothing is parsed or validated, so this is the fastest any
Starlette-on-uvicorn app can answer these routes on this machine.

    python bench/ceiling.py --port 9000 --recorded bench/.tools/work/<run>/recorded.json
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(recorded: list[dict]) -> Starlette:
    routes = []
    for entry in recorded:
        body = base64.b64decode(entry["body_b64"])
        headers = dict(entry.get("headers", []))
        status = entry["status"]

        def make(body: bytes = body, headers: dict = headers, status: int = status):
            async def endpoint(request: Request) -> Response:
                return Response(body, status_code=status, headers=headers,
                                media_type="application/json")
            return endpoint
        routes.append(Route(entry["path"], make(), methods=[entry["method"]]))
    return Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--recorded", type=Path, required=True)
    args = parser.parse_args()
    app = build(json.loads(args.recorded.read_text()))
    uvicorn.run(app, host=args.host, port=args.port, http="httptools", loop="uvloop",
                lifespan="off", access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
