"""DumplingAI's own Node.js fetch examples, run unchanged but for the host, over real HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings

SCRIPT = Path(__file__).parent / "node" / "dumpling_examples.mjs"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_pages_fetch_examples_page_through_a_whole_account():
    # The walk takes 68 pages: give the example's key room under the default rate limit.
    settings = Settings.load({"now": "2026-11-23T12:00:00Z", "rate_limit": 0}, env={})
    with ServerThread(create_app(settings)) as server:
        done = subprocess.run(["node", str(SCRIPT), server.url], capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["videoCount"] == summary["walked"] == summary["distinct"] == 2017
    assert summary["lastVideo"] == summary["lastListed"]
