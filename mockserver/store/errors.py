"""What a store's steps raise besides their results: the store out of reach, a store
setting that cannot be used, and the two ways a request's later step refuses it."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The shared store cannot be reached (Redis down, SQLite locked past its timeout).
    The mock answers 503 with this message until it comes back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreRefused(ValueError):
    """The store's setting names one that cannot be opened (a Redis URL that cannot be used,
    a Redis that is not there). The message does not say which setting gave the value: a
    flag, a variable or a config key may have, and only the caller knows (Settings.source)."""


class WindowSpent(Exception):
    """A request's rate window, counted by its last step (see :class:`Window`), was spent:
    nothing of the request was written. It answers the rate limit's refusal."""


class StaleOpening(Exception):
    """A request opened from what its process read of the store before, and the store has
    changed since in a way that could change the answer (a reset, the clock moved, a key
    or an armed scenario set, through any process): nothing was written. The request is
    run again from its opening step, which reads the store itself."""
