"""What a record a shared store holds must be: something else (a hand edit, a script) may
have written it there, and valid JSON of another shape is the mock's 503 "holds what the
mock did not write", not a 500 where a field is read."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.store.errors import StoreUnavailable

#: what a record of a table must be, as the shared stores check what they read there
#: (something else may have written it: valid JSON of another shape is the same 503 as
#: text that is not JSON, not a 500 where the record is used): a problem's description,
#: or None. Unregistered, a record must be an object (Store's values are dicts); the
#: fields a key's record or an armed entry needs are checked where it is read
#: (stored_key_record, pipeline.scenarios.entry_problem), a key's record also by
#: a shared store's opening step, before it counts the key's rate window (key_problem).
RECORD_CHECKS: dict[str, Callable[[Any], str | None]] = {}


def shape_problem(table: str, value: Any) -> str | None:
    """What is wrong with ``value`` as a record of ``table`` (None: nothing, or a table no
    check is registered for); the check of a table that keeps dicts at least asks for one."""
    check = RECORD_CHECKS.get(table)
    if check is not None:
        return check(value)
    return None if isinstance(value, dict) else f"{value!r:.60} is not an object"


def is_limited(key: Mapping[str, Any]) -> bool:
    """Whether a key's record has its requests counted in a rate window: active, with a
    limit above 0 (a record of another shape is not: where it is used, it is the 503 of
    what the mock did not write, see stored_key_record)."""
    limit = key.get("rate_limit")
    return key.get("status") == "active" and type(limit) is int and limit > 0


#: the statuses a key's record may have
KEY_STATUSES = ("active", "inactive")
#: the most a balance or rate limit may be: exact in every JSON reader (below 2**53), and in
#: Redis's Lua, whose numbers are doubles
MAX_COUNT = 10 ** 15


def is_count(value: Any) -> bool:
    """A whole number from 0, as the mock writes a count (not a bool, which JSON tells
    apart)."""
    return type(value) is int and value >= 0


#: how a key's record names its key (pipeline.keys.mask): never the key itself
MASKED_FORM = re.compile(r"….{0,4}#[0-9a-f]{4}", re.DOTALL)


def key_problem(record: Any) -> str | None:
    """What is wrong with a key's record as a shared store holds it, or None. Its masked
    key is checked too: the admin API lists it, so text written there (a whole key) would
    be shown as it is."""
    if not isinstance(record, dict):
        return f"a key's record {record!r:.60} is not an object"
    if not all(is_count(record.get(field)) and record[field] <= MAX_COUNT
               for field in ("balance", "rate_limit")) or record.get("status") not in KEY_STATUSES:
        return f"a key's record {record!r:.120} has no balance, status and rate limit"
    masked = record.get("masked", "…#0000")  # none kept: an older mock's record
    if not (isinstance(masked, str) and MASKED_FORM.fullmatch(masked)):
        return "a key's record names its key in another form than the mock's mask"
    return None


def stored_key_record(record: Any) -> Any:
    """A key's record read from a shared store (something else may have written it there):
    the mock's 503 if it is not one the mock writes, not a 500 where a field is read."""
    problem = key_problem(record)
    if problem is not None:
        raise StoreUnavailable(f"the mock's store holds what the mock did not write: {problem}")
    return record
