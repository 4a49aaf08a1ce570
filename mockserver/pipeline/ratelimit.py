"""Per-key fixed-window rate limits on the mock's clock (so tests advance it, not sleep).
The count lives in the store, so every process sharing it admits against one window."""

from __future__ import annotations

import math
from typing import NamedTuple

from mockserver.errors import MockError
from mockserver.store import Store

WINDOW_SECONDS = 60


class Quota(NamedTuple):
    limit: int  # 0: no limit
    remaining: int


UNLIMITED = Quota(0, 0)


class RateLimiter:
    def __init__(self, store: Store) -> None:
        self._store = store

    def hit(self, name: str, limit: int, now: float) -> Quota:
        """Count one request of ``name`` (a key's id); raise ``rate_limited`` once the
        window's limit is spent."""
        if limit <= 0:
            return UNLIMITED
        window = int(now // WINDOW_SECONDS)
        remaining = self._store.admit(name, limit, window)
        if remaining is None:
            # rounded up, so a client that waits Retry-After seconds finds a fresh window
            reset_in = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise MockError("rate_limited", retry_after=reset_in,
                            reason=f"the key's rate limit of {limit} a minute is spent")
        return Quota(limit, remaining)
