"""create_app(settings): the only place vendors, admin and state are wired together."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from mockserver import admin
from mockserver.clock import LATEST, Clock, SharedClock
from mockserver.contract import Enforcer, Schemas
from mockserver.coverage import Coverage
from mockserver.errors import AdminError
from mockserver.fixture_check import check_document
from mockserver.guard import AdminGuard, admin_token
from mockserver.index import index_route
from mockserver.journal import Journal
from mockserver.pipeline.call import Call
from mockserver.pipeline.faults import TRANSPORT_FAULTS, StopSignal
from mockserver.pipeline.keys import KeyRing
from mockserver.pipeline.request_ids import RequestDigests
from mockserver.pipeline.run import Endpoint
from mockserver.pipeline.scenarios import WORLD_SCENARIOS, Effect, Scenarios
from mockserver.settings import Settings, cache_folder
from mockserver.store import RECORD_CHECKS, StoreRefused, open_store
from mockserver.vendors.base import Vendor
from mockserver.vendors.dumpling import Dumpling
from mockserver.vendors.gateway import Gateway
from mockserver.vendors.socialfetch import SocialFetch
from mockserver.world import World
from mockserver.world.fixtures import load_fixtures

CONFIG_TABLE = "config"  # what the config file put in the store, so it happens once
# its marker is compared, never used: anything else there reads as another process's
RECORD_CHECKS[CONFIG_TABLE] = lambda _value: None
#: paths whose route and parameters MockApp remembers: at most this many, this much text
MATCHED_PATHS, MATCHED_CHARS = 4096, 1 << 20


def all_vendors() -> list[Vendor]:
    return [Dumpling(), SocialFetch(), Gateway()]


class Mock:
    """Everything the mock holds, on ``app.state.mock``; no module globals."""

    def __init__(self, settings: Settings, schemas: Schemas | None = None) -> None:
        self.settings = settings
        self.started = time.time()
        # what /__mock/* requires, and whether it was made now (the CLI then prints it)
        self.admin_token, self.admin_token_made = admin_token(settings.admin_token, settings.host)
        self.vendors = {vendor.name: vendor for vendor in all_vendors()}
        scenarios = {name: frozenset(self.scenario_names(vendor))
                     for name, vendor in self.vendors.items()}
        self.fixtures = load_fixtures(
            settings.fixture_paths,
            check=lambda path, document: check_document(path, document, scenarios))
        self.store = open_store(settings.store)
        self.clock = self._clock()
        self.world = World(settings.seed, self.fixtures, pools_folder=cache_folder(settings))
        for handle in self.fixtures.accounts:
            # pinned videos out of order or a schedule before 2016 stop the start, not every
            # call naming the account (an ``as_of`` at TikTok's launch answered 500s); a few
            # milliseconds for the shipped fixtures
            self.world.account(handle)
        clash = self.world.clashing_video_id(int(LATEST) - 1)
        if clash:
            raise ValueError(clash)
        # accounts whose fixture scripts a scenario (generated accounts never do)
        self._scripted_handles = frozenset(
            handle for handle, values in self.fixtures.accounts.items()
            if values.get("scenario") or values.get("video_scenarios"))
        self.schemas = schemas or Schemas()
        self.enforcer = Enforcer(self.schemas, settings.validate_responses)
        unlimited = tuple(vendor.key_prefix for vendor in self.vendors.values()
                          if not vendor.rate_limited and vendor.key_prefix)
        try:
            self.keys = KeyRing(self.store, default_balance=settings.credits,
                                default_rate_limit=settings.rate_limit, strict=settings.strict,
                                configured=self.fixtures.keys, unlimited_prefixes=unlimited)
        except AdminError as error:
            raise ValueError(f"fixtures: {error}") from None
        try:
            self.keys.configure(settings.keys)
        except AdminError as error:
            raise ValueError(f"config: {error}") from None
        self.scenarios = Scenarios(self.store, settings.seed, {
            (vendor.name, route.name): self.scenario_names(vendor)
            for vendor in self.vendors.values() for route in vendor.routes})
        self.journal = Journal(self.store, settings.journal_size)
        self.coverage = Coverage(self.store, self.vendors.values())
        self.request_digests = RequestDigests(
            settings.seed, salt=secrets.token_bytes(16) if self.store.shared else b"")
        self.stop_signal = StopSignal()
        self._arm_configured()

    def _clock(self) -> Clock:
        """A store other processes may share holds the clock, so all of them keep one."""
        if self.store.shared:
            return SharedClock(self.store, self.settings.now)
        return Clock(self.settings.now)

    @staticmethod
    def scenario_names(vendor: Vendor) -> tuple[str, ...]:
        return (*vendor.error_scenarios, *WORLD_SCENARIOS, *TRANSPORT_FAULTS)

    def _arm_configured(self) -> None:
        """Arm the config file's ``[[scenarios]]``, each under an id of its own (its ``name``,
        or its place in the file), once per store, not once per process sharing it: the
        first process to claim the store's marker arms them (a reset clears it), so a file
        store restarted N times, or N replicas started one after another, hold one copy."""
        if not self.settings.scenarios:
            return
        claim = {"by": uuid.uuid4().hex}
        if self.store.put_new(CONFIG_TABLE, "scenarios_armed", claim) != claim:
            return
        for number, entry in enumerate(self.settings.scenarios, 1):
            entry = dict(entry)
            name = entry.pop("name", number)
            try:
                self.scenarios.arm(entry, config_id=f"config_{name}")
            except AdminError as error:
                raise ValueError(f"config: [[scenarios]] entry {number}: {error}") from None

    def choose_effect(self, call: Call, header: str, key_state: dict[str, Any]
                      ) -> Effect | None:
        """The scenario in force: header, then armed, then key / account / video fixtures."""
        vendor, route = call.route.vendor, call.route.name
        header = header.strip()
        if header:
            return self.scenarios.from_header(vendor, route, header, 0)
        armed = self.scenarios.from_armed(vendor, route, call.handle, call.key, call.key_id,
                                          call.armed) if call.armed else None
        if armed is not None and (armed.name is not None or armed.status is not None):
            return armed
        scripted = call.handle in self._scripted_handles
        if not scripted and key_state.get("scenario") is None:
            return armed  # the usual case: no account or key fixture names a scenario
        valid = self.scenarios.valid_for(vendor, route)
        candidates = [("key fixture", key_state.get("scenario"))]
        if scripted and self.world.well_formed(call.handle or ""):
            account = self.world.account(call.handle)
            candidates.append(("account fixture", account.scenario))
            if call.video_id and account.video_scenarios:
                video = self.world.find_video(account, call.video_id, call.instant)
                candidates.append(("video fixture", video.scenario if video else None))
        for source, wanted in candidates:
            name = wanted.get(vendor) if isinstance(wanted, dict) else wanted
            if name in valid:  # an armed pure latency adds to the fixture's failure
                return Effect(name=name, source=source,
                              latency_ms=armed.latency_ms if armed else 0)
        return armed

    def reset(self) -> None:
        """Back to the state at start: balances, rate windows, journal, armed scenarios,
        stored records, the clock. A shared store's reset reaches every process sharing it."""
        self.store.clear()
        self.coverage.reset()
        self.enforcer.clear()
        self.keys.reset()
        self.request_digests.clear()
        self.clock = self._clock()
        self._arm_configured()

    def close(self) -> None:
        """After the server stopped: leave the store whole on disk (one checkpointed file)."""
        self.stop_signal.stop()
        self.store.close()


def _exact(route: Route) -> Route:
    """A vendor route answers only its own method and its own path: Starlette adds HEAD to
    every GET, which would serve (and charge) a HEAD as a GET, and ends its path pattern
    with ``$``, which also matches before a final newline, so ``...get-tiktok-profile%0A``
    was served as the route; the vendor's catch-all answers both instead."""
    if route.methods is not None and "GET" in route.methods:
        route.methods.discard("HEAD")
    route.path_regex = re.compile(route.path_regex.pattern.removesuffix("$") + r"\Z")
    return route


class MockApp(Starlette):
    """Starlette, with one shortcut: a request for a vendor route (what carries the load)
    goes straight to its endpoint, past the middleware layers and the router's walk of every
    route. Its endpoint answers every error it knows itself (pipeline/run.py), and an error
    it does not know still reaches the server's own 500. Every other request, and a vendor
    path asked with another method, takes Starlette's usual way."""

    def __init__(self, routes: list[BaseRoute], vendor_routes: list[Route]) -> None:
        super().__init__(routes=routes)
        self._exact = {(r.path, method): r.app for r in vendor_routes if not r.param_convertors
                       for method in r.methods or ()}
        # each with the literal start of its path: most paths are told apart by it alone
        self._patterns = [(r.path.partition("{")[0], r) for r in vendor_routes
                          if r.param_convertors]
        # (path, method) -> (route, its path parameters) of a path that matched a pattern:
        # a client asks the same paths over and over, and matching one costs more than the
        # rest of routing. Bounded by entries and by the text of their paths.
        self._matched: dict[tuple[str, str], tuple[Route, dict[str, Any]]] = {}
        self._matched_chars = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path, method = scope["path"], scope["method"]
            endpoint = self._exact.get((path, method))
            if endpoint is not None:
                scope["app"] = self
                return await endpoint(scope, receive, send)
            matched = self._matched.get((path, method)) or self._match(scope, path, method)
            if matched is not None:
                route, params = matched
                # as Route.matches makes it: the scope's own parameters, then the path's
                scope["app"] = self
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {**scope.get("path_params", {}), **params}
                return await route.app(scope, receive, send)
        await super().__call__(scope, receive, send)

    def _match(self, scope: Scope, path: str, method: str
               ) -> tuple[Route, dict[str, Any]] | None:
        """The vendor route whose pattern ``path`` matches in full (with ``method``), and
        the path parameters it reads there, remembered; None if none does."""
        for start, route in self._patterns:
            if not path.startswith(start):
                continue
            match, child_scope = route.matches({**scope, "path_params": {}})
            if match is Match.FULL:
                if len(self._matched) >= MATCHED_PATHS or \
                        self._matched_chars + len(path) > MATCHED_CHARS:
                    self._matched.clear()
                    self._matched_chars = 0
                found = self._matched[path, method] = route, child_scope["path_params"]
                self._matched_chars += len(path)
                return found
        return None


#: what ``create_app`` raises for a setting it cannot use (see ``start_error``)
START_ERRORS = (ValueError, OSError, sqlite3.Error)


def start_error(settings: Settings, error: Exception) -> str:
    """One of ``START_ERRORS`` as the one line the CLI and the pytest plugin print, naming
    the setting (and where its value came from) when the store is the cause."""
    if isinstance(error, StoreRefused):
        return f"{settings.source('store')}: {error}"
    if isinstance(error, sqlite3.Error):  # a folder, a missing parent or not an SQLite file
        return (f"{settings.source('store')}: cannot open {settings.store!r} as an SQLite "
                f"file: {error}")
    return str(error)


def create_app(settings: Settings | None = None, schemas: Schemas | None = None) -> Starlette:
    mock = Mock(settings or Settings(), schemas)
    # Starlette tries routes in order: vendor routes first, as they carry the load.
    vendor_routes = [
        _exact(Route(route.path, Endpoint(mock, vendor, route), methods=[route.method]))
        for vendor in mock.vendors.values() for route in vendor.routes]
    routes: list[BaseRoute] = list(vendor_routes)
    admin_routes = admin.routes()
    # the guard wraps the control plane alone: vendor routes, which carry the load and are
    # never guarded, do not pass through it
    control_plane = Router(routes=[*admin_routes, index_route("/", admin_routes)])
    routes.append(Mount("/__mock", app=AdminGuard(control_plane, token=mock.admin_token,
                                                  allowed_hosts=mock.settings.allowed_hosts)))
    routes.append(index_route("/", admin_routes))
    for vendor in mock.vendors.values():  # catch-alls last, any method
        routes.append(Route(vendor.fallback.path, Endpoint(mock, vendor, vendor.fallback)))
    app = MockApp(routes, vendor_routes)
    # no vendor redirects a trailing slash: such a path is the vendor's own 404
    app.router.redirect_slashes = False
    app.state.mock = mock
    return app
