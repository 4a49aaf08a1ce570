"""The mock's clock: real time, or frozen / shifted so tests need no sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def parse_instant(text: str) -> float:
    """ISO-8601 (``2026-01-02T03:04:05Z``) or unix seconds, as unix seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


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
        if self._frozen_at is not None:
            self._frozen_at = at
        else:
            self._offset = at - time.time()

    def advance(self, seconds: float) -> None:
        self.set(self.now() + seconds)

    def describe(self) -> dict[str, object]:
        now = self.now()
        return {"now": iso(now), "unix": now, "frozen": self.frozen}
