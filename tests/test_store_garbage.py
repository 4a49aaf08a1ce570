"""What an outside write leaves in a shared store that the mock did not write there (a
balance that is no number, a table of another type, a record that is not JSON) is the
mock's own 503 ``store_unavailable`` naming what it found, on vendor routes and the
control plane alike: never a 500 with a traceback. A reset (or putting it right) brings
service back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
import redis

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import KEYS, call, first_video_id
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


# beyond 64 bits a 500 (orjson refused it); 2**63-1 was charged as a double, and grew
@pytest.mark.parametrize("balance", ["-5", "2.5", "100000000000000000000", "9223372036854775807",
                                     "1000000000000001", "+5", " 5", "1_0", "1e3", "0x10"])
@pytest.mark.parametrize("vendor", ["dumpling", "socialfetch"])
def test_a_balance_counter_set_below_0_in_redis_is_a_503_never_shown(redis_server, vendor,
                                                                      balance):
    """The mock never writes a balance below 0 or above 10**15 (nor a part of a credit):
    one set by hand (redis-cli HSET) is what the mock did not write, through a process that
    had read the key before and one that had not, on the vendor routes that show a balance
    (a header, a body) and the admin API alike, until a reset."""
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


# valid JSON of another shape than the mock writes, in each kind of record ------------------

SHAPES = {"a list": ["x", 1], "a number": 5, "a string": "x", "null": None, "an empty object": {},
          "fields of other types": {"balance": "x", "status": 5, "rate_limit": "y", "user": 3,
                                    "music": [], "id": 3, "scenario": 5, "fired": "q"}}
#: kind of record -> (SQLite table, Redis hash or list), the calls that read it
RECORDS = {
    "a key's record": ("keys", "mockserver:t:keys", ["dumpling", "GET /__mock/keys"]),
    "a Gateway user": ("gateway_users", "mockserver:t:gateway_users", ["gateway"]),
    "a Gateway video": ("gateway_videos", "mockserver:t:gateway_videos", ["gateway video"]),
    "an armed scenario": ("armed", "mockserver:t:armed", ["dumpling", "GET /__mock/scenarios"]),
    "a journal entry": ("log", "mockserver:log:journal", ["GET /__mock/requests"]),
    "a rate window": ("_windows", None, ["dumpling"]),
    "a coverage count": ("_tally:coverage", None, ["dumpling", "GET /__mock/coverage"]),
}


def _write(spec: str, kind: str, raw: bytes) -> None:
    table, name, _ = RECORDS[kind]
    if spec.startswith("redis://"):
        with redis.Redis.from_url(spec) as client:
            if kind == "a journal entry":
                client.lset(name, 0, raw)
            else:
                assert client.hkeys(name), f"nothing in {name}"
                for field in client.hkeys(name):
                    client.hset(name, field, raw)
        return
    with sqlite3.connect(spec) as db:
        if table == "log":
            written = db.execute("UPDATE log SET value = ? WHERE id = (SELECT max(id) FROM log)",
                                 (raw,)).rowcount
        else:
            written = db.execute("UPDATE kv SET value = ? WHERE tbl = ?", (raw, table)).rowcount
        assert written, f"nothing in {table}"


def _shared_store(request, tmp_path, store: str) -> str:
    """A fresh SQLite file or Redis database, as --store names it."""
    if store == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        return server.url
    return str(tmp_path / "ledger.sqlite")


def _ask(http: httpx.Client, what: str, video: str) -> httpx.Response:
    if what.startswith("GET "):
        return http.get(what[4:])
    if what == "gateway video":
        return call(http, "gateway", "video", video_id=video)
    return call(http, what, key=KEYS[what])


def _fill_every_record(http: httpx.Client, video: str) -> None:
    """From a reset: a record of every kind kept (keys, windows, Gateway records, the
    journal, coverage counts, an armed entry that never matches)."""
    assert http.post("/__mock/reset").status_code == 200
    for what in ("dumpling", "socialfetch", "gateway", "gateway video"):
        assert _ask(http, what, video).status_code == 200
    armed = http.post("/__mock/scenarios", json={
        "vendor": "gateway", "scenario": "backend_error", "handle": "nobody"})
    assert armed.status_code == 201, armed.text


@pytest.mark.parametrize(("store", "kind"), [
    (store, kind) for kind in RECORDS for store in ("sqlite", "redis")
    if store == "sqlite" or RECORDS[kind][1]])  # Redis's own counts: text its scripts check
def test_a_record_of_another_shape_is_a_503_never_a_500(request, tmp_path, store, kind):
    """Valid JSON where a record is kept, of a shape the mock never writes there (a list for
    a key's record, a string for a journal entry, an object missing its fields...): read
    by a process that had not read it before, the mock's 503 naming it; nothing reading it
    is a 500 (a record a Redis process kept from before may still answer)."""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    asked = ["dumpling", "socialfetch", "gateway", "gateway video", "GET /__mock/keys",
             f"GET /__mock/keys/{KEYS['dumpling']}", "GET /__mock/scenarios",
             "GET /__mock/requests", "GET /__mock/coverage"]
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        video = first_video_id(http)
        for shape, value in SHAPES.items():
            _fill_every_record(http, video)
            _write(spec, kind, orjson.dumps(value))
            with ServerThread(create_app(settings)) as other, \
                    httpx.Client(base_url=other.url) as fresh:
                answers = {what: _ask(fresh, what, video) for what in asked}
            answers.update({f"again {what}": _ask(http, what, video) for what in asked})
            for what, answer in answers.items():
                assert answer.status_code != 500, (shape, what, answer.text)
            for what in RECORDS[kind][2]:
                answer = answers[what]
                assert answer.status_code == 503, (shape, what, answer.text)
                assert "did not write" in answer.text, (shape, what, answer.text)
        assert http.post("/__mock/reset").status_code == 200
        for what in asked:
            assert _ask(http, what, video).status_code == 200, what


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize("edit", [{"scenario": "nope_nope"}, {"scenario": None, "status": 99999},
                                  {"scenario": None, "status": 101}])
def test_an_armed_entry_that_arming_refuses_is_a_503_not_quietly_ignored(request, tmp_path,
                                                                          store, edit):
    """An entry of the right types but naming no scenario the mock knows, or a status no
    arming accepts, never fires and stayed armed, a 200 for every request: it is what the
    mock did not write, as an entry of another shape is."""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        armed = http.post("/__mock/scenarios", json={
            "vendor": "gateway", "scenario": "backend_error", "handle": "nobody"})
        assert armed.status_code == 201, armed.text
        _write(spec, "an armed scenario", orjson.dumps({**_stored_entry(spec), **edit}))
        with ServerThread(create_app(settings)) as other, \
                httpx.Client(base_url=other.url) as fresh:
            for answer in (call(fresh, "dumpling", key=KEYS["dumpling"]),
                           fresh.get("/__mock/scenarios")):
                assert answer.status_code == 503, (edit, answer.text)
                assert "did not write" in answer.text
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=KEYS["dumpling"]).status_code == 200


def _stored_entry(spec: str) -> dict:
    """The one armed entry as the store holds it."""
    if spec.startswith("redis://"):
        with redis.Redis.from_url(spec) as client:
            [raw] = client.hvals("mockserver:t:armed")
    else:
        with sqlite3.connect(spec) as db:
            [(raw,)] = db.execute("SELECT value FROM kv WHERE tbl = 'armed'").fetchall()
    return orjson.loads(raw)


# a key's rate window: text Redis's scripts count, a row of an SQLite file --------------------

def _windows(spec: str) -> dict[str, bytes]:
    """Every rate window the store holds, as it holds it (by the key's digest)."""
    if spec.startswith("redis://"):
        with redis.Redis.from_url(spec) as client:
            return {name.decode(): raw for name, raw in
                    client.hgetall("mockserver:windows").items()}
    with sqlite3.connect(spec) as db:
        return dict(db.execute("SELECT key, value FROM kv WHERE tbl = '_windows'").fetchall())


def _set_windows(spec: str, raw: bytes) -> None:
    names = _windows(spec)
    assert names, "no rate window counted"
    if spec.startswith("redis://"):
        with redis.Redis.from_url(spec) as client:
            client.hset("mockserver:windows", mapping=dict.fromkeys(names, raw))
        return
    with sqlite3.connect(spec) as db:
        db.execute("UPDATE kv SET value = ? WHERE tbl = '_windows'", (raw,))


#: what something else may write in a window's place, in each store's terms (Redis keeps
#: '<window number> <count>', SQLite the JSON [window number, count])
WINDOW_GARBAGE = {"redis": [b"abc", b"29408 x", b"-3 1", b"29408", b""],
                  "sqlite": [b"abc", b'"abc"', b"[29408]", b"[-3, 1]", b'[29408, "x"]']}


@pytest.mark.parametrize(("store", "raw"), [
    (store, raw) for store, values in WINDOW_GARBAGE.items() for raw in values])
def test_a_rate_window_the_mock_did_not_write_is_a_503_not_a_fresh_window(request, tmp_path,
                                                                          store, raw):
    """A rate-limited key's window holding what the mock never writes there is the 503
    "holds what the mock did not write" on both stores, whichever step counts it (on Redis
    the opening script of a process that had not read the key, or the last script of one
    that had), never a window started afresh over it: nothing is counted or written over
    it, until a reset."""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})  # the limit is on
    key = KEYS["dumpling"]
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling", key=key).status_code == 200  # its window counted
        _set_windows(spec, raw)
        with ServerThread(create_app(settings)) as other, \
                httpx.Client(base_url=other.url) as fresh:
            answers = [call(fresh, "dumpling", key=key), call(http, "dumpling", key=key)]
        for answer in answers:
            assert answer.status_code == 503, (raw, answer.text)
            assert answer.json()["mockserver_error"] == "store_unavailable"
            assert "holds what the mock did not write" in answer.json()["message"], answer.text
        assert set(_windows(spec).values()) == {raw}  # nothing counted over it
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=key).status_code == 200


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize("edit", [{"balance": -5}, {"balance": 2.5}, {"rate_limit": 2.5},
                                  {"rate_limit": 10 ** 16}])
def test_a_key_the_mock_did_not_write_is_refused_before_its_window_is_counted(request, tmp_path,
                                                                              store, edit):
    """A rate-limited key's record edited by hand (a balance below 0 or not a number, a limit
    that is no whole number up to 10**15) is the 503 without counting the request in the
    key's rate window: a request refused for what the store holds spends nothing, through a
    process that had read the key (on Redis its last step, which takes the charge) and one
    that had not (its opening step). (A Redis process that read the key's record before may
    answer from it, as README says, when the edit is to the record and not to the balance's
    counter its last step reads.)"""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})  # the limit is on
    key = KEYS["dumpling"]
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert http.put(f"/__mock/keys/{key}", json={"balance": 50}).status_code == 200
        assert call(http, "dumpling", key=key).status_code == 200  # its window counted
        counted = _windows(spec)
        [(field, value)] = edit.items()
        if spec.startswith("redis://"):
            with redis.Redis.from_url(spec) as client:
                if field == "balance":  # its counter, beside the record
                    [name] = [f for f in client.hkeys("mockserver:c:keys")
                              if f.endswith(b" balance")]
                    client.hset("mockserver:c:keys", name, str(value))
                else:
                    [(name, raw)] = client.hgetall("mockserver:t:keys").items()
                    client.hset("mockserver:t:keys", name,
                                orjson.dumps({**orjson.loads(raw), **edit}))
        else:
            with sqlite3.connect(spec) as db:
                [(raw,)] = db.execute("SELECT value FROM kv WHERE tbl = 'keys'").fetchall()
                db.execute("UPDATE kv SET value = ? WHERE tbl = 'keys'",
                           (orjson.dumps({**orjson.loads(raw), **edit}),))
        with ServerThread(create_app(settings)) as other, \
                httpx.Client(base_url=other.url) as fresh:
            answers = [call(fresh, "dumpling", key=key)]
        if store == "sqlite" or field == "balance":
            answers.append(call(http, "dumpling", key=key))
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert "holds what the mock did not write" in answer.json()["message"], answer.text
        assert _windows(spec) == counted
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=key).status_code == 200


# a journal entry of the right shape, a field of another type ----------------------------------

#: a journal entry's fields in the order a Redis entry packs them (journal.Record.shown)
PACKED_FIELDS = ["at", "vendor", "route", "method", "path", "query", "headers", "key", "status",
                 "scenario", "scenario_source", "credits_charged", "notes", "duration_ms",
                 "outcomes", "reason"]


def _edit_newest_entry(spec: str, edit: dict[str, Any]) -> None:
    """The newest journal entry with ``edit``'s fields set, as the store keeps it: in SQLite
    the entry's JSON; in Redis the packed entry (its shown fields, then the request's digest,
    its count and the body's size, as JSON; then the bodies), or its packed extras."""
    if spec.startswith("redis://"):
        with redis.Redis.from_url(spec) as client:
            packed = client.lindex("mockserver:log:journal", 0)
            end = packed.index(b"\n")
            shown = orjson.loads(packed[1:end])
            for field, value in edit.items():
                names = [*PACKED_FIELDS, "request", "count", "body_size"]
                shown[names.index(field)] = value
            client.lset("mockserver:log:journal", 0,
                        packed[:1] + orjson.dumps(shown) + packed[end:])
        return
    with sqlite3.connect(spec) as db:
        [(raw,)] = db.execute("SELECT value FROM log WHERE id = (SELECT max(id) FROM log)")
        db.execute("UPDATE log SET value = ? WHERE id = (SELECT max(id) FROM log)",
                   (orjson.dumps({**orjson.loads(raw), **edit}),))


#: fields of the types the mock writes, each changed to another type
WRONG_TYPES = [{"status": "200"}, {"status": True}, {"at": [1]}, {"at": "1"},
               {"headers": {"accept": 1}}, {"headers": ["accept"]}, {"notes": "x"},
               {"notes": [1]}, {"outcomes": "ok"}, {"credits_charged": 1.5}, {"key": 5},
               {"duration_ms": "1"}, {"reason": 3}, {"vendor": None}, {"method": ["POST"]}]
#: fields of the right type, with a value the mock never writes there
OUT_OF_RANGE = [{"at": 1e308}, {"at": -5}, {"status": 99999}, {"status": -1},
                {"duration_ms": -1}, {"credits_charged": -2}]


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize("edit", WRONG_TYPES + OUT_OF_RANGE,
                         ids=lambda edit: orjson.dumps(edit).decode())
def test_a_journal_entry_with_a_field_of_another_type_is_a_503_not_listed(request, tmp_path,
                                                                           store, edit):
    """A journal entry with every field, one of them of a type the mock never writes there
    (a status that is text, an instant that is a list...), is what the mock did not write:
    reading the journal is the 503 naming it on both stores, not a listing that shows it
    (nor a 500 where a client reads the field), until a reset."""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling").status_code == 200
        assert call(http, "socialfetch").status_code == 200
        assert http.get("/__mock/requests").status_code == 200
        _edit_newest_entry(spec, edit)
        for answer in (http.get("/__mock/requests"),
                       http.get("/__mock/requests", params={"vendor": "dumpling"})):
            assert answer.status_code == 503, (edit, answer.text)
            assert "holds what the mock did not write" in answer.json()["error"], answer.text
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling").status_code == 200
        assert http.get("/__mock/requests").status_code == 200


@pytest.mark.parametrize("edit", [{"count": "x"}, {"count": -1}, {"count": 1.5},
                                  {"body_size": -1}, {"body_size": 10 ** 6},
                                  {"request": 5}])
def test_a_packed_journal_entry_with_extras_of_another_type_is_a_503(redis_server, edit):
    """What a Redis journal entry packs after its fields (the request's digest, its count,
    the body's size) of another type or out of range: the 503, not a 500 (a count that is
    text) or bodies cut at a size that is not theirs."""
    redis_server.flush()
    settings = Settings.load({"now": FROZEN, "store": redis_server.url}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling").status_code == 200
        _edit_newest_entry(redis_server.url, edit)
        answer = http.get("/__mock/requests")
        assert answer.status_code == 503, (edit, answer.text)
        assert "holds what the mock did not write" in answer.json()["error"], answer.text
        assert http.post("/__mock/reset").status_code == 200
        assert http.get("/__mock/requests").status_code == 200


# SQLite values that are no text at all: `UPDATE kv SET value = 5` writes an integer -----------

@pytest.mark.parametrize("kind", list(RECORDS))
def test_a_sqlite_value_that_is_not_text_is_a_503_never_a_500(tmp_path, kind):
    """An integer, a real or NULL where the mock keeps a record's JSON text (what the
    sqlite3 shell writes for an unquoted 5) is the mock's 503 naming it, like text that is
    not JSON, wherever it is read; a reset ends it."""
    spec = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    asked = ["dumpling", "socialfetch", "gateway", "gateway video", "GET /__mock/keys",
             f"GET /__mock/keys/{KEYS['dumpling']}", "GET /__mock/scenarios",
             "GET /__mock/requests", "GET /__mock/coverage", "GET /__mock/health"]
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        video = first_video_id(http)
        for value in (5, 2.5, None):
            _fill_every_record(http, video)
            _write(spec, kind, value)
            answers = {what: _ask(http, what, video) for what in asked}
            for what, answer in answers.items():
                assert answer.status_code != 500, (value, what, answer.text)
            for what in RECORDS[kind][2]:
                assert answers[what].status_code == 503, (value, what, answers[what].text)
                assert "did not write" in answers[what].text, (value, what)
        assert http.post("/__mock/reset").status_code == 200
        for what in asked:
            assert _ask(http, what, video).status_code == 200, what


@pytest.mark.parametrize("value", [5, None])
def test_a_sqlite_clock_that_is_not_text_starts_again(tmp_path, value):
    """The clock's row holding a number or NULL is a clock that is not one: it starts again
    (logged), as one holding other text does, and nothing is a 500."""
    spec = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling").status_code == 200
        with sqlite3.connect(spec) as db:
            assert db.execute("UPDATE kv SET value = ? WHERE tbl = '_meta' AND key = 'clock'",
                              (value,)).rowcount == 1
        for answer in (http.get("/__mock/health"), http.get("/__mock/clock"),
                       call(http, "dumpling")):
            assert answer.status_code == 200, answer.text
        assert http.get("/__mock/clock").json()["now"].startswith(FROZEN[:19])


@contextmanager
def _one_request_made(spec: str) -> Iterator[httpx.Client]:
    """A server on ``spec``'s store, :data:`KEY` set (50 credits, a limit of 100) and one
    request of it made: its record, rate window, journal line and counts all kept."""
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50, "rate_limit": 100}) \
            .status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200
        yield http


def test_sqlite_a_request_whose_last_writes_meet_foreign_rows_takes_nothing(tmp_path):
    """A coverage count something else wrote makes a request's last step the 503: its
    charge is taken back with it (one transaction), and it has no journal line, as the
    README says of the mock's 503s. (Its window, counted in a step of its own as it
    opened, stays counted, as after an "is busy" 503.)"""
    spec = str(tmp_path / "ledger.sqlite")
    with _one_request_made(spec) as http:

        def ledger() -> tuple[Any, ...]:
            with sqlite3.connect(spec) as db:
                return db.execute("SELECT count(*) FROM log").fetchone()

        before, balance = ledger(), http.get(f"/__mock/keys/{KEY}").json()["balance"]
        with sqlite3.connect(spec) as db:
            assert db.execute("UPDATE kv SET value = '\"garbage\"' "
                              "WHERE tbl = '_tally:coverage'").rowcount
        for _ in range(3):
            answer = call(http, "dumpling", key=KEY)
            assert answer.status_code == 503, answer.text
            assert "did not write" in answer.text
        assert ledger() == before
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == balance
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200


def _coverage_count_not_a_number(client: redis.Redis) -> None:
    counts = "mockserver:n:coverage"
    for field in client.hkeys(counts):
        client.hset(counts, field, "abc")


def _a_string_instead(name: str) -> Callable[[redis.Redis], None]:
    def write(client: redis.Redis) -> None:
        client.delete(name)
        client.set(name, "garbage")
    return write


FOREIGN_WRITES = {
    "a coverage count that is no number": _coverage_count_not_a_number,
    "the coverage counts a string": _a_string_instead("mockserver:n:coverage"),
    "the coverage marks a string": _a_string_instead("mockserver:m:coverage"),
    "the journal a string": _a_string_instead("mockserver:log:journal"),
}


@pytest.mark.parametrize("edit", FOREIGN_WRITES)
def test_redis_a_request_whose_last_writes_meet_foreign_values_takes_nothing(redis_server,
                                                                             edit):
    """Something else wrote where a request's last step writes (its journal line, its
    coverage counts): the step is the 503 before it writes anything, so nothing is charged,
    counted in the rate window or journalled. (Redis does not undo a script that fails
    half-way: the charge had been taken, and the line kept, for a 503.)"""
    redis_server.flush()
    with _one_request_made(redis_server.url) as http, \
            redis.Redis.from_url(redis_server.url) as client:

        def ledger() -> tuple[Any, ...]:
            journal = "mockserver:log:journal"
            return (client.hgetall("mockserver:c:keys"), client.hgetall("mockserver:windows"),
                    client.llen(journal) if client.type(journal) == b"list" else None)

        FOREIGN_WRITES[edit](client)
        before = ledger()
        for _ in range(3):
            answer = call(http, "dumpling", key=KEY)
            assert answer.status_code == 503, answer.text
            assert "did not write" in answer.text, answer.text
        assert ledger() == before
        assert http.post("/__mock/reset").status_code == 200
        assert call(http, "dumpling", key=KEY).status_code == 200


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize("masked", [5, None, "sk_a_whole_key_written_by_hand"])
def test_a_key_record_naming_its_key_unmasked_is_a_503_never_listed(request, tmp_path, store,
                                                                    masked):
    """The admin API lists a key by its record's masked form: one something else wrote
    there (a number, a whole key) is the 503, never shown as it is."""
    spec = _shared_store(request, tmp_path, store)
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert http.put(f"/__mock/keys/{KEY}", json={"balance": 50}).status_code == 200
        listed = http.get("/__mock/keys")
        assert listed.status_code == 200 and listed.json()["keys"][0]["key"].startswith("…")
        if spec.startswith("redis://"):
            with redis.Redis.from_url(spec) as client:
                [(field, raw)] = client.hgetall("mockserver:t:keys").items()
                client.hset("mockserver:t:keys", field,
                            orjson.dumps({**orjson.loads(raw), "masked": masked}))
        else:
            with sqlite3.connect(spec) as db:
                [(raw,)] = db.execute("SELECT value FROM kv WHERE tbl = 'keys'").fetchall()
                db.execute("UPDATE kv SET value = ? WHERE tbl = 'keys'",
                           (orjson.dumps({**orjson.loads(raw), "masked": masked}),))
        answer = http.get("/__mock/keys")
        assert answer.status_code == 503, answer.text
        assert "did not write" in answer.text and "whole_key" not in answer.text


def test_a_sqlite_journal_entry_with_a_field_the_mock_never_writes_is_a_503(tmp_path):
    """An entry with one field more than the mock writes is not one of its entries."""
    spec = str(tmp_path / "ledger.sqlite")
    settings = Settings.load({"now": FROZEN, "store": spec}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling").status_code == 200
        _edit_newest_entry(spec, {"extra": 1})
        assert http.get("/__mock/requests").status_code == 503


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_a_rate_window_count_past_the_most_the_mock_writes_is_a_503(request, tmp_path, store):
    """A window's count above 10^15, the most a limit may be, is not one the mock wrote:
    the 503 on both stores, not a spent window (a 429) on one of them."""
    spec = _shared_store(request, tmp_path, store)
    with _one_request_made(spec) as http:
        huge = 10 ** 16  # above 10^15, within what JSON readers take
        if store == "redis":
            with redis.Redis.from_url(spec) as client:
                [(field, raw)] = client.hgetall("mockserver:windows").items()
                client.hset("mockserver:windows", field, b"%s %d" % (raw.split()[0], huge))
        else:
            with sqlite3.connect(spec) as db:
                [(raw,)] = db.execute("SELECT value FROM kv WHERE tbl = '_windows'").fetchall()
                db.execute("UPDATE kv SET value = ? WHERE tbl = '_windows'",
                           (orjson.dumps([orjson.loads(raw)[0], huge]),))
        answer = call(http, "dumpling", key=KEY)
        assert answer.status_code == 503, answer.text
        assert "did not write" in answer.text
