"""On Redis, a request with no scenario armed opens from what its process read before (no
round trip) and its last step checks that the store has not moved since, and counts its
rate window. Two apps on one real redis-server stand for two processes: whatever changes
through one is what the very next request through the other sees, as if there were one
process; and a request over its limit answers as the memory store's does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call
from tests.conftest import FROZEN

KEY = "sk_opening_key"  # DumplingAI: 2 credits a profile


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


def test_a_rate_limited_request_is_one_script_and_its_window_counts_it_exactly_once(
        redis_server, two_processes):
    first, second = two_processes
    first.put(f"/__mock/keys/{KEY}", json={"rate_limit": 8}).raise_for_status()
    answers = [call(first, "dumpling", key=KEY), call(second, "dumpling", key=KEY)]  # read
    before = scripts_run(redis_server)
    answers += [call((first, second)[n % 2], "dumpling", key=KEY) for n in range(6)]
    assert scripts_run(redis_server) - before == 6  # the window counted by the last script
    answers += [call((first, second)[n % 2], "dumpling", key=KEY) for n in range(3)]
    assert [a.status_code for a in answers] == [200] * 8 + [429] * 3
    # counted twice, the window would be spent after 4; not counted, never
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == [
        *map(str, range(7, -1, -1)), "0", "0", "0"]
    assert first.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 8 * 2
    journal = first.get("/__mock/requests").json()["requests"]
    assert [entry["status"] for entry in journal] == [429] * 3 + [200] * 8
    assert {entry["credits_charged"] for entry in journal[:3]} == {0}


PER_PROCESS = ("date", "x-request-id", "x-amzn-requestid", "x-amz-apigw-id")


def over_the_limit(store: str, vendor: str, redis_server) -> list[Any]:
    """Two requests a minute, four made: what the client and the journal see of each."""
    settings = Settings.load({"now": FROZEN, "store": store, "rate_limit": 2}, env={})
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        http.post("/__mock/reset").raise_for_status()
        answers = [call(http, vendor, handle="limit_first")]
        before = scripts_run(redis_server)
        answers.append(call(http, vendor, handle="limit_first"))
        if store != "memory":  # opened from what the process read: its window counted last
            assert scripts_run(redis_server) - before == 1
        # over the limit: an account never seen (a stored record on the gateway) and a
        # field the vendor does not document (a note in the journal of an answer)
        answers.append(call(http, vendor, handle="limit_third",
                            body={"handle": "limit_third", "extra": 1}
                            if vendor == "dumpling" else None))
        http.post("/__mock/clock", json={"advance": 60}).raise_for_status()
        answers.append(call(http, vendor, handle="limit_third"))  # a new window
        journal = http.get("/__mock/requests").json()["requests"]
    # how long it took, the port the client named, and the request ids (a process on a
    # shared store salts its own)
    for entry in journal:
        del entry["duration_ms"], entry["headers"]["host"], entry["request_id"]
    return [[(a.status_code, {k: v for k, v in a.headers.items() if k not in PER_PROCESS},
              a.content) for a in answers], journal]


@pytest.mark.parametrize("vendor", ["dumpling", "gateway"])
def test_a_request_over_its_limit_answers_and_is_journalled_as_in_memory(redis_server, vendor):
    redis_server.flush()
    on_redis = over_the_limit(redis_server.url, vendor, redis_server)
    assert [status for status, _, _ in on_redis[0]] == [200, 200, 429, 200]
    # the gateway stores a user's record as first answered: not by the refused request
    assert on_redis == over_the_limit("memory", vendor, redis_server)


def commands_run(redis_server) -> dict[str, int]:
    with redis.Redis.from_url(redis_server.url) as client:
        return {name.removeprefix("cmdstat_"): stats["calls"]
                for name, stats in client.info("commandstats").items()}


def test_a_request_with_a_scenario_armed_reads_the_armed_entries_once_per_change(
        redis_server, two_processes):
    """One script opens it, one counts its match and draws, one finishes it: the armed
    entries are read again only when one is armed, disarmed or fires its last."""
    first, second = two_processes
    first.post("/__mock/scenarios", json={"scenario": "upstream_unavailable",
                                          "vendor": "dumpling", "probability": 0.5}
               ).raise_for_status()
    assert call(second, "dumpling", key=KEY).status_code in (200, 502)  # entries read
    before = commands_run(redis_server)
    answers = [call(second, "dumpling", key=KEY).status_code for _ in range(20)]
    after = commands_run(redis_server)
    assert 200 in answers and 502 in answers
    moved = {name: after[name] - before.get(name, 0) for name in after}
    # scripts (and the commands they run), a MULTI for the journal line: no HGETALL
    assert moved["evalsha"] == 3 * 20 and moved.get("hgetall", 0) == 0, moved
    # armed through the other process: read anew, and the oldest matching entry fires
    first.post("/__mock/scenarios", json={"scenario": "upstream_rate_limited",
                                          "vendor": "dumpling", "route": "videos", "times": 1}
               ).raise_for_status()
    assert call(second, "dumpling", "videos", key=KEY).status_code in (502, 503)
    statuses = [call(second, "dumpling", "videos", key=KEY).status_code for _ in range(20)]
    assert 503 not in statuses  # it fired once, or is gone
