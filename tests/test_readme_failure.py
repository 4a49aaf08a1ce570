"""The README's "Testing failure" examples, as written there: each kind of failure test a
client author writes, using the ``mockserver`` pytest fixture and httpx. Keep the two in step."""

from __future__ import annotations

import httpx
import pytest


def get_profile(mockserver, key="sk_test", **headers):
    return httpx.post(mockserver.vendor_url("dumpling") + "/api/v1/get-tiktok-profile",
                      headers={"Authorization": f"Bearer {key}", **headers},
                      json={"handle": "stoolpresidente"}, timeout=2)


def test_retry(mockserver):
    mockserver.arm(scenario="upstream_rate_limited", vendor="dumpling", times=2)
    statuses = [get_profile(mockserver).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_one_request_fails(mockserver):
    response = get_profile(mockserver, **{"X-Mock-Scenario": "upstream_invalid_data"})
    assert response.status_code == 502
    assert response.json() == {"error": "Received invalid data format from profile service."}


def test_backoff_on_the_rate_limit(mockserver):
    mockserver.set_key("sk_test", rate_limit=2)
    assert [get_profile(mockserver).status_code for _ in range(3)] == [200, 200, 429]
    wait = int(get_profile(mockserver).headers["retry-after"])
    mockserver.clock.advance(wait)  # no sleeping: the mock's clock moves
    assert get_profile(mockserver).status_code == 200


def test_timeout(mockserver):
    mockserver.arm(scenario="hang", vendor="dumpling", times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(mockserver.url + "/api/v1/get-tiktok-profile",
                   headers={"Authorization": "Bearer sk_test"},
                   json={"handle": "stoolpresidente"}, timeout=0.5)


def test_slow_upstream(mockserver):
    response = get_profile(mockserver, **{"X-Mock-Latency-Ms": "400"})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.38


def test_connection_dropped(mockserver):
    mockserver.arm(scenario="drop_connection", vendor="dumpling", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        get_profile(mockserver)
    assert get_profile(mockserver).status_code == 200


def test_partial_response(mockserver):
    mockserver.arm(scenario="truncated_body", vendor="dumpling", times=1)
    response = get_profile(mockserver)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_circuit_breaker_on_a_flaky_upstream(mockserver):
    def run():
        mockserver.reset()  # the generator restarts from the server's seed
        mockserver.arm(scenario="upstream_unavailable", vendor="dumpling", probability=0.5)
        return [get_profile(mockserver).status_code for _ in range(10)]

    first = run()
    assert {200, 502} == set(first)
    assert run() == first  # the same flaky run, every time


def test_out_of_credits(mockserver):
    mockserver.set_key("sk_test", balance=0)
    response = get_profile(mockserver)
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient credits. Please top up your account."}


def test_what_the_client_sent(mockserver):
    mockserver.arm(scenario="upstream_unavailable", vendor="dumpling", times=1)
    get_profile(mockserver)
    get_profile(mockserver)
    latest, first = mockserver.journal(vendor="dumpling")
    assert (first["status"], first["scenario"], first["credits_charged"]) == (
        502, "upstream_unavailable", 0)
    assert (latest["status"], latest["credits_charged"]) == (200, 2)
    assert latest["headers"]["authorization"].startswith("Bearer …#")  # keys are masked
