"""The rows of the SQLite store's own tables (rate windows, numbers, tallies, the clock), and
what it checks of them as it reads them: something else may have written the file."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from mockserver import clock  # the module, not its names: it is importing this one
from mockserver.store.records import MAX_COUNT, is_count, shape_problem

WINDOWS, NUMBERS, META = "_windows", "_numbers", "_meta"  # tables of the store's own
TALLY, MARKS = "_tally:", "_marks:"  # prefixes of a tally's rows and marks
log = logging.getLogger("mockserver")


def clock_row(raw: bytes) -> dict[str, Any] | None:
    """The clock's state its row holds; None (logged) when it holds something else: the
    clock starts again (see clock.stored_clock)."""
    try:
        state = orjson.loads(raw)
        values = [state[name] for name in ("frozen_at", "offset", "origin", "anchor")]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        values = None
    found = values and clock.stored_clock(*values, time.time())
    if found is None:
        log.warning("the SQLite store's clock holds %r, not a clock's state: the clock "
                    "starts again", raw[:80] if isinstance(raw, (bytes, str)) else raw)
    return found


def internal_problem(table: str, value: Any) -> str | None:
    """:func:`~mockserver.store.shape_problem` of the store's own tables."""
    if table == WINDOWS:
        good = isinstance(value, list) and len(value) == 2 \
            and all(is_count(number) and number <= MAX_COUNT for number in value)
    elif table == NUMBERS:
        good = is_count(value)
    elif table.startswith(TALLY):
        good = isinstance(value, dict) and is_count(value.get("met")) \
            and isinstance(value.get("first"), str) and isinstance(value.get("since"), dict) \
            and all(isinstance(shown, str) for shown in value["since"].values())
    elif table == MARKS:
        good = isinstance(value, dict) and all(
            isinstance(counts, dict) and all(map(is_count, counts.values()))
            for counts in value.values())
    else:
        return shape_problem(table, value)
    return None if good else f"{value!r:.80} is not a row of {table!r}"
