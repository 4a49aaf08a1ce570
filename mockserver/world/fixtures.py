"""Curated fixture files: accounts and keys that pin what generation would otherwise choose.

A fixture file is JSON: ``{"accounts": {handle: {field: value}}, "keys": {key: {...}}}``.
The shipped ``fixtures/`` folder loads first, then each user path (file or folder) in
order; a later file's entry for the same handle or key replaces the earlier one.

An account fixture describes the account as it is at ``as_of`` (ISO-8601 or whole unix
seconds; default 2026-01-01) and, unless it gives ``posts_per_day`` or
``follower_growth``, at every instant from then on: a still photograph (before it, the
videos posted by then grow up to their ``as_of`` counts). Video positions (``pinned``,
``ads``, ``video_ids``, ``video_scenarios``, ``videos``) count from its newest video, 0
first.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.clock import EARLIEST, LATEST, iso, parse_instant
from mockserver.resources import data_dir
from mockserver.world import cascade, generate, ids, overrides, timeline
from mockserver.world.model import Account, normalise_handle

# fields copied onto the account as they are
IDENTITY_FIELDS = frozenset({
    "exists", "user_id", "sec_uid", "short_id", "nickname", "signature", "created", "verified",
    "private", "region", "language", "followers", "following", "diggs", "bio_link",
    "commerce_user", "seller", "organization", "open_favorite", "following_visibility",
    "embed_permission", "comment_setting", "duet_setting", "stitch_setting",
    "download_setting", "embed_banned", "show_playlist_tab", "scenario"})
class Instant:
    """The type of a fixture's instant: ISO-8601 or whole unix seconds (see as_instant)."""


# fields that shape the account's history and numbers
_HISTORY_TYPES: dict[str, Any] = {
    "hearts": int, "friends": int, "video_count": int, "newest_post": Instant,
    "as_of": Instant,
    "posts_per_day": float, "follower_growth": float, "pinned": tuple[int, ...],
    "ads": tuple[int, ...], "video_ids": tuple[tuple[int, ids.VideoId], ...],
    "video_scenarios": tuple[tuple[int, str], ...],
    "videos": tuple[tuple[int, overrides.VideoOverride], ...]}
ACCOUNT_FIELDS = IDENTITY_FIELDS | frozenset(_HISTORY_TYPES)
# fields that name videos by position (0 = the newest at ``as_of``)
POSITION_FIELDS = ("pinned", "ads", "video_ids", "video_scenarios", "videos")
#: TikTok's counts are 64-bit signed integers (and the JSON encoder's range ends there): a
#: fixture's number, and every count the world derives from it, stays at most this
MAX_COUNT = 2**63 - 1
#: the shortest gap between the schedule's slots for posts, so at most 864 posts a day
MIN_POST_GAP = 100
MAX_POSTS_PER_DAY = 86_400 // MIN_POST_GAP
#: more than any TikTok account has posted (huge_account has 120,000); larger figures were
#: typos that put the first post millennia before TikTok's launch
MAX_VIDEO_COUNT = 1_000_000


def as_instant(value: Any) -> int:
    """A fixture's ``as_of`` or ``newest_post`` as unix seconds: an ISO-8601 instant, as
    ``--now`` and the clock's ``set`` take it (``2026-03-01T00:00:00Z``; no zone is UTC),
    or whole unix seconds. A ValueError says what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not an ISO-8601 instant or whole unix seconds")
    seconds = parse_instant(str(value))
    if not seconds.is_integer():  # the world moves one whole second at a time
        raise ValueError(f"{value!r} is not a whole second")
    return int(seconds)


def _newest(fixture: Mapping[str, Any], default: int) -> int:
    return as_instant(fixture["newest_post"]) if "newest_post" in fixture else default


def _posting_rate(value: float) -> float:
    if value > MAX_POSTS_PER_DAY:
        raise ValueError(f"{value!r} is more than {MAX_POSTS_PER_DAY} (the schedule has one "
                         f"slot for a post every {MIN_POST_GAP} seconds)")
    return value


def _video_count(value: int) -> int:
    if value > MAX_VIDEO_COUNT:
        raise ValueError(f"{value!r} is more than {MAX_VIDEO_COUNT:,} (more videos than any "
                         "TikTok account has posted)")
    return value


def _form(pattern: str, what: str) -> Callable[[str], str]:
    """A check that a string field has the form the vendors' schemas give it."""
    form = re.compile(pattern)

    def check(value: str) -> str:
        if not form.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value
    return check


# checks of a value beyond its type, each raising a ValueError that says what is wrong
_VALUE_CHECKS: dict[str, Callable[[Any], Any]] = {
    "as_of": as_instant, "newest_post": as_instant, "posts_per_day": _posting_rate,
    # a user id keeps its create time in 32 bits, as a video id does
    "created": as_instant,
    "video_count": _video_count,
    # the world reads a user id's create time from its digits, as TikTok's snowflakes
    "user_id": _form(r"[0-9]{1,20}", "a user id (a string of 1 to 20 digits)"),
    "sec_uid": _form(rf"{ids.SEC_UID_PREFIX}[A-Za-z0-9_-]+",
                     f"a secUid ({ids.SEC_UID_PREFIX} then base64url characters)")}


def value_problem(name: str, value: Any) -> str | None:
    """What is wrong with a field's value of the right type, naming the field, or None."""
    check = _VALUE_CHECKS.get(name)
    try:
        if check is not None:
            check(value)
    except ValueError as problem:
        return f"field {name!r}: {problem}"
    return None


def field_types() -> dict[str, Any]:
    """Every field an account fixture may set, with its type: the identity fields as the
    ``Account`` record declares them, and the ones that shape its history."""
    hints = typing.get_type_hints(Account)
    return {**{name: hints[name] for name in sorted(IDENTITY_FIELDS)}, **_HISTORY_TYPES}


@dataclass(frozen=True)
class Fixtures:
    accounts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    keys: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.json"))
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"fixture path {path} does not exist")


def load_fixtures(extra_paths: Iterable[str] = (), include_shipped: bool = True,
                  check: Callable[[Path, Any], None] | None = None) -> Fixtures:
    """``check(path, document)`` sees each file as read, to refuse a bad one by name."""
    accounts: dict[str, Mapping[str, Any]] = {}
    keys: dict[str, Mapping[str, Any]] = {}
    roots = ([data_dir("fixtures")] if include_shipped else []) + [Path(p) for p in extra_paths]
    for root in roots:
        for path in _files(root):
            try:
                document = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ValueError(f"cannot read fixture {path}: {exc}") from exc
            if check is not None:
                check(path, document)
            for handle, values in document.get("accounts", {}).items():
                accounts[normalise_handle(handle)] = values
            keys.update(document.get("keys", {}))
    return Fixtures(accounts=accounts, keys=keys)


def _by_seq(positions: Any, count: int) -> tuple[int, ...]:
    return tuple(count - 1 - int(i) for i in positions if 0 <= int(i) < count)


def _pairs_by_seq(mapping: Mapping[Any, Any], count: int) -> tuple[tuple[int, str], ...]:
    return tuple(sorted((count - 1 - int(i), str(v)) for i, v in dict(mapping).items()
                        if 0 <= int(i) < count))


def _positions(value: Any) -> list[int]:
    return [int(position) for position in (value if isinstance(value, list | tuple) else
                                           dict(value))]


def _check_positions(where: str, fixture: Mapping[str, Any], count: int, reference: int) -> None:
    """Every position a fixture names is one of the videos it has at ``as_of``: one past
    them would name no video (it was dropped without a word)."""
    for name in POSITION_FIELDS:
        beyond = [p for p in _positions(fixture.get(name, ())) if p >= count]
        if beyond:
            has = (f"positions 0 to {count - 1}, 0 the newest" if count else "none")
            raise ValueError(f"{where} field {name!r}: position {max(beyond)} is not one of "
                             f"its {count} videos at as_of ({iso(reference)}; {has}): give "
                             "a larger 'video_count' or a smaller position")


def _check_distinct(where: str, video_ids: Mapping[int, str], count: int) -> None:
    """A video id names one video: the routes that take an id would find only one of two
    videos given it (``video_ids`` and ``videos.N.id`` both give ids)."""
    seen: dict[str, int] = {}
    for seq, video_id in sorted(video_ids.items(), reverse=True):
        if video_id in seen:
            raise ValueError(f"{where} field 'video_ids': {video_id} is given to positions "
                             f"{count - 1 - seen[video_id]} and {count - 1 - seq}; a video "
                             "id names one video")
        seen[video_id] = seq


def account_values(fixture: Mapping[str, Any], generated: dict[str, Any], seed: int,
                   mean_likes: float) -> tuple[dict[str, Any], float, int | None]:
    """The account's fields with a fixture applied, its mean likes a video, and the likes
    total it pins (None when it pins none). Raises a ValueError naming the account and
    the field when values that each pass their own check cannot be served together."""
    unknown = set(fixture) - ACCOUNT_FIELDS
    if unknown:
        raise ValueError(f"unknown account fixture fields: {sorted(unknown)}")
    where = f"fixture account {generated['handle']!r}"
    values = dict(generated)
    values.update({k: v for k, v in fixture.items() if k in IDENTITY_FIELDS})
    if "user_id" in fixture and "created" not in fixture:
        values["created"] = ids.snowflake_time(fixture["user_id"])
    if "created" in fixture and "user_id" not in fixture:
        values["user_id"] = ids.snowflake(fixture["created"], generated["user_id"])
    if "followers" in fixture and "hearts" not in fixture:
        # the followers' share scaled, not the base every account has: a handle generated
        # with 12 followers made a fixture's 1,000 average 1,700 likes a video
        share = (mean_likes - generate.BASE_LIKES) / max(generated["followers"], 1)
        mean_likes = generate.BASE_LIKES + share * fixture["followers"]
    reference = as_instant(fixture["as_of"]) if "as_of" in fixture else timeline.EPOCH
    per_day = float(fixture.get("posts_per_day", 0))
    growth = float(fixture.get("follower_growth", 0))
    default_count = max(0, (reference - generated["first_post"]) // generated["post_gap"])
    count = int(fixture.get("video_count", default_count))
    _check_positions(where, fixture, count, reference)
    if "created" in fixture and values["created"] > reference:  # its videos would predate it
        raise ValueError(f"{where} field 'created': {iso(values['created'])} is after the "
                         f"instant the fixture describes (as_of, {iso(reference)})")
    lag = ids.stable_int(seed, "newest", generated["handle"])
    if _newest(fixture, reference) > reference:  # its video_count would not be out by as_of
        raise ValueError(f"{where} field 'newest_post': {iso(_newest(fixture, reference))} is "
                         f"after the instant the fixture describes (as_of, {iso(reference)})")
    if per_day > 0:  # the newest of its video_count went out less than a gap before as_of
        gap = max(int(86_400 / per_day), MIN_POST_GAP)
        newest = _newest(fixture, reference - lag % max(gap // 10, 1))
    else:
        newest = _newest(fixture, reference - 3_600 - lag % (9 * 86_400))
        span = max(newest - values["created"] - 86_400, 0)
        gap = int(min(max(span // max(count, 1), 100), 20 * 86_400))
    key = values["key"]
    first = newest - (count - 1) * gap - timeline.jitter(gap, key, count - 1) if count else \
        newest + gap
    if first < EARLIEST:  # ids and the clock start there; a slow rate reached year -22243
        launch = f"before TikTok's launch ({iso(EARLIEST)[:10]})"
        if per_day > 0:
            raise ValueError(
                f"{where} field 'posts_per_day': {per_day:g} a "
                f"day for {count} videos puts the first post {launch}: post more a day or "
                "give fewer videos")
        raise ValueError(  # no rate given: the newest post (as_of's default) is too early
            f"{where}: its newest post at {iso(newest)} puts "
            f"its first post {launch}: give a later 'as_of' or 'newest_post'")
    smallest = min(values["followers"], values["following"])
    if fixture.get("friends", 0) > smallest:  # a friend follows and is followed back
        raise ValueError(
            f"{where} field 'friends': {fixture['friends']} is more than its followers "
            f"({values['followers']}) or following ({values['following']}) at as_of: a "
            "friend is an account it follows that follows it back")
    friends = int(fixture.get("friends", smallest * generated["friend_share"]))
    videos = overrides.by_seq(fixture.get("videos", {}), count)
    video_ids = dict(_pairs_by_seq(fixture.get("video_ids", {}), count))
    video_ids.update((seq, pinned.id) for seq, pinned in videos.items() if pinned.id)
    _check_distinct(where, video_ids, count)
    values.update(
        first_post=first, post_gap=gap, video_limit=None if per_day > 0 else count,
        reference=reference, follower_growth=growth,
        friend_share=(friends + 0.5) / smallest if smallest else 0.0,
        pinned=_by_seq(fixture.get("pinned", ()), count),
        ads=_by_seq(fixture.get("ads", ()), count),
        video_scenarios=_pairs_by_seq(fixture.get("video_scenarios", {}), count),
        video_ids=tuple(sorted(video_ids.items())), videos=videos)
    hearts = fixture.get("hearts")
    return values, mean_likes, None if hearts is None else int(hearts)


def check_counts(account: Account, fixture: Mapping[str, Any]) -> Account:
    """The fixture account (built, its likes fitted) if no count it can show at any instant
    of the clock's range passes ``MAX_COUNT``, else a ValueError naming the field: likes
    are sized from ``hearts`` (or ``followers``), one video shows up to 50 views a like,
    and an account that keeps posting keeps its videos' likes until the clock's end, so a
    total each field allows on its own can still make a count no body can carry. O(levels)
    and one leaf per pinned video: an upper bound, never a walk over the videos."""
    key, levels, root = generate.likes_key(account), account.levels, account.likes_root
    slots = account.video_limit if account.video_limit is not None else 1 << levels
    listed = cascade.prefix(key, levels, root, slots)  # every like it will ever list
    posted = timeline.posted_by(account, account.key, account.reference)
    where = f"fixture account {account.handle!r}"
    for seq, pinned in sorted(account.videos.items()):
        if pinned.counts is None:
            continue
        leaf = cascade.leaves(key, levels, root, seq, seq + 1)[0]
        counts = overrides.final_counts(account, seq, leaf, pinned.counts)
        listed += max((pinned.counts.likes or 0) - leaf, 0)
        name, most = max(zip(counts._fields, counts, strict=True), key=lambda item: item[1])
        if most > MAX_COUNT:
            raise ValueError(f"{where} field 'videos.{posted - 1 - seq}.counts': its {name} "
                             f"would be {most}, past 2^63-1 (TikTok's counts are 64-bit): "
                             "give smaller counts")
    if account.hearts is None:
        total = listed + int(listed * account.hidden_share)
    elif account.reference_listed:
        total = listed + account.hidden_likes * listed // account.reference_listed
    else:
        total = listed + account.hidden_likes
    views = generate.views_of(min(root + cascade.LEAF_FLOOR, listed), 0)  # at 2% likes
    if max(total, views) <= MAX_COUNT:
        return account
    # what sized the likes: the total, else the followers, else the pinned videos' counts
    cause = next((name for name in ("hearts", "followers") if name in fixture), "videos")
    shown, smaller = ((fixture[cause], f"a smaller {cause!r}") if cause != "videos" else
                      ("what it pins", "smaller pinned likes"))
    what = ("its likes total" if total > MAX_COUNT else "a video's views (likes are at least "
            "2% of views)")
    later = (f" by the clock's end ({iso(LATEST)[:10]}), as it keeps posting"
             if account.video_limit is None else "")
    raise ValueError(
        f"{where} field {cause!r}: {shown} sizes its videos' likes so that {what}"
        f" could pass 2^63-1 (TikTok's counts are 64-bit){later}: give {smaller}"
        + (" or more 'video_count'" if account.video_limit is not None else
           ", more 'video_count' or a lower 'posts_per_day'"))
