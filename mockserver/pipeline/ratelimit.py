"""Per-key fixed-window rate limits on the mock's clock (so tests advance it, not sleep).
The count lives in the store, so every process sharing it admits against one window; the
store counts it as the request's ledger step opens (see ledger.py)."""

from __future__ import annotations

import math
from typing import NamedTuple

from mockserver.errors import MockError

WINDOW_SECONDS = 60


class Quota(NamedTuple):
    limit: int  # 0: no limit
    remaining: int


UNLIMITED = Quota(0, 0)


def refusal(limit: int, now: float) -> MockError:
    """The ``rate_limited`` error once a window's ``limit`` is spent, with how long until
    the next window, rounded up, so a client that waits Retry-After seconds finds it."""
    reset_in = max(1, math.ceil((int(now // WINDOW_SECONDS) + 1) * WINDOW_SECONDS - now))
    return MockError("rate_limited", retry_after=reset_in,
                     reason=f"the key's rate limit of {limit} a minute is spent")
