"""One request's context as it walks the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mockserver.contract import Payload
from mockserver.errors import MockError
from mockserver.pipeline.request_ids import Occurrence, digest, uuid4_text
from mockserver.world import Account, Video

_NO_PARAMS: Mapping[str, str] = {}


class HeaderMemo:
    """Header lists as text, by the raw list: a client sends the same headers call after
    call, and decoding each pair in Python cost more than the rest of making a Call.
    Bounded by entries and bytes (emptied when full). A list whose pairs are lists (not
    hashable) is decoded every time."""

    def __init__(self, entries: int = 256, max_bytes: int = 1 << 20) -> None:
        self._known: dict[tuple[Any, ...], dict[str, str]] = {}
        self._entries, self._max_bytes, self._bytes = entries, max_bytes, 0

    def decoded(self, raw: Iterable[Any]) -> dict[str, str]:
        """The headers as text, the last of a repeated name winning; shared by every request
        that sends the same list: read it, never change it."""
        try:
            key = tuple(raw)
            known = self._known.get(key)
        except TypeError:  # pairs given as lists
            return _decode(raw)
        if known is None:
            known = _decode(key)
            weight = sum(len(k) + len(v) for k, v in known.items()) * 3 + 256
            if weight > self._max_bytes:
                return known  # heavier than the whole memo: decoded, not kept
            if len(self._known) >= self._entries or self._bytes + weight > self._max_bytes:
                self._known.clear()
                self._bytes = 0
            self._known[key] = known
            self._bytes += weight
        return known


def _decode(raw: Iterable[Any]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}


_HEADERS = HeaderMemo()  # a pure function's memo, as lru_cache keeps one

if TYPE_CHECKING:
    from mockserver.app import Mock
    from mockserver.pipeline.ratelimit import Quota
    from mockserver.store import Window
    from mockserver.vendors.base import Route, Vendor


class Call:
    """What the pipeline knows of a request so far; renderers read it, steps fill it.

    No ``__slots__``: the fields most requests never set are class defaults, so making a
    Call (once per request) sets only the few every request has."""

    key: str | None = None
    key_id: str | None = None  # what the store knows the key by (store.key_id)
    key_state: dict[str, Any] | None = None  # as read when the request began
    handle: str | None = None
    video_id: str | None = None
    override: str | None = None  # "not_found" / "private" from a scenario
    stored_read = False  # whether it rendered a record read from the store (vendors.gateway)
    quota: Quota | None = None
    due = 0  # credits to take with the journal line (see run.Endpoint._finish)
    charged = 0
    balance: int | None = None  # the key's balance after the charge, on success
    armed = 0  # how many scenarios were armed when the request began
    cached_at: str | None = None  # see store.Opening: checked by the request's last write
    window: Window | None = None  # a rate window its last step counts (see store.Window)
    reruns = 0  # how many times it was run again (see run.Endpoint.__call__)
    store_lost = False  # answered the mock's own 503: the shared store was out of reach
    reparse = False  # its parsing read the clock: not replayed on a repeat (pipeline/parsed)
    # what coverage reads once the answer is sent (see mockserver/coverage.py)
    error_kind: str | None = None  # the MockError kind the answer rendered
    reason: str | None = None  # why the mock refused it, for the journal
    subject: Account | None = None  # the account the answer was about
    page: tuple[int, int, int] | None = None  # a list's (start, end, total)
    body = b""
    _occurrence: Occurrence | None = None
    _request_digest: bytes | None = None
    _request_id: str | None = None

    def __init__(self, mock: Mock, vendor: Vendor, route: Route, scope: Mapping[str, Any]
                 ) -> None:
        self.mock = mock
        self.vendor = vendor
        self.route = route
        self.scope = scope
        self.headers: dict[str, str] = _HEADERS.decoded(scope["headers"])  # read only
        self.path_params: Mapping[str, str] = scope.get("path_params", _NO_PARAMS)  # read only
        self.query_string: str = scope["query_string"].decode("latin-1")
        self.params: dict[str, Any] = {}
        self.cost: int = route.cost
        self.notes: list[str] = []
        # the mock's clock for this request; a shared store's is read with the request's
        # first ledger step (pipeline/ledger.py), or by the journal of one refused before
        now = self.now = 0.0 if mock.store.shared else mock.clock.now()
        self.instant = int(now)  # the world moves by whole seconds

    def again(self) -> Call:
        """This request to be run again from its opening step: its body and its occurrence
        (what its id is made of) kept, everything its run found forgotten."""
        call = Call(self.mock, self.vendor, self.route, self.scope)
        call.body, call.reruns, call._occurrence = self.body, self.reruns + 1, self._occurrence
        return call

    def set_now(self, now: float) -> None:
        self.now, self.instant = now, int(now)

    @property
    def occurrence(self) -> Occurrence:
        """Which occurrence of this request this is: what its id is made of (see request_ids)."""
        if self._occurrence is None:
            self._occurrence = self.mock.request_digests.occurrence(
                self.scope["method"], self.scope["path"], self.query_string, self.body)
        return self._occurrence

    @property
    def request_digest(self) -> bytes:
        """32 bytes unique to this request, the same on every run (see request_ids)."""
        if self._request_digest is None:
            self._request_digest = digest(self.occurrence)
        return self._request_digest

    @property
    def request_id(self) -> str:
        """A version-4 UUID made of the first half of ``request_digest``."""
        if self._request_id is None:
            self._request_id = uuid4_text(self.request_digest)
        return self._request_id

    def account(self) -> Account:
        """The account named by the request, as a scenario may have altered it."""
        if self.handle is None:
            raise MockError("not_found")
        account = self.mock.world.account(self.handle)
        if self.override == "not_found":
            account = replace(account, exists=False)
        elif self.override == "private":
            account = replace(account, private=True)
        self.subject = account
        return account

    def video(self, account: Account) -> Video | None:
        if self.video_id is None or not account.exists or self.override == "not_found":
            return None
        return self.mock.world.find_video(account, self.video_id, self.instant)

    def respond(self, memo_key: tuple[Any, ...], build: Callable[[], dict[str, Any]],
                tail: Mapping[str, Any] | None = None) -> Payload:
        """The validated body for ``memo_key``, rendered by ``build`` only the first time.
        A key holds everything the body depends on, the world's instant included."""
        key = (self.route.vendor, self.route.name, self.override, *memo_key)
        return self.mock.enforcer.body(self.route.response_schema, key, build, tail)
