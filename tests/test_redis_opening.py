"""On Redis, a request with nothing to count opens from what its process read before (no
round trip) and its last step checks that the store has not moved since. Two apps on one
real redis-server stand for two processes: whatever changes through one is what the very
next request through the other sees, as if there were one process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call
from tests.conftest import FROZEN

KEY = "sk_opening_key"  # DumplingAI: 2 credits a profile


@pytest.fixture
def two_processes(redis_server) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    redis_server.flush()
    settings = Settings.load({"now": FROZEN, "store": redis_server.url, "rate_limit": 0},
                             env={})
    with ServerThread(create_app(settings)) as one, ServerThread(create_app(settings)) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        yield first, second


def scripts_run(redis_server) -> int:
    with redis.Redis.from_url(redis_server.url) as client:
        return client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


def test_a_request_with_nothing_to_count_is_one_script(redis_server, two_processes):
    first, _ = two_processes
    assert call(first, "dumpling", key=KEY).status_code == 200  # its key read once
    before = scripts_run(redis_server)
    for _ in range(10):
        assert call(first, "dumpling", key=KEY).status_code == 200
    assert scripts_run(redis_server) - before == 10
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 11 * 2


def test_what_changes_through_one_process_is_what_the_next_request_through_another_sees(
        two_processes):
    first, second = two_processes
    assert call(second, "dumpling", key=KEY).status_code == 200  # read: balance 998

    first.put(f"/__mock/keys/{KEY}", json={"balance": 3}).raise_for_status()
    assert call(second, "dumpling", key=KEY).status_code == 200
    refused = call(second, "dumpling", key=KEY)
    assert refused.status_code == 403, refused.text  # 1 left, as read anew: not 996
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 1
    assert first.get("/__mock/requests").json()["requests"][0]["status"] == 403

    first.put(f"/__mock/keys/{KEY}", json={"balance": 50, "status": "inactive"}
              ).raise_for_status()
    assert call(second, "dumpling", key=KEY).status_code == 401
    first.put(f"/__mock/keys/{KEY}", json={"status": "active"}).raise_for_status()
    assert call(second, "dumpling", key=KEY).status_code == 200
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 48

    moved = first.post("/__mock/clock", json={"advance": 3600}).json()["unix"]
    assert call(second, "dumpling", key=KEY).status_code == 200
    assert first.get("/__mock/requests").json()["requests"][0]["at"] == moved

    armed = first.post("/__mock/scenarios", json={
        "scenario": "upstream_unavailable", "vendor": "dumpling", "times": 1, "key": KEY})
    assert armed.status_code == 201, armed.text
    assert call(second, "dumpling", key=KEY).status_code == 502
    assert call(second, "dumpling", key=KEY).status_code == 200

    first.post("/__mock/reset").raise_for_status()
    assert call(second, "dumpling", key=KEY).status_code == 200
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 998
    journal = first.get("/__mock/requests").json()
    assert journal["count"] == 1 and journal["requests"][0]["at"] == 1795435200.0
