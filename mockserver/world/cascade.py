"""An account's likes as an integer multiplicative cascade over its video slots.

The root holds every like the account's videos will ever settle at; each node splits
its total between its two halves by a keyed fraction, down to one leaf per video:
heavy-tailed within blocks of 32 posts, near even above them. So per-video likes are
bursty and heavy-tailed like real ones, a pinned total is exactly the sum of its parts
(integer splits lose nothing), and the sum of the first ``n`` videos costs one walk down
the tree: O(levels), never O(videos).

Every leaf shows one like more than its share of the root: a settled public video with
no like and so no view is not one TikTok shows (the root's split alone left one video
in seventeen of small accounts at zero).
"""

from __future__ import annotations

import math

from mockserver.world.ids import mix

LEAF_FLOOR = 1  # likes every leaf shows besides its share of the root
_SPLIT_BITS = 16
# fractions (of 2**16) drawn from a logistic distribution: most splits are near even,
# a few very uneven, which makes the leaves roughly log-normal with a fat tail
_SPREAD = 1.0
_TABLE = tuple(
    max(1, min((1 << _SPLIT_BITS) - 1,
               round((1 << _SPLIT_BITS) / (1 + math.exp(-_SPREAD * math.log(u / (1 - u)))))))
    for u in ((i + 0.5) / 4096 for i in range(4096)))
# Above blocks of ``2**_WILD_LEVELS`` slots the splits stay near even: a heavy-tailed split
# high in the tree would make every video of a year (or of every year to come) a hundred
# times those before it, and an account's first videos, which a fit sizes the root by,
# would say nothing of its later ones.
_WILD_LEVELS = 5
_CALM_SPREAD = 0.1
_CALM = tuple(
    round((1 << _SPLIT_BITS) / (1 + math.exp(-_CALM_SPREAD * math.log(u / (1 - u)))))
    for u in ((i + 0.5) / 4096 for i in range(4096)))


def _left(key: int, levels: int, level: int, index: int, total: int) -> int:
    """The share of ``total`` the left child of node (level, index) takes."""
    table = _TABLE if levels - level <= _WILD_LEVELS else _CALM
    fraction = table[mix(key ^ (level << 56) ^ index) & 4095]
    return (total * fraction) >> _SPLIT_BITS


def prefix(key: int, levels: int, root: int, count: int) -> int:
    """The sum of leaves ``0 .. count-1``."""
    if count <= 0:
        return 0
    if count >= 1 << levels:
        return root + (1 << levels) * LEAF_FLOOR
    total, index, acc = root, 0, 0
    for level in range(levels):
        left = _left(key, levels, level, index, total)
        if count >> (levels - 1 - level) & 1:
            acc += left
            total -= left
            index = 2 * index + 1
        else:
            total = left
            index = 2 * index
    return acc + count * LEAF_FLOOR


def leaves(key: int, levels: int, root: int, start: int, stop: int) -> list[int]:
    """Leaves ``start .. stop-1`` in order, visiting only the nodes over that range."""
    out: list[int] = []
    if start >= stop:
        return out
    stack = [(0, 0, root)]  # (level, index, total): depth first, left before right
    pop, push = stack.pop, stack.append
    while stack:
        level, index, total = pop()
        if level == levels:
            out.append(total + LEAF_FLOOR)
            continue
        span = 1 << (levels - level - 1)  # leaves under each child
        low = index * 2 * span
        left = _left(key, levels, level, index, total)
        if low + span < stop and low + 2 * span > start:
            push((level + 1, 2 * index + 1, total - left))
        if low < stop and low + span > start:
            push((level + 1, 2 * index, left))
    return out
