"""Shared fixtures: an in-process client on a frozen clock, and a real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings

FROZEN = "2026-11-23T12:00:00Z"
DUMPLING_KEY = "sk_test_key"


@pytest.fixture
def settings() -> Settings:
    return Settings.load({"now": FROZEN}, env={})


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    """A real uvicorn on a free loopback port, shared by a module's tests (reset per test
    where a test needs a clean slate)."""
    server = ServerThread(create_app(Settings.load({"now": FROZEN}, env={})))
    with server:
        yield server


def dumpling(client, route: str, body, key: str | None = DUMPLING_KEY, **headers):
    """POST to a DumplingAI route the way its pages' curl examples do."""
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    headers.setdefault("Content-Type", "application/json")
    if isinstance(body, dict | list):
        return client.post(f"/api/v1/{route}", json=body, headers=headers)
    return client.post(f"/api/v1/{route}", content=body, headers=headers)


def assert_valid(app, schema: str, document) -> None:
    violations = app.state.mock.schemas.violations(schema, document)
    assert violations == [], violations


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session; tests that use it flush it first."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def two_processes(redis_server) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two apps on one flushed redis-server, standing for two processes: the second has
    read nothing yet, so its first request opens from the store."""
    redis_server.flush()
    settings = Settings.load({"now": FROZEN, "store": redis_server.url, "rate_limit": 0},
                             env={})
    with ServerThread(create_app(settings)) as one, ServerThread(create_app(settings)) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        yield first, second


def write_fixtures(folder: Path, accounts: dict[str, Any]) -> Path:
    """A fixture file holding ``accounts``, as ``--fixtures`` takes it."""
    path = folder / "fixtures.json"
    path.write_text(json.dumps({"accounts": accounts}))
    return path


def serve_fixtures(fixture_file: Path, now: int) -> ServerThread:
    """The mock on seed 3 with ``fixture_file`` loaded and its clock frozen at ``now``."""
    return ServerThread(create_app(Settings.load(
        {"now": str(now), "seed": 3, "credits": 10**9, "rate_limit": 0,
         "fixture_paths": (str(fixture_file),)}, env={})))
