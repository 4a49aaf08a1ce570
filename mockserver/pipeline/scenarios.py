"""Failure on demand: one mechanism, reached by header, by fixture, or armed at run time.

A scenario is a catalogue name (a vendor error, ``not_found``/``private``, or a
transport fault) or a custom status and body, optionally with latency. Armed
entries match on vendor, route, handle and key, and live for ``times``
requests or fire with a ``probability``: the n-th call matching an entry draws a keyed
hash of (seed, entry id, n), n counted in the store (store.draw), so a flaky run replays
exactly, and N processes sharing a store draw exactly as one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.errors import AdminError, MockError
from mockserver.limits import ARMED_ENTRIES, check_document
from mockserver.pipeline.faults import TRANSPORT_FAULTS
from mockserver.pipeline.keys import mask
from mockserver.store import Chance, Store, StoreUnavailable, is_count, key_id
from mockserver.world.model import normalise_handle, well_formed

#: situation -> what it means, for the catalogue; each vendor renders it its own way
WORLD_DESCRIPTIONS = {
    "not_found": "the account or video does not exist, rendered as this vendor renders it "
                 "(DumplingAI 404, Social Fetch 200 with lookupStatus not_found or no videos, "
                 "API Gateway 404)",
    "private": "the account is private, rendered as this vendor renders it",
}
WORLD_SCENARIOS = tuple(WORLD_DESCRIPTIONS)
TABLE = "armed"
MATCH_FIELDS = ("vendor", "route", "handle", "key")
#: an armed entry's fields that hold text or null, and whole numbers or null
_TEXTS = (*MATCH_FIELDS, "key_id", "scenario")  # no scenario: a latency alone
_NUMBERS = ("remaining", "times", "status", "latency_ms")
_REQUIRED = (*MATCH_FIELDS, "scenario", *_NUMBERS, "probability", "body")


def entry_problem(entry: Any, known: Callable[[str], bool]) -> str | None:
    """What is wrong with an armed entry as a shared store holds it (something else may
    have written it there), or None: its fields' types, and what arming checks of them (a
    ``known`` scenario, a status from 200 to 599), so it is never one that cannot fire and
    stays armed."""
    if not isinstance(entry, dict):
        return f"an armed scenario {entry!r:.60} is not an object"
    probability = entry.get("probability")
    if not (isinstance(entry.get("id"), str) and is_count(entry.get("order"))
            and is_count(entry.get("fired")) and is_count(entry.get("matched", 0))
            and all(name in entry for name in _REQUIRED)
            and all(entry.get(name) is None or isinstance(entry[name], str) for name in _TEXTS)
            and all(entry[name] is None or type(entry[name]) is int for name in _NUMBERS)
            and (probability is None or type(probability) in (int, float))):
        return f"an armed scenario {entry!r:.120} is not one the mock armed"
    status = entry["status"]
    if entry["scenario"] is not None and not known(entry["scenario"]) or \
            status is not None and not 200 <= status <= 599:
        return f"an armed scenario {entry!r:.120} is not one the mock armed"
    return None


def _checked(entries: list[tuple[str, Any]], shared: bool, known: Callable[[str], bool]
             ) -> list[tuple[str, Any]]:
    """``entries`` as read; in a shared store, the mock's 503 if one is not an entry the
    mock armed (not a 500 where a field it lacks is read)."""
    if shared:
        for _, entry in entries:
            problem = entry_problem(entry, known)
            if problem is not None:
                raise StoreUnavailable(f"the mock's store holds what the mock did not write: "
                                       f"{problem}")
    return entries
#: statuses whose answer has no body (a body after them breaks the connection's framing)
NO_BODY_STATUSES = (204, 304)
ARM_FIELDS = {"scenario", "status", "body", "latency_ms", "times", "probability", *MATCH_FIELDS}


@dataclass(frozen=True)
class Effect:
    """What a request gets instead of (or on top of) its normal answer."""

    name: str | None = None  # a catalogue name, or None for a custom answer / pure latency
    status: int | None = None
    body: Any = None
    latency_ms: int = 0
    source: str = ""  # header, armed:<id>, key fixture, account fixture, video fixture


class Scenarios:
    def __init__(self, store: Store, seed: int,
                 names_by_route: Mapping[tuple[str, str], Iterable[str]]) -> None:
        self._store = store
        self._seed = seed
        self._names = {route: frozenset(names) for route, names in names_by_route.items()}

    # catalogue ----------------------------------------------------------------

    def valid_for(self, vendor: str, route: str) -> frozenset[str]:
        return self._names.get((vendor, route), frozenset())

    def known(self, name: str) -> bool:
        return any(name in names for names in self._names.values())

    # arming -------------------------------------------------------------------

    def arm(self, request: Mapping[str, Any], config_id: str | None = None) -> dict[str, Any]:
        """Check an arming request whole, then store it. ``config_id`` (an entry of the config
        file) replaces the entry of that id instead of adding one, so a restarted mock with a
        file store holds one copy of it, not one per start."""
        unknown = set(request) - ARM_FIELDS
        if unknown:
            raise AdminError(f"unknown fields {sorted(unknown)}; allowed: {sorted(ARM_FIELDS)}")
        entry: dict[str, Any] = {f: request.get(f) for f in MATCH_FIELDS}
        for name in MATCH_FIELDS:
            if entry[name] is not None and not isinstance(entry[name], str):
                raise AdminError(f"{name} must be a string")
        # an empty or malformed match would be stored, never fire and stay armed
        if entry["key"] == "":
            raise AdminError("key must not be empty; leave key out to match every key")
        if entry["handle"] is not None:
            entry["handle"] = normalise_handle(entry["handle"])
            if not well_formed(entry["handle"]):
                raise AdminError(f"handle {request['handle']!r} is not a TikTok handle (2 to 24 "
                                 "of a-z, 0-9, _ and ., after one optional @); leave handle "
                                 "out to match every handle")
        if entry["key"] and "…" not in entry["key"]:  # a key in full: keep its digest only
            entry.update(key=mask(entry["key"]), key_id=key_id(entry["key"]))
        scenario, status = request.get("scenario"), request.get("status")
        latency = request.get("latency_ms", 0)
        if scenario is not None and status is not None:
            raise AdminError("give either scenario or status + body, not both")
        matched = self._check_match(entry["vendor"], entry["route"])
        if scenario is not None:
            if not isinstance(scenario, str) or not self.known(scenario):
                raise AdminError(f"unknown scenario {scenario!r}; GET /__mock/scenarios lists them")
            if not any(scenario in self._names[pair] for pair in matched):
                where = " ".join(v for v in (entry["vendor"], entry["route"]) if v)
                raise AdminError(f"scenario {scenario!r} does not apply to {where}; "
                                 "GET /__mock/scenarios lists what applies where")
        body = request.get("body")
        if body is not None and status is None:
            raise AdminError("a custom body needs a status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                   or not 200 <= status <= 599):
            raise AdminError("status must be an HTTP status code from 200 to 599 (a 1xx is "
                             "not a final answer)")
        if status in NO_BODY_STATUSES and body is not None:
            raise AdminError(f"status {status} is sent without a body; leave body out")
        if body is not None:
            try:
                check_document(body)
            except ValueError as exc:
                raise AdminError(f"body cannot be armed: {exc}") from None
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 600_000:
            raise AdminError("latency_ms must be a whole number of milliseconds, 0 to 600000")
        if scenario is None and status is None and not latency:
            raise AdminError("arm a scenario, a status + body, or a latency_ms")
        times, probability = request.get("times"), request.get("probability")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or times < 1):
            raise AdminError("times must be a whole number >= 1")
        if probability is not None and (isinstance(probability, bool)
                                        or not isinstance(probability, int | float)
                                        or not 0 <= probability <= 1):
            raise AdminError("probability must be a number from 0 to 1")
        entry_id = config_id
        if len(self._store.items(TABLE)) >= ARMED_ENTRIES and (
                entry_id is None or self._store.get(TABLE, entry_id) is None):
            raise AdminError(f"{ARMED_ENTRIES} scenarios are armed already, the most the mock "
                             "holds; DELETE /__mock/scenarios disarms them", 409)
        # numbered by the store, so processes sharing it never make the same id
        order = self._store.next_number(TABLE)
        if entry_id is None:
            # of the seed and the number, not of this process's history: the same id (and so
            # the same draws) whichever process arms it
            suffix = hashlib.blake2b(f"{self._seed}:{order}".encode(), digest_size=4)
            entry_id = f"arm_{order}_{suffix.hexdigest()}"
        entry.update(id=entry_id,
                     scenario=scenario, status=status, body=request.get("body"),
                     latency_ms=latency, times=times, remaining=times,
                     probability=probability, fired=0, matched=0, order=order)
        self._store.put(TABLE, entry["id"], entry)
        return entry

    def _check_match(self, vendor: str | None, route: str | None) -> list[tuple[str, str]]:
        """The (vendor, route) pairs a match selects; an unknown vendor or route is an error."""
        vendors = sorted({v for v, _ in self._names})
        if vendor is not None and vendor not in vendors:
            raise AdminError(f"unknown vendor {vendor!r}; one of {vendors}")
        pairs = [pair for pair in self._names if vendor in (None, pair[0])]
        routes = sorted({r for _, r in pairs})
        if route is not None and route not in routes:
            raise AdminError(f"unknown route {route!r}{' of ' + vendor if vendor else ''}; "
                             f"one of {routes}")
        return [pair for pair in pairs if route in (None, pair[1])]

    def armed(self) -> list[dict[str, Any]]:
        entries = _checked(self._store.items(TABLE), self._store.shared, self.known)
        if not entries:  # the usual case, on every request
            return []
        return sorted((value for _, value in entries), key=lambda e: e["order"])

    def disarm(self, entry_id: str | None = None) -> int:
        """Remove one armed entry, or all; returns how many went."""
        gone = 0
        for key, _ in self._store.items(TABLE):
            if (entry_id is None or key == entry_id) and self._store.delete(TABLE, key):
                gone += 1
        return gone

    # selection ----------------------------------------------------------------

    def from_header(self, vendor: str, route: str, name: str, latency_ms: int) -> Effect:
        if name and name not in self.valid_for(vendor, route):
            raise MockError("mock_usage", f"Unknown X-Mock-Scenario {name!r} for {vendor} {route};"
                            " GET /__mock/scenarios lists the catalogue.")
        return Effect(name=name or None, latency_ms=latency_ms, source="header")

    def from_armed(self, vendor: str, route: str, handle: str | None, key: str | None,
                   kid: str | None = None, count: int | None = None) -> Effect | None:
        """The first armed entry that matches and fires; ``count``: how many the request's
        opening found armed, so a store may answer from what it read before."""
        entries = _checked(self._store.items(TABLE) if count is None else
                           self._store.armed_entries(TABLE, count), self._store.shared,
                           self.known)
        for entry in sorted((value for _, value in entries), key=lambda e: e["order"]):
            if not self._matches(entry, vendor, route, handle, key, kid):
                continue
            probability = entry["probability"]
            chance = None if probability is None else Chance(probability, str(self._seed))
            # one store step: the match counted and drawn for, and of N processes matching
            # the last firing, exactly one gets it
            if self._store.consume(TABLE, entry["id"], chance) is None:
                continue
            return Effect(name=entry["scenario"], status=entry["status"], body=entry["body"],
                          latency_ms=entry["latency_ms"], source=f"armed:{entry['id']}")
        return None

    def _matches(self, entry: Mapping[str, Any], vendor: str, route: str,
                 handle: str | None, key: str | None, kid: str | None) -> bool:
        if entry["vendor"] not in (None, vendor) or entry["route"] not in (None, route):
            return False
        if entry["handle"] is not None and entry["handle"] != handle:
            return False
        if entry["key"] is not None and not self._same_key(entry, key, kid):
            return False
        scenario = entry["scenario"]
        return scenario is None or scenario in self.valid_for(vendor, route)


    @staticmethod
    def _same_key(entry: Mapping[str, Any], key: str | None, kid: str | None) -> bool:
        """Armed with a key in full: its digest matches; armed with a masked key (as the
        journal shows it): any key that masks the same matches."""
        if key is None:
            return False
        if entry.get("key_id"):
            return entry["key_id"] == (kid or key_id(key))
        return entry["key"] == mask(key)


def is_transport_fault(name: str | None) -> bool:
    return name in TRANSPORT_FAULTS
