"""The request journal: what each client sent and got, newest first, keys masked.

Recording happens on every request, so a record keeps the request's raw parts and
becomes the entry the admin API shows (masked, decoded, rounded) only when read, or
when a file-backed store must serialise it: a raw key never reaches a file. A store of
bytes (Redis) keeps it packed (:meth:`Record.packed`): masked, but its bodies as bytes and
its request id unhashed, which costs a third of making and serialising the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from mockserver.clock import LATEST
from mockserver.limits import CUT_MARKER, JOURNAL_BODY_BYTES, cut
from mockserver.pipeline.keys import mask as _mask
from mockserver.pipeline.request_ids import Occurrence, digest, request_id, uuid4_text
from mockserver.store import MAX_COUNT, Store, StoreUnavailable, Writes

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

    def shown(self) -> list[Any]:
        """What the entry shows but its bodies, request id and reason: masked and cut."""
        return [self.at, self.vendor, self.route, self.method, cut(self.path), cut(self.query),
                {cut(k): masked_header(k, v) if is_secret(k) else cut(v)
                 for k, v in self.headers.items()},
                mask(self.key) if self.key else None, self.status, self.scenario,
                self.scenario_source, self.credits_charged, self.notes,
                round(self.seconds * 1000, 3), self.outcomes, self.reason]

    def entry(self) -> dict[str, Any]:
        return _entry(self.shown(), self.body, self.response, request_id(self.request))

    def packed(self) -> bytes:
        """The entry as a store of bytes keeps it (see :func:`unpacked`): what it shows as
        JSON, masked, then the two bodies as they came; no secret is in it."""
        request, count = self.request
        shown = orjson.dumps([*self.shown(), request.hex(), count, len(self.body)])
        return b"".join((PACKED, shown, b"\n", self.body, self.response))


#: the first byte of a :meth:`Record.packed` entry (JSON never starts with it)
PACKED = b"\x01"


def unpacked(packed: bytes) -> dict[str, Any]:
    """The entry of a :meth:`Record.packed` one (ValueError: one the mock did not write)."""
    end = packed.index(b"\n")  # JSON as orjson writes it has no raw newline
    *shown, request, count, body_size = orjson.loads(packed[1:end])
    bodies = packed[end + 1:]
    # what packed() writes after the entry: a digest in hex, a count to_bytes(8) takes, a size
    if type(request) is not str or type(count) is not int or not 0 <= count < 1 << 64 \
            or type(body_size) is not int or not 0 <= body_size <= len(bodies):
        raise ValueError(f"its request {request!r:.40}, count {count!r:.20} and body size "
                         f"{body_size!r:.20} are not what the mock writes")
    return _entry(shown, bodies[:body_size], bodies[body_size:],
                  uuid4_text(digest((bytes.fromhex(request), count))))


def _entry(shown: list[Any], body: bytes, response: bytes, request: str) -> dict[str, Any]:
    (at, vendor, route, method, path, query, headers, key, status, scenario, source, charged,
     notes, duration_ms, outcomes, reason) = shown
    return {
        "at": at, "vendor": vendor, "route": route, "method": method, "path": path,
        "query": query, "headers": headers, "body": _shown_body(body), "key": key,
        "status": status, "scenario": scenario, "scenario_source": source,
        "credits_charged": charged, "notes": notes, "duration_ms": duration_ms,
        # Record's tuple as a list; one read from a store as it is there (checked as written)
        "request_id": request, "outcomes": list(outcomes) if type(outcomes) is tuple else outcomes,
        "response_body": _shown_body(response), "reason": reason,
    }


def _shown_body(body: bytes) -> str:
    """The body as text; the pipeline keeps one byte more than is shown, to know it was cut."""
    text = body[:JOURNAL_BODY_BYTES].decode("utf-8", "replace")
    if len(body) > JOURNAL_BODY_BYTES:
        text += CUT_MARKER.format(f"the body is over {JOURNAL_BODY_BYTES} bytes")
    return text


#: a key masked (a hash): a run uses few keys, each journalled twice a request (the key and
#: its header) on a store that keeps entries; bounded, as clients choose what they send
mask = lru_cache(maxsize=256)(_mask)


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


#: the types of a journal entry's fields, as the mock writes them (:func:`_entry` of
#: :meth:`Record.shown`): the instant and the duration JSON numbers (floats), text, None where
#: a request may have none (no key, no answer sent, no scenario, no refusal), the headers an
#: object of text, the notes and outcomes lists of text
_NUMBER, _TEXT, _TEXT_OR_NONE = (float, int), (str,), (str, type(None))
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "at": _NUMBER, "vendor": _TEXT, "route": _TEXT, "method": _TEXT, "path": _TEXT,
    "query": _TEXT, "headers": (dict,), "body": _TEXT, "key": _TEXT_OR_NONE,
    "status": (int, type(None)), "scenario": _TEXT_OR_NONE, "scenario_source": _TEXT_OR_NONE,
    "credits_charged": (int,), "notes": (list,), "duration_ms": _NUMBER, "request_id": _TEXT,
    "outcomes": (list,), "response_body": _TEXT, "reason": _TEXT_OR_NONE,
}
#: and the values the mock writes, of fields of the right type: an instant and a duration
#: from 0, finite; a status an HTTP one, or none; credits from 0
_FIELD_VALUES: dict[str, Callable[[Any], bool]] = {
    "at": lambda at: 0 <= at < LATEST, "duration_ms": lambda ms: 0 <= ms < 1e12,
    "status": lambda status: status is None or 100 <= status <= 599,
    "credits_charged": lambda credits: 0 <= credits <= MAX_COUNT,
}
#: the fields of a journal entry (:func:`_entry`)
_FIELDS = frozenset(_FIELD_TYPES)


def journal_problem(entry: Any) -> str | None:
    """What is wrong with a journal entry read from a shared store (something else may have
    written it there: valid JSON, of the right shape, with a field of another type or
    value), or None. ``type``, not isinstance: JSON tells ``true`` from a number."""
    if not isinstance(entry, dict) or entry.keys() != _FIELDS:
        return "not an object with the fields of one"
    wrong = [name for name, types in _FIELD_TYPES.items() if type(entry[name]) not in types]
    wrong += [name for name, good in _FIELD_VALUES.items()
              if name not in wrong and not good(entry[name])]
    if "headers" not in wrong and not all(type(value) is str
                                          for value in entry["headers"].values()):
        wrong.append("headers")
    wrong += [name for name in ("notes", "outcomes")
              if name not in wrong and not all(type(item) is str for item in entry[name])]
    return f"its {', '.join(wrong)} of another type or value than the mock writes" \
        if wrong else None


def _unpacked(kept: bytes) -> dict[str, Any]:
    try:
        return unpacked(kept)
    except (ValueError, TypeError, IndexError) as exc:  # not JSON, not its fields
        raise _not_written(kept, exc) from None


def _not_written(kept: Any, problem: Exception | str | None = None) -> StoreUnavailable:
    """A journal entry the mock did not write (written by hand where the store keeps the
    journal): the mock's 503, as other such writes are, until a reset."""
    why = f" ({problem})" if problem is not None else ""
    return StoreUnavailable(f"the store's journal holds what the mock did not write: "
                            f"{kept!r:.80} is not a journal entry{why}")


class Journal:
    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self.size = size

    def record(self, *fields: Any, into: Writes | None = None) -> None:
        """One request: the fields of a Record, in order, appended to the store or to a
        batch of its writes (``into``). An in-memory store keeps them as a bare tuple, the
        cheapest thing to make on every request."""
        store = into or self._store
        kept = fields if store.keeps_objects else Record(*fields).packed() \
            if store.keeps_bytes else Record(*fields).entry()
        store.append(LOG, kept, self.size)

    def entries(self, filters: Mapping[str, str] | None = None, limit: int | None = None
                ) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in (filters or {}).items() if k in FILTERS and v != ""}
        if "key" in wanted and "…" not in wanted["key"]:
            wanted["key"] = mask(wanted["key"])
        found = []
        for kept in self._store.recent(LOG, self.size):
            if isinstance(kept, tuple):  # this process's own memory: as the mock wrote it
                entry = Record(*kept).entry()
            else:  # read from a shared store: valid JSON of another shape, or with a field
                entry = _unpacked(kept) if isinstance(kept, bytes) else kept  # of another
                problem = journal_problem(entry)  # type, is an outside write
                if problem is not None:
                    raise _not_written(kept, problem)
            if all(str(entry.get(k)) == v for k, v in wanted.items()):
                found.append(entry)
                if len(found) >= (limit or self.size):
                    break
        return found
