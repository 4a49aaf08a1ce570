"""What a vendor adapter provides; the pipeline does everything else."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.routing import compile_path

from mockserver.contract import Payload, Violation
from mockserver.errors import SIMULATED, MockError
from mockserver.pipeline.call import Call

Headers = list[tuple[str, str]]
#: headers as sent: what every answer of a vendor carries is made as bytes, not encoded
RawHeaders = list[tuple[bytes, bytes]]
OFF_ROUTE = "unknown"  # the route name the journal shows for an undefined path or method
EXAMPLE_REQUEST_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Route:
    """A row of a vendor's route table: a schema pair, a renderer and a price."""

    vendor: str
    name: str
    method: str
    path: str  # Starlette path syntax, e.g. /v1/tiktok/profiles/{handle}
    cost: int
    render: Callable[[Call], Payload]  # the serialised body
    summary: str

    @cached_property
    def request_schema(self) -> str:
        return f"{self.vendor}/{self.name}.request"

    @cached_property
    def response_schema(self) -> str:
        return f"{self.vendor}/{self.name}.200"

    @cached_property
    def where(self) -> tuple[str, str]:
        """(vendor, name): how coverage and the tables keyed by route know it."""
        return self.vendor, self.name


class Vendor(ABC):
    name: str
    title: str
    routes: tuple[Route, ...]
    #: scenario name -> error kind, on every route of this vendor
    error_scenarios: Mapping[str, str]
    #: whether the vendor limits requests per key per minute; one that documents no limit
    #: (Social Fetch) has none, and its keys (``key_prefix``) have none on any route
    rate_limited: bool = True
    key_prefix: str = ""  # the form the vendor's keys take, if it has one
    #: whether errors that carry a retry delay (the rate limit's 429) send ``Retry-After``
    sends_retry_after: bool = True
    request_headers: tuple[str, ...] = ()  # headers the request schema describes
    #: whether rendering may write to the store (the API Gateway's stored records): a
    #: store with round trips then renders in a step of its own, one transaction on SQLite
    #: only if it stores one (Store.atomically_if_writing)
    stores_records: bool = False
    #: the path prefix the vendor's host answers under; any path or method under it that no
    #: route defines is answered by ``off_route``, in the vendor's own error format
    prefix: str

    @cached_property
    def fallback(self) -> Route:
        """The catch-all row (any method), registered after every vendor's routes."""
        return Route(self.name, OFF_ROUTE, "*", self.prefix + "{rest:path}", 0, _never,
                     f"Any other path or method under {self.prefix}")

    @cached_property
    def _route_paths(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        return tuple((compile_path(route.path)[0], route.method) for route in self.routes)

    def off_route(self, call: Call) -> MockError:
        """The answer to a method or path no route defines: ``method_not_allowed`` (its
        detail the ``Allow`` value) when the path is a route's, else ``no_route``. Never a
        redirect, and a ``HEAD`` is never served as a charged ``GET``."""
        path = call.scope["path"]
        allowed = sorted({method for pattern, method in self._route_paths
                          if pattern.fullmatch(path)})
        if allowed:
            return MockError("method_not_allowed", ", ".join(allowed))
        return MockError("no_route")

    @staticmethod
    def allow_header(error: MockError) -> Headers:
        """A 405 names the methods the path takes, as HTTP asks."""
        return [("allow", error.detail)] if error.kind == "method_not_allowed" else []

    @property
    def error_schema(self) -> str:
        return f"{self.name}/error"

    @abstractmethod
    def authenticate(self, call: Call) -> str:
        """The caller's key, or raise the vendor's unauthorized error."""

    def request_document(self, call: Call) -> dict[str, Any]:
        """The request as its schema sees it: headers, path, query, body."""
        document: dict[str, Any] = {
            "headers": {h: call.headers[h] for h in self.request_headers if h in call.headers}}
        if call.path_params:
            document["path"] = dict(call.path_params)
        return document

    @abstractmethod
    def parse(self, call: Call, document: Mapping[str, Any]) -> None:
        """Fill ``call.params`` / ``handle`` / ``video_id`` from a schema-valid request, and
        add to ``call.notes``; nothing else. Done once per distinct request and replayed
        (pipeline/parsed.py): what reads the clock sets ``call.reparse``."""

    @abstractmethod
    def reject(self, call: Call, document: Mapping[str, Any], violations: Sequence[Violation]
               ) -> MockError:
        """The vendor's answer to a request (``document``) its schema rejects."""

    @abstractmethod
    def error(self, call: Call, error: MockError) -> tuple[int, dict[str, Any], Headers]:
        """Status, body and extra headers of an error, in the vendor's wire format."""

    def headers(self, call: Call) -> RawHeaders:
        """Headers every answer of this vendor carries (success and error), as sent."""
        return []

    def store_lost_headers(self, call: Call) -> RawHeaders:
        """Those of :meth:`headers` the mock's own 503 carries when its store is out of
        reach (``call.store_lost``): none that shows a state read from the store."""
        return self.headers(call)

    def describe_errors(self, route: Route, request_id: str = EXAMPLE_REQUEST_ID
                        ) -> list[dict[str, Any]]:
        """The catalogue rows of this route: each scenario with its exact answer (only a
        request id differs per request; the admin catalogue shows a placeholder there)."""
        rows = []
        for name, kind in self.error_scenarios.items():
            status, body, headers = self.example_error(route, kind, request_id)
            rows.append({"name": name, "status": status, "body": body,
                         "headers": dict(headers)})
        return rows

    def example_error(self, route: Route, kind: str, request_id: str = EXAMPLE_REQUEST_ID
                      ) -> tuple[int, dict[str, Any], Headers]:
        """The error of ``kind`` on ``route`` as a client would get it, with placeholders."""
        probe = _CatalogueCall(route, request_id)
        return self.error(probe, MockError(kind, SIMULATED))  # type: ignore[arg-type]


def _never(call: Call) -> bytes:
    raise call.vendor.off_route(call)  # the pipeline answers the fallback before rendering


class _CatalogueCall:
    """Enough of a Call to render an error for the catalogue, with placeholders."""

    def __init__(self, route: Route, request_id: str) -> None:
        self.route = route
        self.handle = "[handle]"
        self.params = {"url": "[url]", "handle": "[handle]"}
        self.request_id = request_id
        self.quota = None
