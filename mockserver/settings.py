"""Frozen settings, from CLI flags, ``MOCKSERVER_<FLAG>`` variables and a TOML config file.

Precedence, highest first: a flag given on the command line, the environment
variable, the config file's ``[server]`` table, the default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mockserver.clock import parse_instant

DEFAULT_SEED = 1
DEFAULT_CREDITS = 1000
DEFAULT_RATE_LIMIT = 600


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = DEFAULT_SEED
    now: float | None = None  # unix seconds; set means the clock starts frozen there
    credits: int = DEFAULT_CREDITS  # starting balance of a key never seen before
    rate_limit: int = DEFAULT_RATE_LIMIT  # requests per key per minute; 0 turns it off
    strict: bool = False  # accept only keys from the config or fixtures
    store: str = "memory"  # "memory" or the path of an SQLite file
    validate_responses: bool = True
    journal_size: int = 1000
    hang_seconds: float = 300.0  # how long `hang` holds a request when the client never gives up
    fixture_paths: tuple[str, ...] = ()
    keys: tuple[Mapping[str, Any], ...] = ()
    scenarios: tuple[Mapping[str, Any], ...] = ()
    config: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
             ) -> Settings:
        """Merge defaults, the config file, the environment and explicit flags."""
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        env = os.environ if env is None else env
        names = {f.name for f in fields(cls)} - {"keys", "scenarios", "extra"}
        from_env = {n: env[f"MOCKSERVER_{n.upper()}"] for n in names
                    if f"MOCKSERVER_{n.upper()}" in env}
        config_path = flags.get("config") or from_env.get("config")
        settings = cls()
        if config_path:
            settings = settings._with_config(Path(config_path))
        return settings._with_values({**from_env, **flags})

    def _with_config(self, path: Path) -> Settings:
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read config {path}: {exc}") from exc
        server = dict(document.get("server", {}))
        base = path.parent
        fixtures = tuple(str((base / p).resolve()) for p in document.get("fixtures", ()))
        updated = replace(
            self,
            config=str(path),
            keys=tuple(document.get("keys", ())),
            scenarios=tuple(document.get("scenarios", ())),
            fixture_paths=self.fixture_paths + fixtures,
        )
        return updated._with_values(server)

    def _with_values(self, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            name = name.replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            changes[name] = _coerce(name, raw)
        return replace(self, **changes)


def _coerce(name: str, raw: Any) -> Any:
    if name == "now":
        return None if raw in (None, "") else (
            float(raw) if isinstance(raw, int | float) else parse_instant(str(raw)))
    if name in {"port", "seed", "credits", "rate_limit", "journal_size"}:
        value = int(raw)
        if value < 0:
            raise ValueError(f"{name} must not be negative")
        return value
    if name == "hang_seconds":
        return float(raw)
    if name in {"strict", "validate_responses"}:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if name == "fixture_paths":
        if isinstance(raw, str):
            return tuple(p for p in raw.split(os.pathsep) if p)
        return tuple(raw)
    return raw
