"""``GET /`` and ``GET /__mock/``: a small JSON map of the mock, so a newcomer who opens
the base URL in a browser sees what is served instead of a bare "Not Found"."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from mockserver import __version__

ADMIN_PREFIX = "/__mock"


def describe(mock: Any, admin_routes: list[BaseRoute]) -> dict[str, Any]:
    vendors = {
        vendor.name: {
            "title": vendor.title,
            "routes": [{"method": route.method, "path": route.path, "name": route.name}
                       for route in vendor.routes],
            "openapi": f"{ADMIN_PREFIX}/openapi/{vendor.name}.json",
        } for vendor in mock.vendors.values()}
    admin = [{"methods": sorted(route.methods - {"HEAD"}), "path": ADMIN_PREFIX + route.path}
             for route in admin_routes if isinstance(route, Route) and route.methods]
    return {"name": "tiktok mockserver", "version": __version__, "seed": mock.settings.seed,
            "ui": f"{ADMIN_PREFIX}/ui", "health": f"{ADMIN_PREFIX}/health",
            "coverage": f"{ADMIN_PREFIX}/coverage", "vendors": vendors, "admin": admin,
            "try": "curl -X POST {base}/api/v1/get-tiktok-profile -H 'Authorization: Bearer "
                   "YOUR_API_KEY' -H 'Content-Type: application/json' -d '{ \"handle\": "
                   "\"stoolpresidente\" }'"}


def index_route(path: str, admin_routes: list[BaseRoute]) -> Route:
    """The index at ``path``, listing ``admin_routes`` (mounted under /__mock)."""

    async def index(request: Request) -> JSONResponse:
        document = describe(request.app.state.mock, admin_routes)
        base = str(request.base_url).rstrip("/")
        document["try"] = document["try"].replace("{base}", base)
        return JSONResponse(document)

    return Route(path, index, methods=["GET"])
