"""A request's ledger work in as few store round trips as the store allows: one step
opens it (the clock, the key's state, its rate window and whether any scenario is armed:
``Store.open_request``), and one finishes it: the charge of a 200 with its journal line
and coverage counts (``Store.finish_async``, from run.py and keys.py), or the journal
line and counts alone (``Store.record_async``). In memory these cost no round trip at
all; in Redis each is one script, its round trip shared with the other requests in
flight (store/redis_async.py), and the event loop serves others while Redis answers.

On a request's first run Redis may open it from what the process read before, with no
round trip; the last step then checks that nothing changed meanwhile, or refuses
(``StaleOpening``), and run.py runs the request again, opening it from the store. Such an
opening counts nothing: the request's rate window is counted by its last step
(``call.window``, see store.Window), or, if the request is about to act on a scenario or
to store a record while it renders, just before (:func:`count_window`). Once counted, the
opening holds as of that step: it is never run again, so never counted twice. A request
its window refuses there has written nothing and answers the rate limit's refusal, as
one refused as it opened does (:func:`refused`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mockserver.errors import MockError
from mockserver.pipeline import keys, ratelimit, scenarios
from mockserver.store import (
    NOT_LIMITED,
    UNCOUNTED,
    Opening,
    StoreUnavailable,
    Window,
    WindowSpent,
    Writes,
)

if TYPE_CHECKING:
    from mockserver.pipeline.call import Call


async def open_request(call: Call, limited: bool) -> dict[str, Any]:
    """The key's state as the request begins, with the request counted in its rate window
    when ``limited`` (the vendor limits requests) and the key is active. Raises the error
    of a key refused (strict mode, inactive) or over its limit, as ``call.quota`` shows."""
    mock, store = call.mock, call.mock.store
    # a store the clock does not live in is given the process's clock, read as the call began
    now = None if store.shared else call.now
    args = (keys.TABLE, call.key_id or "", None, limited, scenarios.TABLE, now, time.time(),
            ratelimit.WINDOW_SECONDS)
    opening = await store.open_request_async(*args, cached=not call.reruns) if store.awaits \
        else store.open_request(*args)
    if opening is None:  # a reset stopped the shared clock
        opening = await _open(call, None, limited, now)
    if opening.key is None:  # a key the store does not hold: made now, if it may be
        opening = await _open(call, mock.keys.fresh_for_request(call.key or ""), limited, now)
        mock.keys.count_made(opening.created)
    call.set_now(opening.now)
    call.armed, call.cached_at = opening.armed, opening.cached_at
    state = keys.stored_record(opening.key)  # others may have written it there
    assert state is not None  # given ``fresh``, the store holds it or made it
    keys.KeyRing.require_active(state)
    if limited:
        limit = state["rate_limit"]
        if opening.remaining == NOT_LIMITED:
            call.quota = ratelimit.UNLIMITED
        elif opening.remaining == UNCOUNTED:  # the quota is known once the window counts it
            call.window = Window(call.key_id or "", limit,
                                 int(opening.now // ratelimit.WINDOW_SECONDS))
        elif opening.remaining is None:
            call.quota = ratelimit.Quota(limit, 0)  # what the 429 shows
            raise ratelimit.refusal(limit, opening.now)
        else:
            call.quota = ratelimit.Quota(limit, opening.remaining)
    return state


def open_local(call: Call, limited: bool) -> dict[str, Any]:
    """:func:`open_request` on a store in this process that the clock does not live in (in
    memory), in the same steps as its ``open_request`` takes, each atomic there, with
    nothing to wait for: no coroutine, no Opening made on every request."""
    mock, store, kid = call.mock, call.mock.store, call.key_id or ""
    state = store.get(keys.TABLE, kid)
    if state is None:  # a key the store does not hold: made now, if it may be
        fresh = mock.keys.fresh_for_request(call.key or "")
        state = store.put_new(keys.TABLE, kid, fresh)
        mock.keys.count_made(state is fresh)
    call.armed = len(store.items(scenarios.TABLE))
    if state["status"] != "active":
        keys.KeyRing.require_active(state)
    if limited:
        limit = state["rate_limit"]
        if limit <= 0:
            call.quota = ratelimit.UNLIMITED
            return state
        remaining = store.admit(kid, limit, int(call.now // ratelimit.WINDOW_SECONDS))
        if remaining is None:
            call.quota = ratelimit.Quota(limit, 0)  # what the 429 shows
            raise ratelimit.refusal(limit, call.now)
        call.quota = ratelimit.Quota(limit, remaining)
    return state


async def count_window(call: Call) -> None:
    """Count now the rate window the request left to its last step, if it did: the
    request's quota, or the rate limit's refusal (nothing of the request written)."""
    window = call.window
    if window is None:
        return
    try:
        await call.mock.store.record_async(_nothing, call.cached_at, window)
    except WindowSpent:
        raise refused(call) from None
    counted(call)


def count_window_now(call: Call) -> None:
    """:func:`count_window` from a request rendering (store.BEFORE_FIRST_WRITE)."""
    window = call.window
    if window is None:
        return
    try:
        call.mock.store.count_window(window, call.cached_at)
    except WindowSpent:
        raise refused(call) from None
    counted(call)


def counted(call: Call) -> None:
    """The request's last step (or :func:`count_window`) is done: its window's count is
    its quota, and its opening has been checked (it is not run again)."""
    window = call.window
    if window is not None and window.left is not None:
        call.quota = ratelimit.Quota(window.limit, window.left)
    call.window = call.cached_at = None


def refused(call: Call) -> MockError:
    """The refusal of a request whose window, counted by a later step, was spent: the
    request as one refused as it opened (nothing charged, no notes of its parsing)."""
    window = call.window
    assert window is not None
    call.window = call.cached_at = None
    call.quota = ratelimit.Quota(window.limit, 0)  # what the 429 shows
    call.notes, call.charged, call.balance = [], 0, None
    return ratelimit.refusal(window.limit, call.now)


def _nothing(writes: Writes) -> None:
    pass


async def _open(call: Call, fresh: dict[str, Any] | None, limited: bool, now: float | None
                ) -> Opening:
    mock = call.mock
    for _ in range(3):
        opening = await mock.store.open_request_async(
            keys.TABLE, call.key_id or "", fresh, limited, scenarios.TABLE, now, time.time(),
            ratelimit.WINDOW_SECONDS)
        if opening is not None:
            return opening
        # a reset stopped the shared clock: reading it starts it again (a write)
        await mock.store.atomically(mock.clock.now)
    raise StoreUnavailable("the store's clock keeps being reset; try again")
