"""The mock's clock: real time, or frozen / shifted so tests need no sleeping."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

#: The instants the mock's clock may show: from TikTok's launch to the end of 2099. Video
#: ids keep their create time in 32 bits and every date must print, so far outside this the
#: world cannot be rendered; the clock refuses such a value instead of breaking every route.
EARLIEST = datetime(2016, 9, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


def checked_instant(seconds: float) -> float:
    """``seconds`` if the clock may show it, else a ValueError saying what may be."""
    if not math.isfinite(seconds) or not EARLIEST <= seconds < LATEST:
        raise ValueError(f"{seconds!r} is outside the clock's range "
                         f"({iso(EARLIEST)} to {iso(LATEST)})")
    return seconds


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
    """Unix seconds as ISO-8601 with milliseconds and a ``Z``, as JavaScript prints it."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Clock:
    """Frozen at an instant, or running with an offset from the wall clock."""

    def __init__(self, frozen_at: float | None = None) -> None:
        self._frozen_at = frozen_at
        self._offset = 0.0

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
        if not math.isfinite(seconds):
            raise ValueError(f"cannot advance by {seconds!r} seconds")
        self.set(self.now() + seconds)

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": iso(now), "unix": now, "frozen": self.frozen}
