"""Contract coverage: which documented outcomes of each vendor route the mock has sent.

Every route documents a set of outcomes: its success, every error its vendor can answer
there (natural or by scenario; two errors a client cannot tell apart count as one), the
world's private / not found renderings, list positions, the options that change the answer,
a low balance, and each transport fault. The pipeline names what each answer was (``names``)
once it is sent; the journal keeps those names with the request, and ``Coverage`` counts
them per route, since the last reset or since a named mark. Reset clears both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mockserver.errors import AdminError
from mockserver.pipeline.faults import BODY_FAULTS, TRANSPORT_FAULTS
from mockserver.pipeline.request_ids import Occurrence, request_id
from mockserver.store import Store, Writes

if TYPE_CHECKING:
    from mockserver.pipeline.call import Call
    from mockserver.pipeline.scenarios import Effect
    from mockserver.vendors.base import Vendor

TABLE, NOTES = "coverage", "coverage_notes"  # tallies (Store.tally)
MAX_MARKS = 32
MAX_NOTES = 200  # distinct contract notes kept per process: a client names the fields
SINCE_RESET = "reset"

#: error kinds a route answers without any scenario, beside its vendor's scenario errors
NATURAL_ERRORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("dumpling", "profile"): ("bad_json", "missing_param", "service_rejected_input",
                              "unauthorized", "insufficient_credits", "not_found",
                              "rate_limited"),
    ("dumpling", "videos"): ("bad_json", "missing_param", "service_rejected_input",
                             "service_reported_issue", "unauthorized", "insufficient_credits",
                             "not_found", "rate_limited"),
    ("dumpling", "video"): ("bad_json", "missing_param", "invalid_url", "unauthorized",
                            "insufficient_credits", "not_found", "rate_limited"),
    ("socialfetch", "profile"): ("unauthorized", "insufficient_credits"),
    ("socialfetch", "videos"): ("bad_request", "unauthorized", "insufficient_credits"),
    ("gateway", "user"): ("unauthorized", "user_not_found", "rate_limited",
                          "insufficient_credits"),
    ("gateway", "video"): ("unauthorized", "user_not_found", "video_not_found",
                           "rate_limited", "insufficient_credits"),
}
#: how a route renders the world's situations as a success (elsewhere they are errors)
WORLD: dict[tuple[str, str], tuple[str, ...]] = {
    ("dumpling", "profile"): ("private",), ("dumpling", "videos"): ("private",),
    ("socialfetch", "profile"): ("private", "not_found"),
    ("socialfetch", "videos"): ("private", "not_found"),
    ("gateway", "user"): ("private",),
}
PAGED = {("dumpling", "videos"), ("socialfetch", "videos")}
PAGES = {"first": "first page", "later": "a later page", "last": "last page",
         "empty": "empty list"}
#: option -> whether the parsed request used it (on a success)
OPTIONS: dict[tuple[str, str], dict[str, Callable[[Mapping[str, Any]], bool]]] = {
    ("dumpling", "videos"): {
        "trim": lambda p: p.get("trim") is True,
        "maxCursor": lambda p: bool(p.get("max_cursor")),
    },
    ("socialfetch", "videos"): {
        "sortBy=latest": lambda p: p.get("sortBy") == "latest",
        "sortBy=popular": lambda p: p.get("sortBy") == "popular",
        "trim": lambda p: p.get("trim") is True,
        "region": lambda p: "region" in p,
        "userId": lambda p: "userId" in p,
    },
}
WORLD_LABELS = {"private": "private account", "not_found": "account not found"}


@dataclass(frozen=True)
class Outcome:
    id: str  # "ok", "error:rate_limited", "page:last", "option:trim", "fault:hang"...
    kind: str  # success, error, world, page, option, credits, transport
    label: str  # what a person reads: "429 rate limited"
    scenario: str | None = None  # the catalogue name that produces it, if any
    natural: bool = True  # reachable without a scenario


def route_outcomes(vendor: Vendor, route_name: str) -> tuple[dict[str, Outcome], dict[str, str]]:
    """The documented outcomes of a route, in reading order, and error kind -> outcome id."""
    where = (vendor.name, route_name)
    route = next(r for r in vendor.routes if r.name == route_name)
    found: list[Outcome] = [Outcome("ok", "success", "200 success")]
    found += [Outcome(f"world:{w}", "world", WORLD_LABELS[w], scenario=w)
              for w in WORLD.get(where, ())]
    if where in PAGED:
        found += [Outcome(f"page:{p}", "page", label) for p, label in PAGES.items()]
    found += [Outcome(f"option:{o}", "option", f"option {o}") for o in OPTIONS.get(where, {})]
    # a success that leaves less than the next call's cost
    found.append(Outcome("credits:low_balance", "credits", "low balance"))
    # errors a client can tell apart: one outcome per distinct answer, named by its scenario
    by_answer: dict[tuple[int, str], Outcome] = {}
    kind_ids: dict[str, str] = {}
    natural = NATURAL_ERRORS.get(where, ())
    candidates: list[tuple[str | None, str]] = list(vendor.error_scenarios.items())
    if "not_found" not in WORLD.get(where, ()):  # the world scenario answers an error here
        candidates.append(("not_found", "not_found"))
    candidates += [(None, kind) for kind in natural]
    for scenario, kind in candidates:
        status, body, _ = vendor.example_error(route, kind)
        answer = (status, repr(sorted(body.items())))
        known = by_answer.get(answer)
        if known is None:
            name = scenario or kind
            known = by_answer[answer] = Outcome(
                f"error:{name}", "error", f"{status} {name.replace('_', ' ')}",
                scenario=scenario, natural=kind in natural)
        elif kind in natural and not known.natural:
            known = by_answer[answer] = Outcome(known.id, "error", known.label,
                                                known.scenario, natural=True)
        kind_ids[kind] = known.id
    found += sorted(by_answer.values(), key=lambda o: o.label)
    found += [Outcome(f"fault:{f}", "transport", f.replace("_", " "), scenario=f, natural=False)
              for f in TRANSPORT_FAULTS]
    return {o.id: o for o in found}, kind_ids


class Coverage:
    def __init__(self, store: Store, vendors: Iterable[Vendor]) -> None:
        self._store = store
        self.titles: dict[str, str] = {}
        self.outcomes: dict[tuple[str, str], dict[str, Outcome]] = {}
        self._kind_ids: dict[tuple[str, str], dict[str, str]] = {}
        for vendor in vendors:
            self.titles[vendor.name] = vendor.title
            for route in vendor.routes:
                where = (vendor.name, route.name)
                self.outcomes[where], self._kind_ids[where] = route_outcomes(vendor, route.name)
        self._notes_seen: set[str] = set()  # notes counted by this process, bounded

    # what an answer was --------------------------------------------------------------

    def names(self, call: Call, status: int | None, effect: Effect | None) -> tuple[str, ...]:
        """The outcome ids of an answer just sent (``status`` None: none was sent)."""
        where = call.route.where
        if where not in self.outcomes:  # an undocumented route (the gateway's catch-all)
            return ()
        if effect is not None:
            fault = effect.name if effect.name in TRANSPORT_FAULTS else None
            if fault is not None and (status is None or (status == 200
                                                         and fault in BODY_FAULTS)):
                return (f"fault:{fault}",)
        if call.error_kind is not None:
            outcome = self._kind_ids[where].get(call.error_kind)
            return (outcome,) if outcome else ()
        if status != 200 or (effect is not None and effect.status is not None):
            return ()  # a custom armed answer or a broken contract: nothing documented
        met = ["ok"]
        subject = call.subject
        for situation in WORLD.get(where, ()):
            if (situation == "private" and subject is not None and subject.private) or (
                    situation == "not_found" and (subject is None or not subject.exists)):
                met.append(f"world:{situation}")
        if call.page is not None and where in PAGED:
            start, end, total = call.page
            if end <= start:
                met.append("page:empty")
            else:
                met.append("page:first" if start == 0 else "page:later")
                if end >= total:
                    met.append("page:last")
        options = OPTIONS.get(where)
        if options is not None:
            for option, used in options.items():
                if used(call.params):
                    met.append(f"option:{option}")
        if call.charged and call.balance is not None and call.balance < call.cost:
            met.append("credits:low_balance")
        return tuple(met)

    # counting -----------------------------------------------------------------------

    def record(self, vendor: str, route: str, names: tuple[str, ...], notes: list[str],
               occurrence: Occurrence, writes: Writes | None = None) -> None:
        """Count an answer's outcomes and notes, in the store or a batch of its writes. Each
        count is a tally, so counts from any number of processes add up exactly; the
        request id (``occurrence`` hashed) is made only where the store keeps one."""
        writes = writes or self._store
        shown: list[str] = []

        def first() -> str:
            if not shown:
                shown.append(request_id(occurrence))
            return shown[0]

        if names:
            writes.tally(TABLE, _tally_names(vendor, route, names), first)
        if notes:
            counted = []
            for note in notes:
                key = f"{vendor} {route} {note[:300]}"
                if key not in self._notes_seen:
                    if len(self._notes_seen) >= MAX_NOTES:
                        continue
                    self._notes_seen.add(key)
                counted.append(key)
            if counted:
                writes.tally(NOTES, counted, first)

    def mark(self, name: Any) -> dict[str, Any]:
        """Remember the counts now, so a later report can count from here."""
        if not isinstance(name, str) or not 0 < len(name) <= 64 or name == SINCE_RESET:
            raise AdminError("a mark needs a name: a string of 1 to 64 characters, not 'reset'")
        marks = self._store.tally_marks(TABLE)
        if name not in marks and len(marks) >= MAX_MARKS:
            raise AdminError(f"at most {MAX_MARKS} marks; POST /__mock/reset clears them")
        self._store.mark_tally(TABLE, name)  # marked again: its first requests start over
        self._store.mark_tally(NOTES, name)
        return {"mark": name, "marks": sorted({*marks, name})}

    def reset(self) -> None:
        """After the store was cleared: forget the notes bound."""
        self._notes_seen.clear()

    # reading ------------------------------------------------------------------------

    def report(self, since: str | None = None, vendor: str | None = None) -> dict[str, Any]:
        """``GET /__mock/coverage``: per vendor, route and outcome, the count met and the id
        of the first request that met it (since the last reset, or since mark ``since``)."""
        if vendor is not None and vendor not in self.titles:
            raise AdminError(f"no vendor {vendor!r}; one of {sorted(self.titles)}")
        marks = self._store.tally_marks(TABLE)
        counts: dict[str, int] = {}
        note_counts: dict[str, int] = {}
        if since not in (None, "", SINCE_RESET):
            if since not in marks:
                raise AdminError(f"no mark {since!r}; marks: {sorted(marks)}", 404)
            counts = marks[since]
            note_counts = self._store.tally_marks(NOTES).get(since, {})
        rows = self._store.tallies(TABLE)
        vendors: dict[str, Any] = {}
        for (vendor_name, route), outcomes in self.outcomes.items():
            if vendor is not None and vendor_name != vendor:
                continue
            shown = vendors.setdefault(vendor_name, {"title": self.titles[vendor_name],
                                                     "routes": {}, "notes": []})
            listed = {}
            for outcome in outcomes.values():
                key = f"{vendor_name} {route} {outcome.id}"
                row = rows.get(key)
                before = counts.get(key, 0)
                met = (row["met"] if row else 0) - before
                first = None
                if row and met > 0:
                    first = row["first"] if before == 0 else row["since"].get(since)
                listed[outcome.id] = {"label": outcome.label, "kind": outcome.kind,
                                      "scenario": outcome.scenario, "natural": outcome.natural,
                                      "met": met, "first_request_id": first}
            shown["routes"][route] = {"outcomes": listed, **_tally(listed.values())}
        for key, row in self._store.tallies(NOTES).items():
            vendor_name, route, note = key.split(" ", 2)
            before = note_counts.get(key, 0)
            met = row["met"] - before
            if vendor_name in vendors and met > 0:
                first = row["first"] if before == 0 else row["since"].get(since)
                vendors[vendor_name]["notes"].append(
                    {"route": route, "note": note, "met": met, "first_request_id": first})
        for shown in vendors.values():
            shown.update(_tally(_rows(shown)))
        return {"since": since or SINCE_RESET, "marks": sorted(marks),
                **_tally([row for shown in vendors.values() for row in _rows(shown)]),
                "vendors": vendors}


@lru_cache(maxsize=1024)  # every answer counts one of a few outcome sets per route
def _tally_names(vendor: str, route: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{vendor} {route} {name}" for name in names)


def _rows(shown: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every outcome row of a vendor's report, all routes together."""
    return [row for listed in shown["routes"].values() for row in listed["outcomes"].values()]


def _tally(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    met = sum(1 for row in rows if row["met"] > 0)
    return {"met": met, "total": len(rows),
            "percent": round(100 * met / len(rows), 1) if rows else 0.0}


# reading a report: the CLI's table and the pytest plugin's summary ----------------------


def in_scope(report: Mapping[str, Any], vendor: str | None = None) -> list[str]:
    """The vendors a verdict is about: the one asked for, else every vendor the client
    called (met anything), else all."""
    if vendor is not None:
        return [vendor]
    called = [name for name, shown in report["vendors"].items() if shown["met"]]
    return called or list(report["vendors"])


def never_met(shown: Mapping[str, Any]) -> list[str]:
    """A vendor's unmet outcomes, each label once with the routes it is missing on."""
    routes_by_label: dict[str, list[str]] = {}
    for route, listed in shown["routes"].items():
        for row in listed["outcomes"].values():
            if not row["met"]:
                routes_by_label.setdefault(row["label"], []).append(route)
    every = len(shown["routes"])
    return [label if len(routes) == every else f"{label} ({', '.join(routes)})"
            for label, routes in routes_by_label.items()]


def summary(report: Mapping[str, Any], vendors: Iterable[str], shown_missing: int = 12
            ) -> list[str]:
    """One line per vendor: "DumplingAI: 14 of 75 documented outcomes met; never met: ..."."""
    lines = []
    for name in vendors:
        shown = report["vendors"][name]
        line = (f"{shown['title']}: {shown['met']} of {shown['total']} documented outcomes met"
                f" ({shown['percent']}%)")
        missing = never_met(shown)
        if missing:
            more = len(missing) - shown_missing
            line += "; never met: " + ", ".join(missing[:shown_missing]) + (
                f", ... and {more} more" if more > 0 else "")
        lines.append(line)
        lines += [f"  contract note ({n['route']}, {n['met']}x): {n['note']}"
                  for n in shown["notes"]]
    return lines


def table(report: Mapping[str, Any], vendors: Iterable[str]) -> str:
    rows = [("vendor", "route", "outcome", "met", "first request")]
    for name in vendors:
        for route, listed in report["vendors"][name]["routes"].items():
            rows += [(name, route, row["label"], str(row["met"]), row["first_request_id"] or "-")
                     for row in listed["outcomes"].values()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def below(report: Mapping[str, Any], vendors: Iterable[str], minimum: float) -> list[str]:
    """The vendors under ``minimum`` percent, as sentences."""
    return [f"{report['vendors'][v]['title']}: {report['vendors'][v]['percent']}% of documented"
            f" outcomes met, under the minimum of {minimum:g}%"
            for v in vendors if report["vendors"][v]["percent"] < minimum]


def merge(total: dict[str, Any] | None, report: Mapping[str, Any]) -> dict[str, Any]:
    """Two reports of the same mock as one (a pytest session resets the mock per test)."""
    if total is None:
        return copy.deepcopy(dict(report))
    for name, shown in report["vendors"].items():
        into = total["vendors"][name]
        for route, listed in shown["routes"].items():
            for outcome, row in listed["outcomes"].items():
                kept = into["routes"][route]["outcomes"][outcome]
                kept["first_request_id"] = kept["first_request_id"] or row["first_request_id"]
                kept["met"] += row["met"]
            into["routes"][route].update(_tally(into["routes"][route]["outcomes"].values()))
        notes = {(n["route"], n["note"]): n for n in into["notes"]}
        for note in shown["notes"]:
            if (note["route"], note["note"]) in notes:
                notes[note["route"], note["note"]]["met"] += note["met"]
            else:
                into["notes"].append(dict(note))
        into.update(_tally(_rows(into)))
    total.update(_tally([row for shown in total["vendors"].values() for row in _rows(shown)]))
    return total
