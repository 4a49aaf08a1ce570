"""How an armed entry fires (see :meth:`mockserver.store.Store.consume`): the fields its
firing counts, and the draw that decides, the same in every process and store, whether an
entry armed with a probability fires on its n-th match."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

#: the fields of an armed entry that :meth:`Store.consume` counts
REMAINING, FIRED, MATCHED = "remaining", "fired", "matched"
#: hex digits of a draw's digest read as its value (32 bits: any Lua reads them exactly)
DRAW_DIGITS = 8


@dataclass(frozen=True, slots=True)
class Chance:
    """An armed entry that fires with ``probability``: the n-th call that matches it draws
    :func:`draw` (``salt``, the entry's id, n), so which calls fire depends on n alone, not
    on which process took the call or what it drew before."""

    probability: float
    salt: str


def draw(salt: str, entry_id: str, number: int) -> float:
    """A value in [0, 1) for the ``number``-th match of an armed entry: a keyed hash, the
    same in every process and store (Redis computes it in Lua: redis_scripts.CONSUME)."""
    digest = hashlib.sha1(f"{salt}:{entry_id}:{number}".encode()).hexdigest()
    return int(digest[:DRAW_DIGITS], 16) / 16 ** DRAW_DIGITS
