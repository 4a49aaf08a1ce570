"""An OpenAPI 3.1 document per vendor, generated from its route table and ``schemas/``.

The JSON Schemas stay the one source of truth: each schema document becomes a
component as it is (only ``$schema``/``$id`` dropped and its ``$defs`` lifted
into components of their own, with the references to them repointed), and
parameters and request bodies embed the parts of the request schema that
describe them.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

from mockserver import __version__
from mockserver.contract import Schemas
from mockserver.vendors.base import Route, Vendor

_CONVERTOR = re.compile(r"\{(\w+):[^}]*\}")
SERVER_URL = "http://127.0.0.1:8080"
JSON = "application/json"
AUTH_HEADERS = {"authorization", "x-api-key"}
# Headers OpenAPI describes elsewhere (the security scheme, the request body's media type).
_IMPLIED_HEADERS = AUTH_HEADERS | {"content-type", "accept"}

#: Error statuses a vendor answers without any scenario (bad input, keys, credits, limits),
#: in its own error form. Beside the documented ones: 400 for a bad X-Mock-* header (the
#: gateway's BadRequestException), 405 for another method on a route's path (with Allow),
#: 413 for a body over --max-body-bytes (Social Fetch: its documented bad_request 400).
NATURAL_ERROR_STATUSES = {
    "dumpling": (400, 401, 403, 404, 405, 413, 429, 500, 502, 503),
    # 404: a handle that leaves the route's path (empty, or with a slash) names no route
    "socialfetch": (400, 401, 402, 404, 405, 500, 502, 503),
    # another method on a route's path is 403 Missing Authentication Token, as API Gateway's
    "gateway": (400, 403, 404, 413, 429, 502, 504),
}
#: Why a route answers a status, where its phrase alone does not say.
_WHEN = {
    405: "Method Not Allowed: any other method on this path (HEAD included); the Allow "
         "header names the route's.",
    413: "Content Too Large: a request body over --max-body-bytes; the connection is closed.",
}

#: The mock's own answers, on every route, in its own forms: a refusal its connection layer
#: writes before any route sees the request (without the vendor's headers), or its own failure.
REFUSAL, FAILURE = "mockserver/refusal", "mockserver/failure"
MOCK_STATUSES: dict[int, tuple[tuple[str, ...], str]] = {
    408: ((REFUSAL,), "Request Timeout: the mock's own refusal of a request line, headers or "
                      "body not sent within --header-timeout / --body-timeout; the connection "
                      "is closed."),
    414: ((REFUSAL,), "URI Too Long: the mock's own refusal of a URL over --max-header-bytes; "
                      "the connection is closed."),
    431: ((REFUSAL,), "Request Header Fields Too Large: the mock's own refusal of a request "
                      "line and headers over --max-header-bytes; the connection is closed."),
    500: ((FAILURE,), "Internal Server Error: the vendor's, or the mock's own when a body it "
                      "rendered broke its schema (a bug in the mock; header "
                      "X-Mock-Contract-Violation)."),
    503: ((REFUSAL, FAILURE), "Service Unavailable: the vendor's, or the mock's own when more "
                              "than --max-connections are open (no vendor headers; the "
                              "connection is closed) or its shared store is out of reach "
                              "(Retry-After: 1)."),
}


class ResponseHeader(NamedTuple):
    description: str
    schema: dict[str, Any]
    statuses: tuple[int, ...] | None = None  # the statuses it comes with; None: every answer
    required: bool = True


_COUNT = {"type": "integer", "minimum": 0}
_TEXT = {"type": "string", "minLength": 1}
#: Response headers each vendor documents, or the real host adds.
RESPONSE_HEADERS: Mapping[str, Mapping[str, ResponseHeader]] = {
    "dumpling": {
        "X-RateLimit-Limit": ResponseHeader(
            "Your current rate limit ceiling, per key per minute (1000000 when no limit "
            "applies).", _COUNT),
        "X-RateLimit-Remaining": ResponseHeader(
            "Remaining requests in the current window (0 on a 429; 1000000, never counting "
            "down, when no limit applies).", _COUNT),
        "Retry-After": ResponseHeader("Seconds until the window resets.", _COUNT, (429,)),
        "Allow": ResponseHeader("The methods this path takes.", _TEXT, (405,)),
    },
    "socialfetch": {
        "x-request-id": ResponseHeader(
            "The request id, as in meta.requestId / error.requestId.", _TEXT),
        "Retry-After": ResponseHeader("Seconds to wait before retrying.", _COUNT, (503,)),
        "Allow": ResponseHeader("The methods this path takes.", _TEXT, (405,)),
    },
    "gateway": {
        "x-amzn-RequestId": ResponseHeader(
            "API Gateway's request id.", {"type": "string", "format": "uuid"}),
        "x-amz-apigw-id": ResponseHeader("API Gateway's extended request id.", _TEXT),
    },
}


def build_openapi(vendor: Vendor, schemas: Schemas, server_url: str = SERVER_URL
                  ) -> dict[str, Any]:
    """The vendor's OpenAPI 3.1 document: every route, parameter, header and response, for
    the mock at ``server_url`` (by default where ``mockserver serve`` listens)."""
    components = _Components(schemas)
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    schemes: dict[str, Any] = {}
    for route in vendor.routes:
        operation, scheme = _operation(vendor, route, components)
        paths[_openapi_path(route.path)][route.method.lower()] = operation
        schemes.update(scheme)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{vendor.title}, as mocked by tiktok mockserver", "version": __version__,
                 "description": f"The {vendor.title} routes as the mock serves them, generated "
                                "from the mock's JSON Schemas (schemas/"
                                f"{vendor.name}/)."},
        "servers": [{"url": server_url,
                     "description": "this mock" if server_url != SERVER_URL
                     else "mockserver serve (default host and port)"}],
        "paths": dict(paths),
        "components": {"schemas": components.schemas, "securitySchemes": schemes},
    }


def _openapi_path(path: str) -> str:
    """Starlette's ``{name:convertor}`` placeholders as OpenAPI's ``{name}``."""
    return _CONVERTOR.sub(r"{\1}", path)


class _Components:
    """Schema documents as components, added once each, with their ``$defs`` lifted out."""

    def __init__(self, schemas: Schemas) -> None:
        self.documents = schemas.documents
        self.schemas: dict[str, Any] = {}

    def ref(self, schema: str) -> dict[str, str]:
        """A reference to ``vendor/file``'s component, adding it on first use."""
        name = schema.split("/", 1)[1]
        if name not in self.schemas:
            self.schemas[name] = self._lift(name, self.documents[schema])
        return {"$ref": f"#/components/schemas/{name}"}

    def request(self, route: Route) -> dict[str, Any]:
        """The request schema, its ``$defs`` repointed so its parts can be embedded."""
        name = route.request_schema.split("/", 1)[1]
        return self._lift(name, self.documents[route.request_schema])

    def _lift(self, name: str, document: Mapping[str, Any]) -> dict[str, Any]:
        body = {k: copy.deepcopy(v) for k, v in document.items()
                if k not in ("$schema", "$id", "$defs")}
        for def_name, definition in document.get("$defs", {}).items():
            self.schemas[f"{name}.{def_name}"] = _repoint(copy.deepcopy(definition), name)
        return _repoint(body, name)


def _repoint(node: Any, owner: str) -> Any:
    """Turn ``#/$defs/x`` references into references to the lifted ``<owner>.x`` component."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = f"#/components/schemas/{owner}.{ref.removeprefix('#/$defs/')}"
        for value in node.values():
            _repoint(value, owner)
    elif isinstance(node, list):
        for value in node:
            _repoint(value, owner)
    return node


def _operation(vendor: Vendor, route: Route, components: _Components
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    request = components.request(route)
    parts = request.get("properties", {})
    required_parts = set(request.get("required", ()))
    operation: dict[str, Any] = {
        "operationId": f"{vendor.name}_{route.name}",
        "summary": route.summary,
        "description": f"Costs {route.cost} credit{'s' if route.cost != 1 else ''} "
                       "per successful request.",
        "tags": [vendor.title],
        "x-mockserver-route": route.name,
        "x-mockserver-cost": route.cost,
    }
    parameters = _parameters(parts)
    if parameters:
        operation["parameters"] = parameters
    if "body" in parts:
        operation["requestBody"] = {"required": "body" in required_parts,
                                    "content": {JSON: {"schema": parts["body"]}}}
    scheme = _security_scheme(parts.get("headers", {}))
    if scheme:
        operation["security"] = [{name: []} for name in scheme]
    operation["responses"] = _responses(vendor, route, components)
    return operation, scheme


def _parameters(parts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Path, query and (non-auth) header parameters, each with its schema from the request."""
    found = []
    for part, location in (("path", "path"), ("query", "query"), ("headers", "header")):
        section = parts.get(part, {})
        required = set(section.get("required", ()))
        for name, schema in section.get("properties", {}).items():
            if location == "header" and name in _IMPLIED_HEADERS:
                continue
            parameter: dict[str, Any] = {"name": name, "in": location,
                                         "required": location == "path" or name in required,
                                         "schema": schema}
            if "description" in schema:
                parameter["description"] = schema["description"]
            found.append(parameter)
    return found


def _security_scheme(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Bearer for an ``authorization`` header, an API key for ``x-api-key``."""
    described = headers.get("properties", {})
    if "authorization" in described:
        return {"bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": described["authorization"].get("description", "")}}
    if "x-api-key" in described:
        return {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key",
                           "description": described["x-api-key"].get("description", "")}}
    return {}


def error_statuses(vendor: Vendor, route: Route) -> dict[int, list[dict[str, Any]]]:
    """Every error status the route can answer, with the catalogue's scenarios for each."""
    statuses: dict[int, list[dict[str, Any]]] = {
        status: [] for status in NATURAL_ERROR_STATUSES.get(vendor.name, ())}
    for row in vendor.describe_errors(route):
        statuses.setdefault(row["status"], []).append(row)
    return dict(sorted(statuses.items()))


def response_schemas(vendor: Vendor, route: Route) -> dict[int, tuple[str, ...]]:
    """Every status the route can answer, with the schemas its body keeps (any one of them):
    the route's success, the vendor's error, the mock's own error, or either of the last."""
    found: dict[int, tuple[str, ...]] = {200: (route.response_schema,)}
    for status in error_statuses(vendor, route):
        found[status] = (vendor.error_schema,)
    for status, (names, _) in MOCK_STATUSES.items():
        found[status] = (*found.get(status, ()), *names)
    return dict(sorted(found.items()))


def _responses(vendor: Vendor, route: Route, components: _Components) -> dict[str, Any]:
    responses = {}
    errors = error_statuses(vendor, route)
    for status, names in response_schemas(vendor, route).items():
        refs = [components.ref(name) for name in names]
        described = _response(vendor, status, refs[0] if len(refs) == 1 else {"anyOf": refs},
                              vendor_headers=names[0] not in (REFUSAL, FAILURE))
        rows = errors.get(status)
        if rows:
            described["content"][JSON]["examples"] = {
                row["name"]: {"summary": f"scenario {row['name']}", "value": row["body"]}
                for row in rows}
        responses[str(status)] = described
    return responses


def _response(vendor: Vendor, status: int, schema: dict[str, Any], vendor_headers: bool = True
              ) -> dict[str, Any]:
    """A status's answer; the vendor's headers come with it unless only the mock answers it,
    and are not promised where the mock's own refusal may come instead (without them)."""
    mocks_own, why = MOCK_STATUSES.get(status, ((), ""))
    response: dict[str, Any] = {
        "description": _WHEN.get(status) or why or f"{HTTPStatus(status).phrase}.",
        "content": {JSON: {"schema": schema}}}
    # where the connection layer may refuse instead, the vendor's headers may be missing
    required = REFUSAL not in mocks_own
    headers = {
        name: {"description": header.description, "required": header.required and required,
               "schema": header.schema}
        for name, header in RESPONSE_HEADERS.get(vendor.name, {}).items()
        if vendor_headers and (header.statuses is None or status in header.statuses)}
    if headers:
        response["headers"] = headers
    return response
