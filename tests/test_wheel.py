"""The wheel carries everything: built, installed into a fresh venv, it serves and its fixture
works in a project that only pip-installed it (about 40 s, most of it pip)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.server import free_port

CHECKOUT = Path(__file__).resolve().parent.parent
CLIENT_TEST = '''
import httpx


def test_profile(mockserver):
    response = httpx.post(mockserver.vendor_url("dumpling") + "/api/v1/get-tiktok-profile",
                          headers={"Authorization": "Bearer sk_test"},
                          json={"handle": "stoolpresidente"})
    assert response.status_code == 200
    assert response.json()["user"]["nickname"] == "Dave Portnoy"
'''


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command outside the checkout, so only what the wheel installed can be imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, text=True,
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the freshly built wheel, pytest and httpx."""
    root = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", CHECKOUT, "--no-deps", "-q", "-w", root / "dist",
        cwd=root)
    (wheel,) = (root / "dist").glob("tiktok_mockserver-*.whl")
    run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    bin_dir = root / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, "pytest", "httpx", cwd=root)
    yield bin_dir


def test_the_installed_package_serves_from_its_own_schemas_and_fixtures(venv, tmp_path):
    where = run(venv / "python", "-c", "from mockserver.resources import data_dir; "
                "print(data_dir('schemas')); print(data_dir('fixtures'))", cwd=tmp_path)
    assert all("site-packages" in line for line in where.stdout.split())
    port = free_port()
    server = subprocess.Popen([venv / "mockserver", "serve", "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        response = _profile_when_up(f"http://127.0.0.1:{port}", server)
        inspector = [httpx.get(f"http://127.0.0.1:{port}/__mock/{path}")
                     for path in ("ui", "ui/app.js", "ui/style.css")]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert response.status_code == 200
    assert response.json()["user"]["nickname"] == "Dave Portnoy"
    # the inspector's static files ship inside the wheel
    assert [page.status_code for page in inspector] == [200, 200, 200]
    assert "<title>mockserver inspector</title>" in inspector[0].text
    assert "X-Mock-Admin-Token" in inspector[1].text


def test_a_project_that_only_installed_the_wheel_uses_the_fixture(venv, tmp_path):
    (tmp_path / "test_client.py").write_text(CLIENT_TEST)
    result = run(venv / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path)
    assert "1 passed" in result.stdout


def _profile_when_up(url: str, server: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.post(f"{url}/api/v1/get-tiktok-profile",
                              headers={"Authorization": "Bearer sk_test"},
                              json={"handle": "stoolpresidente"})
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read() if server.stdout else ""
                raise AssertionError(f"mockserver serve did not come up:\n{output}") from None
            time.sleep(0.1)
