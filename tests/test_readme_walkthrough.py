"""The README followed line by line, as a newcomer would: every curl it shows answers as it
says, its config example and the folder it names ship and work verbatim, the request
document it shows validates."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.cli import main
from mockserver.server import ServerThread
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCUMENTED_BASES = ("http://127.0.0.1:8080", "localhost:8080")


def readme_curls() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("curl"):
                commands.append(line.strip())
    return commands


def as_request(command: str, base: str) -> httpx.Request:
    """What curl sends for this command line (the flags the README uses)."""
    words = shlex.split(command, comments=True)[1:]
    method, url, headers, data = None, None, {}, None
    while words:
        word = words.pop(0)
        if word == "-X":
            method = words.pop(0)
        elif word == "-H":
            name, _, value = words.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = words.pop(0).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif word != "-s":
            url = word
    assert url is not None, command
    for documented in DOCUMENTED_BASES:
        url = url.replace(documented, base)
    return httpx.Request(method or ("POST" if data is not None else "GET"), url,
                         headers=headers, content=data)


# lines that need a value from an earlier answer or another setup, tested below instead
NEEDS_CONTEXT = ("$P", "CURSOR_FROM_PAGE_1")
CURLS = [c for c in readme_curls() if not any(word in c for word in NEEDS_CONTEXT)]


def test_the_readme_shows_curls():
    assert len(CURLS) >= 15


@pytest.mark.parametrize("command", CURLS, ids=[c[5:60] for c in CURLS])
def test_every_readme_curl_answers_as_documented(live: ServerThread, command):
    live.app.state.mock.reset()
    with httpx.Client(timeout=10) as client:
        response = client.send(as_request(command, live.url))
    assert response.status_code in (200, 201), (command, response.text[:300])


def test_the_config_example_is_the_shipped_file_and_works_verbatim():
    shown = re.search(r"<!-- example config: examples/mock.toml -->\n```toml\n(.*?)```",
                      README, re.S)
    assert shown and shown[1] == (ROOT / "examples" / "mock.toml").read_text()
    settings = Settings.load({"config": str(ROOT / "examples" / "mock.toml")}, env={})
    with TestClient(create_app(settings)) as client:
        profile = "/api/v1/get-tiktok-profile"
        def ask(key: str) -> httpx.Response:
            return client.post(profile, headers={"Authorization": f"Bearer {key}"},
                               content=b'{"handle": "ci_account"}')
        assert [ask("sk_ci_key").status_code for _ in range(3)] == [503, 503, 200]
        assert ask("sk_ci_key").json()["user"]["nickname"] == "CI Account"
        assert ask("YOUR_API_KEY").status_code == 401  # strict: not a configured key
        refused = client.get("/__mock/requests", params={"status": "401"}).json()["requests"]
        assert "strict mode (--strict)" in refused[0]["reason"]
        social = client.get("/v1/tiktok/profiles/ci_account", headers={"x-api-key": "sfk_ci_key"})
        assert social.status_code == 200


def test_the_next_page_examples_work(live: ServerThread):
    live.app.state.mock.reset()
    sf = {"x-api-key": "sfk_local_dev"}
    with httpx.Client(base_url=live.url, timeout=10) as client:
        first = client.get("/v1/tiktok/profiles/stoolpresidente/videos", headers=sf).json()
        cursor = first["data"]["page"]["nextCursor"]
        command = next(c for c in readme_curls() if "CURSOR_FROM_PAGE_1" in c)
        second = client.send(as_request(command.replace("CURSOR_FROM_PAGE_1", cursor),
                                        live.url))
        assert second.status_code == 200
        ids = {video["id"] for video in first["data"]["videos"]}
        assert ids.isdisjoint(video["id"] for video in second.json()["data"]["videos"])


def test_the_request_document_shown_is_the_shipped_file_and_validates(capsys):
    path = ROOT / "examples" / "gateway-video-request.json"
    shown = re.search(r"<!-- example request: examples/gateway-video-request.json -->\n"
                      r"```json\n(.*?)```", README, re.S)
    assert shown and shown[1] == path.read_text()
    assert main(["validate", "--vendor", "gateway", "--route", "video", "--request",
                 str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_there_is_a_license_file_for_the_license_pyproject_names():
    assert "license = { text = \"MIT\" }" in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
