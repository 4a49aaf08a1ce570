"""The one ordered pipeline every vendor route walks.

latency header -> auth -> key status -> rate limit -> request schema -> parse ->
scenario -> credit check -> render (validated) -> charge -> send (with any
transport fault) -> journal. Any MockError on the way is rendered by the vendor.
The rate limit counts every request of a recognised key, as a vendor's limiter in
front of its API does, so every answer after it can show the window's count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Receive, Scope, Send

from mockserver.contract import ContractViolation, Payload, Spliced, prefix, whole
from mockserver.errors import SIMULATED, MockError
from mockserver.limits import JOURNAL_BODY_BYTES, BodyTooLarge, ClientGone, read_body
from mockserver.pipeline import faults, ledger, parsed
from mockserver.pipeline.call import Call
from mockserver.pipeline.scenarios import NO_BODY_STATUSES, WORLD_SCENARIOS, Effect
from mockserver.store import (
    BEFORE_FIRST_WRITE,
    StaleOpening,
    StoreUnavailable,
    WindowSpent,
    Writes,
    key_id,
)

if TYPE_CHECKING:
    from mockserver.app import Mock
    from mockserver.vendors.base import RawHeaders, Route, Vendor

log = logging.getLogger("mockserver")
SCENARIO_HEADER = "x-mock-scenario"
LATENCY_HEADER = "x-mock-latency-ms"


class Endpoint:
    """A vendor route as an ASGI app, so transport faults can act on the connection."""

    def __init__(self, mock: Mock, vendor: Vendor, route: Route) -> None:
        self.mock, self.vendor, self.route = mock, vendor, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        call = Call(self.mock, self.vendor, self.route, scope)
        try:
            await self._run(call, scope, receive, send, started)
        except StaleOpening:  # nothing written or sent: run again, opened from the store
            await self._run(call.again(), scope, receive, send, started)

    async def _run(self, call: Call, scope: Scope, receive: Receive, send: Send,
                   started: float) -> None:
        effect: Effect | None = None
        status, payload, headers = 500, b"", []
        content_type = b"application/json"
        try:
            if not call.reruns:  # read once: a run again keeps it
                call.body = await read_body(receive, call.headers.get("content-length"),
                                            self.mock.settings.max_body_bytes)
            effect = await self._prepare(call)
            if effect is not None and effect.name in ("hang", "drop_connection"):
                # journalled as the mock starts to withhold the answer, not when the client
                # gives up: a test that moves on never finds the line arriving in its journal
                await self._journal(call, None, effect, started)
                await self._withhold(effect, scope, receive, send)
                return
            status, payload, headers = await self._answer(call, effect)
        except ClientGone:
            return  # nobody to answer, and no whole request to journal
        except BodyTooLarge as error:
            status, payload, headers = self._error(call, MockError("body_too_large", str(error)))
            headers = [*headers, ("connection", "close")]  # the rest of the body is never read
        except MockError as error:
            status, payload, headers = self._error(call, error)
        except StoreUnavailable as lost:  # the mock's own 503, not a vendor's: no schema
            status, payload, headers = store_unavailable(call, lost)
            # nor a journal line: the journal is in that store
        except ContractViolation as violation:
            log.error("response broke its own schema: %s", violation)
            status, headers = 500, [("x-mock-contract-violation", violation.schema)]
            payload = orjson.dumps({"mockserver_error": "the mock's response broke its schema",
                                    "schema": violation.schema,
                                    "violations": [str(v) for v in violation.violations]})
        if effect is not None and effect.name in faults.BODY_FAULTS and status == 200:
            content_type, payload = faults.broken_body(effect.name, whole(payload))
        # journalled before it is sent: a client that has its answer finds it in the journal,
        # through any process sharing the store, and a process killed after sending loses
        # no line of what it answered
        if call.due:  # a 200 whose credits are taken with its journal line (see _finish)
            status, payload, headers, content_type = await self._finish(
                call, effect, started, (status, payload, headers, content_type))
        elif not call.store_lost:
            try:
                await self._journal(call, status, effect, started, payload)
            except WindowSpent:  # counted by that step (see ledger): nothing written
                status, payload, headers, content_type = await self._over_limit(call, started)
        # last: the rate headers show the window as the request's last step counted it
        vendor = self.vendor
        sent = vendor.store_lost_headers(call) if call.store_lost else vendor.headers(call)
        await _send(send, status, payload, sent, headers, content_type)

    async def _prepare(self, call: Call) -> Effect | None:
        """Everything before the answer: auth, request checks, the scenario in force."""
        vendor, route, mock = self.vendor, self.route, self.mock
        if route is vendor.fallback:
            raise vendor.off_route(call)
        latency = _latency(call.headers.get(LATENCY_HEADER))
        if latency:
            await mock.stop_signal.pause(latency / 1000)
        call.key = vendor.authenticate(call)
        call.key_id = key_id(call.key)
        store = mock.store
        key_state = call.key_state = await ledger.open_request(call, vendor.rate_limited) \
            if store.shared or store.awaits else ledger.open_local(call, vendor.rate_limited)
        # every input of request_document: the headers it reads, the path, query and body
        memo = (route.request_schema, *map(call.headers.get, vendor.request_headers),
                call.scope["path"], call.query_string, call.body)
        known = mock.enforcer.request_memo(
            route.request_schema, memo, vendor.request_document, call)
        if known.violations:
            raise vendor.reject(call, known.document, known.violations)
        parsed.parse(vendor, call, known)
        header = call.headers.get(SCENARIO_HEADER, "")
        # an armed scenario's firing writes: from the event loop, in one step (Store.atomically)
        effect = await store.atomically(mock.choose_effect, call, header, key_state) \
            if call.armed and store.awaits else mock.choose_effect(call, header, key_state)
        if effect is not None and call.window is not None:
            await ledger.count_window(call)  # a scenario acts on an admitted request only
        if effect is not None and effect.latency_ms:
            await mock.stop_signal.pause(effect.latency_ms / 1000)
            call.key_state = None  # an admin change during the sleep counts: read it again
        return effect

    async def _answer(self, call: Call, effect: Effect | None
                      ) -> tuple[int, Payload, list[Any]]:
        mock, route = self.mock, self.route
        if effect is not None and effect.status is not None:
            if effect.status in NO_BODY_STATUSES:
                return effect.status, b"", []
            return effect.status, orjson.dumps(effect.body), []
        if effect is not None and effect.name in self.vendor.error_scenarios:
            raise MockError(self.vendor.error_scenarios[effect.name], SIMULATED)
        if effect is not None and effect.name in WORLD_SCENARIOS:
            call.override = effect.name
        store = mock.store
        key_state = call.key_state or (  # read again after a latency: made if a reset took it
            await store.atomically(mock.keys.state, call.key, call.key_id) if store.awaits
            else mock.keys.state(call.key, call.key_id))
        if call.cached_at is not None and key_state["balance"] < call.cost:
            raise StaleOpening  # a balance read before may be old: refused as read anew
        mock.keys.ensure_balance(key_state, call.cost)
        # a record stored while rendering waits for the window's count (see ledger)
        counting = None if call.window is None else \
            BEFORE_FIRST_WRITE.set(partial(ledger.count_window_now, call))
        try:  # a record it stores: from the event loop, in one step, taking SQLite's write
            # lock only then (Store.atomically_if_writing): one stored before is only read
            payload = await store.atomically_if_writing(route.render, call) \
                if store.awaits and self.vendor.stores_records else route.render(call)
        finally:
            if counting is not None:
                BEFORE_FIRST_WRITE.reset(counting)
        if not store.awaits:  # a local store: nothing to wait for
            call.balance = mock.keys.charge(call.key or "", call.cost, call.key_id or "",
                                            key_state)
        elif call.cost:  # one round trip fewer: see _finish
            call.key_state, call.due = key_state, call.cost
            return 200, payload, []
        else:
            call.balance = await mock.keys.charge_async(call.key or "", call.cost,
                                                        call.key_id or "", key_state)
        call.charged = call.cost
        return 200, payload, []

    async def _finish(self, call: Call, effect: Effect | None, started: float,
                      answer: tuple[int, Payload, list[Any], bytes]
                      ) -> tuple[int, Payload, list[Any], bytes]:
        """A 200 on a store with round trips: its rate window if left to this step, its
        charge, journal line and coverage counts in one step. The answer sent: this one;
        the rate limit's refusal if its window was spent meanwhile; the vendor's error if
        another process spent the credits first (journalled as such); the mock's 503 if
        the store is lost."""
        status, payload, headers, content_type = answer
        state = call.key_state
        assert state is not None  # kept by _answer
        # counted as the writes assume; keys.finish_async has them made anew if not so
        call.charged, call.balance = call.cost, state["balance"] - call.cost
        try:
            call.balance, recorded = await self.mock.keys.finish_async(
                call.cost, call.key_id or "", state,
                self._writes(call, status, effect, started, payload), call.cached_at,
                call.window)
        except WindowSpent:  # nothing written
            return await self._over_limit(call, started)
        except MockError as error:  # the window counted, no credits taken
            call.charged, call.balance = 0, None
            status, payload, headers = self._error(call, error)
            content_type, recorded = b"application/json", False
        except StoreUnavailable as lost:  # not journalled: the journal is in that store
            status, payload, headers = store_unavailable(call, lost)
            return status, payload, headers, b"application/json"
        # checked: a journal line made anew must not be refused, nor its window counted again
        ledger.counted(call)
        if not recorded:
            await self._journal(call, status, effect, started, payload)
        return status, payload, headers, content_type

    async def _over_limit(self, call: Call, started: float
                          ) -> tuple[int, Payload, list[Any], bytes]:
        """A request whose window, counted by its last step, was spent: nothing of it was
        written. It answers, and is journalled, as one refused as it opened."""
        status, payload, headers = self._error(call, ledger.refused(call))
        await self._journal(call, status, None, started, payload)
        return status, payload, headers, b"application/json"

    def _error(self, call: Call, error: MockError) -> tuple[int, bytes, list[Any]]:
        call.error_kind = error.kind
        call.reason = error.reason or None
        status, document, headers = self.vendor.error(call, error)
        if error.retry_after is not None and self.vendor.sends_retry_after:
            headers = [*headers, ("retry-after", str(error.retry_after))]
        return status, self.mock.enforcer.error(self.vendor.error_schema, document), headers

    async def _withhold(self, effect: Effect, scope: Scope, receive: Receive, send: Send) -> None:
        if effect.name == "hang":
            await self.mock.stop_signal.wait_for_disconnect(receive,
                                                            self.mock.settings.hang_seconds)
            transport = scope.get("extensions", {}).get(faults.TRANSPORT_EXTENSION)
            if transport is not None:
                transport.close()
                # let the server see the connection gone, or it answers a 500 of its own
                await asyncio.sleep(0)
            return
        await faults.drop(scope, receive, send)

    async def _journal(self, call: Call, status: int | None, effect: Effect | None,
                       started: float, payload: Payload = b"") -> None:
        try:
            if self.mock.store.awaits:
                await self._record(call, status, effect, started, payload)
            else:  # a local store: written at once
                self._writes(call, status, effect, started, payload)(self.mock.store)
        except StoreUnavailable as lost:  # the answer is sent; only its journal line is lost
            log.warning("request not journalled: %s", lost.message)

    async def _record(self, call: Call, status: int | None, effect: Effect | None,
                      started: float, payload: Payload) -> None:
        """One event, read twice: the journal keeps the request, coverage counts its outcomes,
        both sent to a store with round trips together (in one)."""
        fill = self._writes(call, status, effect, started, payload)
        await self.mock.store.record_async(fill, call.cached_at, call.window)
        ledger.counted(call)

    def _writes(self, call: Call, status: int | None, effect: Effect | None, started: float,
                payload: Payload) -> Callable[[Writes], None]:
        """The store writes of :meth:`_record`."""
        scope, route, mock = call.scope, self.route, self.mock
        outcomes = mock.coverage.names(call, status, effect)
        occurrence = call.occurrence
        seconds = time.perf_counter() - started
        if not call.now:  # refused before the ledger step that reads a shared clock
            call.set_now(mock.clock.now())
        at = call.now

        def fill(writes: Writes) -> None:
            mock.coverage.record(route.vendor, route.name, outcomes, call.notes, occurrence,
                                 writes)
            mock.journal.record(
                at, route.vendor, route.name, scope["method"], scope["path"],
                call.query_string, call.headers, call.body[:JOURNAL_BODY_BYTES + 1], call.key,
                status, effect.name if effect else None, effect.source if effect else None,
                call.charged, call.notes, seconds, occurrence, outcomes,
                prefix(payload, JOURNAL_BODY_BYTES + 1), call.reason, into=writes)

        return fill


def store_unavailable(call: Call, lost: StoreUnavailable) -> tuple[int, bytes, list[Any]]:
    """What every request gets while the shared store is out of reach: a 503 that says so,
    and to retry (the store's client reconnects by itself), with none of its vendor's
    headers that would show a state read from the store (Vendor.store_lost_headers)."""
    call.store_lost = True
    body = {"mockserver_error": "store_unavailable", "message": lost.message}
    return 503, orjson.dumps(body), [("retry-after", "1")]


async def _send(send: Send, status: int, payload: Payload, vendor_headers: RawHeaders,
                headers: list[Any], content_type: bytes = b"application/json") -> None:
    """The answer: its vendor's headers (as sent), then the answer's own (most have none)."""
    if status in NO_BODY_STATUSES:  # an armed 204 / 304: no body, no length, no type
        raw = [*vendor_headers]
    else:
        size = len(payload.head) + len(payload.tail) if isinstance(payload, Spliced) \
            else len(payload)
        raw = [(b"content-type", content_type), (b"content-length", b"%d" % size),
               *vendor_headers]
    if headers:
        raw += [(k.encode(), str(v).encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if isinstance(payload, Spliced):
        await send({"type": "http.response.body", "body": payload.head, "more_body": True})
        payload = payload.tail
    await send({"type": "http.response.body", "body": payload})


def _latency(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise MockError("mock_usage", "X-Mock-Latency-Ms must be a whole number of milliseconds"
                        ) from None
    if not 0 <= value <= 600_000:
        raise MockError("mock_usage", "X-Mock-Latency-Ms must be between 0 and 600000")
    return value
