"""Curated fixture files: accounts and keys that pin what generation would otherwise choose.

A fixture file is JSON: ``{"accounts": {handle: {field: value}}, "keys": {key: {...}}}``.
The shipped ``fixtures/`` folder loads first, then each user path (file or folder) in
order; a later file's entry for the same handle or key replaces the earlier one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.resources import data_dir


@dataclass(frozen=True)
class Fixtures:
    accounts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    keys: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.json"))
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"fixture path {path} does not exist")


def load_fixtures(extra_paths: Iterable[str] = (), include_shipped: bool = True,
                  check: Callable[[Path, Any], None] | None = None) -> Fixtures:
    """``check(path, document)`` sees each file as read, to refuse a bad one by name."""
    accounts: dict[str, Mapping[str, Any]] = {}
    keys: dict[str, Mapping[str, Any]] = {}
    roots = ([data_dir("fixtures")] if include_shipped else []) + [Path(p) for p in extra_paths]
    for root in roots:
        for path in _files(root):
            try:
                document = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ValueError(f"cannot read fixture {path}: {exc}") from exc
            if check is not None:
                check(path, document)
            for handle, values in document.get("accounts", {}).items():
                accounts[handle.lower().lstrip("@")] = values
            keys.update(document.get("keys", {}))
    return Fixtures(accounts=accounts, keys=keys)
