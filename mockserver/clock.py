"""The mock's clock: real time, or frozen / shifted so tests need no sleeping."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mockserver.store import clock_now

if TYPE_CHECKING:
    from mockserver.store import Store

#: The instants the mock's clock may show: from TikTok's launch to the end of 2099. Video
#: ids keep their create time in 32 bits and every date must print, so far outside this the
#: world cannot be rendered; the clock refuses such a value instead of breaking every route.
EARLIEST = datetime(2016, 9, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


class OutOfRange(ValueError):
    """A well-formed instant the clock may not show: a message about it names the range
    (``limits``), not the form, which was right."""

    def __init__(self, shown: str) -> None:
        # its last millisecond, not LATEST: "to 2100-01-01" read as if 2100-01-01 were in it
        self.limits = f"the clock's range ({iso(EARLIEST)} to {iso(LATEST - 0.001)})"
        super().__init__(f"{shown} is outside {self.limits}")


def checked_instant(seconds: float) -> float:
    """``seconds`` if the clock may show it, else an OutOfRange saying what may be."""
    if not math.isfinite(seconds) or not EARLIEST <= seconds < LATEST:
        shown = int(seconds) if math.isfinite(seconds) and seconds == int(seconds) else seconds
        raise OutOfRange(repr(shown))
    return seconds


def stored_clock(frozen_at: Any, offset: Any, origin: Any, anchor: Any, wall: float
                 ) -> dict[str, Any] | None:
    """A shared clock's state from the four values a store holds, as this process's
    ``time.time()`` ``wall`` would show it; None if they are not numbers (``frozen_at`` and
    ``origin`` may be None) showing an instant the clock may show. Something else wrote
    them (a hand edit, a script), and the caller starts the clock again rather than fail
    every request until a reset, which would also empty the ledger."""
    numbers = (offset, anchor, *(value for value in (frozen_at, origin) if value is not None))
    if not all(type(value) in (int, float) and math.isfinite(value) for value in numbers):
        return None
    shown = wall + offset if frozen_at is None else frozen_at
    if not EARLIEST <= shown < LATEST:
        return None
    return {"frozen_at": frozen_at, "offset": offset, "origin": origin, "anchor": anchor}


def checked_advance(now: float, seconds: float) -> float:
    """The instant ``seconds`` after ``now``, else a ValueError naming ``advance`` and its
    limit. The clock only moves forward by an advance: counts never fall and no video
    vanishes; moving it back is what ``set`` is for."""
    if not math.isfinite(seconds):
        raise ValueError(f"advance must be a finite number of seconds, not {seconds!r}")
    if seconds < 0:
        raise ValueError(f"advance must be >= 0 seconds ({seconds!r}); to move the clock "
                         "back, use set")
    if now + seconds >= LATEST:
        raise ValueError(f"advance must be less than {_seconds_left(LATEST - now)} seconds: "
                         f"{iso(now)} + {seconds!r} is past the end of the clock's range "
                         f"({iso(EARLIEST)} to {iso(LATEST - 0.001)})")
    return now + seconds


def _seconds_left(left: float) -> str:
    """Seconds as a person reads them: whole if whole, else to the microsecond (the clock
    keeps no finer), without the float's noise (0.0009999275207519531 is 0.001) and never
    rounded to 0 (0.0001 left is not "less than 0")."""
    if left == int(left):
        return str(int(left))
    return f"{left:.6f}".rstrip("0").rstrip(".") if left >= 0.000001 else f"{left:g}"


def parse_instant(text: str) -> float:
    """ISO-8601 (``2026-01-02T03:04:05Z``) or unix seconds, as unix seconds."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text[:64]!r} is neither ISO-8601 nor unix seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    return checked_instant(seconds)


def iso(seconds: float) -> str:
    """Unix seconds as ISO-8601 with milliseconds and a ``Z``, as JavaScript prints it.
    Every instant prints from its day's date, made once: strftime cost 26k instructions a
    call, and a Social Fetch page prints thirty."""
    whole = int(seconds)
    micro = 0
    if whole != seconds:  # rounded to microseconds as datetime.fromtimestamp rounds
        micro = round((seconds - whole) * 1_000_000)
        if micro >= 1_000_000:
            whole, micro = whole + 1, micro - 1_000_000
        elif micro < 0:
            whole, micro = whole - 1, micro + 1_000_000
    day, rest = divmod(whole, 86_400)
    return f"{_date(day)}{_MINUTES[rest // 60]}{_SECONDS[rest % 60]}.{_MILLIS[micro // 1000]}Z"


_MINUTES = tuple(f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))
_SECONDS = tuple(f"{second:02d}" for second in range(60))
_MILLIS = tuple(f"{milli:03d}" for milli in range(1000))


@lru_cache(maxsize=8192)
def _date(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%dT")


class Clock:
    """Frozen at an instant, or running with an offset from the wall clock."""

    def __init__(self, frozen_at: float | None = None) -> None:
        self._frozen_at = frozen_at
        self._offset = 0.0
        self.anchor = self.now()  # the instant the mock started (links minted then expire)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def freeze(self, at: float | None = None) -> None:
        self._frozen_at = self.now() if at is None else at

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
        self._frozen_at = None

    def set(self, at: float) -> None:
        """Show ``at`` from now on; outside the clock's range a ValueError changes nothing."""
        checked_instant(at)
        if self._frozen_at is not None:
            self._frozen_at = at
        else:
            self._offset = at - time.time()

    def advance(self, seconds: float) -> None:
        """Move on by ``seconds`` >= 0; a ValueError (see checked_advance) changes nothing."""
        self.set(checked_advance(self.now(), seconds))

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": iso(now), "unix": now, "frozen": self.frozen}


class SharedClock(Clock):
    """One clock for every process sharing a store: its frozen instant or offset lives in
    the store and is read on every request (one small read), so a change made through any
    process is seen by all of them from their next request.

    A process starting on a store whose clock was started with the same ``--now`` joins it
    (a replica restarting keeps the moved clock); a different ``--now`` starts it afresh,
    as the user asked. After a reset, the first process to look starts it again."""

    def __init__(self, store: Store, frozen_at: float | None = None) -> None:
        self._store = store
        self._origin = frozen_at
        state = store.clock_state()
        if state is None or state["origin"] != frozen_at:
            state = self._start()
        self.anchor = state["anchor"]

    def _unstarted(self) -> dict[str, Any]:
        """The state this process starts the clock with."""
        return {"frozen_at": self._origin, "offset": 0.0, "origin": self._origin,
                "anchor": time.time() if self._origin is None else self._origin}

    def _start(self) -> dict[str, Any]:
        state = self._unstarted()
        self._store.set_clock(state)
        return state

    def _state(self) -> dict[str, Any]:
        return self._store.clock_state() or self._start()

    @property
    def frozen(self) -> bool:
        return self._state()["frozen_at"] is not None

    def now(self) -> float:
        return clock_now(self._state(), time.time())

    def freeze(self, at: float | None = None) -> None:
        state = self._state()
        self._store.set_clock({**state, "frozen_at": self.now() if at is None else at})

    def unfreeze(self) -> None:
        state = self._state()
        if state["frozen_at"] is not None:
            state = {**state, "offset": state["frozen_at"] - time.time(), "frozen_at": None}
            self._store.set_clock(state)

    def set(self, at: float) -> None:
        state = self._state()
        if state["frozen_at"] is not None:
            self._store.set_clock({**state, "frozen_at": at})
        else:
            self._store.set_clock({**state, "offset": at - time.time()})

    def advance(self, seconds: float) -> None:
        checked_advance(self.now(), seconds)
        self._store.advance_clock(seconds)  # one step: two processes' advances both count

    def describe(self) -> dict[str, object]:
        """A clock not started since a reset is shown as it would start, and not started:
        reading it (the health check, GET /__mock/clock) writes nothing, so never waits
        for another process's write lock."""
        state = self._store.clock_state() or self._unstarted()
        now = clock_now(state, time.time())
        return {"now": iso(now), "unix": now, "frozen": state["frozen_at"] is not None}
