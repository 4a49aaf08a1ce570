"""Frozen settings, from CLI flags, ``MOCKSERVER_<FLAG>`` variables and a TOML config file.

``TABLE`` is the one list of settings: each row names its flag, its variable, its
config key, its default and its meaning, and parses its own values. argparse, the
environment, the config file, ``--help`` and the README's table are all made from it,
so the names cannot drift apart (the flags and both renderings are in ``settings_doc``).
Adding a setting is a field of ``Settings`` and a row.

Precedence, highest first: a flag given on the command line, the environment
variable, the config file, the default.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mockserver.clock import OutOfRange, checked_instant, parse_instant

DEFAULT_SEED = 1
DEFAULT_CREDITS = 1000
DEFAULT_RATE_LIMIT = 600
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ENV_PREFIX = "MOCKSERVER_"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = DEFAULT_SEED
    now: float | None = None  # unix seconds; set means the clock starts frozen there
    credits: int = DEFAULT_CREDITS  # starting balance of a key never seen before
    rate_limit: int = DEFAULT_RATE_LIMIT  # requests per key per minute; 0 turns it off
    strict: bool = False  # accept only keys from the config or fixtures
    store: str = "memory"  # "memory", the path of an SQLite file, or redis://HOST:PORT/DB
    workers: int = 1  # processes serving the port (they share the ledger through the store)
    validate_responses: bool = True
    journal_size: int = 1000
    hang_seconds: float = 300.0  # how long `hang` holds a request when the client never gives up
    log_level: str = "warning"
    access_log: bool = False
    # the control plane: a token required on /__mock/* ("none": explicitly no token, even
    # beyond loopback); without one, Host names besides loopback that /__mock/* accepts
    admin_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    # limits on what a client can make the mock read (README "Limits and safety")
    max_header_bytes: int = 16 << 10  # request line and headers: 414 / 431 beyond
    max_body_bytes: int = 16 << 10  # a vendor route's body: 413 in the vendor's envelope
    max_admin_body_bytes: int = 1 << 20  # a /__mock/ body: 413
    max_connections: int = 100  # open at once; more are answered 503 and closed
    header_timeout: float = 10.0  # seconds to send the request line and headers: 408 after
    body_timeout: float = 30.0  # seconds to send the body once the headers are in: 408 after
    fixture_paths: tuple[str, ...] = ()
    keys: tuple[Mapping[str, Any], ...] = ()
    scenarios: tuple[Mapping[str, Any], ...] = ()
    cache_dir: str = ""  # "": the user's cache folder (see cache_folder); "none": no cache
    config: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # what the user should hear about at start (unknown MOCKSERVER_* variables)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # where each value given came from, as load names it in a bad value's error
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, name: str) -> str:
        """Where ``name``'s value came from (``--store``, ``MOCKSERVER_STORE``, ``config
        FILE [server] store``), for errors found after load, e.g. by opening the store; a
        default is named by its flag, the way to give another value."""
        row = ROW_BY_NAME[name]
        return self.sources.get(name) or row.flag or row.env or row.config or name

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
             flag_labels: Mapping[str, str] | None = None) -> Settings:
        """Merge defaults, the config file, the environment and explicit flags.

        ``flags`` are keyed by field name; a bad value raises ``SettingError`` naming
        where it came from (``flag_labels[name]``, else the row's flag) and what is accepted.
        """
        flags = {k.replace("-", "_"): v for k, v in (flags or {}).items() if v is not None}
        env = os.environ if env is None else env
        labels = {row.name: row.flag for row in TABLE if row.flag} | dict(flag_labels or {})
        from_env = {row.name: (row.env, env[row.env]) for row in TABLE
                    if row.env and row.env in env}
        settings = cls(warnings=unknown_variables(env))
        config_path = flags.get("config") or from_env.get("config", (None, None))[1]
        if config_path:
            settings = settings._with_config(Path(config_path))
        settings = settings._with_values(from_env)
        return settings._with_values({n: (labels.get(n, n), v) for n, v in flags.items()})

    def _with_config(self, path: Path) -> Settings:
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingError(f"cannot read config {path}: {exc}") from None
        where = f"config {path}"
        _refuse_unknown(where, document, CONFIG_TOP_LEVEL, "at the top level")
        server = document.get("server", {})
        if not isinstance(server, dict):
            raise SettingError(f"{where}: [server] must be a table")
        _refuse_unknown(where, server, SERVER_KEYS, "in [server]")
        values = {SERVER_KEYS[key].name: (f"{where} [server] {key}", raw)
                  for key, raw in server.items()}
        values |= {row.name: (f"{where} {row.config}", document[key])
                   for key, row in TOP_LEVEL_KEYS.items() if key in document}
        updated = self._with_values(values)
        fixtures = tuple(str((path.parent / p).resolve()) for p in updated.fixture_paths)
        if "store" in values and updated.store not in ("", "memory") \
                and "://" not in updated.store:
            # an SQLite file, like the fixtures, is where the config file says it is
            updated = replace(updated, store=str(path.parent / updated.store))
        if "cache_dir" in values and updated.cache_dir.lower() != "none":
            # "~/x" is the user's, as the flag's is (joined to the folder, it made a "~" there)
            folder = Path(updated.cache_dir).expanduser()
            updated = replace(updated, cache_dir=str(path.parent / folder))
        return replace(updated, config=str(path), fixture_paths=self.fixture_paths + fixtures)

    def _with_values(self, values: Mapping[str, tuple[str, Any]]) -> Settings:
        changes: dict[str, Any] = {}
        for name, (where, raw) in values.items():
            row = ROW_BY_NAME.get(name)
            if row is None:
                raise SettingError(f"unknown setting {name!r}")
            try:
                changes[name] = row.parse(raw)
            except OutOfRange as exc:  # the form was right: saying what it is would mislead
                raise SettingError(f"{where}: {raw!r} is outside {exc.limits}") from None
            except (TypeError, ValueError):
                raise SettingError(f"{where}: {raw!r} is not {row.accepted}") from None
        where_from = {name: where for name, (where, _) in values.items()}
        return replace(self, **changes, sources={**self.sources, **where_from})


class SettingError(ValueError):
    """A setting's value is not accepted; the message names the flag, variable or key."""


# Parsers: each takes a string (flag, variable) or a TOML value and raises ValueError.


#: each worker is a whole process (about 65 MB): 1000 of them took 21 GB and the machine
MAX_WORKERS = 32


def whole(low: int, high: int | None = None) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool | float):
            raise ValueError(raw)
        value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        if value < low or (high is not None and value > high):
            raise ValueError(raw)
        return value
    return parse


def positive_seconds(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(raw)
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError(raw)
    return value


def switch(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(raw)


def instant(raw: Any) -> float | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        raise ValueError(raw)
    return checked_instant(float(raw)) if isinstance(raw, int | float) \
        else parse_instant(str(raw))


def one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if str(raw).lower() not in choices:
            raise ValueError(raw)
        return str(raw).lower()
    return parse


def text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(raw)
    return raw.strip()


def names(raw: Any) -> tuple[str, ...]:
    """A list (flag, config) or one string split on commas (variable)."""
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) for n in raw):
        raise ValueError(raw)
    return tuple(n.strip() for n in raw if n.strip())


def paths(raw: Any) -> tuple[str, ...]:
    """A list (flag, config) or one string, split on the OS path separator (variable)."""
    if isinstance(raw, str):
        return tuple(p for p in raw.split(os.pathsep) if p)
    if not isinstance(raw, list | tuple) or not all(isinstance(p, str) for p in raw):
        raise ValueError(raw)
    return tuple(raw)


def tables(raw: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(t, dict) for t in raw):
        raise ValueError(raw)
    return tuple(raw)


@dataclass(frozen=True)
class Setting:
    """One row of the settings table. ``flag``/``env``/``config`` of ``""`` are derived
    from the name (``--rate-limit``, ``MOCKSERVER_RATE_LIMIT``, ``[server] rate_limit``);
    ``None`` means the setting has no such form."""

    name: str
    meaning: str
    parse: Callable[[Any], Any]
    accepted: str
    flag: str | None = ""
    env: str | None = ""
    config: str | None = ""
    kind: str = "value"  # "value", "switch" (a flag without a value) or "repeat"
    choices: tuple[str, ...] = ()
    shown_default: str = ""
    metavar: str = ""  # what --help shows after the flag; the name in capitals if empty

    def __post_init__(self) -> None:
        dashed, upper = self.name.replace("_", "-"), self.name.upper()
        if self.flag == "":
            object.__setattr__(self, "flag", f"--{dashed}")
        if self.env == "":
            object.__setattr__(self, "env", f"{ENV_PREFIX}{upper}")
        if self.config == "":
            object.__setattr__(self, "config", f"[server] {self.name}")
        if not self.metavar:
            object.__setattr__(self, "metavar", "|".join(self.choices) or upper)

    @property
    def default(self) -> str:
        if self.shown_default:
            return self.shown_default
        value = {f.name: f.default for f in fields(Settings)}[self.name]
        return str(value).lower() if isinstance(value, bool) else str(value)


INTEGER = "a whole number >= 0"
TABLE: tuple[Setting, ...] = (
    Setting("host", "interface to listen on (the Docker image sets 0.0.0.0)", text,
            "a host name or IP address", metavar="HOST"),
    Setting("port", "port of all three vendors and /__mock/; 0 picks a free one",
            whole(0, 65535), "a port number from 0 to 65535", metavar="PORT"),
    Setting("seed", "seed of the generated world", whole(0), INTEGER, metavar="N"),
    Setting("now", "freeze the clock at this instant (byte-identical runs)", instant,
            "an ISO-8601 instant (2026-11-23T12:00:00Z) or unix seconds",
            shown_default="running clock", metavar="INSTANT"),
    Setting("credits", "starting balance of a key never seen before", whole(0), INTEGER,
            metavar="N"),
    Setting("rate_limit", "requests per key per minute; 0 turns the limit off", whole(0),
            INTEGER, metavar="N"),
    Setting("strict", "accept only keys from the config's [[keys]] or the fixtures", switch,
            "true or false", kind="switch"),
    Setting("store", "where the ledger lives: `memory` (one process), an SQLite file (kept "
            "across restarts; processes on one machine may share it; a config file's path is "
            "relative to it) or `redis://HOST:PORT/DB` "
            "(one ledger for processes and replicas)", text,
            "memory, the path of a file, or redis://HOST:PORT/DB",
            metavar="memory|FILE|redis://HOST:PORT/DB"),
    Setting("workers", "processes serving the port (at most 32, each a whole process), "
            "sharing the ledger through `--store` "
            "(an SQLite file or Redis; the memory store is refused)",
            whole(1, MAX_WORKERS), f"a whole number from 1 to {MAX_WORKERS}", metavar="N"),
    Setting("fixture_paths", "extra fixture file or folder (repeatable; the variable takes "
            "a list split by the OS path separator, `:` or `;`; config paths are relative to "
            "the config file)",
            paths, "a list of paths", flag="--fixtures", env=f"{ENV_PREFIX}FIXTURES",
            config="fixtures", kind="repeat", shown_default="none", metavar="PATH"),
    Setting("validate_responses", "check every response against its schema "
            "(`--no-validate-responses` skips it)", switch, "true or false", kind="switch"),
    Setting("journal_size", "requests the journal keeps (oldest dropped first)", whole(1),
            "a whole number >= 1", metavar="N"),
    Setting("hang_seconds", "how long the `hang` scenario holds a request", positive_seconds,
            "a number of seconds > 0", metavar="SECONDS"),
    Setting("log_level", "server log level", one_of(LOG_LEVELS), " | ".join(LOG_LEVELS),
            choices=LOG_LEVELS),
    Setting("access_log", "print one line per request", switch, "true or false",
            kind="switch"),
    Setting("admin_token", "token /__mock/* requires in the header X-Mock-Admin-Token; "
            "`none`: no token even beyond loopback (Host and Origin checks only)", text,
            "a token, or none", shown_default="none on loopback; made and printed at start "
            "when --host is not loopback", metavar="TOKEN"),
    Setting("allowed_hosts", "a Host name /__mock/* accepts besides loopback names, when no "
            "admin token is set (repeatable; the variable takes a comma-separated list)",
            names, "a list of host names", flag="--allowed-host",
            env=f"{ENV_PREFIX}ALLOWED_HOSTS", kind="repeat", shown_default="none",
            metavar="NAME"),
    Setting("max_header_bytes", "request line and headers, in bytes: 414 (URL) or 431 beyond",
            whole(1024), "a whole number >= 1024", metavar="BYTES"),
    Setting("max_body_bytes", "a vendor route's request body, in bytes: 413 in the vendor's "
            "error form beyond (Social Fetch: 400 bad_request)", whole(1024),
            "a whole number >= 1024", metavar="BYTES"),
    Setting("max_admin_body_bytes", "a /__mock/ request body, in bytes: 413 beyond",
            whole(1024), "a whole number >= 1024", metavar="BYTES"),
    Setting("max_connections", "connections open at once, per process (with `--workers`, "
            "each worker holds this many, and the kernel hands a new connection to whichever "
            "worker accepts it first); one more is answered 503 and closed", whole(1),
            "a whole number >= 1", metavar="N"),
    Setting("header_timeout", "seconds a client has to send a request's line and headers: "
            "408 and closed after", positive_seconds, "a number of seconds > 0",
            metavar="SECONDS"),
    Setting("body_timeout", "seconds a client has to send a request's body once its headers "
            "are in: 408 and closed after", positive_seconds, "a number of seconds > 0",
            metavar="SECONDS"),
    Setting("cache_dir", "folder where the words and names drawn for a seed are kept, so a "
            "later start reads them instead of drawing them again (most of a start's time); "
            "`none` keeps nothing (a config file's path is relative to it)", text,
            "a folder, or none", shown_default="$XDG_CACHE_HOME/mockserver, else "
            "~/.cache/mockserver", metavar="DIR"),
    Setting("config", "TOML file with [server], fixtures, [[keys]] and [[scenarios]]", text,
            "the path of a TOML file", config=None, shown_default="none", metavar="FILE"),
    Setting("keys", "keys with their balance, status and rate limit (same fields as "
            "PUT /__mock/keys/{key}, plus key)", tables, "an array of tables [[keys]]",
            flag=None, env=None, config="[[keys]]", shown_default="none"),
    Setting("scenarios", "scenarios armed at start and after every reset (same fields as "
            "POST /__mock/scenarios)", tables, "an array of tables [[scenarios]]",
            flag=None, env=None, config="[[scenarios]]", shown_default="none"),
)
ROW_BY_NAME = {row.name: row for row in TABLE}
SERVER_KEYS = {row.config.split(" ", 1)[1]: row for row in TABLE
               if row.config and row.config.startswith("[server] ")}
TOP_LEVEL_KEYS = {row.config.strip("[]"): row for row in TABLE
                  if row.config and not row.config.startswith("[server] ")}
CONFIG_TOP_LEVEL = {"server": None, **TOP_LEVEL_KEYS}


def _refuse_unknown(where: str, table: Mapping[str, Any], known: Mapping[str, Any],
                    place: str) -> None:
    """A config file is written for the mock alone, so an unknown key stops the start."""
    for key in table:
        if key in known:
            continue
        hint = ""
        if place == "at the top level" and key in SERVER_KEYS:
            hint = f" (did you mean [server] {key}?)"
        elif close := difflib.get_close_matches(key, list(known), n=1):
            hint = f" (did you mean {close[0]}?)"
        raise SettingError(f"{where}: unknown key {key!r} {place}{hint}; known keys: "
                           f"{', '.join(sorted(known))}")


def cache_folder(settings: Settings, env: Mapping[str, str] | None = None) -> Path | None:
    """Where the world keeps what it draws for a seed (``--cache-dir``); None for none. By
    default the user's cache folder, as the XDG base directories name it."""
    if settings.cache_dir.lower() == "none":
        return None
    if settings.cache_dir:
        return Path(settings.cache_dir).expanduser()
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the spec: a relative value is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mockserver"


def unknown_variables(env: Mapping[str, str]) -> tuple[str, ...]:
    """Warnings for ``MOCKSERVER_*`` variables no setting reads. Only warnings: the
    environment is shared with other tools (a client's suite may set MOCKSERVER_URL)."""
    known = [row.env for row in TABLE if row.env]
    notes = []
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
            hint = f" (did you mean {close[0]}?)" if close else ""
            notes.append(f"ignoring unknown environment variable {name}{hint}")
    return tuple(notes)

