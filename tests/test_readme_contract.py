"""The README's schemathesis commands, pasted into a shell verbatim (only the port differs):
every check against a strict mock with the keys of examples/contract.toml, and every check
but ignored_auth against a plain mock. Each must exit 0.

They run in a folder whose ``schemathesis.toml`` asks for fewer generated examples than
the default 100 per route, to keep the suite fast: the depth is tests/test_schemathesis.py's
(every check, in-process); this file proves the commands as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CONTRACT = ROOT / "examples" / "contract.toml"


def commands(kind: str) -> list[str]:
    block = re.search(rf"<!-- schemathesis: {kind} -->\n```sh\n(.*?)```", README, re.S)
    assert block, kind
    return block[1].strip().splitlines()


def test_the_readme_shows_the_shipped_contract_config_and_the_strict_command():
    shown = re.search(r"<!-- example config: examples/contract.toml -->\n```toml\n(.*?)```",
                      README, re.S)
    assert shown and shown[1] == CONTRACT.read_text()
    assert "mockserver serve --strict --config examples/contract.toml" in README
    strict, plain = commands("strict"), commands("plain")
    assert len(strict) == len(plain) == 3
    assert not any("--exclude-checks" in line or "--checks" in line or " -c " in line
                   for line in strict)
    assert all(line.endswith("--exclude-checks ignored_auth") for line in plain)


def run(command: str, server: ServerThread, cwd: Path) -> subprocess.CompletedProcess:
    host = server.url.removeprefix("http://")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", command.replace("127.0.0.1:8080", host)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


QUICK = "[generation]\nmax-examples = 20\n"


@pytest.mark.parametrize("kind", ["strict", "plain"])
def test_the_readme_schemathesis_commands_exit_0(kind, tmp_path):
    (tmp_path / "schemathesis.toml").write_text(QUICK)
    flags = {"strict": True, "config": str(CONTRACT)} if kind == "strict" else {}
    with ServerThread(create_app(Settings.load(flags, env={}))) as server:
        for command in commands(kind):
            result = run(command, server, tmp_path)
            assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-2000:])
            # the page's own identifiers, given as parameter examples, reach real answers:
            # no "Missing test data" warning for a route that could only answer 404
            assert "Missing test data" not in result.stdout, (command, result.stdout[-3000:])
            assert "✅ Examples" in result.stdout, (command, result.stdout[-3000:])
