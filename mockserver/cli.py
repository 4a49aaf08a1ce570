"""tiktok mockserver: serve the mock, write a vendor's OpenAPI document, or validate a
recorded payload against the contract."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    serve.set_defaults(run=serve_command)


def _openapi_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("openapi", help="write a vendor's OpenAPI 3.1 document")
    command.add_argument("vendor", help="dumpling, socialfetch or gateway")
    command.add_argument("-o", "--output", help="file to write (default: standard output)")
    command.set_defaults(run=openapi_command)


def _validate_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "validate", help="check a recorded payload against the contract (exit 0 valid, "
                         "1 violations, 2 usage error)")
    command.add_argument("--vendor", required=True, help="dumpling, socialfetch or gateway")
    command.add_argument("--route", required=True, help="the route's name, e.g. profile")
    kind = command.add_mutually_exclusive_group(required=True)
    kind.add_argument("--request", action="store_true",
                      help="FILE is a request: its JSON body or a {headers, path, query, body}")
    kind.add_argument("--response", type=int, metavar="STATUS",
                      help="FILE is the body of a response with this status")
    command.add_argument("file", metavar="FILE", help="a JSON file, or - for standard input")
    command.set_defaults(run=validate_command)


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


def serve_command(args: argparse.Namespace) -> int:
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
        return _usage_error(exc)
    print(banner(settings, app.state.mock.vendors), flush=True)
    logging.basicConfig(level=args.log_level.upper())
    config = uvicorn_config(app, settings.host, settings.port, log_level=args.log_level,
                            access_log=False)
    uvicorn.Server(config).run()
    return 0


def openapi_command(args: argparse.Namespace) -> int:
    from mockserver.contract import Schemas
    from mockserver.openapi import build_openapi
    from mockserver.validate import UnknownContract, find_vendor

    try:
        vendor = find_vendor(args.vendor)
    except UnknownContract as exc:
        return _usage_error(exc)
    text = json.dumps(build_openapi(vendor, Schemas()), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from mockserver.validate import report, validate_payload

    try:
        payload = _read_json(args.file)
        violations = validate_payload(args.vendor, args.route, payload, request=args.request,
                                      status=200 if args.request else args.response)
    except (OSError, ValueError) as exc:  # unreadable, not JSON, or an UnknownContract
        return _usage_error(exc)
    kind = "request" if args.request else f"response {args.response}"
    print(report(violations, f"{args.file} ({args.vendor} {args.route} {kind})"))
    return 1 if violations else 0


def _read_json(file: str) -> Any:
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file} is not JSON: {exc}") from None


def _usage_error(exc: Exception) -> int:
    print(f"mockserver: {exc}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _openapi_parser(sub)
    _validate_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)
