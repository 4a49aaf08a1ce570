"""Per-key fixed-window rate limits on the mock's clock (so tests advance it, not sleep)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockserver.errors import MockError

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_in: int  # whole seconds until the window rolls over


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, now: float) -> Quota:
        """Count one request; raise ``rate_limited`` once the window's limit is spent."""
        window = int(now // WINDOW_SECONDS)
        # rounded up, so a client that waits Retry-After seconds finds a fresh window
        reset_in = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        if limit <= 0:
            return Quota(0, 0, reset_in)
        start, used = self._windows.get(key, (window, 0))
        if start != window:
            used = 0
        if used >= limit:
            raise MockError("rate_limited", retry_after=reset_in)
        used += 1
        self._windows[key] = (window, used)
        return Quota(limit, limit - used, reset_in)

    def clear(self) -> None:
        self._windows.clear()
