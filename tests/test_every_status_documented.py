"""Every status the mock answers on a vendor route is in that vendor's contract: the body it
sends keeps the schema ``mockserver validate`` checks for that status, and the vendor's OpenAPI
document lists the status on that route. Each request here is sent for real and its actual
status and body are what is checked; none is written out by hand."""

from __future__ import annotations

import socket
import time
from typing import Any

import orjson
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from mockserver.validate import validate_payload
from tests.calls import KEYS, VENDORS
from tests.conftest import FROZEN

#: (route, method, path, body) of one route per vendor, and the auth header its key goes in
ROUTES = {
    "dumpling": ("profile", "POST", "/api/v1/get-tiktok-profile", b'{"handle": "alice"}'),
    "socialfetch": ("profile", "GET", "/v1/tiktok/profiles/alice", b""),
    "gateway": ("user", "GET", "/dev/tiktok/user/alice", b""),
}
OVER_THE_BODY_LIMIT = b'{"handle": "alice", "pad": "%s"}' % (b"x" * (20 << 10))


def auth(vendor: str) -> dict[str, str]:
    if vendor == "dumpling":
        return {"Authorization": f"Bearer {KEYS[vendor]}", "Content-Type": "application/json"}
    return {"x-api-key": KEYS[vendor]}


#: requests that each vendor answers with an error of its own, beside its page's examples
ASKS: dict[str, dict[str, Any]] = {
    "body over --max-body-bytes": {"body": OVER_THE_BODY_LIMIT},
    "unknown X-Mock-Scenario": {"headers": {"X-Mock-Scenario": "no_such_scenario"}},
    "bad X-Mock-Latency-Ms": {"headers": {"X-Mock-Latency-Ms": "soon"}},
    "DELETE on the route's path": {"method": "DELETE"},
    "PUT on the route's path": {"method": "PUT"},
    "no key": {"headers": {"Authorization": "", "x-api-key": ""}},
    "armed scenario": {"headers": {"X-Mock-Scenario": "internal_error"}},
}
#: a scenario of each vendor's catalogue for the "armed scenario" ask
SCENARIO = {"dumpling": "internal_error", "socialfetch": "temporarily_unavailable",
            "gateway": "timeout"}


def openapi_statuses(http: Any, vendor: str, path: str, method: str) -> set[int]:
    document = http.get(f"/__mock/openapi/{vendor}.json").json()
    openapi_path = path if vendor == "dumpling" else {
        "socialfetch": "/v1/tiktok/profiles/{handle}", "gateway": "/dev/tiktok/user/{userHandle}",
    }[vendor]
    return set(map(int, document["paths"][openapi_path][method.lower()]["responses"]))


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_error_the_mock_sends_is_in_the_vendors_schema_and_openapi(client, vendor):
    route, method, path, body = ROUTES[vendor]
    listed = openapi_statuses(client, vendor, path, method)
    seen = set()
    for ask, change in ASKS.items():
        headers = {**auth(vendor), **change.get("headers", {})}
        if ask == "armed scenario":
            headers["X-Mock-Scenario"] = SCENARIO[vendor]
        headers = {name: value for name, value in headers.items() if value}
        response = client.request(change.get("method", method), path, headers=headers,
                                  content=change.get("body", body))
        status = response.status_code
        assert status >= 400, (ask, status, response.text)
        seen.add(status)
        violations = validate_payload(vendor, route, response.json(), status=status)
        assert violations == [], (ask, status, response.text, violations)
        assert status in listed, (ask, status, sorted(listed))
    # what each ask was answered: the 405s and 413s this test exists for among them
    assert {"dumpling": {405, 413, 400}, "socialfetch": {405, 400},
            "gateway": {403, 413, 400}}[vendor] <= seen


def test_a_body_over_the_limit_is_social_fetchs_documented_bad_request(client):
    response = client.request("GET", "/v1/tiktok/profiles/alice", headers=auth("socialfetch"),
                              content=OVER_THE_BODY_LIMIT)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "16384 bytes" in response.json()["error"]["message"]


def test_validate_names_the_statuses_a_route_documents(client):
    violations = validate_payload("socialfetch", "profile", {"error": "x"}, status=418)
    assert str(violations[0]).startswith("$: status 418 is not documented for socialfetch "
                                         "profile (documented: 200, 400, 401, 402, 404, 405, "
                                         "408, 414, 431, 500, 502, 503)")
    # the mock's own failure is its own form, on any vendor: not a vendor's body
    failure = {"mockserver_error": "store_unavailable", "message": "the store is lost"}
    assert validate_payload("gateway", "user", failure, status=503) == []
    assert validate_payload("socialfetch", "profile", failure, status=402) != []


# the connection layer's own refusals, over a real socket --------------------------------

TIMEOUT = 0.4


@pytest.fixture(scope="module")
def strict_server():
    """A uvicorn with short timeouts and one connection allowed, so each refusal is quick."""
    settings = Settings.load({"now": FROZEN, "header_timeout": TIMEOUT, "body_timeout": TIMEOUT,
                              "max_connections": 1}, env={})
    with ServerThread(create_app(settings)) as server:
        yield server


def answer(port: int, request: bytes, wait: float = 5.0) -> tuple[int, Any]:
    """Send raw bytes; the status and parsed JSON body of what the mock answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:  # the mock closed on bytes it would not read
            pass
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), orjson.loads(body)


def connection_refusals(port: int, path: str) -> dict[str, tuple[int, Any]]:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    found = {
        "URL over --max-header-bytes": answer(
            port, f"GET {path}?pad={'x' * (20 << 10)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
        "headers over --max-header-bytes": answer(
            port, head + b"X-Pad: " + b"x" * (20 << 10) + b"\r\n\r\n"),
        "body slower than --body-timeout": answer(
            port, head + b"Content-Length: 10\r\n\r\n{}"),
        "head slower than --header-timeout": answer(port, head),
    }
    with socket.create_connection(("127.0.0.1", port)) as holder:
        time.sleep(0.05)  # the first connection is open: the next is one too many
        found["over --max-connections"] = answer(port, b"")
        holder.close()
    time.sleep(0.05)
    return found


def test_the_mocks_own_refusals_are_documented_on_every_route(strict_server):
    import httpx

    http = httpx.Client(base_url=strict_server.url, timeout=10)
    refusals = {vendor: connection_refusals(strict_server.port, ROUTES[vendor][2])
                for vendor in VENDORS}
    for vendor, found in refusals.items():
        route, method, path, _ = ROUTES[vendor]
        listed = openapi_statuses(http, vendor, path, method)
        statuses = {status for status, _ in found.values()}
        assert statuses == {408, 414, 431, 503}, found
        for ask, (status, body) in found.items():
            assert validate_payload(vendor, route, body, status=status) == [], (ask, body)
            assert status in listed, (vendor, ask, status)
