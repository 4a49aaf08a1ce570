"""Failure over a real connection: armed errors, seeded flakiness, latency and transport
faults (hang, dropped connection, broken 200 bodies), on one route of each vendor, with an
ordinary HTTP client against uvicorn."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import VENDORS, arm, call, journal
from tests.conftest import FROZEN

#: an upstream failure of each vendor, and its status
FAILURE = {"dumpling": ("upstream_rate_limited", 503),
           "socialfetch": ("temporarily_unavailable", 503),
           "gateway": ("backend_error", 502)}


@pytest.fixture
def http(live: ServerThread) -> Iterator[httpx.Client]:
    live.app.state.mock.reset()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client


def assert_still_serving(http: httpx.Client, vendor: str) -> None:
    started = time.perf_counter()
    response = call(http, vendor)
    assert response.status_code == 200, response.text
    assert response.json()
    assert time.perf_counter() - started < 2


# armed errors ---------------------------------------------------------------------------


def test_fail_the_next_two_calls_then_succeed(http):
    entry = arm(http, scenario="upstream_rate_limited", times=2, vendor="dumpling")
    assert entry["remaining"] == 2 and entry["id"]
    statuses = [call(http, "dumpling").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert http.get("/__mock/scenarios").json()["armed"] == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_armed_failure_on_each_vendor(http, vendor):
    scenario, status = FAILURE[vendor]
    arm(http, scenario=scenario, times=2, vendor=vendor)
    other = next(v for v in VENDORS if v != vendor)
    assert call(http, other).status_code == 200  # the match spares other vendors
    statuses = [call(http, vendor).status_code for _ in range(3)]
    assert statuses == [status, status, 200]
    fired = journal(http, vendor=vendor, status=status)
    assert [e["scenario"] for e in fired] == [scenario, scenario]
    assert all(e["scenario_source"].startswith("armed:") for e in fired)


def statuses_under_probability(seed: int, calls: int = 20) -> dict[str, list[int]]:
    """A fresh server with ``seed``: each vendor armed with probability 0.5, then called."""
    server = ServerThread(create_app(Settings.load({"now": FROZEN, "seed": seed}, env={})))
    with server, httpx.Client(base_url=server.url, timeout=10) as client:
        for vendor in VENDORS:
            arm(client, scenario=FAILURE[vendor][0], vendor=vendor, probability=0.5)
        return {vendor: [call(client, vendor).status_code for _ in range(calls)]
                for vendor in VENDORS}


def test_a_probability_armed_scenario_replays_with_the_same_seed():
    first, again, other = (statuses_under_probability(seed) for seed in (11, 11, 12))
    assert first == again
    for vendor in VENDORS:
        assert set(first[vendor]) == {200, FAILURE[vendor][1]}, first[vendor]  # both happen
    assert other != first


# latency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_latency_header_costs_about_that_long(http, vendor):
    started = time.perf_counter()
    response = call(http, vendor, headers={"X-Mock-Latency-Ms": "400"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert 0.38 <= elapsed < 2


@pytest.mark.parametrize("vendor", VENDORS)
def test_armed_latency_costs_about_that_long_once(http, vendor):
    arm(http, latency_ms=400, vendor=vendor, times=1)
    started = time.perf_counter()
    response = call(http, vendor)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert 0.38 <= elapsed < 2
    started = time.perf_counter()
    assert call(http, vendor).status_code == 200
    assert time.perf_counter() - started < 0.38


def test_a_bad_latency_header_is_a_vendor_400(http):
    response = call(http, "dumpling", headers={"X-Mock-Latency-Ms": "soon"})
    assert response.status_code == 400
    assert "X-Mock-Latency-Ms" in response.json()["error"]


# transport faults ---------------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_drop_connection_is_a_transport_error_and_the_server_keeps_serving(http, vendor):
    with pytest.raises(httpx.TransportError):
        call(http, vendor, headers={"X-Mock-Scenario": "drop_connection"})
    assert_still_serving(http, vendor)
    arm(http, scenario="drop_connection", vendor=vendor, times=1)
    with pytest.raises(httpx.TransportError):
        call(http, vendor)
    assert_still_serving(http, vendor)


@pytest.mark.parametrize("vendor", VENDORS)
def test_hang_trips_the_client_timeout_and_the_server_keeps_serving(http, vendor):
    started = time.perf_counter()
    with pytest.raises(httpx.TimeoutException):
        call(http, vendor, headers={"X-Mock-Scenario": "hang"}, timeout=0.5)
    assert time.perf_counter() - started < 2
    assert_still_serving(http, vendor)
    # the server noticed the client leave and journals the request with no status
    deadline = time.monotonic() + 3
    while not journal(http, vendor=vendor, status="None"):
        assert time.monotonic() < deadline, "the hung request never ended on the server"
        time.sleep(0.02)
    assert journal(http, vendor=vendor, status="None")[0]["scenario"] == "hang"


def broken_200(http: httpx.Client, vendor: str, fault: str) -> httpx.Response:
    """A 200 that a JSON client cannot parse."""
    response = call(http, vendor, headers={"X-Mock-Scenario": fault})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    return response


@pytest.mark.parametrize("vendor", VENDORS)
def test_truncated_body_is_a_200_whose_json_stops_midway(http, vendor):
    whole = call(http, vendor).content
    response = broken_200(http, vendor, "truncated_body")
    assert response.headers["content-type"] == "application/json"
    assert 0 < len(response.content) < len(whole)
    assert whole.startswith(response.content)


@pytest.mark.parametrize("vendor", VENDORS)
def test_non_json_body_is_a_200_with_html(http, vendor):
    response = broken_200(http, vendor, "non_json_body")
    assert response.headers["content-type"].startswith("text/html")
    assert response.content.startswith(b"<html>")


@pytest.mark.parametrize("vendor", VENDORS)
def test_empty_body_is_a_200_with_nothing(http, vendor):
    response = broken_200(http, vendor, "empty_body")
    assert response.content == b""
    assert response.headers["content-length"] == "0"


@pytest.mark.parametrize("vendor", VENDORS)
def test_armed_body_fault_fires_for_the_armed_count(http, vendor):
    arm(http, scenario="non_json_body", vendor=vendor, times=1)
    assert call(http, vendor).headers["content-type"].startswith("text/html")
    assert call(http, vendor).headers["content-type"] == "application/json"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_custom_status_and_body(http, vendor):
    arm(http, status=418, body={"teapot": True}, vendor=vendor, times=1)
    response = call(http, vendor)
    assert (response.status_code, response.json()) == (418, {"teapot": True})
    assert call(http, vendor).status_code == 200
