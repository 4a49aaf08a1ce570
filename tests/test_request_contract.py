"""Over real HTTP: optional fields (null is absent, a wrong type is a 400 that names the
field and never the handle, a contract note either way), and request schemas that say
exactly what the mock accepts (valid by the schema: no 400; invalid: a 400)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.conftest import FROZEN

KEY = "sk_request_contract"
PATHS = {"profile": "/api/v1/get-tiktok-profile", "videos": "/api/v1/get-tiktok-profile-videos",
         "video": "/api/v1/get-tiktok-video"}
VIDEO_URL = "https://www.tiktok.com/@username/video/7321234567890123456"
REQUIRED = {"profile": {"handle": "stoolpresidente"}, "videos": {"handle": "stoolpresidente"},
            "video": {"url": VIDEO_URL}}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(create_app(Settings.load({"now": FROZEN}, env={}))) as running:
        yield running


@pytest.fixture
def http(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/__mock/reset")
        yield client


def post(http: httpx.Client, route: str, body) -> httpx.Response:
    return http.post(PATHS[route], json=body, headers={"Authorization": f"Bearer {KEY}"})


def notes(http: httpx.Client) -> list[str]:
    entries = http.get("/__mock/requests", params={"vendor": "dumpling"}).json()["requests"]
    return entries[0]["notes"]


def balance(http: httpx.Client) -> int:
    return http.get(f"/__mock/keys/{KEY}").json()["balance"]


@pytest.mark.parametrize(("route", "field"), [
    ("videos", "maxCursor"), ("videos", "trim"), ("profile", "requestSource"),
    ("videos", "requestSource"), ("video", "requestSource")])
def test_null_means_absent(http, route, field):
    plain = post(http, route, REQUIRED[route])
    with_null = post(http, route, {**REQUIRED[route], field: None})
    assert with_null.status_code == 200, with_null.text
    assert notes(http) == [f"body field {field!r} is null: treated as absent"]
    if route == "videos":  # the same page (extra.now aside)
        assert with_null.json()["aweme_list"] == plain.json()["aweme_list"]


WRONG = [
    ("videos", "trim", "true", "'trim' parameter must be a boolean."),
    ("videos", "trim", 1, "'trim' parameter must be a boolean."),
    ("videos", "maxCursor", 1736092800000, "'maxCursor' parameter must be a string of digits."),
    ("videos", "maxCursor", False, "'maxCursor' parameter must be a string of digits."),
    ("videos", "maxCursor", "yesterday", "'maxCursor' parameter must be a string of digits."),
    ("videos", "maxCursor", "1" * 65, "'maxCursor' parameter must be a string of digits."),
    ("videos", "requestSource", 5, "'requestSource' parameter must be a string."),
    ("profile", "requestSource", 5, "'requestSource' parameter must be a string."),
    ("profile", "requestSource", ["API"], "'requestSource' parameter must be a string."),
    ("video", "requestSource", {"a": 1}, "'requestSource' parameter must be a string."),
]


@pytest.mark.parametrize(("route", "field", "value", "message"), WRONG)
def test_a_wrong_type_names_the_field_never_the_handle(http, route, field, value, message):
    response = post(http, route, {**REQUIRED[route], field: value})
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert "handle" not in message
    [note] = notes(http)
    assert note.startswith(f"body field {field!r} must be ") and note.endswith(": answered 400")
    assert balance(http) == 1000


# What the schema allows and what the mock answers agree, on the edges of each pattern.
HANDLES = ["0", "00", "a" * 24, "a" * 25, "Stool.Presidente_1", "@ab", "a b", " ab", "ab\n",
           "ü_ab", "ab/c", "", 42]
URLS = [VIDEO_URL, " " + VIDEO_URL + " ", VIDEO_URL + "/?lang=en#x", "00",
        "https://vm.tiktok.com/ZMhKxyz/", "https://vt.tiktok.com/ZS1234/",
        "https://www.tiktok.com/t/ZT12345/", "https://m.tiktok.com/v/7321234567890123456.html",
        "https://www.tiktok.com/@a/video/1", "https://www.tiktok.com/@ab/video/",
        "https://vm.tiktok.com/ZM1/", "https://youtube.com/watch?v=1", "ftp://tiktok.com/@ab/video/1"]
CURSORS = ["", "0", "1736092800000", "9" * 19, "9" * 20, "9" * 64, "9" * 65, "-1", "12a", " 1",
           "١٢"]


def cases() -> list[tuple[str, dict]]:
    found = [("profile", {"handle": h}) for h in HANDLES]
    found += [("video", {"url": u}) for u in URLS]
    found += [("videos", {"handle": "tiny_account", "maxCursor": c}) for c in CURSORS]
    return found


@pytest.mark.parametrize(("route", "body"), cases())
def test_valid_by_the_schema_is_never_a_400_and_invalid_always_is(server, http, route, body):
    schema = server.app.state.mock.schemas
    valid = not schema.violations(f"dumpling/{route}.request", body, part="body")
    response = post(http, route, body)
    assert (response.status_code != 400) == valid, (body, response.status_code, response.text)


def test_the_openapi_servers_url_is_where_the_document_was_fetched(server, http):
    for vendor in ("dumpling", "socialfetch", "gateway"):
        document = http.get(f"/__mock/openapi/{vendor}.json").json()
        assert document["servers"][0]["url"] == server.url
    body = document["paths"]["/dev/tiktok/video/{userHandle}/{videoId}"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in body}["videoId"] == "^[0-9]{1,20}$"
