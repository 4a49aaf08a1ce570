"""Per-key fixed-window rate limits on the mock's clock (so tests advance it, not sleep)."""

from __future__ import annotations

import math
from typing import NamedTuple

from mockserver.errors import MockError

WINDOW_SECONDS = 60


class Quota(NamedTuple):
    limit: int  # 0: no limit
    remaining: int


UNLIMITED = Quota(0, 0)


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, now: float) -> Quota:
        """Count one request; raise ``rate_limited`` once the window's limit is spent."""
        if limit <= 0:
            return UNLIMITED
        window = int(now // WINDOW_SECONDS)
        start, used = self._windows.get(key, (window, 0))
        if start != window:
            used = 0
        if used >= limit:
            # rounded up, so a client that waits Retry-After seconds finds a fresh window
            reset_in = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise MockError("rate_limited", retry_after=reset_in,
                            reason=f"the key's rate limit of {limit} a minute is spent")
        used += 1
        self._windows[key] = (window, used)
        return Quota(limit, limit - used)

    def clear(self) -> None:
        self._windows.clear()
