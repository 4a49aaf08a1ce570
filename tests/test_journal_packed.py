"""The journal as Redis keeps it: packed (masked JSON, then the bodies as bytes), read back
as the very entry the memory store shows, and never holding a secret."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from mockserver.app import create_app
from mockserver.journal import PACKED, Record, unpacked
from mockserver.limits import JOURNAL_BODY_BYTES
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call, journal
from tests.conftest import FROZEN

SECRET = "sk_live_packed_secret_key_123"
OCCURRENCE = (hashlib.blake2b(b"a request").digest(), 7)


def record(**changes) -> Record:
    fields = {
        "at": 1795435200.25, "vendor": "dumpling", "route": "profile", "method": "POST",
        "path": "/api/v1/get-tiktok-profile", "query": "",
        "headers": {"host": "127.0.0.1", "authorization": f"Bearer {SECRET}",
                    "x-session-token": "opaque-token", "content-type": "application/json"},
        "body": b'{"handle": "stoolpresidente"}', "key": SECRET, "status": 200,
        "scenario": None, "scenario_source": None, "credits_charged": 2, "notes": [],
        "seconds": 0.000183, "request": OCCURRENCE, "outcomes": ("ok",),
        "response": b'{"user": {"nickname": "Dave \\"El Presidente\\"\\n"}}', "reason": None}
    return Record(**{**fields, **changes})


@pytest.mark.parametrize("changes", [
    {},
    {"key": None, "headers": {}, "status": None, "credits_charged": 0,
     "scenario": "hang", "scenario_source": "header", "outcomes": ()},
    {"body": b"\xff\xfe not UTF-8 \n\n" * 3, "response": b"\n" * 10 + b"\x00\x01"},
    {"body": b"x" * (JOURNAL_BODY_BYTES + 1), "response": b"y" * (JOURNAL_BODY_BYTES + 1),
     "path": "/p" * 3000, "query": "q=" + "\n" * 2000},
    {"status": 402, "reason": "balance", "notes": ["a note", "«unicode» ✓"],
     "outcomes": ("error:insufficient_credits", "note:a note")},
])
def test_a_packed_line_reads_back_as_the_entry_and_holds_no_secret(changes):
    kept = record(**changes)
    packed = kept.packed()
    assert packed.startswith(PACKED)
    assert unpacked(packed) == kept.entry()
    assert SECRET.encode() not in packed and b"opaque-token" not in packed


def test_the_journal_through_redis_shows_what_memory_shows(redis_server):
    redis_server.flush()
    seen = []
    for store in ("memory", redis_server.url):
        app = create_app(Settings.load({"now": FROZEN, "store": store}, env={}))
        with ServerThread(app) as server, httpx.Client(base_url=server.url) as http:
            assert call(http, "dumpling", key=SECRET).status_code == 200
            assert call(http, "dumpling", body={"handle": 5}).status_code == 400
            assert call(http, "gateway", headers={"Cookie": "session=hush"}).status_code == 200
            entries = journal(http)
        for entry in entries:  # what differs between two servers and two runs (a shared
            # store's process salts its request ids, so they differ from another's)
            entry.pop("duration_ms"), entry["headers"].pop("host"), entry.pop("request_id")
        seen.append(entries)
    assert len(seen[0]) == 3 and seen[0] == seen[1]
    held = redis_server.dump()
    assert SECRET.encode() not in held and b"session=hush" not in held
