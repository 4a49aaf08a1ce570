"""The settings table: one list that argparse, the environment, the config file, --help and
the README are all made from, and the clear errors it gives for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.cli import main
from mockserver.settings import TABLE, SettingError, Settings
from mockserver.settings_doc import markdown_table, readme_with_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_settings_table_is_the_one_in_the_code():
    text = README.read_text()
    assert readme_with_table(text) == text, (
        "README.md's settings table is out of date: "
        "run `python -m mockserver.settings_doc README.md`")
    assert markdown_table() in text


def test_help_names_every_flag_variable_and_config_key(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for row in TABLE:
        for name in (row.flag, row.env, row.config):
            if name:
                assert name.split(" ")[-1] in shown, name
    assert "critical|error|warning|info|debug" in shown


def test_every_flag_is_read_from_its_variable_and_its_config_key(tmp_path):
    values = {"host": ("0.0.0.0", "0.0.0.0"), "port": ("9", 9), "seed": ("4", 4),
              "credits": ("3", 3), "rate_limit": ("0", 0), "strict": ("yes", True),
              "store": ("memory", "memory"), "validate_responses": ("off", False),
              "journal_size": ("5", 5), "hang_seconds": ("1.5", 1.5),
              "log_level": ("DEBUG", "debug"), "access_log": ("1", True),
              "now": ("2026-01-02T00:00:00Z", 1767312000.0),
              "admin_token": ("tok", "tok"), "allowed_hosts": ("a.test,b", ("a.test", "b")),
              "max_header_bytes": ("2048", 2048), "max_body_bytes": ("4096", 4096),
              "max_admin_body_bytes": ("8192", 8192), "max_connections": ("7", 7),
              "header_timeout": ("2.5", 2.5), "body_timeout": ("3", 3.0),
              "workers": ("3", 3), "cache_dir": ("none", "none")}
    server_rows = [row for row in TABLE if row.config and row.config.startswith("[server] ")]
    assert {row.name for row in server_rows} == set(values)  # a new row needs a case here
    env = {row.env: values[row.name][0] for row in server_rows}
    from_env = Settings.load({}, env=env)
    config = tmp_path / "mock.toml"
    config.write_text("[server]\n" + "".join(
        f"{row.config.split()[1]} = {values[row.name][0]!r}\n" for row in server_rows))
    from_config = Settings.load({"config": str(config)}, env={})
    for row in server_rows:
        assert getattr(from_env, row.name) == values[row.name][1], row.env
        assert getattr(from_config, row.name) == values[row.name][1], row.config
    fixtures = Settings.load({}, env={"MOCKSERVER_FIXTURES": "a.json:b"})
    assert fixtures.fixture_paths == ("a.json", "b")


@pytest.mark.parametrize(("given", "meant"), [
    ("state/ledger.sqlite", "{folder}/state/ledger.sqlite"),  # the config file's folder
    ("/abs/ledger.sqlite", "/abs/ledger.sqlite"),
    ("memory", "memory"), ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0")])
def test_a_config_files_store_path_is_relative_to_it_as_its_fixtures_are(
        tmp_path, monkeypatch, given, meant):
    # it was taken from the working folder: started elsewhere, the mock made another file
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "mock.toml").write_text(f"[server]\nstore = {given!r}\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings.load({"config": str(folder / "mock.toml")}, env={})
    assert settings.store == meant.format(folder=folder)
    # a flag or a variable is the working folder's, as any command-line path is
    assert Settings.load({"config": str(folder / "mock.toml"), "store": "x.sqlite"},
                         env={}).store == "x.sqlite"


def test_a_flag_beats_the_variable_which_beats_the_config_file(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text("[server]\nseed = 2\ncredits = 2\nrate_limit = 2\n")
    settings = Settings.load({"config": str(config), "seed": "4"},
                             env={"MOCKSERVER_SEED": "3", "MOCKSERVER_CREDITS": "3"})
    assert (settings.seed, settings.credits, settings.rate_limit) == (4, 3, 2)


def test_a_value_remembers_where_it_came_from_as_its_errors_name_it(tmp_path):
    """For errors found after load (a store that cannot be opened): the winner's source."""
    config = tmp_path / "mock.toml"
    config.write_text('[server]\nstore = "a.db"\nseed = 2\ncredits = 2\n')
    settings = Settings.load({"config": str(config), "seed": "4"},
                             env={"MOCKSERVER_STORE": "b.db", "MOCKSERVER_SEED": "3"})
    assert settings.source("store") == "MOCKSERVER_STORE"
    assert settings.source("seed") == "--seed"
    assert settings.source("credits") == f"config {config} [server] credits"
    assert settings.source("port") == "--port"  # the default: named by its flag
    plugin = Settings.load({"store": "c.db"}, env={}, flag_labels={"store": "--mock-store"})
    assert plugin.source("store") == "--mock-store"


@pytest.mark.parametrize(("flags", "env", "words"), [
    ({"port": "99999"}, {}, "--port: '99999' is not a port number from 0 to 65535"),
    ({"port": "abc"}, {}, "--port: 'abc' is not a port number"),
    ({"credits": "1.5"}, {}, "--credits: '1.5' is not a whole number >= 0"),
    ({"workers": "1000"}, {}, "--workers: '1000' is not a whole number from 1 to 32"),
    ({"rate_limit": "-1"}, {}, "--rate-limit: '-1' is not a whole number >= 0"),
    ({"log_level": "loud"}, {}, "--log-level: 'loud' is not critical | error | warning"),
    ({"now": "yesterday"}, {}, "--now: 'yesterday' is not an ISO-8601 instant"),
    ({"hang_seconds": "0"}, {}, "--hang-seconds: '0' is not a number of seconds > 0"),
    ({}, {"MOCKSERVER_SEED": "abc"}, "MOCKSERVER_SEED: 'abc' is not a whole number"),
    ({}, {"MOCKSERVER_STRICT": "maybe"}, "MOCKSERVER_STRICT: 'maybe' is not true or false"),
])
def test_a_bad_value_names_its_flag_or_variable_and_what_is_accepted(flags, env, words):
    with pytest.raises(SettingError) as error:
        Settings.load(flags, env=env)
    assert str(error.value) == words or str(error.value).startswith(words)


@pytest.mark.parametrize(("text", "words"), [
    ('[server]\nseed = "seven"\n', "[server] seed: 'seven' is not a whole number >= 0"),
    ("[server]\nport = 1.5\n", "[server] port: 1.5 is not a port number"),
    ("[server]\nstrict = 3\n", "[server] strict: 3 is not true or false"),
    ("seed = 7\n", "unknown key 'seed' at the top level (did you mean [server] seed?)"),
    ("[server]\nrate-limit = 7\n", "unknown key 'rate-limit' in [server] (did you mean "
                                   "rate_limit?)"),
    ("keys = 3\n", "[[keys]]: 3 is not an array of tables [[keys]]"),
    ("fixtures = [1]\n", "fixtures: [1] is not a list of paths"),
])
def test_a_bad_config_value_or_key_names_the_file_and_the_key(tmp_path, text, words):
    config = tmp_path / "mock.toml"
    config.write_text(text)
    with pytest.raises(SettingError) as error:
        Settings.load({"config": str(config)}, env={})
    assert str(error.value).startswith(f"config {config}")
    assert words in str(error.value)


def test_unknown_mockserver_variables_are_warned_about_with_the_likely_name():
    settings = Settings.load({}, env={"MOCKSERVER_FIXTURE_PATHS": "x",
                                      "MOCKSERVER_NO_VALIDATE_RESPONSES": "1",
                                      "MOCKSERVER_SEED": "3", "HOME": "/root"})
    assert settings.seed == 3
    assert settings.warnings == (
        "ignoring unknown environment variable MOCKSERVER_FIXTURE_PATHS "
        "(did you mean MOCKSERVER_FIXTURES?)",
        "ignoring unknown environment variable MOCKSERVER_NO_VALIDATE_RESPONSES "
        "(did you mean MOCKSERVER_VALIDATE_RESPONSES?)")
    assert Settings.load({}, env={"MOCKSERVER_SEED": "3"}).warnings == ()
