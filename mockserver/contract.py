"""The JSON Schemas in ``schemas/``: compiled once, enforced on requests and responses.

Validation is both ways, but never twice for the same thing: a request is
parsed and checked once per distinct (route, auth header, path, query, body),
and a response once per distinct rendered body. Moving parts (a request id,
the clock) are spliced into an already validated body as a "tail" of fixed type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema_rs
import orjson

from mockserver.limits import (
    ERROR_MEMO_BYTES,
    PARSED_WEIGHT,
    REQUEST_MEMO_BYTES,
    REQUEST_MEMO_LARGEST,
    RESPONSE_MEMO_BYTES,
    BoundedCache,
)
from mockserver.resources import data_dir


@dataclass(frozen=True)
class Violation:
    path: str  # JSON path of the offending value, "$" for the root
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ContractViolation(Exception):
    """The mock produced a body its own schema rejects: always a bug in the mock."""

    def __init__(self, schema: str, violations: list[Violation]) -> None:
        super().__init__(f"{schema}: " + "; ".join(map(str, violations)))
        self.schema = schema
        self.violations = violations


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """JSON Schema's patterns are ECMA-262 regexes, where ``$`` ends the input; Python's
    ``$`` also matches before a final newline (``"alice\\n"`` would pass
    ``^[a-z]+$``), and its ``\\s`` takes characters ECMA's does not. The compiled
    validator's regex reads a pattern as the schema means it, so both validators ask it."""
    if validator.is_type(instance, "string") and not _pattern(pattern).is_valid(instance):
        from jsonschema import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _worded_validator() -> Any:
    """jsonschema, for its worded violations, with patterns read as the compiled validator
    reads them. Imported when first needed: a mock whose requests and bodies all pass never
    does, and importing it was about a tenth of a second of every start."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


class Schemas:
    """Every schema file under a root, by name ``vendor/file`` (``dumpling/profile.200``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir("schemas")
        self.documents: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Any] = {}  # jsonschema's, made when first asked for
        self._compiled: dict[str, Any] = {}
        for path in sorted(self.root.glob("*/*.json")):
            name = f"{path.parent.name}/{path.stem}"
            document = json.loads(path.read_text())
            if not jsonschema_rs.meta.is_valid(document):  # 0.3 s of every start in Python
                _worded_validator().check_schema(document)  # which words what is wrong
            self.documents[name] = document
            self._compiled[name] = jsonschema_rs.validator_for(document, validate_formats=True)

    def __contains__(self, name: str) -> bool:
        return name in self._compiled

    def _worded(self, name: str) -> Any:
        validator = self._validators.get(name)
        if validator is None:
            kind = _worded_validator()
            validator = self._validators[name] = kind(
                self.documents[name], format_checker=kind.FORMAT_CHECKER)
        return validator

    def violations(self, name: str, instance: Any, part: str | None = None) -> list[Violation]:
        """What is wrong with ``instance``; with ``part`` (``"body"``), checked against that
        property's schema alone, e.g. a bare request body against a request schema."""
        if part is None and self._compiled[name].is_valid(instance):
            return []  # the compiled check is ~50x faster; jsonschema words the violations
        validator = self._worded(name)
        if part is not None:
            validator = validator.evolve(schema=validator.schema["properties"][part])
        found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not found and part is None:
            # the compiled check refused what jsonschema passes: it decides, as it decides
            # every valid request, so a refused request is never let through unworded
            return [Violation(json_path(e.instance_path), e.message)
                    for e in self._compiled[name].iter_errors(instance)]
        return [Violation(json_path(e.absolute_path), e.message) for e in found]


def open_object(static: bytes) -> bytes:
    """A serialised JSON object without its closing brace, ready for more keys."""
    return static[:-1]


#: a memo body at least this large is sent as two parts rather than copied to add its tail:
#: a second write to the socket costs about what copying 64 KB does (a 180 KB page went out
#: 4.5% faster in two parts, 6 interleaved wrk rounds; a 2 KB profile is faster copied)
SPLIT_BYTES = 64 << 10


class Spliced(NamedTuple):
    """A large body with a per-request tail, kept as the two parts it is sent in: the page,
    held whole in the memo, is never copied to add a few bytes to it."""

    head: bytes  # the memo's opened object
    tail: bytes  # ``,`` then the tail's keys and the closing brace

    def whole(self) -> bytes:
        return self.head + self.tail


#: what a route renders: its body, whole or in two parts
Payload = bytes | Spliced


def whole(payload: Payload) -> bytes:
    return payload.whole() if isinstance(payload, Spliced) else payload


def prefix(payload: Payload, size: int) -> bytes:
    """The first ``size`` bytes of a body, copying no more than those."""
    if isinstance(payload, Spliced):
        head = payload.head
        return head[:size] if len(head) >= size else payload.whole()[:size]
    return payload[:size]


def splice(opened: bytes, tail: Mapping[str, Any]) -> Payload:
    """The keys of ``tail`` appended to an opened JSON object."""
    extra = orjson.dumps(tail)
    if opened == b"{":
        return extra
    if len(opened) < SPLIT_BYTES:
        return b"".join((opened, b",", memoryview(extra)[1:]))
    return Spliced(opened, b"," + extra[1:])


class RequestMemo:
    """A distinct request as its schema saw it, kept in the request memo."""

    __slots__ = ("document", "violations", "parsed")

    def __init__(self, document: Any, violations: Sequence[Violation]) -> None:
        self.document = document
        self.violations = violations
        #: what the route's parsing made of the document, once it is known (kept by the
        #: pipeline: pipeline/parsed.py), weighed with the document it comes from
        self.parsed: Any = None


class Enforcer:
    """Both-ways schema enforcement with bounded memo tables."""

    def __init__(self, schemas: Schemas, validate_responses: bool = True,
                 cache_entries: int = 2048) -> None:
        self.schemas = schemas
        self.validate_responses = validate_responses
        self._requests = BoundedCache(cache_entries * 4, max_bytes=REQUEST_MEMO_BYTES)
        self._bodies = BoundedCache(cache_entries, max_bytes=RESPONSE_MEMO_BYTES)
        self._errors = BoundedCache(cache_entries, max_bytes=ERROR_MEMO_BYTES)

    def request(self, schema: str, memo_key: tuple[Any, ...], build: Callable[..., Any],
                *args: Any) -> tuple[Any, Sequence[Violation]]:
        """The request document ``build(*args)`` makes and its violations (see
        :meth:`request_memo`)."""
        known = self.request_memo(schema, memo_key, build, *args)
        return known.document, known.violations

    def request_memo(self, schema: str, memo_key: tuple[Any, ...], build: Callable[..., Any],
                     *args: Any) -> RequestMemo:
        """The request document ``build(*args)`` makes and its violations, both made once per
        ``memo_key`` (a tuple holding every input of ``build``, weighed by the length of its
        strings and bytes times what parsing can make of them; a large request is not kept).
        The memo is shared by every request with that key: read it, never change it but
        its ``parsed``. Whatever ``build`` raises is raised again next time."""
        known = self._requests.recall(memo_key)
        if known is None:
            document = build(*args)
            known = RequestMemo(document, tuple(self.schemas.violations(schema, document)))
            weight = sum(len(part) for part in memo_key if isinstance(part, str | bytes))
            if weight <= REQUEST_MEMO_LARGEST:
                self._requests.remember(memo_key, known, weight * PARSED_WEIGHT + 512)
        return known

    def body(self, schema: str, memo_key: Hashable, build: Callable[[], dict[str, Any]],
             tail: Mapping[str, Any] | None = None) -> Payload:
        """The serialised body, validated the first time ``memo_key`` is seen. A route that
        adds a ``tail`` does so on every call, so its body is kept already opened."""
        static = self._bodies.recall((schema, memo_key))
        if static is None:
            document = build()
            if self.validate_responses:
                self._check(schema, {**document, **(tail or {})})
            static = orjson.dumps(document)
            if tail:
                static = open_object(static)
            self._bodies.remember((schema, memo_key), static)
        return splice(static, tail) if tail else static

    def error(self, schema: str, document: dict[str, Any]) -> bytes:
        payload = orjson.dumps(document)
        if self.validate_responses and self._errors.recall((schema, payload)) is None:
            self._check(schema, document)
            self._errors.remember((schema, payload), True, len(payload) + 128)
        return payload

    def _check(self, schema: str, document: Any) -> None:
        violations = self.schemas.violations(schema, document)
        if violations:
            raise ContractViolation(schema, violations)

    def clear(self) -> None:
        self._requests.clear()
        self._bodies.clear()
        self._errors.clear()
