"""Time in the world: when an account posts, how a video's counts grow with its age,
how its followers grow. Every function is pure and O(1), so "the account at instant t"
never walks its history.
"""

from __future__ import annotations

import math

from mockserver.world.ids import mix
from mockserver.world.model import Account, Counts

DAY = 86_400
YEAR = 365 * DAY
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: generated accounts' figures describe this instant
GROWTH_DAYS = 14  # a video's counts rise over its first two weeks, then stay
GROWTH = GROWTH_DAYS * DAY  # seconds
_GROWTH4 = GROWTH ** 4


def jitter(gap: int, key: int, seq: int) -> int:
    """How late after its slot a post went out: under 90% of the gap, so posts stay ordered."""
    if seq == 0:
        return 0
    return (mix(key ^ seq) % 1000) * (gap * 9 // 10) // 1000


def post_time(account: Account, key: int, seq: int) -> int:
    """Strictly increasing in ``seq``: consecutive posts are at least a tenth of a gap apart."""
    return account.first_post + seq * account.post_gap + jitter(account.post_gap, key, seq)


def posted_by(account: Account, key: int, instant: int) -> int:
    """How many videos the account has posted at ``instant`` (create time <= instant)."""
    limit = account.video_limit if account.video_limit is not None else 1 << account.levels
    return posted(account.first_post, account.post_gap, limit, key, instant)


def posted(first_post: int, gap: int, limit: int, key: int, instant: int) -> int:
    """``posted_by`` for a schedule not yet made into an Account."""
    if instant < first_post:
        return 0
    slot = (instant - first_post) // gap
    count = slot + 1 if first_post + slot * gap + jitter(gap, key, slot) <= instant else slot
    return min(count, limit)


def grown(final: Counts, age: int) -> Counts:
    """A fixture's pinned counts ``age`` seconds after posting, each on ``grown_down``'s
    curve."""
    return tuple.__new__(Counts, [grown_down(value, age) for value in final])


def grown_down(value: int, age: int) -> int:
    """``grown_count`` rounded down: pinned counts follow it, so that ``settled`` can make
    them show exactly as given at the fixture's instant, and so that a count pinned under
    1% of another (shares of views) stays under it while both are small."""
    if age >= GROWTH:
        return value
    if age <= 0:
        return 0
    return value * (_GROWTH4 - (GROWTH - age) ** 4) // _GROWTH4


def settled(shown: int, age: int) -> int:
    """The least count that ``grown_down`` shows as ``shown`` at ``age``: what a video a
    fixture pins while young settles at. At age 0 it shows nothing yet, so the pinned
    count is taken as what it settles at."""
    if age >= GROWTH or age <= 0:
        return shown
    return -(-shown * _GROWTH4 // (_GROWTH4 - (GROWTH - age) ** 4))


def lifted(shown: int, age: int) -> int:
    """The least count that ``grown_count`` shows as ``shown`` at ``age`` (``settled`` for
    its rounding up): what a still fixture's video, showing ``shown`` at ``as_of`` at that
    age, grows along before it."""
    if age >= GROWTH or age <= 0 or shown <= 0:
        return shown
    return (shown - 1) * _GROWTH4 // (_GROWTH4 - (GROWTH - age) ** 4) + 1


def likes_at(account: Account, created: int, likes: int, instant: int) -> int:
    """A video's likes at ``instant``, from those it settles at (its cascade leaf) on
    ``grown_count``'s curve. A still fixture is that model at the earlier of ``instant`` and
    its ``as_of``: its video grows along the curve that shows exactly ``likes`` at ``as_of``,
    and shows them from then on."""
    if account.still:
        if instant >= account.reference:
            return likes
        likes = lifted(likes, account.reference - created)
    return grown_count(likes, instant - created)


def pinned_at(account: Account, created: int, value: int, instant: int) -> int:
    """A fixture's pinned count at ``instant``, from what it settles at, on ``grown_down``'s
    curve; on a still fixture ``value`` is what it shows at ``as_of`` (and from then on), so
    before it the count grows along the curve that reaches ``value`` there."""
    if account.still:
        if instant >= account.reference:
            return value
        value = settled(value, account.reference - created)
    return grown_down(value, instant - created)


def grown_count(value: int, age: int) -> int:
    """A count ``age`` seconds after posting: fast in the first days, flat after two weeks,
    never falling (an integer curve, so the same age gives the same number everywhere).
    Rounded up: a video is seen from its first second, and one settling at a single like
    shows it (and so some views) before its two weeks are up, not only after."""
    if age >= GROWTH:
        return value
    if age <= 0:
        return 0
    return -(-value * (_GROWTH4 - (GROWTH - age) ** 4) // _GROWTH4)


#: followers stop growing here (or at an account's own figure, if a fixture gives more):
#: more than TikTok has users, and rates that compound for the decades the clock can be
#: moved would otherwise pass what any body can carry (2^63)
FOLLOWER_CEILING = 2_000_000_000


def followers_at(account: Account, instant: int) -> int:
    """Followers grow by ``follower_growth`` a year (compounding) after the reference instant
    up to ``FOLLOWER_CEILING`` and were fewer before it; a flat account (growth 0) always
    shows the same."""
    followers, growth = account.followers, account.follower_growth
    if growth == 0 or followers == 0:
        return followers
    years = (instant - account.reference) / YEAR
    ceiling = max(followers, FOLLOWER_CEILING)
    # in logarithms: a rate of 1e308 overflows a float long before the ceiling
    if years * math.log1p(growth) >= math.log(ceiling / followers):
        return ceiling
    return min(int(followers * (1 + growth) ** years), ceiling)
