"""Fixture files checked when they load, so a typo stops the start with a line that names
the file, the handle or key, and the field, instead of a 500 when a request first meets it.

Account field names and types come from the world's fixture loader (its identity fields
as the ``Account`` record types them), so a field added there is checked with no change
here. Key fields are checked by the same
function as ``PUT /__mock/keys/{key}``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.errors import AdminError
from mockserver.pipeline.keys import checked
from mockserver.world.fixtures import MAX_COUNT, field_types, value_problem
from mockserver.world.model import normalise_handle, well_formed

TOP_LEVEL = ("accounts", "keys")


def _position(key: str) -> bool:
    """ASCII digits alone: str.isdigit() also passes "²", which int() then refuses at start
    with a message naming neither the file nor the field."""
    return key.isascii() and key.isdigit()


def account_field_types() -> dict[str, Any]:
    """What an account fixture may set, and the type of each (see world/fixtures.py)."""
    return field_types()


class FixtureError(ValueError):
    """A fixture file says something the mock cannot serve; the message says where."""


def check_document(path: Path, document: Any, scenarios: Mapping[str, frozenset[str]]) -> None:
    """Raise ``FixtureError`` for the first thing wrong in one fixture file.

    ``scenarios`` maps each vendor to the scenario names it knows."""
    where = f"fixture {path}"
    if not isinstance(document, dict):
        raise FixtureError(f"{where}: expected a JSON object with {' and/or '.join(TOP_LEVEL)}")
    for name in document:
        if name not in TOP_LEVEL:
            raise FixtureError(f"{where}: unknown top-level key {name!r}{_hint(name, TOP_LEVEL)};"
                               f" known: {', '.join(TOP_LEVEL)}")
    types_by_field = account_field_types()
    seen: dict[str, str] = {}  # as the world reads a handle -> as the file writes it
    for handle, values in _table(where, document, "accounts").items():
        place = f"{where}: account {handle!r}"
        normal = normalise_handle(handle)
        if not well_formed(normal):
            raise FixtureError(f"{place}: not a well-formed handle (2-24 of a-z 0-9 _ .)")
        if normal in seen:  # the last would win without a word
            raise FixtureError(f"{place}: the same account as {seen[normal]!r} (a handle's "
                               "case and a leading @ do not count)")
        seen[normal] = handle
        if not isinstance(values, dict):
            raise FixtureError(f"{place}: expected an object of fields")
        for field, value in values.items():
            if field not in types_by_field:
                raise FixtureError(f"{place}: unknown field {field!r}"
                                   f"{_hint(field, types_by_field)}")
            problem = _problem(value, types_by_field[field], field) or \
                value_problem(field, value)
            if problem:
                raise FixtureError(f"{place} {problem}")
        _check_account_scenarios(place, values, scenarios)
    for key, values in _table(where, document, "keys").items():
        place = f"{where}: key {key!r}"
        if not key.strip():  # no request can send it
            raise FixtureError(f"{place}: a key is not empty")
        if not isinstance(values, dict):
            raise FixtureError(f"{place}: expected an object of fields")
        try:
            checked(values, ("scenario",))
        except AdminError as error:
            raise FixtureError(f"{place}: {error}") from None
        if "scenario" in values:
            _check_scenario(f"{place} field 'scenario'", values["scenario"], scenarios)


def _table(where: str, document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise FixtureError(f"{where}: {name!r} must be an object keyed by "
                           f"{'handle' if name == 'accounts' else 'key'}")
    return table


def _check_account_scenarios(place: str, values: Mapping[str, Any],
                             scenarios: Mapping[str, frozenset[str]]) -> None:
    wanted = values.get("scenario")
    if isinstance(wanted, dict):
        for vendor, name in wanted.items():
            if vendor not in scenarios:
                raise FixtureError(f"{place} field 'scenario': unknown vendor {vendor!r}; "
                                   f"known: {', '.join(scenarios)}")
            _check_scenario(f"{place} field 'scenario'", name, {vendor: scenarios[vendor]})
    elif wanted is not None:
        _check_scenario(f"{place} field 'scenario'", wanted, scenarios)
    for _, name in _pairs(values.get("video_scenarios", {})):
        _check_scenario(f"{place} field 'video_scenarios'", name, scenarios)


def _check_scenario(place: str, name: Any, scenarios: Mapping[str, frozenset[str]]) -> None:
    known = frozenset().union(*scenarios.values())
    if name not in known:
        raise FixtureError(f"{place}: unknown scenario {name!r}{_hint(str(name), known)}; "
                           "GET /__mock/scenarios lists them")


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, dict) else [tuple(p) for p in value]


def _problem(value: Any, hint: Any, path: str) -> str | None:
    """What is wrong with a field's JSON value, naming the field (``videos.1.music``), or
    None. A record type (a dataclass, as the ``videos`` overrides) is an object of its own
    fields, checked field by field; any other type is as ``_fits`` says."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and _has_record(hint):
        others = [arg for arg in args if arg is not type(None)]
        if value is None and len(others) < len(args):
            return None
        hint, origin, args = others[0], typing.get_origin(others[0]), typing.get_args(others[0])
    if dataclasses.is_dataclass(hint):
        record = typing.cast(type, hint)
        if not isinstance(value, dict):
            return f"field {path!r}: {value!r} is not an object"
        hints = typing.get_type_hints(record)
        for name, item in value.items():
            if name not in hints:
                return f"field {path!r}: unknown field {name!r}{_hint(name, hints)}"
            problem = _problem(item, hints[name], f"{path}.{name}")
            if problem:
                return problem
        for required in dataclasses.fields(record):
            if required.default is dataclasses.MISSING and required.name not in value:
                return f"field {path!r}: missing field {required.name!r}"
        return None
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and _has_record(args[0]):
        item = args[0]
        if typing.get_origin(item) is tuple:  # position -> record
            if not isinstance(value, dict) or not all(_position(k) for k in value):
                return f"field {path!r}: {value!r} is not an object of position -> object"
            entries = value.items()
            item = typing.get_args(item)[1]
        elif isinstance(value, list):
            entries = enumerate(value)
        else:
            return f"field {path!r}: {value!r} is not a list"
        return next((p for key, v in entries if (p := _problem(v, item, f"{path}.{key}"))),
                    None)
    if not _fits(value, hint):
        return f"field {path!r}: {value!r} is not {_describe(hint)}"
    return None


def _has_record(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint) or any(_has_record(a) for a in typing.get_args(hint))


def _fits(value: Any, hint: Any) -> bool:
    """Does a JSON value fit a field of this type? ``tuple[X, ...]`` is a JSON list;
    ``tuple[tuple[int, X], ...]`` (position -> X) is an object keyed by position."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:  # TikTok's counts and times are 64-bit: JSON can say more, no body can
        return isinstance(value, int) and not isinstance(value, bool) and \
            0 <= value <= MAX_COUNT
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if hint is str:
        return isinstance(value, str)
    if callable(getattr(hint, "fits", None)):  # a type with a form of its own (a video id)
        return bool(hint.fits(value))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if typing.get_origin(item) is tuple and typing.get_args(item)[0] is int:
            if not isinstance(value, dict):
                return False
            return all(_position(key) and _fits(v, typing.get_args(item)[1])
                       for key, v in value.items())
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin in (Mapping, dict, typing.Mapping):
        return isinstance(value, dict) and all(_fits(v, args[1]) for v in value.values())
    return True  # a type this check does not know yet: the world is trusted with it


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if typing.get_origin(item) is tuple:
            return f"an object of position -> {_describe(typing.get_args(item)[1])}"
        return f"a list of {_describe(item)}"
    if origin in (Mapping, dict, typing.Mapping):
        return f"an object of {_describe(args[1])}"
    if isinstance(getattr(hint, "description", None), str):
        return str(hint.description)
    return {type(None): "null", bool: "true or false",
            int: f"a whole number >= 0 and at most 2^63-1 ({MAX_COUNT}: TikTok's numbers "
                 "are 64-bit)", float: "a number >= 0",
            str: "a string"}.get(hint, str(hint))


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
