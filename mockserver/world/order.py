"""Orders over an account's videos that never materialise the whole list.

Create times fall strictly with the index (0 = newest) and are computed one
index at a time, so a cursor is found by binary search. Popularity is a keyed
pseudo-random permutation (a small Feistel network with cycle walking), so
"the 12th most viewed video" and "the rank of video 7" are both O(1).
"""

from __future__ import annotations

from mockserver.world.ids import stable_int, unit


def create_time(newest: int, gap: int, key: str, index: int) -> int:
    """Strictly decreasing in ``index``: consecutive posts are at least gap/10 apart.
    The newest post is exactly at ``newest``, so a fixture can pin it."""
    jitter = int(gap * 0.9 * unit(key, "t", index)) if index else 0
    return newest - index * gap - jitter


def first_index_before(newest: int, gap: int, key: str, count: int, limit_seconds: float) -> int:
    """The smallest index whose create time is strictly below ``limit_seconds``."""
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if create_time(newest, gap, key, middle) < limit_seconds:
            high = middle
        else:
            low = middle + 1
    return low


class Permutation:
    """A bijection of ``range(size)`` keyed by a string; ``forward`` and ``inverse`` in O(1)."""

    _ROUNDS = 4

    def __init__(self, size: int, key: str) -> None:
        self.size = size
        bits = max(2, (max(size, 1) - 1).bit_length())
        bits += bits % 2
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        self._keys = [stable_int(key, "round", r) for r in range(self._ROUNDS)]

    def _round(self, r: int, value: int) -> int:
        mixed = (value * 0x9E3779B97F4A7C15 + self._keys[r]) & 0xFFFFFFFFFFFFFFFF
        mixed ^= mixed >> 29
        mixed = (mixed * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        return (mixed ^ (mixed >> 32)) & self._mask

    def _encrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for r in range(self._ROUNDS):
            left, right = right, left ^ self._round(r, right)
        return (left << self._half) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for r in reversed(range(self._ROUNDS)):
            left, right = right ^ self._round(r, left), left
        return (left << self._half) | right

    def forward(self, value: int) -> int:
        value = self._encrypt(value)
        while value >= self.size:  # cycle walking keeps the result inside range(size)
            value = self._encrypt(value)
        return value

    def inverse(self, value: int) -> int:
        value = self._decrypt(value)
        while value >= self.size:
            value = self._decrypt(value)
        return value
