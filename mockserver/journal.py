"""The request journal: what each client sent and got, newest first, keys masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.pipeline.keys import mask
from mockserver.store import Store

LOG = "journal"
FILTERS = ("vendor", "route", "status", "key")


class Journal:
    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self.size = size

    def record(self, entry: dict[str, Any]) -> None:
        self._store.append(LOG, entry, self.size)

    def entries(self, filters: Mapping[str, str] | None = None, limit: int | None = None
                ) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in (filters or {}).items() if k in FILTERS and v != ""}
        if "key" in wanted and "…" not in wanted["key"]:
            wanted["key"] = mask(wanted["key"])
        found = []
        for entry in self._store.recent(LOG):
            if all(str(entry.get(k)) == v for k, v in wanted.items()):
                found.append(entry)
                if len(found) >= (limit or self.size):
                    break
        return found
