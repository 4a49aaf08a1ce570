"""Limits on what a client can make the mock read or hold, each checked where input enters.

The sizes a user may change are settings (see the README's "Limits and safety"); the
rest are fixed here so that the worst case stated there holds whatever clients send.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import orjson
from starlette.types import Receive

#: a scenario's custom body: its encoded size, nesting and number of JSON values
SCENARIO_BODY_BYTES = 64 << 10
SCENARIO_BODY_DEPTH = 32
SCENARIO_BODY_VALUES = 10_000
#: armed scenarios held at once (each up to the sizes above)
ARMED_ENTRIES = 64
#: the journal: characters kept of a header value, a path or a query; bytes of a body
JOURNAL_VALUE_CHARS = 1024
JOURNAL_BODY_BYTES = 4096
CUT_MARKER = "…[cut by mockserver: {}]"
#: caches, each bounded by the bytes it holds and emptied by POST /__mock/reset
RESPONSE_MEMO_BYTES = 32 << 20  # validated response bodies
ERROR_MEMO_BYTES = 2 << 20  # error bodies already validated
REQUEST_MEMO_BYTES = 16 << 20  # parsed and checked requests
REQUEST_MEMO_LARGEST = 16 << 10  # a request larger than this is parsed anew each time
#: what a parsed JSON document can weigh per byte of its text (``[{},{},...]``: ~24)
PARSED_WEIGHT = 32
REQUEST_IDS_BYTES = 8 << 20  # requests seen, for ids that repeat on every run


class BoundedCache(OrderedDict):
    """An LRU map holding at most ``limit`` entries and, if given, ``max_bytes`` (each entry
    weighs what ``remember`` is told, by default the length of a bytes value)."""

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.max_bytes = max_bytes
        self.size = 0
        self._weights: dict[Hashable, int] = {}

    def remember(self, key: Hashable, value: Any, weight: int | None = None) -> None:
        if self.max_bytes is not None:
            weight = len(value) if weight is None else weight
            self.size += weight - self._weights.get(key, 0)
            self._weights[key] = weight
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit or (self.max_bytes is not None
                                         and self.size > self.max_bytes and len(self) > 1):
            dropped, _ = self.popitem(last=False)
            if self.max_bytes is not None:
                self.size -= self._weights.pop(dropped)

    def clear(self) -> None:
        super().clear()
        self._weights.clear()
        self.size = 0

    def recall(self, key: Hashable) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value


class BodyTooLarge(Exception):
    """A request body (declared or sent) longer than the limit; answered 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over the limit of {limit} bytes")
        self.limit = limit


class ClientGone(Exception):
    """The client went away before its request body was complete: nothing to answer."""


async def read_body(receive: Receive, content_length: str | None, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to be over ``limit`` bytes: a declared
    length (the ``Content-Length`` header's value) is checked before reading anything, a
    streamed body as it arrives."""
    # ASCII digits only: str.isdigit() alone passes "²", which int() refuses
    if content_length is not None and content_length.isascii() and content_length.isdigit() \
            and int(content_length) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def check_document(value: Any, max_depth: int = SCENARIO_BODY_DEPTH,
                   max_values: int = SCENARIO_BODY_VALUES, max_bytes: int = SCENARIO_BODY_BYTES
                   ) -> bytes:
    """``value`` as JSON, once it is known to be small, shallow and writable (no NaN or
    Infinity, no integer beyond 64 bits); else a ValueError saying which. Walked without
    recursion, so a document nested deeper than Python's stack is measured, not a crash."""
    count, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        count += 1
        if level > max_depth:
            raise ValueError(f"nested deeper than {max_depth} levels")
        if count > max_values:
            raise ValueError(f"more than {max_values} JSON values")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item} is not a JSON number")
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:  # an integer beyond 64 bits, or a value JSON has no form for
        raise ValueError(str(exc)) from None
    if len(encoded) > max_bytes:
        raise ValueError(f"{len(encoded)} bytes as JSON, over the limit of {max_bytes}")
    return encoded


#: 64-bit integers, signed or not, are what orjson writes; others it cannot store
_INT_RANGE = range(-(1 << 63), 1 << 64)
#: where a wider integer may be: orjson reads one as a float, so it is looked for in the text
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


class _Wide(str):
    """An integer literal beyond 64 bits, as written."""


def _integer(text: str) -> Any:
    if len(text) < 19:
        return 0  # only the wide ones are looked for
    # int() of a literal past 4300 digits raises, so a long one is wide by its length
    return _Wide(text) if len(text) > 21 or int(text) not in _INT_RANGE else 0


def wide_integer(raw: bytes) -> str | None:
    """``path: literal`` of the first integer in the JSON ``raw`` that no 64-bit integer
    holds, else None. orjson reads such an integer as a float (2^64 becomes
    1.8446744073709552e+19), which would store a number the client never sent."""
    if not _LONG_DIGITS.search(raw):
        return None
    try:
        document = json.loads(raw, parse_int=_integer)
    except (ValueError, RecursionError):  # orjson read it: only nesting past json's own limit
        return None
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Wide):
            shown = item if len(item) <= 40 else item[:40] + "…"
            return f"{path or '$'}: {shown}"
        if isinstance(item, dict):
            stack.extend((value, f"{path}.{name}" if path else name)
                         for name, value in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((value, f"{path}[{index}]")
                         for index, value in reversed(list(enumerate(item))))
    return None


def cut(text: str, limit: int = JOURNAL_VALUE_CHARS) -> str:
    """``text``, or its first ``limit`` characters and a marker saying how many more there were."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARKER.format(f"{len(text) - limit} more characters")
