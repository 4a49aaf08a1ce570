"""Check a recorded payload (one captured from the real vendor, say) against the contract.

This is how a user learns that a vendor changed, or that the mock drifted::

    mockserver validate --vendor dumpling --route profile --response 200 captured.json
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mockserver.app import all_vendors
from mockserver.contract import Schemas, Violation
from mockserver.openapi import response_schemas
from mockserver.vendors.base import Route, Vendor

REQUEST_PARTS = {"headers", "path", "query", "body"}


class UnknownContract(ValueError):
    """The vendor, route or status names no contract (a usage error, not a violation)."""


def validate_payload(vendor: str, route: str, payload: Any, *, request: bool = False,
                     status: int = 200, schemas: Schemas | None = None) -> list[Violation]:
    """The violations of ``payload`` against the route's request or response schema.

    A request is the JSON body, or a ``{headers, path, query, body}`` document;
    a response is the body answered with ``status`` (an error status uses the
    vendor's error schema, or the mock's own where the mock itself answers it).
    An empty list means the payload keeps the contract.
    """
    schemas = schemas or shipped_schemas()
    found_vendor, found_route = find_route(vendor, route)
    if request:
        return _request_violations(schemas, found_route, payload)
    if status == 200:
        return schemas.violations(found_route.response_schema, payload)
    if not 400 <= status <= 599:
        raise UnknownContract(f"status {status}: a response is 200 or an error (400-599)")
    documented = response_schemas(found_vendor, found_route)
    if status not in documented:
        violations = schemas.violations(found_vendor.error_schema, payload)
        listed = ", ".join(map(str, documented))
        violations.insert(0, Violation("$", f"status {status} is not documented for "
                                            f"{vendor} {route} (documented: {listed})"))
        return violations
    # a body keeps the contract if it keeps any schema of its status; if none, the first
    # one's (the vendor's, where the vendor answers that status) says what is wrong
    found = [schemas.violations(name, payload) for name in documented[status]]
    return [] if [] in found else found[0]


@cache
def shipped_schemas() -> Schemas:
    """The package's own schemas, loaded and compiled once per process."""
    return Schemas()


def find_vendor(vendor: str) -> Vendor:
    vendors = {v.name: v for v in all_vendors()}
    if vendor not in vendors:
        raise UnknownContract(f"unknown vendor {vendor!r}; one of {', '.join(sorted(vendors))}")
    return vendors[vendor]


def find_route(vendor: str, route: str) -> tuple[Vendor, Route]:
    found = find_vendor(vendor)
    routes = {r.name: r for r in found.routes}
    if route not in routes:
        raise UnknownContract(f"unknown route {route!r} of {vendor}; "
                              f"one of {', '.join(sorted(routes))}")
    return found, routes[route]


def _request_violations(schemas: Schemas, route: Route, payload: Any) -> list[Violation]:
    schema = schemas.documents[route.request_schema]
    is_document = isinstance(payload, dict) and payload and set(payload) <= REQUEST_PARTS
    if is_document or "body" not in schema.get("properties", {}):
        return schemas.violations(route.request_schema, payload)
    return schemas.violations(route.request_schema, payload, part="body")


def report(violations: list[Violation], subject: str) -> str:
    """One line per violation, with its JSON path; or one line saying the payload is valid."""
    if not violations:
        return f"{subject}: valid"
    count = f"{len(violations)} violation{'s' if len(violations) != 1 else ''}"
    return "\n".join([f"{subject}: {count}", *(f"  {v}" for v in violations)])
