"""The hot path's two small memos (README, "Limits and safety") stay within their bounds
whatever paths and headers clients send, and a request answered from them is answered as
one decoded and routed anew."""

from __future__ import annotations

import httpx

from mockserver import app as app_module
from mockserver.app import create_app
from mockserver.pipeline.call import HeaderMemo
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.conftest import FROZEN

KEY = "gw_memo_key_0123456789abcdef"


def test_the_routes_of_paths_with_parameters_are_kept_within_their_bound(monkeypatch):
    monkeypatch.setattr(app_module, "MATCHED_PATHS", 10)
    app = create_app(Settings.load({"now": FROZEN, "rate_limit": 0}, env={}))
    with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
        first = http.get("/dev/tiktok/user/memo_user_0", headers={"x-api-key": KEY})
        for n in range(1, 30):
            answer = http.get(f"/dev/tiktok/user/memo_user_{n}", headers={"x-api-key": KEY})
            assert answer.status_code == 200
            assert answer.json()["user"]["nickname"]
            assert len(app._matched) <= 10
        again = http.get("/dev/tiktok/user/memo_user_0", headers={"x-api-key": KEY})
        assert again.content == first.content  # routed anew after it was forgotten


def test_decoded_header_lists_are_kept_within_their_bound():
    memo = HeaderMemo(entries=4, max_bytes=10_000)
    for n in range(20):
        raw = ((b"x-api-key", b"k%d" % n), (b"host", b"localhost"))
        assert memo.decoded(raw) == {"x-api-key": f"k{n}", "host": "localhost"}
        assert len(memo._known) <= 4 and memo._bytes <= 10_000
    big = ((b"x-big", b"v" * 5_000),)
    assert memo.decoded(big) == {"x-big": "v" * 5_000}
    assert memo._bytes <= 10_000
    # pairs given as lists are decoded, not kept
    assert memo.decoded([[b"a", b"b"]]) == {"a": "b"}
