"""Hardening: every input an attacker or a careless user can send, over real sockets.

Each test sends the input, then checks the answer's status, that the server still
answers, and that nothing the mock held changed; one checks the process's memory, one
stops the process with a hang in flight. The servers run as `mockserver serve` processes
so that their memory and their signal handling are the real ones.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from mockserver.app import create_app
from mockserver.cli import admin_note
from mockserver.guard import admin_token
from mockserver.limits import ARMED_ENTRIES
from mockserver.pipeline.keys import mask
from mockserver.server import free_port
from mockserver.settings import Settings
from tests.calls import KEYS, VENDORS, arm, call, journal
from tests.conftest import FROZEN

VIDEOS = "/api/v1/get-tiktok-profile-videos"
RSS_LIMIT_MB = 300


class Served:
    """A `mockserver serve` process on a free loopback port."""

    def __init__(self, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port),
             "--now", FROZEN, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(self.url + "/__mock/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mockserver did not start: {self.process.stdout.read()}")
            time.sleep(0.05)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served("--header-timeout", "1", "--body-timeout", "1")
    yield server
    server.stop()


@pytest.fixture
def http(served: Served) -> httpx.Client:
    assert served.http.post("/__mock/reset").status_code == 200
    return served.http


def raw(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it or ``wait``."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # refused midway: what was answered is still readable
        received = b""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def state(http: httpx.Client) -> tuple:
    """What the mock holds that a bad request must not change."""
    keys = tuple(http.get(f"/__mock/keys/{KEYS[v]}").json()["balance"] for v in VENDORS)
    return (keys, http.get("/__mock/clock").json(), http.get("/__mock/scenarios").json()["armed"],
            len(journal(http)))


def still_answers(http: httpx.Client) -> None:
    assert http.get("/__mock/health").status_code == 200
    for vendor in VENDORS:
        assert call(http, vendor, key="sk_probe_key" if vendor == "dumpling" else None
                    ).status_code == 200, vendor


# unasked-for 500s -----------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["²", "٣٣٣", "１２", "1²"])
def test_a_cursor_of_non_ascii_digits_is_the_vendors_400(http, cursor):
    response = http.post(VIDEOS, json={"handle": "stoolpresidente", "maxCursor": cursor},
                         headers={"Authorization": "Bearer sk_test_key"})
    assert response.status_code == 400
    # the field is named, as for any maxCursor that is not a string of digits (issue 11)
    assert response.json() == {"error": "'maxCursor' parameter must be a string of digits."}
    assert journal(http, limit=1)[0]["status"] == 400  # journaled like any answer
    assert http.get("/__mock/keys/sk_test_key").json()["balance"] == 1000  # free


@pytest.mark.parametrize("video_id", ["٣٣٣", "７２１", "1²"])
def test_a_video_url_with_non_ascii_digits_is_not_a_tiktok_url(http, video_id):
    response = http.post("/api/v1/get-tiktok-video", headers={"Authorization": "Bearer sk_t_key"},
                         json={"url": f"https://www.tiktok.com/@stoolpresidente/video/{video_id}"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid TikTok video URL format."}


@pytest.mark.parametrize("body", [
    b'{"advance": NaN}', b'{"advance": 1e308}', b'{"advance": -1e12}',
    b'{"set": 253402300800}', b'{"set": -1e12}', b'{"set": "9999-12-31T23:59:59Z"}',
    b'{"set": "yesterday"}', b'{"freeze": true, "set": 1e300}', b'{"advance": "1"}',
    b'{"freeze": "yes"}'])
def test_clock_values_out_of_range_are_400s_that_change_nothing(http, body):
    before = state(http)
    response = http.post("/__mock/clock", content=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert state(http) == before
    still_answers(http)


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.parametrize("body, status", [
    (deep(100_000), 400),  # deeper than any stack
    (b'{"status": 200, "body": %s}' % deep(300), 400),  # deeper than the encoder goes
    (b'{"status": 200, "body": {"n": NaN}}', 400),
    (b'{"status": 200, "body": {"n": Infinity}}', 400),
    (b'{"status": 200, "body": {"n": 1e400}}', 400),
    (b'{"status": 200, "body": [%s]}' % b",".join([b"1"] * 20_000), 400),  # too many values
    (b'{"status": 200, "body": "%s"}' % (b"x" * 70_000), 400),  # over 64 KiB encoded
    (b'{"status": 101}', 400), (b'{"status": 100, "body": {}}', 400),
    (b'{"status": 204, "body": {"a": 1}}', 400), (b'{"status": 304, "body": "x"}', 400),
    (b'{"status": 600}', 400), (b'{"status": 200.5}', 400),
    (b'{"status": 200, "body": "%s"}' % (b"x" * (2 << 20)), 413),  # over the admin limit
])
def test_arming_what_cannot_be_sent_is_refused_and_arms_nothing(http, body, status):
    before = state(http)
    response = http.post("/__mock/scenarios", content=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert state(http) == before
    still_answers(http)


def test_an_integer_beyond_64_bits_is_refused_not_armed_as_a_float(http):
    before = state(http)  # orjson would read 10**20 as 1e20: a number the client never sent
    refused = http.post("/__mock/scenarios",
                        json={"status": 200, "body": {"n": 10 ** 20}, "times": 1})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("body.n: 100000000000000000000 is an integer")
    assert state(http) == before


def test_no_more_than_the_limit_of_armed_scenarios(http):
    for _ in range(ARMED_ENTRIES):
        arm(http, latency_ms=1, times=1000)
    refused = http.post("/__mock/scenarios", json={"latency_ms": 1})
    assert refused.status_code == 409 and "DELETE /__mock/scenarios" in refused.json()["error"]
    assert len(http.get("/__mock/scenarios").json()["armed"]) == ARMED_ENTRIES


def test_key_values_beyond_what_json_carries_are_refused(http):
    before = state(http)
    for body in (b'{"balance": 1e400}', b'{"balance": NaN}', b'{"rate_limit": -1}',
                 b'{"balance": 1.5}', b'{"status": "gone"}', b'[1]'):
        response = http.put(f"/__mock/keys/{KEYS['dumpling']}", content=body)
        assert response.status_code == 400, body
    assert state(http) == before


@pytest.mark.parametrize("status", [204, 304])
def test_a_status_without_a_body_keeps_the_connection_in_step(served, http, status):
    arm(http, vendor="dumpling", status=status, times=1)
    body = b'{"handle": "stoolpresidente"}'
    request = (b"POST /api/v1/get-tiktok-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: Bearer sk_test_key\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    health = b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = raw(served.port, request + health)
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 %d " % status)
    assert b"content-length" not in first.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK"), rest[:80]  # the next answer, in step


# limits ---------------------------------------------------------------------------------


def test_headers_and_urls_over_the_limit_are_431_and_414(served, http):
    before = state(http)
    big = b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n"
    answer = raw(served.port, big % (b"a" * (20 << 10)))
    assert answer.startswith(b"HTTP/1.1 431 ") and b"--max-header-bytes" in answer
    endless = raw(served.port, big % (b"a" * (4 << 20)))  # never read whole
    assert endless.startswith(b"HTTP/1.1 431 ")
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(3000))
    answer = raw(served.port, b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many +
                 b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    answer = raw(served.port, b"GET /v1/tiktok/profiles/%s HTTP/1.1\r\nHost: x\r\n\r\n"
                 % (b"a" * (20 << 10)))
    assert answer.startswith(b"HTTP/1.1 414 ")
    assert state(http) == before
    still_answers(http)


@pytest.mark.parametrize("vendor, status, expected", [
    ("dumpling", 413, {"error": "Request body too large."}),
    ("socialfetch", 400, "bad_request"),  # its contract's one code and status for bad input
    ("gateway", 413, {"message": "Request Too Long"}),
])
def test_a_vendor_body_over_the_limit_is_refused_in_the_vendors_form(http, vendor, status,
                                                                       expected):
    before = state(http)
    big = b'{"handle": "stoolpresidente", "pad": "%s"}' % (b"x" * (100 << 10))
    if vendor == "dumpling":
        response = http.post("/api/v1/get-tiktok-profile", content=big,
                             headers={"Authorization": f"Bearer {KEYS[vendor]}"})
    else:
        path = ("/v1/tiktok/profiles/stoolpresidente" if vendor == "socialfetch"
                else "/dev/tiktok/user/stoolpresidente")
        response = http.request("GET", path, content=big, headers={"x-api-key": KEYS[vendor]})
    assert response.status_code == status
    if vendor == "socialfetch":
        assert response.json()["error"]["code"] == expected
        assert response.json()["error"]["requestId"].startswith("req_")
    else:
        assert response.json() == expected
    assert journal(http, limit=1)[0]["status"] == status
    assert state(http)[:3] == before[:3]
    still_answers(http)


def test_a_streamed_body_over_the_limit_is_413_too(served, http):
    chunk = b"x" * 8192
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    answer = raw(served.port, b"POST /api/v1/get-tiktok-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Authorization: Bearer sk_test_key\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")
    still_answers(http)


def test_journal_entries_are_cut_and_secret_headers_masked(http):
    headers = {"X-Long": "v" * 10_000, "X-RapidAPI-Key": "secret123",
               "X-Session-Token": "tok_0123456789abcdef", "Cookie": "sid=abcdefghijklmnop",
               "X-Client-Secret": "hush-hush-hush-hush"}
    body = {"handle": "stoolpresidente", "pad": "p" * 8000}
    assert call(http, "dumpling", body=body, headers=headers).status_code == 200
    entry = journal(http, limit=1)[0]
    assert entry["headers"]["x-long"] == "v" * 1024 + "…[cut by mockserver: 8976 more characters]"
    assert entry["body"].endswith("…[cut by mockserver: the body is over 4096 bytes]")
    assert len(entry["body"]) < 4200
    for name, value in headers.items():
        if name != "X-Long":
            shown = entry["headers"][name.lower()]
            assert shown == mask(value) and value[:5] not in shown and value[-5:] not in shown
    assert entry["headers"]["authorization"] == "Bearer " + mask(KEYS["dumpling"])


def test_slow_and_idle_connections_are_timed_out(served, http):
    started = time.monotonic()
    silent = raw(served.port, b"")  # connects, says nothing
    assert silent.startswith(b"HTTP/1.1 408 ")
    assert b'"the request line and headers did not arrive within 1 s"' in silent
    assert raw(served.port, b"GET /__mock/health HTTP/1.1\r\nHo").startswith(b"HTTP/1.1 408 ")
    partial = (b"POST /api/v1/get-tiktok-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Authorization: Bearer sk_test_key\r\nContent-Length: 100\r\n\r\n{\"han")
    slow_body = raw(served.port, partial)
    assert slow_body.startswith(b"HTTP/1.1 408 ")
    assert b'"the request body did not arrive within 1 s"' in slow_body
    assert time.monotonic() - started < 4.5  # each after about a second, not never
    assert journal(http) == []  # an incomplete request is not a request
    still_answers(http)


def test_connections_beyond_the_limit_are_refused_at_once_and_idle_ones_time_out():
    server = Served("--max-connections", "4", "--header-timeout", "1")
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        time.sleep(0.2)
        extra = raw(server.port, b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2)
        assert extra.startswith(b"HTTP/1.1 503 ") and b"--max-connections" in extra
        time.sleep(1.5)  # the idle ones are closed by the header timeout, freeing their places
        for sock in idle:
            assert sock.recv(200).startswith(b"HTTP/1.1 408 ")
            sock.close()
        assert httpx.get(server.url + "/__mock/health").status_code == 200
    finally:
        server.stop()


def test_memory_stays_bounded_whatever_clients_send(served, http):
    pad = b",".join([b"{}"] * 5_300)  # ~16 KiB: what parses into the most objects
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for n in range(150):  # distinct bodies just under the limit: memo and id tables
            client.post("/api/v1/get-tiktok-profile", content=b'{"handle": "stoolpresidente",'
                        b' "n": %d, "pad": [%s]}' % (n, pad),
                        headers={"Authorization": f"Bearer sk_{n:04d}_key"})
        for n in range(100):  # headers just under the limit, journaled
            call(client, "socialfetch", headers={"X-Big": "h" * 15_000, "X-N": str(n)})
        for _ in range(10):  # far over every limit
            with contextlib.suppress(httpx.TransportError):
                client.get("/__mock/health", headers={"X-Big": "a" * (16 << 20)})
            with contextlib.suppress(httpx.TransportError):
                client.post("/__mock/scenarios", content=b"[" * (50 << 20))
    held = []  # requests held open by a hang, each with its parsed body
    for n in range(60):
        body = b'{"handle": "stoolpresidente", "n": %d, "pad": [%s]}' % (n, pad)
        sock = socket.create_connection(("127.0.0.1", served.port))
        sock.sendall(b"POST /api/v1/get-tiktok-profile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer sk_test_key\r\nX-Mock-Scenario: hang\r\n"
                     b"X-Pad: %s\r\nContent-Length: %d\r\n\r\n%s"
                     % (b"z" * 15_000, len(body), body))
        held.append(sock)
    try:
        time.sleep(0.5)
        assert served.rss_mb() < RSS_LIMIT_MB
        still_answers(http)
    finally:
        for sock in held:
            sock.close()


# the control plane ----------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"Host": "rebind.evil.example"},
    {"Host": "rebind.evil.example", "Origin": "http://evil.example",
     "Content-Type": "text/plain"},
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
])
def test_a_web_page_cannot_reach_the_control_plane(http, headers):
    call(http, "dumpling")
    before = state(http)
    response = http.post("/__mock/reset", headers=headers)
    assert response.status_code == 403 and response.json()["error"]
    assert http.get("/__mock/requests", headers=headers).status_code == 403
    assert state(http) == before  # nothing was reset
    # vendor routes answer any Host: clients in other containers name the mock as they like
    assert call(http, "socialfetch", headers=headers).status_code == 200


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "[::1]",
                                  "app.localhost"])
def test_loopback_names_reach_the_control_plane(served, http, host):
    response = http.get("/__mock/clock", headers={"Host": f"{host}:{served.port}",
                                                  "Origin": f"http://{host}:3000"})
    assert response.status_code == 200


def test_an_allowed_host_and_an_admin_token():
    allowed = Served("--allowed-host", "mock.internal", "--allowed-host", "ci-mock")
    tokened = Served("--admin-token", "s3cret-admin-token")
    try:
        for host in ("mock.internal", "ci-mock:8080"):
            assert allowed.http.get("/__mock/clock", headers={"Host": host}).status_code == 200
        assert allowed.http.get("/__mock/clock", headers={"Host": "other"}).status_code == 403
        http = tokened.http
        call(http, "dumpling")
        for headers in ({}, {"X-Mock-Admin-Token": "wrong"}, {"X-Mock-Admin-Token": ""}):
            response = http.post("/__mock/reset", headers=headers)
            assert response.status_code == 401 and "X-Mock-Admin-Token" in response.text
        good = {"X-Mock-Admin-Token": "s3cret-admin-token"}
        assert len(http.get("/__mock/requests", headers=good).json()["requests"]) == 1
        # the token is the guard: any Host, with it
        assert http.get("/__mock/clock", headers={**good, "Host": "mock"}).status_code == 200
        assert http.get("/__mock/health").status_code == 200  # health checks need no token
        for static in ("/__mock/ui", "/__mock/ui/app.js"):  # nor the inspector's files
            assert http.get(static).status_code == 200
        assert http.get("/__mock/ui/app.js", headers={"Host": "x"}).status_code == 200
        assert call(http, "gateway").status_code == 200  # nor do vendor routes
        # the token itself never shows in the journal
        call(http, "dumpling", headers=good)
        assert "s3cret" not in http.get("/__mock/requests", headers=good).text
    finally:
        allowed.stop()
        tokened.stop()


def test_beyond_loopback_a_token_is_made_and_printed_unless_refused():
    token, made = admin_token(None, "0.0.0.0")
    assert made and len(token) >= 32 and admin_token(None, "0.0.0.0")[0] != token
    assert admin_token("none", "0.0.0.0") == (None, False)
    assert admin_token(None, "127.0.0.1") == (None, False)
    assert admin_token(None, "localhost") == (None, False)
    assert admin_token("mine", "::") == ("mine", False)
    mock = create_app(Settings.load({"now": FROZEN, "host": "0.0.0.0"}, env={})).state.mock
    assert mock.admin_token_made and mock.admin_token in admin_note(mock)
    env = {"MOCKSERVER_ADMIN_TOKEN": "from-env"}
    assert create_app(Settings.load({"host": "::"}, env=env)).state.mock.admin_token == "from-env"


# stopping and restarting ----------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_with_a_hang_in_flight_exits_promptly_with_one_store_file(tmp_path, sig):
    store = tmp_path / "state.db"
    server = Served("--store", str(store))
    try:
        assert call(server.http, "dumpling").status_code == 200  # 2 credits charged
        with contextlib.suppress(httpx.TransportError):  # refused, so never stored
            call(server.http, "dumpling", headers={"X-Big": "b" * (16 << 20)})
        outcomes: list[object] = []

        def hold(headers: dict[str, str]) -> None:
            try:
                outcomes.append(call(httpx.Client(base_url=server.url), "dumpling",
                                     headers=headers, timeout=30).status_code)
            except httpx.TransportError as exc:
                outcomes.append(type(exc).__name__)

        waiting = [threading.Thread(target=hold, args=(headers,)) for headers in (
            {"X-Mock-Scenario": "hang"}, {"X-Mock-Latency-Ms": "600000"})]
        for thread in waiting:
            thread.start()
        time.sleep(0.5)  # both in flight
        stopped = time.monotonic()
        server.process.send_signal(sig)
        server.process.wait(10)
        assert time.monotonic() - stopped < 5
        for thread in waiting:
            thread.join(5)
        # the hang ends with the connection closed; the sleep ends early, and its answer
        # (charged, so stored) goes out before the process exits
        assert sorted(map(str, outcomes)) == ["200", "RemoteProtocolError"]
    finally:
        server.stop()
    assert store.stat().st_size < 1 << 20
    wal = Path(f"{store}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed into the one file
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = Served("--store", str(store))
    try:  # what was charged before the stop is still there
        assert again.http.get(f"/__mock/keys/{KEYS['dumpling']}").json()["balance"] == 996
    finally:
        again.stop()


def test_config_scenarios_are_armed_once_per_name_however_often_the_mock_starts(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text('[[scenarios]]\nname = "retry"\nvendor = "dumpling"\n'
                      'scenario = "upstream_rate_limited"\ntimes = 2\n\n'
                      '[[scenarios]]\nvendor = "gateway"\nlatency_ms = 5\n')
    settings = Settings.load({"now": FROZEN, "config": str(config),
                              "store": str(tmp_path / "state.db")}, env={})
    for _ in range(3):
        mock = create_app(settings).state.mock
        armed = mock.scenarios.armed()
        mock.close()
    assert sorted(entry["id"] for entry in armed) == ["config_2", "config_retry"]


def test_a_reset_empties_every_cache(client, app):
    mock = app.state.mock
    for n in range(5):
        client.post("/api/v1/get-tiktok-profile", headers={"Authorization": "Bearer sk_x_key"},
                    content=orjson.dumps({"handle": "stoolpresidente", "n": n}))
        client.get(f"/dev/tiktok/user/nobody_{n}", headers={"x-api-key": "gw_nope"})
    caches = (mock.enforcer._requests, mock.enforcer._bodies, mock.enforcer._errors,
              mock.request_digests._seen)
    assert all(len(cache) > 0 for cache in caches)
    assert client.post("/__mock/reset").status_code == 200
    assert all(len(cache) == 0 and cache.size == 0 for cache in caches)


def test_keys_a_client_invents_are_bounded_in_length_and_number(http, client, monkeypatch):
    before = state(http)
    response = call(http, "dumpling", key="sk_" + "k" * 300)
    assert response.status_code == 401  # no vendor's key is that long
    assert state(http)[:3] == before[:3]
    from mockserver.pipeline import keys
    monkeypatch.setattr(keys, "RUN_TIME_KEYS", 3)
    statuses = [call(client, "dumpling", key=f"sk_key_{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 400, 400]
    assert "POST /__mock/reset" in call(client, "dumpling", key="sk_key_9").json()["error"]
    assert call(client, "dumpling", key="sk_key_0").status_code == 200  # known keys still work
    client.post("/__mock/reset")
    assert call(client, "dumpling", key="sk_key_9").status_code == 200


def _asgi_post(app, path: bytes, headers: list, chunks: list[bytes]) -> tuple[int, bytes]:
    """``app`` called as a server calls it, the body sent in ``chunks`` (one message each)."""
    import asyncio

    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path.decode(), "raw_path": path, "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 5), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_body_in_several_messages_or_with_a_length_that_is_no_number_is_read_whole():
    app = create_app(Settings.load({"now": FROZEN}, env={}))
    body = b'{"handle": "stoolpresidente"}'
    auth = (b"authorization", b"Bearer sk_test_key")
    status, answer = _asgi_post(app, b"/api/v1/get-tiktok-profile", [auth],
                                [body[:5], b"", body[5:12], body[12:]])
    assert status == 200, answer
    assert orjson.loads(answer)["user"]["uniqueId"] == "stoolpresidente"
    # digits that are not ASCII ("²³" read as latin-1): no declared length, not a 500
    status, answer = _asgi_post(app, b"/api/v1/get-tiktok-profile",
                                [auth, (b"content-length", b"\xb2\xb3")], [body])
    assert status == 200, answer


def test_the_readme_shows_masks_as_the_mock_makes_them():
    """The README's mask example said ``…ey#f69d`` (and elsewhere ``sk_t…_key``) where the
    admin API shows ``…ey#9cd1``."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = set(re.findall(r"`sk_test_key` shows as `([^`]+)`", readme))
    shown |= set(re.findall(r"`(…[^`]+)` for `sk_test_key`", readme))
    assert shown == {mask("sk_test_key")}
    assert "sk_t…_key" not in readme
