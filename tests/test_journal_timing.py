"""The journal holds a request by the time its answer reaches the client, so a test that
reads ``mockserver.journal()`` right after a call always finds that call."""

from __future__ import annotations

import httpx

from mockserver.server import ServerThread
from tests.calls import call


def test_each_answer_is_journaled_before_the_client_has_it(live: ServerThread):
    mock = live.app.state.mock
    mock.reset()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        for number in range(1, 101):
            assert call(client, "gateway").status_code == 200
            assert len(mock.journal.entries({"vendor": "gateway"})) == number
