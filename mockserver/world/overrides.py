"""Single videos as a fixture pins them: the ``videos`` field of an account fixture gives,
by position, what a vendor page's example shows of one video (its create time, caption,
counts, music, size...), and the world applies it here, once, to its own records, so
every route of every vendor shows that same video.

A pinned value wins over the world's rules for that video only (the README lists where
the pages' examples depart from them); whatever is not pinned is generated as for any
video. The world calls in where a video's time decides something (its post time, how
many videos are posted by an instant), where a video is made, and where its likes or
views are summed or ranked without making it.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.world import cascade, generate, ids, timeline
from mockserver.world.model import Account, Counts, Hashtag, Mention, Music, TextExtra, Video


@dataclass(frozen=True, slots=True)
class CountsOverride:
    """The counts a video settles at; those not given follow its likes as usual."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    downloads: int | None = None
    reposts: int | None = None


@dataclass(frozen=True, slots=True)
class MusicOverride:
    id: str | None = None
    title: str | None = None
    author: str | None = None
    album: str | None = None
    duration: int | None = None  # seconds
    original: bool | None = None


@dataclass(frozen=True, slots=True)
class TextExtraOverride:
    """A hashtag or mention at UTF-16 offsets ``start``..``end`` (end exclusive) of the
    caption, where the fixture says it is even if the caption there says otherwise."""

    start: int
    end: int
    hashtag: str | None = None
    hashtag_id: str | None = None  # default: the world's id for that hashtag name
    mention: str | None = None  # a handle


@dataclass(frozen=True, slots=True)
class ChallengeOverride:
    title: str
    id: str | None = None
    desc: str | None = None


@dataclass(frozen=True, slots=True)
class VideoOverride:
    id: ids.VideoId | None = None
    create_time: int | None = None
    caption: str | None = None
    # default: the caption's own #hashtags and @mentions when the caption is pinned
    text_extra: tuple[TextExtraOverride, ...] | None = None
    challenges: tuple[ChallengeOverride, ...] | None = None  # default: the hashtags
    counts: CountsOverride | None = None
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    bitrate: int | None = None
    ratio: str | None = None  # DumplingAI's ``video.ratio``, e.g. "720p"
    stream_id: str | None = None  # DumplingAI's ``video.id`` (TikTok: the video's own id)
    music: MusicOverride | None = None


# reading a fixture ------------------------------------------------------------------


def record_type(hint: Any) -> type | None:
    """The override record a field holds (alone, optional or in a list), if any."""
    if dataclasses.is_dataclass(hint):
        return typing.cast(type, hint)
    for arg in typing.get_args(hint):
        inner = record_type(arg)
        if inner is not None:
            return inner
    return None


def _build(cls: type, value: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(**{name: _value(hints[name], item) for name, item in value.items()})


def _value(hint: Any, item: Any) -> Any:
    record = record_type(hint)
    if item is None or record is None:
        return item
    if isinstance(item, list):
        return tuple(_build(record, entry) for entry in item)
    return _build(record, item)


def by_seq(videos: Mapping[str, Mapping[str, Any]], count: int) -> dict[int, VideoOverride]:
    """A fixture's ``{"position": {...}}`` (0 = its newest video) as seq -> override."""
    return {count - 1 - int(position): _build(VideoOverride, value)
            for position, value in videos.items() if 0 <= int(position) < count}


# time -------------------------------------------------------------------------------


def create_time(account: Account, seq: int) -> int:
    pinned = account.videos.get(seq)
    if pinned is not None and pinned.create_time is not None:
        return pinned.create_time
    return timeline.post_time(account, account.key, seq)


def posted_by(account: Account, instant: int, scheduled: int) -> int:
    """How many videos are posted at ``instant``, given how many the schedule alone
    posts: a pinned time moves only its own video, and times stay in order (``checked``),
    so the count moves by the few pinned videos either side."""
    limit = account.video_limit if account.video_limit is not None else 1 << account.levels
    count = scheduled
    while count > 0 and create_time(account, count - 1) > instant:
        count -= 1
    while count < limit and create_time(account, count) <= instant:
        count += 1
    return count


# counts -----------------------------------------------------------------------------


def _leaf(account: Account, seq: int) -> int:
    return cascade.leaves(generate.likes_key(account), account.levels, account.likes_root,
                          seq, seq + 1)[0]


def final_counts(account: Account, seq: int, likes: int, given: CountsOverride) -> Counts:
    """The counts a pinned video settles at: the given ones, which it shows at the
    fixture's instant (``as_of``: more later where it was young then, on an account that
    grows), the rest around its likes."""
    pinned = {name: _settled(account, seq, value) for name in Counts._fields
              if (value := getattr(given, name)) is not None}
    base = generate.final_counts(pinned.get("likes", likes), generate.count_noise(account, seq))
    return base._replace(**pinned)


def _settled(account: Account, seq: int, shown: int) -> int:
    if account.still:
        return shown
    return timeline.settled(shown, account.reference - create_time(account, seq))


def pins_counts(account: Account, seq: int) -> bool:
    """Whether the fixture gives this video's counts (they then grow on
    ``timeline.grown``'s curve, from what they settle at)."""
    pinned = account.videos.get(seq)
    return pinned is not None and pinned.counts is not None


def likes_delta(account: Account, instant: int, count: int) -> int:
    """What the pinned likes of the first ``count`` videos add to the cascade's sum, so
    an account's likes total stays the sum of its videos' likes."""
    total = 0
    for seq, pinned in account.videos.items():
        if seq >= count or pinned.counts is None or pinned.counts.likes is None:
            continue
        created = create_time(account, seq)  # both as ``World.counts`` shows them
        likes = timeline.pinned_at(account, created,
                                   _settled(account, seq, pinned.counts.likes), instant)
        total += likes - timeline.likes_at(account, created, _leaf(account, seq), instant)
    return total


def pin_views(account: Account, first: int, likes: list[int], views: list[int]) -> None:
    """Put the pinned videos' final views into a ranking's list (seq first + i -> views[i])."""
    for seq, pinned in account.videos.items():
        i = seq - first
        if 0 <= i < len(views) and pinned.counts is not None:
            views[i] = final_counts(account, seq, likes[i], pinned.counts).views


# the video --------------------------------------------------------------------------

_MARKED = re.compile(r"#(\w+)|@([\w.]*\w)")


def extras_in(caption: str, hashtag: Callable[[str], Hashtag],
              mention: Callable[[str], Mention]) -> tuple[TextExtra, ...]:
    """The hashtags and mentions a caption writes, at their UTF-16 offsets."""
    out = []
    for found in _MARKED.finditer(caption):
        start = generate.utf16_len(caption[:found.start()])
        end = start + generate.utf16_len(found[0])
        if found[1]:
            out.append(TextExtra(start, end, hashtag=hashtag(found[1])))
        else:
            out.append(TextExtra(start, end, mention=mention(found[2].lower())))
    return tuple(out)


def _tag(hashtag: Callable[[str], Hashtag], name: str, tag_id: str | None,
         description: str | None) -> Hashtag:
    tag = hashtag(name)
    return tag._replace(id=tag_id or tag.id,
                        description=tag.description if description is None else description)


def _extra(entry: TextExtraOverride, hashtag: Callable[[str], Hashtag],
           mention: Callable[[str], Mention]) -> TextExtra:
    if entry.hashtag is not None:
        return TextExtra(entry.start, entry.end,
                         hashtag=_tag(hashtag, entry.hashtag, entry.hashtag_id, None))
    return TextExtra(entry.start, entry.end, mention=mention(str(entry.mention).lower()))


def _music(track: Music, given: MusicOverride) -> Music:
    changes = {field.name: value for field in dataclasses.fields(MusicOverride)
               if (value := getattr(given, field.name)) is not None}
    if given.id is not None and given.id != track.id:
        changes["play_url"] = ids.cdn_audio(given.id)
    return track._replace(**changes)


_AS_GIVEN = ("duration_ms", "width", "height", "bitrate", "ratio", "stream_id")


def apply(video: Video, account: Account, likes: int, hashtag: Callable[[str], Hashtag],
          mention: Callable[[str], Mention]) -> Video:
    """The video as its fixture pins it (its id and create time are already the pinned
    ones: the world asks ``create_time`` before it makes a video)."""
    pinned = account.videos.get(video.seq)
    if pinned is None:
        return video
    changes: dict[str, Any] = {name: value for name in _AS_GIVEN
                               if (value := getattr(pinned, name)) is not None}
    if pinned.caption is not None:
        changes["caption"] = pinned.caption
        changes["text_extra"] = extras_in(pinned.caption, hashtag, mention)
    if pinned.text_extra is not None:
        changes["text_extra"] = tuple(_extra(e, hashtag, mention) for e in pinned.text_extra)
    if pinned.challenges is not None:
        changes["challenges"] = tuple(_tag(hashtag, c.title, c.id, c.desc)
                                      for c in pinned.challenges)
    if pinned.counts is not None:
        changes["final"] = final_counts(account, video.seq, likes, pinned.counts)
    if pinned.music is not None:
        changes["music"] = _music(video.music, pinned.music)
    return video._replace(**changes)


# the account, once ------------------------------------------------------------------


def checked(account: Account) -> Account:
    """The account, its pinned videos checked: times in order and not after ``as_of``,
    offsets inside a pinned caption (``generate.fit_hearts`` then meets a pinned likes
    total with their pinned likes counted). Raises ValueError naming the position and
    what is wrong."""
    posted = timeline.posted_by(account, account.key, account.reference)
    limit = account.video_limit if account.video_limit is not None else 1 << account.levels
    for seq, pinned in sorted(account.videos.items()):
        where = (f"fixture account {account.handle!r} field 'videos' position "
                 f"{posted - 1 - seq}")
        if pinned.create_time is not None:
            before = create_time(account, seq - 1) if seq > 0 else None
            after = create_time(account, seq + 1) if seq + 1 < limit else None
            if pinned.create_time > account.reference:
                raise ValueError(f"{where}: create_time {pinned.create_time} is after the "
                                 f"instant the fixture describes ({account.reference})")
            if (before is not None and pinned.create_time <= before) or (
                    after is not None and pinned.create_time >= after):
                raise ValueError(f"{where}: create_time {pinned.create_time} must fall after "
                                 f"the older video's ({before}) and before the newer one's "
                                 f"({after})")
        for entry in pinned.text_extra or ():
            if (entry.hashtag is None) == (entry.mention is None):
                raise ValueError(f"{where}: a text_extra entry names a hashtag or a mention")
            length = None if pinned.caption is None else generate.utf16_len(pinned.caption)
            if not entry.start < entry.end or (length is not None and entry.end > length):
                raise ValueError(f"{where}: text_extra {entry.start}..{entry.end} is not "
                                 f"inside the caption ({length} UTF-16 units)")
    return account
