"""The request journal: what each client sent and got, newest first, keys masked.

Recording happens on every request, so a record keeps the request's raw parts and
becomes the entry the admin API shows (masked, decoded, rounded) only when read, or
when a file-backed store must serialise it: a raw key never reaches a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mockserver.limits import CUT_MARKER, JOURNAL_BODY_BYTES, cut
from mockserver.pipeline.keys import mask
from mockserver.pipeline.request_ids import Occurrence, request_id
from mockserver.store import Store, Writes

LOG = "journal"
FILTERS = ("vendor", "route", "status", "key")
#: a header whose name holds one of these is a secret: masked like a key
SECRET_WORDS = ("key", "token", "secret", "auth", "cookie", "password", "session", "signature")
AUTH_SCHEMES = {"bearer", "basic", "token", "digest"}


@dataclass(slots=True)
class Record:
    """One answered (or withheld) request, as the pipeline saw it."""

    at: float
    vendor: str
    route: str
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    key: str | None
    status: int | None  # None: no answer was sent (hang, drop_connection)
    scenario: str | None
    scenario_source: str | None
    credits_charged: int
    notes: list[str]
    seconds: float
    request: Occurrence  # what the request id is made of, hashed only when shown
    outcomes: tuple[str, ...]  # what coverage counted this answer as (mockserver/coverage.py)
    response: bytes  # the start of the body sent (cut as a request body is)
    reason: str | None  # why the mock refused the request (strict, inactive, balance, limit)

    def entry(self) -> dict[str, Any]:
        return {
            "at": self.at, "vendor": self.vendor, "route": self.route, "method": self.method,
            "path": cut(self.path), "query": cut(self.query),
            "headers": {cut(k): masked_header(k, v) if is_secret(k) else cut(v)
                        for k, v in self.headers.items()},
            "body": _shown_body(self.body),
            "key": mask(self.key) if self.key else None,
            "status": self.status, "scenario": self.scenario,
            "scenario_source": self.scenario_source, "credits_charged": self.credits_charged,
            "notes": self.notes, "duration_ms": round(self.seconds * 1000, 3),
            "request_id": request_id(self.request), "outcomes": list(self.outcomes),
            "response_body": _shown_body(self.response),
            "reason": self.reason,
        }


def _shown_body(body: bytes) -> str:
    """The body as text; the pipeline keeps one byte more than is shown, to know it was cut."""
    text = body[:JOURNAL_BODY_BYTES].decode("utf-8", "replace")
    if len(body) > JOURNAL_BODY_BYTES:
        text += CUT_MARKER.format(f"the body is over {JOURNAL_BODY_BYTES} bytes")
    return text


@lru_cache(maxsize=512)  # names a client chose: bounded
def is_secret(name: str) -> bool:
    """Whether a header's name says it carries a secret (``X-RapidAPI-Key``, ``Cookie``...)."""
    name = name.lower()
    return any(word in name for word in SECRET_WORDS)


def masked_header(name: str, value: str) -> str:
    """A secret header's value as the journal shows it: a scheme kept, the secret masked."""
    if not is_secret(name):
        return value
    scheme, _, secret = value.strip().partition(" ")
    if scheme.lower() in AUTH_SCHEMES and secret:  # keep "Bearer", mask what follows
        return f"{scheme} {mask(secret.strip())}"
    return mask(value.strip())


class Journal:
    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self.size = size

    def record(self, *fields: Any, into: Writes | None = None) -> None:
        """One request: the fields of a Record, in order, appended to the store or to a
        batch of its writes (``into``). An in-memory store keeps them as a bare tuple, the
        cheapest thing to make on every request."""
        store = into or self._store
        kept = fields if store.keeps_objects else Record(*fields).entry()
        store.append(LOG, kept, self.size)

    def entries(self, filters: Mapping[str, str] | None = None, limit: int | None = None
                ) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in (filters or {}).items() if k in FILTERS and v != ""}
        if "key" in wanted and "…" not in wanted["key"]:
            wanted["key"] = mask(wanted["key"])
        found = []
        for kept in self._store.recent(LOG, self.size):
            entry = Record(*kept).entry() if isinstance(kept, tuple) else kept
            if all(str(entry.get(k)) == v for k, v in wanted.items()):
                found.append(entry)
                if len(found) >= (limit or self.size):
                    break
        return found
