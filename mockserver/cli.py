"""``mockserver serve`` (and, later, ``validate`` and ``openapi``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from mockserver.settings import Settings

FLAG_HELP = {
    "host": "interface to listen on (default 127.0.0.1; the Docker image uses 0.0.0.0)",
    "port": "port for all three vendors and /__mock/ (default 8080)",
    "seed": "seed of the generated world (default 1)",
    "now": "freeze the clock at this ISO-8601 instant or unix time",
    "credits": "starting balance of a key never seen before (default 1000)",
    "rate-limit": "requests per key per minute, 0 for none (default 600)",
    "config": "TOML file with [server], [[keys]], [[scenarios]] and fixtures",
    "store": "'memory' (default) or an SQLite file that keeps state across restarts",
    "fixtures": "extra fixture file or folder (repeatable)",
}


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="start the mock (every flag also reads MOCKSERVER_<FLAG>)")
    for flag in ("host", "port", "seed", "now", "credits", "rate-limit", "config", "store"):
        serve.add_argument(f"--{flag}", help=FLAG_HELP[flag])
    serve.add_argument("--fixtures", action="append", help=FLAG_HELP["fixtures"])
    serve.add_argument("--strict", action="store_true", default=None,
                       help="accept only keys from the config or fixtures")
    serve.add_argument("--no-validate-responses", dest="validate_responses",
                       action="store_false", default=None,
                       help="skip validating responses against their schemas")
    serve.add_argument("--log-level", default="warning")


def banner(settings: Settings, vendors: dict) -> str:
    base = f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}" \
           f":{settings.port}"
    lines = [f"mockserver on {base}  (seed {settings.seed}, admin {base}/__mock/health)"]
    for vendor in vendors.values():
        for route in vendor.routes:
            lines.append(f"  {vendor.title:<12} {route.method:<4} {base}{route.path}")
    lines += ["try:", f"  curl -X POST {base}/api/v1/get-tiktok-profile "
              "-H 'Authorization: Bearer YOUR_API_KEY' -H 'Content-Type: application/json' "
              "-d '{ \"handle\": \"stoolpresidente\" }'"]
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.app import create_app
    from mockserver.server import uvicorn_config

    flags = {name: getattr(args, name) for name in (
        "host", "port", "seed", "now", "credits", "rate_limit", "config", "store", "strict",
        "validate_responses")}
    if args.fixtures:
        flags["fixture_paths"] = tuple(args.fixtures)
    try:
        settings = Settings.load(flags)
        app = create_app(settings)
    except (ValueError, FileNotFoundError) as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    print(banner(settings, app.state.mock.vendors), flush=True)
    logging.basicConfig(level=args.log_level.upper())
    config = uvicorn_config(app, settings.host, settings.port, log_level=args.log_level,
                            access_log=False)
    uvicorn.Server(config).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    args = parser.parse_args(argv)
    return serve(args)
