"""The ``/__mock/`` control plane: health, reset, scenarios, keys, journal, clock, contract."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver import __version__
from mockserver.clock import OutOfRange, checked_advance, parse_instant
from mockserver.errors import AdminError
from mockserver.limits import BodyTooLarge, ClientGone, read_body, wide_integer
from mockserver.openapi import build_openapi
from mockserver.pipeline import faults
from mockserver.pipeline.keys import mask
from mockserver.pipeline.scenarios import WORLD_DESCRIPTIONS
from mockserver.store import StoreUnavailable

Handler = Callable[[Request], Awaitable[Any]]
T = TypeVar("T")


def _admin(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """JSON in, JSON out; a bad call is a 400 that says what was wrong, never a 500."""
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except AdminError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        except StoreUnavailable as lost:
            return JSONResponse({"error": lost.message}, status_code=503,
                                headers={"retry-after": "1"})
        return result if isinstance(result, Response) else JSONResponse(result)
    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    limit = _mock(request).settings.max_admin_body_bytes
    try:
        raw = await read_body(request.receive, request.headers.get("content-length"), limit)
    except BodyTooLarge as error:
        raise AdminError(f"{error} (--max-admin-body-bytes)", 413) from None
    except ClientGone:
        raise AdminError("the client went away before sending the whole body") from None
    if not raw.strip():
        return {}
    try:  # orjson refuses NaN and Infinity and stops at 1024 levels instead of recursing
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AdminError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise AdminError("body must be a JSON object")
    wide = wide_integer(raw)
    if wide is not None:
        raise AdminError(f"{wide} is an integer beyond 64 bits, which cannot be stored "
                         "(from -2^63 to 2^64-1)")
    return document


def _mock(request: Request) -> Any:
    return request.app.state.mock


async def _written(request: Request, step: Callable[..., T], *args: Any) -> T:
    """``step(*args)``, an admin call that writes to the store, from the event loop: all
    of it in one step that waits for another process's lock without holding the process
    (Store.atomically), else the 503 (:func:`_admin`)."""
    return await _mock(request).store.atomically(step, *args)


@_admin
async def health(request: Request) -> dict[str, Any]:
    mock = _mock(request)
    return {"status": "ok", "version": __version__, "seed": mock.settings.seed,
            "clock": mock.clock.describe(),
            "vendors": {name: [f"{r.method} {r.path}" for r in vendor.routes]
                        for name, vendor in mock.vendors.items()}}


@_admin
async def reset(request: Request) -> dict[str, Any]:
    await _written(request, _mock(request).reset)
    return {"reset": True}


@_admin
async def scenarios(request: Request) -> dict[str, Any]:
    mock = _mock(request)
    catalogue = []
    for vendor in mock.vendors.values():
        for route in vendor.routes:
            where = {"vendor": vendor.name, "route": route.name}
            for row in vendor.describe_errors(route, request_id="[requestId]"):
                catalogue.append({**where, "kind": "error", **row})
            for name, description in WORLD_DESCRIPTIONS.items():
                catalogue.append({**where, "kind": "world", "name": name,
                                  "description": description})
            for name, description in faults.DESCRIPTIONS.items():
                catalogue.append({**where, "kind": "transport", "name": name,
                                  "status": 200 if name in faults.BODY_FAULTS else None,
                                  "description": description})
    return {"catalogue": catalogue, "armed": [_shown(e) for e in mock.scenarios.armed()]}


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An armed entry as the admin API shows it: the key it matches is held masked, as
    the journal shows keys, with the digest that matches it left out."""
    return {name: value for name, value in entry.items() if name != "key_id"}


@_admin
async def arm(request: Request) -> Response:
    entry = await _written(request, _mock(request).scenarios.arm, await _json(request))
    return JSONResponse(_shown(entry), status_code=201)


@_admin
async def disarm(request: Request) -> dict[str, Any]:
    entry_id = request.query_params.get("id")
    return {"disarmed": await _written(request, _mock(request).scenarios.disarm, entry_id)}


@_admin
async def requests(request: Request) -> dict[str, Any]:
    params = request.query_params
    raw = params.get("limit", "0")
    # ASCII digits alone: int() also takes "-1" (then one entry was answered), " 1" or "٣"
    if not (raw.isascii() and raw.isdigit()):
        raise AdminError("limit must be a whole number >= 0 (0: every entry kept)")
    limit = int(raw) or None
    entries = _mock(request).journal.entries(dict(params), limit)
    return {"count": len(entries), "requests": entries}


@_admin
async def list_keys(request: Request) -> dict[str, Any]:
    return {"keys": _mock(request).keys.listing()}


@_admin
async def get_key(request: Request) -> dict[str, Any]:
    """The key is shown masked, as the listing and the journal show it: an answer (or a
    proxy's log of it) never carries a usable key."""
    key = request.path_params["key"]
    return {"key": mask(key), **_mock(request).keys.peek(key)}


@_admin
async def put_key(request: Request) -> dict[str, Any]:
    key = request.path_params["key"]
    changes = await _json(request)
    return {"key": mask(key), **await _written(request, _mock(request).keys.update, key,
                                               changes)}


@_admin
async def get_clock(request: Request) -> dict[str, Any]:
    return _mock(request).clock.describe()


@_admin
async def set_clock(request: Request) -> dict[str, Any]:
    """``{"freeze": true|false}`` with one of ``"set": ISO-8601|unix`` or ``"advance":
    seconds >= 0``. Every value is checked before the clock changes at all."""
    body = await _json(request)
    return await _written(request, _move_clock, _mock(request), body)


def _move_clock(mock: Any, body: dict[str, Any]) -> dict[str, object]:
    """:func:`set_clock`'s checks and moves, in one store step."""
    clock = mock.clock
    unknown = set(body) - {"freeze", "set", "advance"}
    if unknown:
        raise AdminError(f"unknown fields {sorted(unknown)}; allowed: freeze, set, advance")
    if "set" in body and "advance" in body:  # which one was meant is anyone's guess
        raise AdminError("give set or advance, not both: set moves the clock to an instant, "
                         "advance moves it forward by seconds")
    freeze, advance = body.get("freeze"), body.get("advance", 0)
    if freeze is not None and not isinstance(freeze, bool):
        raise AdminError("freeze must be true or false")
    if isinstance(advance, bool) or not isinstance(advance, int | float):
        raise AdminError("advance must be a number of seconds")
    instant = body.get("set")
    if "set" in body and (isinstance(instant, bool) or not isinstance(instant, str | int | float)):
        # named as JSON: "'None' is neither ISO-8601 nor unix seconds" was Python's repr
        raise AdminError(f"set must be ISO-8601 text or unix seconds, not "
                         f"{orjson.dumps(instant).decode()[:64]}")
    try:
        if "set" in body:
            at = parse_instant(str(body["set"]))
        else:
            checked_advance(clock.now(), advance)
    except OutOfRange as exc:  # named as sent: an ISO text, not the seconds it was read as
        raise AdminError(f"set: {orjson.dumps(instant).decode()[:64]} is outside "
                         f"{exc.limits}") from None
    except (ValueError, OverflowError) as exc:
        raise AdminError(f"set: {exc}" if "set" in body else str(exc)) from None
    if freeze is True:
        clock.freeze()
    elif freeze is False:
        clock.unfreeze()
    if "set" in body:
        clock.set(at)
    elif advance:
        clock.advance(advance)
    return clock.describe()


@_admin
async def coverage(request: Request) -> dict[str, Any]:
    params = request.query_params
    return _mock(request).coverage.report(params.get("since"), params.get("vendor"))


@_admin
async def coverage_mark(request: Request) -> dict[str, Any]:
    name = (await _json(request)).get("name")
    return await _written(request, _mock(request).coverage.mark, name)


UI = Path(__file__).parent / "ui"
UI_TYPES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
            "style.css": "text/css; charset=utf-8"}


async def ui(request: Request) -> Response:
    """The inspector: static files shipped in the package that read and steer the mock
    through this admin API like any client (they hold no data of their own)."""
    name = request.path_params.get("name", "index.html")
    if name not in UI_TYPES:
        return JSONResponse({"error": f"no file {name!r} in the inspector"}, status_code=404)
    return Response((UI / name).read_bytes(), media_type=UI_TYPES[name],
                    headers={"cache-control": "no-cache"})


@_admin
async def schema_index(request: Request) -> dict[str, Any]:
    return {"schemas": sorted(_mock(request).schemas.documents)}


@_admin
async def schema(request: Request) -> dict[str, Any]:
    name = f"{request.path_params['vendor']}/{request.path_params['name']}".removesuffix(".json")
    documents = _mock(request).schemas.documents
    if name not in documents:
        raise AdminError(f"no schema {name!r}; GET /__mock/schemas lists them", 404)
    return documents[name]


@_admin
async def openapi(request: Request) -> dict[str, Any]:
    mock = _mock(request)
    name = request.path_params["vendor"]
    if name not in mock.vendors:
        raise AdminError(f"no vendor {name!r}; one of {sorted(mock.vendors)}", 404)
    # the document names the server it was fetched from, so a tool pointed at it (schemathesis)
    # calls this mock, on whatever host and port it runs
    server = str(request.base_url).rstrip("/")
    return build_openapi(mock.vendors[name], mock.schemas, server)


def routes() -> list[Route]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/scenarios", scenarios, methods=["GET"]),
        Route("/scenarios", arm, methods=["POST"]),
        Route("/scenarios", disarm, methods=["DELETE"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/keys", list_keys, methods=["GET"]),
        Route("/keys/{key}", get_key, methods=["GET"]),
        Route("/keys/{key}", put_key, methods=["PUT"]),
        Route("/clock", get_clock, methods=["GET"]),
        Route("/clock", set_clock, methods=["POST"]),
        Route("/schemas", schema_index, methods=["GET"]),
        Route("/schemas/{vendor}/{name}", schema, methods=["GET"]),
        Route("/openapi/{vendor}.json", openapi, methods=["GET"]),
        Route("/coverage", coverage, methods=["GET"]),
        Route("/coverage/mark", coverage_mark, methods=["POST"]),
        Route("/ui", ui, methods=["GET"]),
        Route("/ui/{name}", ui, methods=["GET"]),
    ]
