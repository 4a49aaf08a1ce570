"""The words and names drawn for a seed are kept in a cache folder (--cache-dir), so a start
after the first reads them instead of importing Faker and drawing them: what a user sees is
the same world, from a start that takes a fraction of the time."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.settings import Settings, cache_folder
from mockserver.world.pools import build_pools

FROZEN = "2026-11-23T12:00:00Z"
PAGE = ("/api/v1/get-tiktok-profile-videos", {"handle": "pool_cache_probe"})


def _app(cache_dir: Path | str, seed: int = 1):
    return create_app(Settings.load({"now": FROZEN, "seed": seed, "cache_dir": str(cache_dir)},
                                    env={}))


def _page(app) -> bytes:
    with TestClient(app) as client:
        response = client.post(PAGE[0], json=PAGE[1],
                               headers={"Authorization": "Bearer sk_pool_cache"})
    assert response.status_code == 200, response.text
    body = response.json()
    body.pop("extra", None)  # the request's own id and timing
    return json.dumps(body, sort_keys=True).encode()


def _kept(folder: Path) -> list[Path]:
    return sorted(folder.glob("pools-*.json"))


def test_a_later_start_reads_the_kept_pools_and_shows_the_same_world(tmp_path: Path) -> None:
    drawn = _app(tmp_path)
    assert len(_kept(tmp_path)) == 1
    again = _app(tmp_path)
    assert again.state.mock.world.pools == drawn.state.mock.world.pools == build_pools(1)
    assert _page(again) == _page(drawn)


def test_a_start_with_the_pools_kept_does_not_import_faker(tmp_path: Path) -> None:
    """What makes the start fast: Faker's import and draws are a third of it."""
    _app(tmp_path)
    probe = ("import sys\nfrom mockserver.app import create_app\n"
             "from mockserver.settings import Settings\n"
             f"create_app(Settings.load({{'cache_dir': {str(tmp_path)!r}}}, env={{}}))\n"
             "print('faker' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("garbage", [b"not json", b"[1, 2]", b'{"languages": {}}',
                                     b'{"languages": {"en": 1}}', b""])
def test_a_damaged_cache_file_is_drawn_anew_and_rewritten(tmp_path: Path,
                                                          garbage: bytes) -> None:
    _app(tmp_path)
    [kept] = _kept(tmp_path)
    good = kept.read_bytes()
    kept.write_bytes(garbage)
    assert _app(tmp_path).state.mock.world.pools == build_pools(1)
    assert kept.read_bytes() == good


def _edited(kept: Path, edit, digest: bool = True) -> None:
    """The kept file with its pools edited, its digest line made to match (as a careful
    hand would) or left as it was."""
    line, _, document = kept.read_bytes().partition(b"\n")
    pools = json.loads(document)
    edit(pools)
    document = json.dumps(pools).encode()
    line = hashlib.sha256(document).hexdigest().encode() if digest else line
    kept.write_bytes(line + b"\n" + document)


def _empty_names(pools: dict) -> None:
    for language in pools["languages"].values():
        language["names"] = []


@pytest.mark.parametrize(("edit", "digest"), [
    # each stopped the start (a modulo by zero) or made generated accounts 500s
    (_empty_names, True),
    (lambda pools: pools.update(handles=[]), True),
    (lambda pools: pools["languages"]["en"].update(names=[1, 2, 3]), True),
    # the right shape, other values: another world than the seed's, quietly
    (lambda pools: pools.update(urls=["x"]), False),
])
def test_kept_pools_edited_by_hand_are_drawn_anew(tmp_path: Path, edit, digest: bool) -> None:
    drawn = _page(_app(tmp_path))
    [kept] = _kept(tmp_path)
    _edited(kept, edit, digest)
    again = _app(tmp_path)
    assert again.state.mock.world.pools == build_pools(1)
    assert _page(again) == drawn
    with TestClient(again) as client:
        assert client.get("/dev/tiktok/user/someone_new",
                          headers={"x-api-key": "gw_pool_cache_key_0123456789"}
                          ).status_code == 200


def test_a_fifo_where_the_file_would_be_is_not_read(tmp_path: Path) -> None:
    """Reading one waits for a writer for ever: the start never listened."""
    _app(tmp_path)
    [kept] = _kept(tmp_path)
    kept.unlink()
    os.mkfifo(kept)
    probe = ("from mockserver.app import create_app\nfrom mockserver.settings import Settings\n"
             f"create_app(Settings.load({{'cache_dir': {str(tmp_path)!r}}}, env={{}}))\n"
             "print('started')\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "started", out.stderr


def test_a_folder_that_cannot_be_made_keeps_nothing_and_the_mock_starts(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    assert _app(blocked / "cache").state.mock.world.pools == build_pools(1)
    assert blocked.read_text() == "in the way"


def test_each_seed_keeps_its_own_pools(tmp_path: Path) -> None:
    one, two = _app(tmp_path, seed=1), _app(tmp_path, seed=2)
    assert len(_kept(tmp_path)) == 2
    assert one.state.mock.world.pools != two.state.mock.world.pools
    assert _app(tmp_path, seed=2).state.mock.world.pools == two.state.mock.world.pools


def test_none_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    _app("none")
    assert list(tmp_path.rglob("*")) == []


def test_the_default_folder_is_the_users_cache_folder(tmp_path: Path) -> None:
    settings = Settings.load({}, env={})
    assert cache_folder(settings, {"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "mockserver"
    # the XDG spec: a relative value is ignored
    home = Path(os.path.expanduser("~"))
    assert cache_folder(settings, {"XDG_CACHE_HOME": "rel"}) == home / ".cache" / "mockserver"
    assert cache_folder(Settings.load({"cache_dir": "NONE"}, env={})) is None


def test_the_variable_and_a_config_file_set_it(tmp_path: Path) -> None:
    from_env = Settings.load({}, env={"MOCKSERVER_CACHE_DIR": str(tmp_path / "env")})
    assert cache_folder(from_env) == tmp_path / "env"
    config = tmp_path / "mock.toml"
    config.write_text('[server]\ncache_dir = "kept"\n')
    from_config = Settings.load({"config": str(config)}, env={})
    assert cache_folder(from_config) == tmp_path / "kept"
    config.write_text('[server]\ncache_dir = "~/kept"\n')  # the user's, not a "~" folder
    home = Path(os.path.expanduser("~"))
    assert cache_folder(Settings.load({"config": str(config)}, env={})) == home / "kept"


def test_serve_takes_the_flag_and_the_kept_file_is_readable_by_others(tmp_path: Path) -> None:
    """The flag as --help shows it, and the file a start leaves."""
    out = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--help"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert "--cache-dir" in out.stdout
    _app(tmp_path)
    [kept] = _kept(tmp_path)
    assert kept.stat().st_mode & 0o044 == 0o044  # readable by others: an image's user reads it
