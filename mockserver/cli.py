"""tiktok mockserver: serve the mock, write a vendor's OpenAPI document, or validate a
recorded payload against the contract."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockserver import __version__
from mockserver.settings import TABLE, Settings
from mockserver.settings_doc import add_setting_flags, settings_epilog


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="start the mock", description="Start the mock. Every setting below is "
        "also read from its MOCKSERVER_*\nvariable and the config file; a flag beats the "
        "variable, which beats the config\nfile, which beats the default.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=settings_epilog())
    add_setting_flags(serve)
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


def _coverage_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "coverage", help="which documented outcomes a running mock has sent (exit 1 under "
                         "--min, 2 when the mock cannot be read)")
    command.add_argument("--url", default="http://127.0.0.1:8080", help="the running mock")
    command.add_argument("--min", type=float, default=0.0, metavar="PERCENT",
                         help="fail when a vendor in scope has met less than this share")
    command.add_argument("--vendor", help="only this vendor (default: every vendor called)")
    command.add_argument("--since", help="count from this mark (POST /__mock/coverage/mark)")
    command.add_argument("--admin-token", default=os.environ.get("MOCKSERVER_ADMIN_TOKEN"),
                         help="sent as X-Mock-Admin-Token (env MOCKSERVER_ADMIN_TOKEN)")
    command.set_defaults(run=coverage_command)


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


def admin_note(mock: Any) -> str:
    """How /__mock/ is guarded; a token made at start is printed, as Jupyter prints its own."""
    if mock.admin_token_made:
        return (f"admin token (made now, as --host is not loopback; choose one with "
                f"--admin-token or MOCKSERVER_ADMIN_TOKEN): {mock.admin_token}\n"
                f"  /__mock/* needs the header  X-Mock-Admin-Token: {mock.admin_token}")
    if mock.admin_token:
        return "admin: /__mock/* needs the header X-Mock-Admin-Token (--admin-token)"
    return "admin: /__mock/* answers loopback host names only (--allowed-host adds one)"


def serve_command(args: argparse.Namespace) -> int:
    from mockserver.app import START_ERRORS, create_app, start_error
    from mockserver.server import MockUvicorn, listening_socket, tune_gc_for_serving, uvicorn_config

    flags = {row.name: getattr(args, row.name) for row in TABLE if row.flag}
    try:
        settings = Settings.load(flags)
    except ValueError as exc:
        return _usage_error(exc)
    for warning in settings.warnings:
        print(f"mockserver: warning: {warning}", file=sys.stderr)
    if settings.workers > 1 and settings.store in ("", "memory"):
        return _usage_error(
            f"{settings.source('workers')}: {settings.workers} processes need a store they "
            "can share: "
            "--store FILE (an SQLite file, processes on one machine) or --store "
            "redis://HOST:PORT/DB (Redis, processes and replicas anywhere); the memory store "
            "lives inside one process")
    try:
        app = create_app(settings)  # in every case: a bad config or store stops here
    except START_ERRORS as exc:
        return _usage_error(start_error(settings, exc))
    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:
        return _usage_error(f"cannot listen on {settings.host}:{settings.port} (--host, --port): "
                            f"{exc.strerror or exc}")
    logging.basicConfig(level=settings.log_level.upper())
    config = uvicorn_config(app, settings.host, settings.port, log_level=settings.log_level,
                            access_log=settings.access_log)
    if settings.access_log:  # uvicorn logs each request at INFO, whatever --log-level says
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)

    def announce(port: int) -> None:
        print(banner(replace(settings, port=port), app.state.mock.vendors), flush=True)
        print(admin_note(app.state.mock), flush=True)

    if settings.workers > 1:
        from mockserver.workers import NoWorkerServed, run_workers

        mock = app.state.mock
        # one token for every worker: a token made now is handed to them, not made N times
        flags["admin_token"] = mock.admin_token
        mock.close()  # each worker opens the store itself
        # the banner once a worker serves; until then connections wait in the backlog
        try:
            run_workers(flags, sock, settings.workers,
                        functools.partial(announce, sock.getsockname()[1]))
        except NoWorkerServed as exc:
            print(f"mockserver: {exc}", file=sys.stderr, flush=True)
            return 1
        return 0
    tune_gc_for_serving()
    MockUvicorn(config, app.state.mock, close_store=True, announce=announce).run(sockets=[sock])
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
        try:
            Path(args.output).write_text(text)
        except OSError as exc:
            return _usage_error(f"--output {args.output}: cannot write it: "
                                f"{exc.strerror or exc}")
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


def coverage_command(args: argparse.Namespace) -> int:
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    from mockserver import coverage

    query = urlencode({k: v for k, v in (("vendor", args.vendor), ("since", args.since)) if v})
    request = Request(f"{args.url.rstrip('/')}/__mock/coverage?{query}",
                      headers={"X-Mock-Admin-Token": args.admin_token} if args.admin_token else {})
    try:
        with urlopen(request, timeout=30) as response:
            report = json.load(response)
    except HTTPError as exc:
        return _usage_error(ValueError(f"cannot read coverage from {args.url}: HTTP {exc.code} "
                                       f"{exc.read().decode('utf-8', 'replace')}"))
    except (URLError, OSError, ValueError) as exc:
        return _usage_error(ValueError(f"cannot read coverage from {args.url}: {exc}"))
    vendors = coverage.in_scope(report, args.vendor)
    print(coverage.table(report, vendors))
    print()
    print("\n".join(coverage.summary(report, vendors)))
    failed = coverage.below(report, vendors, args.min)
    for line in failed:
        print(f"mockserver coverage: {line}", file=sys.stderr)
    return 1 if failed else 0


def _read_json(file: str) -> Any:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"FILE {file}: cannot read it: {getattr(exc, 'strerror', None) or exc}"
                         ) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file} is not JSON: {exc}") from None


def _usage_error(exc: Exception | str) -> int:
    print(f"mockserver: {exc}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _openapi_parser(sub)
    _validate_parser(sub)
    _coverage_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)
