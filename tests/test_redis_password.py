"""A Redis URL's password (``redis://:PASSWORD@host``) never leaves the mock: its 503s go to
any client that asks, and its start errors and logs get pasted into issues. It used to be
in every 503's message. And a password given to a Redis that asks for none is used as
redis-py uses it: the start passed, then every request was a 503."""

from __future__ import annotations

import httpx
import pytest

from mockserver.app import create_app
from mockserver.cli import main
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call
from tests.conftest import FROZEN
from tests.redis_server import RedisServer

SECRET = "s3cret-Pa55"


def test_a_lost_redis_is_a_503_that_does_not_show_its_password(tmp_path, capsys):
    redis_server = RedisServer(tmp_path / "redis", password=SECRET).start()
    try:
        app = create_app(Settings.load({"now": FROZEN, "store": redis_server.url}, env={}))
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
            assert call(http, "dumpling").status_code == 200
            redis_server.stop()
            lost = call(http, "dumpling")
            assert lost.status_code == 503, lost.text
            assert f"redis://:***@127.0.0.1:{redis_server.port}/0" in lost.json()["message"]
            admin = http.get("/__mock/keys/sk_test_key")
            assert admin.status_code == 503
            assert SECRET not in lost.text + admin.text
        # nor does the start's one line when Redis is not there
        assert main(["serve", "--store", redis_server.url, "--port", "0"]) == 2
        error = capsys.readouterr().err
        assert "cannot reach Redis at redis://:***@" in error and SECRET not in error
    finally:
        redis_server.stop()


def test_a_wrong_password_stops_the_start_without_showing_it(tmp_path, capsys):
    redis_server = RedisServer(tmp_path / "redis", password=SECRET).start()
    try:
        wrong = redis_server.url.replace(SECRET, "wrong-guess")
        assert main(["serve", "--store", wrong, "--port", "0"]) == 2
        error = capsys.readouterr().err
        assert "invalid username-password pair" in error and "wrong-guess" not in error
    finally:
        redis_server.stop()


@pytest.mark.parametrize("vendor", ["dumpling", "socialfetch", "gateway"])
def test_a_password_given_to_a_redis_that_asks_for_none_is_served(tmp_path, vendor):
    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        url = redis_server.url.replace("redis://", f"redis://:{SECRET}@")
        app = create_app(Settings.load({"now": FROZEN, "store": url}, env={}))
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
            answer = call(http, vendor)
            assert answer.status_code == 200, answer.text
    finally:
        redis_server.stop()
