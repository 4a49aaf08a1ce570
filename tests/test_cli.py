"""`mockserver serve` as a newcomer meets it, in a real process: a bad flag, variable or
config value is one line naming it (exit 2, no traceback), and the banner is printed only
once the port is bound."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mockserver import __version__


def serve(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
          ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    return subprocess.run([sys.executable, "-m", "mockserver", "serve", *args],
                          env={**clean, **(env or {})}, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def write(path: Path, text: str | bytes) -> str:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


CASES = [
    (["--port", "99999"], {}, "--port: '99999' is not a port number from 0 to 65535"),
    (["--port", "abc"], {}, "--port: 'abc' is not a port number from 0 to 65535"),
    (["--credits", "1.5"], {}, "--credits: '1.5' is not a whole number >= 0"),
    (["--log-level", "loud"], {},
     "--log-level: 'loud' is not critical | error | warning | info | debug"),
    ([], {"MOCKSERVER_SEED": "abc"}, "MOCKSERVER_SEED: 'abc' is not a whole number >= 0"),
    (["--config", "{tmp}/seven.toml"], {}, "[server] seed: 'seven' is not a whole number"),
    (["--config", "{tmp}/top.toml"], {}, "unknown key 'seed' at the top level (did you mean "
                                         "[server] seed?)"),
    (["--store", "{tmp}/no/such/folder/state.db"], {}, "--store: cannot open '{tmp}/no/such/"
                                                       "folder/state.db' as an SQLite file"),
    (["--store", "{tmp}"], {}, "--store: cannot open '{tmp}' as an SQLite file"),
    ([], {"MOCKSERVER_STORE": "{tmp}"}, "MOCKSERVER_STORE: cannot open '{tmp}' as an SQLite "
                                        "file"),
    (["--config", "{tmp}/folder.toml"], {}, "folder.toml [server] store: cannot open '{tmp}' "
                                            "as an SQLite file"),
    (["--store", "{tmp}/text.db"], {}, "as an SQLite file: file is not a database"),
    # redis-py would take the database 'abc' as none given and use 0
    ([], {"MOCKSERVER_STORE": "redis://127.0.0.1:1/abc"},
     "MOCKSERVER_STORE: 'redis://127.0.0.1:1/abc' is not a Redis URL that can be used: its "
     "database 'abc' is not a whole number"),
    ([], {"MOCKSERVER_STORE": "redis://127.0.0.1:1/0"},
     "MOCKSERVER_STORE: cannot reach Redis at redis://127.0.0.1:1/0: "),
    (["--config", "{tmp}/redis.toml"], {}, "redis.toml [server] store: 'redis://127.0.0.1:1/abc' "
                                           "is not a Redis URL that can be used"),
    # the memory store, with workers from where the user gave them
    ([], {"MOCKSERVER_WORKERS": "2"}, "MOCKSERVER_WORKERS: 2 processes need a store they can "
                                      "share: --store FILE"),
    (["--config", "{tmp}/workers.toml"], {}, "workers.toml [server] workers: 3 processes need"),
    (["--fixtures", "{tmp}/missing.json"], {}, "missing.json does not exist"),
    (["--fixtures", "{tmp}/typo.json"], {}, "typo.json: account 'typo': unknown field "
                                            "'folowers' (did you mean 'followers'?)"),
]


@pytest.mark.parametrize(("args", "env", "words"), CASES, ids=[" ".join(c[0]) or str(c[1])
                                                             for c in CASES])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path, args, env, words):
    write(tmp_path / "seven.toml", '[server]\nseed = "seven"\n')
    write(tmp_path / "top.toml", "seed = 7\n")
    write(tmp_path / "folder.toml", f'[server]\nstore = "{tmp_path}"\n')
    write(tmp_path / "redis.toml", '[server]\nstore = "redis://127.0.0.1:1/abc"\n')
    write(tmp_path / "workers.toml", "[server]\nworkers = 3\n")
    write(tmp_path / "typo.json", '{"accounts": {"typo": {"folowers": 5}}}')
    write(tmp_path / "text.db", b"this is not an SQLite database, it is a text file\n" * 4)
    done = serve(*[a.replace("{tmp}", str(tmp_path)) for a in args],
                 env={k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()})
    assert done.returncode == 2, done.stderr
    assert words.replace("{tmp}", str(tmp_path)) in done.stderr
    assert done.stderr.startswith("mockserver: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr and done.stdout == ""  # no banner either


RANGE = "is outside the clock's range (2016-09-01T00:00:00.000Z to 2099-12-31T23:59:59.999Z)"


@pytest.mark.parametrize(("args", "env", "line"), [
    (["--now", "2015-01-01T00:00:00Z"], {}, f"--now: '2015-01-01T00:00:00Z' {RANGE}"),
    (["--now", "2100-06-01T00:00:00Z"], {}, f"--now: '2100-06-01T00:00:00Z' {RANGE}"),
    (["--now", "4102444800"], {}, f"--now: '4102444800' {RANGE}"),
    # the end the message names is in the range: the first instant after it is not
    (["--now", "2100-01-01T00:00:00Z"], {}, f"--now: '2100-01-01T00:00:00Z' {RANGE}"),
    (["--now", "1472687999"], {}, f"--now: '1472687999' {RANGE}"),
    ([], {"MOCKSERVER_NOW": "2015-01-01T00:00:00Z"},
     f"MOCKSERVER_NOW: '2015-01-01T00:00:00Z' {RANGE}"),
    (["--now", "yesterday"], {},
     "--now: 'yesterday' is not an ISO-8601 instant (2026-11-23T12:00:00Z) or unix seconds"),
])
def test_a_now_the_clock_cannot_show_names_the_range_not_the_form(args, env, line):
    done = serve(*args, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == "mockserver: " + line
    assert done.stdout == ""


def test_a_busy_port_is_named_and_no_banner_is_printed():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = serve("--port", str(port))
    assert done.returncode == 2
    assert done.stderr == (f"mockserver: cannot listen on 127.0.0.1:{port} (--host, --port): "
                           "Address already in use\n")
    assert done.stdout == ""


def test_version():
    done = subprocess.run([sys.executable, "-m", "mockserver", "--version"],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, f"mockserver {__version__}\n")


def test_the_banner_comes_once_bound_with_the_real_port_and_access_log_lines():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--access-log"],
        env={**clean, "MOCKSERVER_FIXTURE_PATHS": "x"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()  # blocks until the banner: the port is bound by then
        port = int(re.fullmatch(r"mockserver on http://127\.0\.0\.1:(\d+)  .*\n", first)[1])
        assert port != 0
        health = httpx.get(f"http://127.0.0.1:{port}/__mock/health", timeout=5)
        assert health.status_code == 200
        deadline = time.monotonic() + 10
        lines = []
        while not any("GET /__mock/health" in line for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append(server.stdout.readline())
        assert any(line.startswith("try:") for line in lines)
    finally:
        server.terminate()
        server.wait(timeout=10)
    warning = server.stderr.read()
    assert ("mockserver: warning: ignoring unknown environment variable "
            "MOCKSERVER_FIXTURE_PATHS (did you mean MOCKSERVER_FIXTURES?)") in warning


@pytest.mark.parametrize(("args", "words"), [
    (["openapi", "gateway", "-o", "/nonexistent/folder/gateway.json"],
     "--output /nonexistent/folder/gateway.json: cannot write it: No such file or directory"),
    (["openapi", "twitter"], "unknown vendor 'twitter'; one of dumpling, gateway, socialfetch"),
    (["validate", "--vendor", "dumpling", "--route", "profile", "--response", "200",
      "/nonexistent/captured.json"],
     "FILE /nonexistent/captured.json: cannot read it: No such file or directory"),
])
def test_the_other_commands_name_what_was_wrong_too(args, words):
    done = subprocess.run([sys.executable, "-m", "mockserver", *args], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"mockserver: {words}\n"


def test_only_a_serving_process_tunes_the_garbage_collector():
    """`mockserver serve` collects young objects less often (a cold page is thousands of
    them); a process that merely embeds the mock, like a pytest run with the plugin, keeps
    its own settings."""
    import gc

    from mockserver.app import create_app
    from mockserver.server import SERVING_GC_THRESHOLD, ServerThread
    from mockserver.settings import Settings

    before = gc.get_threshold()
    with ServerThread(create_app(Settings())) as server:
        assert httpx.get(f"{server.url}/__mock/health").status_code == 200
    assert gc.get_threshold() == before
    script = ("import gc; from mockserver.server import tune_gc_for_serving as t; t(); "
              "print(gc.get_threshold(), gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split(") ")
    assert out[0] + ")" == str(SERVING_GC_THRESHOLD) and out[1].strip() == "True"
