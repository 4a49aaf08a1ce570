"""Several ``mockserver serve`` processes on one ledger answer exactly as one process: real
processes on a real redis-server (2, then 4) and on one SQLite file (2), driven at once
over HTTP from many threads, then checked to the credit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mockserver.cli import main
from mockserver.pipeline.keys import mask
from mockserver.server import free_port
from tests.calls import call
from tests.conftest import FROZEN

GW_KEY = "gw_replica_key_0123456789"  # API Gateway: rate limited, 1 credit a user
JOURNAL_SIZE = 40


class Replica:
    """One ``mockserver serve`` process on its own loopback port."""

    def __init__(self, store: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port),
             "--store", store, "--now", FROZEN, "--journal-size", str(JOURNAL_SIZE), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")})

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mockserver exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/__mock/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"mockserver did not start on {self.url}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()


@contextmanager
def replicas(count: int, store: str, *extra: str) -> Iterator[list[httpx.Client]]:
    with replica_processes(count, store, *extra) as (clients, _):
        yield clients


@contextmanager
def replica_processes(count: int, store: str, *extra: str
                      ) -> Iterator[tuple[list[httpx.Client], list[Replica]]]:
    started = [Replica(store, *extra) for _ in range(count)]
    clients = []
    try:
        for replica in started:
            replica.wait_ready()
            clients.append(httpx.Client(base_url=replica.url, timeout=20))
        clients[0].post("/__mock/reset").raise_for_status()
        yield clients, started
    finally:
        for client in clients:
            client.close()
        for replica in started:
            replica.stop()


def spread(clients: list[httpx.Client], count: int, send: Callable[[httpx.Client], Any],
           threads: int = 16) -> list[Any]:
    """``count`` requests from ``threads`` threads at once, round robin over the replicas."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda n: send(clients[n % len(clients)]), range(count)))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def put_key(client: httpx.Client, key: str, **state: Any) -> None:
    client.put(f"/__mock/keys/{key}", json=state).raise_for_status()


def met(client: httpx.Client, vendor: str, route: str, since: str = "reset") -> dict[str, int]:
    """The outcomes of a route met so far, with their counts, as coverage reports them."""
    report = client.get("/__mock/coverage", params={"vendor": vendor, "since": since})
    outcomes = report.json()["vendors"][vendor]["routes"][route]["outcomes"]
    return {name: row["met"] for name, row in outcomes.items() if row["met"]}


def check_one_ledger(clients: list[httpx.Client]) -> None:
    first = clients[0]
    # the balance: 301 credits, 2 a profile, 200 tries from every process at once
    put_key(first, "sk_replica_balance", balance=301)
    answered = spread(clients, 200, lambda c: call(c, "dumpling", key="sk_replica_balance"))
    assert statuses(answered) == {200: 150, 403: 50}
    for client in clients:
        assert client.get("/__mock/keys/sk_replica_balance").json()["balance"] == 1
    # coverage counts every answer of every process: 150 successes (the last one leaving a
    # low balance), 50 refusals; a mark made through one process counts through another
    assert met(clients[-1], "dumpling", "profile") == {
        "ok": 150, "credits:low_balance": 1, "error:insufficient_credits": 50}
    clients[0].post("/__mock/coverage/mark", json={"name": "limits"}).raise_for_status()
    # the rate limit: 25 a minute admits exactly 25 of 60 in the (frozen) window
    put_key(clients[-1], GW_KEY, rate_limit=25)
    limited = spread(clients, 60, lambda c: call(c, "gateway", key=GW_KEY))
    assert statuses(limited) == {200: 25, 429: 35}
    assert clients[1].get(f"/__mock/keys/{GW_KEY}").json()["balance"] == 1000 - 25
    assert met(clients[1], "gateway", "user", since="limits") == {
        "ok": 25, "error:throttled": 35}
    assert met(clients[1], "dumpling", "profile", since="limits") == {}
    # each request counted once in its window, whichever process and step counts it: the
    # 30 admitted of 45 saw each of 29, 28 ... 0 left exactly once (one counted twice
    # would skip a number; one not counted would repeat one, and admit a 31st)
    put_key(clients[0], "sk_replica_window", rate_limit=30)
    windowed = spread(clients, 45, lambda c: call(c, "dumpling", key="sk_replica_window"))
    assert statuses(windowed) == {200: 30, 429: 15}
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in windowed
                  if r.status_code == 200) == list(range(30))
    # an armed scenario, times=7, fires exactly 7 times whichever process serves
    armed = clients[1].post("/__mock/scenarios", json={
        "scenario": "upstream_unavailable", "vendor": "dumpling", "times": 7,
        "key": "sk_replica_armed"})
    assert armed.status_code == 201, armed.text
    fired = spread(clients, 40, lambda c: call(c, "dumpling", key="sk_replica_armed"))
    assert statuses(fired) == {502: 7, 200: 33}
    for client in clients:
        assert client.get("/__mock/scenarios").json()["armed"] == []
    # one clock: moved through one process, read the same through every one
    moved = clients[-1].post("/__mock/clock", json={"advance": 3600}).json()["now"]
    assert moved == "2026-11-23T13:00:00.000Z"
    assert {c.get("/__mock/clock").json()["now"] for c in clients} == {moved}
    # one journal, bounded and in order: requests one after another, alternating processes
    handles = [f"replica_order_{n}" for n in range(12)]
    for n, handle in enumerate(handles):
        call(clients[n % len(clients)], "socialfetch", handle=handle)
    for client in clients:
        kept = client.get("/__mock/requests").json()["requests"]
        assert len(kept) == JOURNAL_SIZE
        newest = [entry["path"].split("/")[4] for entry in kept[:len(handles)]]
        assert newest == handles[::-1]
        assert {entry["at"] for entry in kept[:len(handles)]} == {1795438800.0}
    # request ids stay unique across processes: the same request made over and over
    # through every process (each counted its own repeats, so two processes gave the
    # same request the same ids: half of them repeats)
    same = spread(clients, 40, lambda c: call(c, "socialfetch", handle="replica_ids"))
    shown = [r.headers["x-request-id"] for r in same]
    assert len(set(shown)) == 40, Counter(shown).most_common(3)
    journalled = clients[0].get("/__mock/requests", params={"limit": 40}).json()["requests"]
    assert len({entry["request_id"] for entry in journalled}) == 40
    # a reset through one process reaches them all
    clients[-1].post("/__mock/reset").raise_for_status()
    for client in clients:
        assert client.get("/__mock/keys/sk_replica_balance").json()["balance"] == 1000
        assert client.get("/__mock/requests").json()["count"] == 0
        assert client.get("/__mock/clock").json()["now"] == "2026-11-23T12:00:00.000Z"
    put_key(clients[0], GW_KEY, rate_limit=25)  # the spent window went with the reset
    assert statuses(spread(clients, 25, lambda c: call(c, "gateway", key=GW_KEY))) == {200: 25}


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_on_one_redis_answer_exactly_as_one(redis_server, processes):
    redis_server.flush()
    with replicas(processes, redis_server.url) as clients:
        check_one_ledger(clients)
        call(clients[0], "dumpling", key="sk_secret_replica_key_1")
        call(clients[0], "gateway", key="gw_secret_replica_key_0123")
        listed = {entry["key"] for entry in clients[1].get("/__mock/keys").json()["keys"]}
        # masked, as the journal shows them
        assert {mask("sk_secret_replica_key_1"), mask("gw_secret_replica_key_0123")} <= listed
    held = redis_server.dump()
    assert held and b"sk_secret_replica" not in held and b"gw_secret_replica" not in held


def test_processes_on_one_sqlite_file_answer_exactly_as_one(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with replicas(2, str(path)) as clients:
        check_one_ledger(clients)
        call(clients[1], "dumpling", key="sk_secret_replica_key_1")
    held = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"sk_secret_replica" not in held


def test_a_process_killed_mid_load_loses_nothing_it_acknowledged(redis_server):
    redis_server.flush()
    with replica_processes(2, redis_server.url) as (clients, processes):
        put_key(clients[0], "sk_replica_kill", balance=10_000)
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def send(n: int) -> None:
            client = clients[n % 2]
            try:
                status = call(client, "dumpling", "videos", key="sk_replica_kill").status_code
                outcome = str(status)
            except httpx.ConnectError:  # never reached the process: cannot have been charged
                outcome = "refused"
            except httpx.TransportError:  # sent, no answer: charged or not, unacknowledged
                outcome = "unanswered"
            with lock:
                outcomes[outcome] += 1

        with ThreadPoolExecutor(12) as pool:
            futures = [pool.submit(send, n) for n in range(600)]
            while sum(outcomes.values()) < 150:
                time.sleep(0.01)
            os.kill(processes[1].process.pid, signal.SIGKILL)  # no goodbye, no flushing
            for future in futures:
                future.result()
        balance = clients[0].get("/__mock/keys/sk_replica_kill").json()["balance"]
    spent = 10_000 - balance
    assert outcomes["200"] >= 150 and outcomes["refused"] + outcomes["unanswered"] > 0
    assert set(outcomes) <= {"200", "refused", "unanswered"}
    # every acknowledged request is charged once; at most the unanswered ones besides
    assert outcomes["200"] <= spent <= outcomes["200"] + outcomes["unanswered"]


def test_workers_share_one_port_and_one_ledger(redis_server):
    redis_server.flush()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", "2",
         "--store", redis_server.url, "--now", FROZEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=url, timeout=20) as http:
            while True:
                try:
                    http.get("/__mock/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and process.poll() is None
                    time.sleep(0.1)
            put_key(http, "sk_replica_workers", balance=51)
            answered = spread([http], 40, lambda c: call(c, "dumpling", key="sk_replica_workers"))
            assert statuses(answered) == {200: 25, 403: 15}
            assert http.get("/__mock/keys/sk_replica_workers").json()["balance"] == 1
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stdout.close()
        process.stderr.close()


def test_workers_that_all_die_at_start_stop_the_parent_with_one_line(tmp_path):
    """A Redis that goes away after the parent's check at start: each worker's start fails,
    and the parent used to start others for ever, saying nothing. It gives up after 3 in
    a row per worker, naming the cause (each worker's line, then its own), and exits 1."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path / "redis").start()
    port = free_port()
    process = None
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port),
             "--workers", "2", "--store", server.url, "--now", FROZEN],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 30
        # the parent has checked the store and closed it once it starts processes
        while not children(process.pid):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.005)
        server.stop()  # before the spawned workers (seconds to start) open it
        started = time.monotonic()
        out, err = process.communicate(timeout=120)
        assert process.returncode == 1, err.decode()
        assert time.monotonic() - started < 60
        lines = err.decode().splitlines()
        assert lines[-1] == ("mockserver: --workers: no worker started serving: 6 in a row "
                             "exited before they served, the last with exit code 2; stopping")
        refused = err.decode().count("mockserver: worker ")
        assert refused == err.decode().count("--store: cannot reach Redis at") == 6, lines
        assert "Traceback" not in err.decode()
        assert b"mockserver on " not in out  # no banner: nothing ever served
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        server.stop()


def children(pid: int) -> list[int]:
    """The processes ``pid`` started, as /proc shows them."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1]
                                            .split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_a_memory_store_with_several_workers_is_refused(capsys):
    assert main(["serve", "--workers", "2", "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "--workers: 2 processes need a store they can share" in error
    assert "--store FILE" in error and "--store redis://HOST:PORT/DB" in error


def test_the_compose_file_runs_redis_and_two_replicas_behind_one_port():
    compose = yaml.safe_load((Path(__file__).parents[1] / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "mock-1", "mock-2", "balancer"}
    for name in ("mock-1", "mock-2"):
        environment = services[name]["environment"]
        assert environment["MOCKSERVER_STORE"] == "redis://redis:6379/0"
        assert environment["MOCKSERVER_ADMIN_TOKEN"].startswith("${MOCKSERVER_ADMIN_TOKEN:?")
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["balancer"]["ports"] == ["8080:8080"]
    upstream = compose["configs"]["balancer"]["content"]
    assert "server mock-1:8080;" in upstream and "server mock-2:8080;" in upstream


def test_workers_answer_as_soon_as_the_banner_is_printed(tmp_path):
    """A script that waits for the banner, then calls the mock once, is answered: with
    --workers the port used to be bound but not listened on until a spawned worker had
    started (seconds later), so that call was refused."""
    port = free_port()
    with (tmp_path / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", "2",
             "--store", str(tmp_path / "ledger.sqlite"), "--now", FROZEN],
            stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
    try:
        while True:
            line = process.stdout.readline().decode()
            assert line, f"exited before its banner: {(tmp_path / 'stderr').read_text()}"
            if line.startswith("mockserver on "):
                break
        # one attempt, no retry: a refused connection fails the test
        health = httpx.get(f"http://127.0.0.1:{port}/__mock/health", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        process.stdout.close()


# probability scenarios: the n-th matching call draws the same in any process --------------

FLAKY_KEY = "gw_p_key_0123456789abcd"


def flaky_pattern(clients: list[httpx.Client], **lifetime: Any) -> list[bool]:
    """Reset, arm the gateway's backend_error with ``lifetime``, then 60 calls one after
    another, round robin over ``clients``: which of them failed."""
    clients[0].post("/__mock/reset").raise_for_status()
    clients[0].post("/__mock/scenarios", json={"vendor": "gateway", "scenario": "backend_error",
                                               **lifetime}).raise_for_status()
    failed = []
    for n in range(60):
        response = clients[n % len(clients)].get(f"/dev/tiktok/user/q{n % 13}x",
                                                 headers={"x-api-key": FLAKY_KEY})
        assert response.status_code in (200, 502), response.text
        failed.append(response.status_code == 502)
    return failed


@pytest.fixture(scope="module")
def one_process_pattern() -> list[bool]:
    """What one process (the memory store) does, the pattern every store must repeat."""
    from mockserver.app import create_app
    from mockserver.server import ServerThread
    from mockserver.settings import Settings

    settings = Settings.load({"now": FROZEN, "rate_limit": 0}, env={})
    with ServerThread(create_app(settings)) as server, \
            httpx.Client(base_url=server.url, timeout=20) as http:
        pattern = flaky_pattern([http], probability=0.3)
        assert flaky_pattern([http], probability=0.3) == pattern  # reset: the same again
    assert 5 < sum(pattern) < 40
    return pattern


@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_a_probability_scenario_draws_the_same_across_processes(store, one_process_pattern,
                                                                 redis_server, tmp_path):
    """Calls alternating between two processes on one store fail exactly where one process's
    calls fail: each process used to draw from a generator of its own."""
    redis_server.flush()
    where = redis_server.url if store == "redis" else str(tmp_path / "ledger.sqlite")
    with replicas(2, where, "--rate-limit", "0") as clients:
        assert flaky_pattern(clients, probability=0.3) == one_process_pattern
        # with times, the first 3 of those fire, and then it is gone
        firings = [n for n, failed in enumerate(one_process_pattern) if failed][:3]
        limited = flaky_pattern(clients, probability=0.3, times=3)
        assert [n for n, failed in enumerate(limited) if failed] == firings
        assert clients[1].get("/__mock/scenarios").json()["armed"] == []
