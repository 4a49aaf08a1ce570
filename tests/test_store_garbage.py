"""What an outside write leaves in a shared store that the mock did not write there (a
balance that is no number, a table of another type, a record that is not JSON) is the
mock's own 503 ``store_unavailable`` naming what it found, on vendor routes and the
control plane alike: never a 500 with a traceback. A reset (or putting it right) brings
service back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import KEYS, call
from tests.conftest import FROZEN

KEY = "sk_garbage_key"


def balance_not_a_number(client: redis.Redis) -> None:
    field = next(f for f in client.hkeys("mockserver:c:keys") if f.endswith(b" balance"))
    client.hset("mockserver:c:keys", field, "abc")


def keys_a_string(client: redis.Redis) -> None:
    client.delete("mockserver:t:keys")
    client.set("mockserver:t:keys", "garbage")


def journal_a_hash(client: redis.Redis) -> None:
    client.delete("mockserver:log:journal")
    client.hset("mockserver:log:journal", "a", "b")


REDIS_GARBAGE: dict[str, tuple[Callable[[redis.Redis], Any], str]] = {
    "a balance that is no number": (balance_not_a_number, f"/__mock/keys/{KEY}"),
    "the keys table a string": (keys_a_string, "/__mock/keys"),
    "the journal a hash": (journal_a_hash, "/__mock/requests"),
}


@pytest.mark.parametrize("garbage", REDIS_GARBAGE)
def test_garbage_in_redis_is_a_503_that_names_it_never_a_500(redis_server, garbage):
    redis_server.flush()
    write, admin_path = REDIS_GARBAGE[garbage]
    settings = Settings.load({"now": FROZEN, "store": redis_server.url, "rate_limit": 0}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http, \
            redis.Redis.from_url(redis_server.url) as client:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200
        write(client)
        vendor, admin = call(http, "dumpling", key=KEY), http.get(admin_path)
        # a process that kept what it read may still answer from it; never a 500
        assert vendor.status_code in (200, 503), vendor.text
        if vendor.status_code == 503:  # its script refused the step
            assert vendor.json()["mockserver_error"] == "store_unavailable"
        assert admin.status_code == 503, admin.text
        assert "holds what the mock did not write" in admin.json()["error"]
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200


@pytest.mark.parametrize("balance", ["-5", "2.5"])
@pytest.mark.parametrize("vendor", ["dumpling", "socialfetch"])
def test_a_balance_counter_set_below_0_in_redis_is_a_503_never_shown(redis_server, vendor,
                                                                      balance):
    """The mock never writes a balance below 0 (nor a part of a credit): one set by hand
    (redis-cli HSET) is what the mock did not write, through a process that had read the
    key before and one that had not, on the vendor routes that show a balance (a header,
    a body) and the admin API alike, until a reset."""
    redis_server.flush()
    key = KEYS[vendor]
    settings = Settings.load({"now": FROZEN, "store": redis_server.url}, env={})
    with ServerThread(create_app(settings)) as one, ServerThread(create_app(settings)) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second, \
            redis.Redis.from_url(redis_server.url) as client:
        assert first.put(f"/__mock/keys/{key}", json={"balance": 50}).status_code == 200
        assert call(first, vendor, key=key).status_code == 200
        field = next(f for f in client.hkeys("mockserver:c:keys") if f.endswith(b" balance"))
        client.hset("mockserver:c:keys", field, balance)
        answers = [call(first, vendor, key=key), call(second, vendor, key=key),
                   first.get(f"/__mock/keys/{key}"), second.get("/__mock/keys"),
                   first.put(f"/__mock/keys/{key}", json={"status": "active"})]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert "holds what the mock did not write" in answer.text, answer.text
            assert balance not in answer.headers.values(), answer.headers
        assert [a.json()["mockserver_error"] for a in answers[:2]] == ["store_unavailable"] * 2
        assert first.post("/__mock/reset").status_code == 200
        assert call(second, vendor, key=key).status_code == 200
        assert call(first, vendor, key=key).status_code == 200


def test_a_record_that_is_not_json_in_sqlite_is_a_503_never_a_500(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": path, "rate_limit": 0}, env={})
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        with sqlite3.connect(path) as db:
            db.execute("UPDATE kv SET value = 'not json' WHERE tbl = 'keys'")
        answers = [call(http, "dumpling", key=KEY), http.get(f"/__mock/keys/{KEY}")]
        for answer in answers:
            assert answer.status_code == 503, answer.text
        assert answers[0].json()["mockserver_error"] == "store_unavailable"
        assert "did not write" in answers[0].json()["message"]
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200
