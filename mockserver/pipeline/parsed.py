"""A request's parsing, done once per distinct request and replayed on its repeats.

What a vendor's ``parse`` makes of a request depends on the request's document (made once
per distinct request: contract.Enforcer.request_memo) and the world, which is a pure
function of the seed and the fixtures; so what it did to the Call (``params``, ``handle``,
``video_id``, the notes it added, the error it raised) is kept beside the document and set
again on each repeat, which costs a tenth of parsing anew. A parse that read the clock (a
DumplingAI link that names no account) says so with ``call.reparse`` and is not kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from mockserver.errors import MockError

if TYPE_CHECKING:
    from mockserver.contract import RequestMemo
    from mockserver.pipeline.call import Call
    from mockserver.vendors.base import Vendor


class Parsed(NamedTuple):
    params: dict[str, Any]  # shared by every repeat: read only, as params always are
    handle: str | None
    video_id: str | None
    notes: tuple[str, ...]
    #: the MockError raised, as its arguments: a new one is raised on each repeat (raising
    #: one object again would grow its traceback)
    error: tuple[str, str, int | None, str] | None


def parse(vendor: Vendor, call: Call, known: RequestMemo) -> None:
    """``vendor.parse(call, known.document)``, or what it did the first time."""
    parsed: Parsed | None = known.parsed
    if parsed is None:
        _first(vendor, call, known)
        return
    call.params, call.handle, call.video_id = parsed.params, parsed.handle, parsed.video_id
    if parsed.notes:
        call.notes += parsed.notes
    if parsed.error is not None:
        kind, detail, retry_after, reason = parsed.error
        raise MockError(kind, detail, retry_after=retry_after, reason=reason)


def _first(vendor: Vendor, call: Call, known: RequestMemo) -> None:
    before = len(call.notes)
    try:
        vendor.parse(call, known.document)
    except MockError as error:
        _keep(call, known, before, (error.kind, error.detail, error.retry_after, error.reason))
        raise
    _keep(call, known, before, None)


def _keep(call: Call, known: RequestMemo, before: int,
          error: tuple[str, str, int | None, str] | None) -> None:
    if not call.reparse:
        known.parsed = Parsed(call.params, call.handle, call.video_id,
                              tuple(call.notes[before:]), error)
