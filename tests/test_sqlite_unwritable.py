"""An SQLite store the mock cannot write: at start, the CLI's one line (it used to start and
then answer every request 500); while serving (the file made read-only, its disk lost), the
mock's own 503 ``store_unavailable`` with nothing charged or journalled, as when Redis is
lost, and service resumes once the file can be written again."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from mockserver.app import START_ERRORS, create_app, start_error
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call, journal
from tests.conftest import FROZEN

KEY = "sk_unwritable_key"


def test_a_store_that_cannot_be_written_while_serving_is_a_503_then_resumes(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    app = create_app(Settings.load({"now": FROZEN, "store": path, "rate_limit": 0}, env={}))
    store = app.state.mock.store
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
        assert call(http, "dumpling", key=KEY).status_code == 200
        with store._lock:
            store._db.execute("PRAGMA query_only = ON")  # as a file made read-only does
        for vendor in ("dumpling", "socialfetch", "gateway"):
            lost = call(http, vendor, key=KEY if vendor == "dumpling" else None)
            assert lost.status_code == 503, lost.text
            assert lost.json()["mockserver_error"] == "store_unavailable"
            assert "cannot be written: attempt to write a readonly database" in \
                lost.json()["message"]
        clock = http.post("/__mock/clock", json={"advance": 60})
        assert clock.status_code == 503 and "cannot be written" in clock.json()["error"]
        with store._lock:
            store._db.execute("PRAGMA query_only = OFF")
        assert call(http, "dumpling", key=KEY).status_code == 200
        assert http.get(f"/__mock/keys/{KEY}").json()["balance"] == 1000 - 2 * 2
        assert [line["status"] for line in journal(http)] == [200, 200]
        assert http.get("/__mock/clock").json()["now"] == "2026-11-23T12:00:00.000Z"


def test_a_store_file_that_cannot_be_written_stops_the_start(tmp_path):
    path = tmp_path / "ledger.sqlite"
    create_app(Settings.load({"store": str(path)}, env={})).state.mock.close()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not allowed here (a container without CAP_LINUX_IMMUTABLE)")
    try:
        settings = Settings.load({"store": str(path)}, env={})
        with pytest.raises(START_ERRORS) as refused:  # as `mockserver serve` opens it
            create_app(settings)
        assert start_error(settings, refused.value) == (
            f"--store: cannot open '{path}' as an SQLite file: the SQLite store "
            f"{path} cannot be written: attempt to write a readonly database")
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
