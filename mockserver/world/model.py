"""Plain records of the world; vendors render these, never the other way round.

What was published (an account's identity, a video's id, caption, music, create time)
never changes. What moves with the clock (a video's counts, an account's followers,
totals, how many videos it has) is asked of the World for an instant and comes back
as ``Counts`` and ``Profile``.

Records made per video (``Video``, its ``Music``, ``TextExtra``, ``Hashtag``, ``Mention``)
are NamedTuples: as immutable as frozen dataclasses and several times cheaper to build,
which a never-seen account's first page does thirty times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: a handle as the world keys accounts by it (case folded)
HANDLE = re.compile(r"[a-z0-9_.]{2,24}")


def normalise_handle(handle: str) -> str:
    """A handle as a request, an armed scenario or a fixture file names it: one leading
    ``@`` dropped (Social Fetch's contract allows it), case folded. Nothing else is
    trimmed: whitespace or a second ``@`` leave it malformed, so it names no account,
    rather than another account's record."""
    return handle.removeprefix("@").lower()


def well_formed(handle: str) -> bool:
    """Whole-string match: ``$`` would also pass a handle with a final newline."""
    return HANDLE.fullmatch(handle) is not None


class Hashtag(NamedTuple):
    id: str
    name: str
    description: str
    cover: tuple[str, str, str]  # a CDN image (kind, key, size), signed per day


class Mention(NamedTuple):
    handle: str
    user_id: str
    sec_uid: str


class TextExtra(NamedTuple):
    """A ``#hashtag`` or ``@mention`` in a caption. Offsets count UTF-16 code units, as
    TikTok's do (an emoji before it counts two), end exclusive."""

    start: int
    end: int
    hashtag: Hashtag | None = None
    mention: Mention | None = None


class Music(NamedTuple):
    id: str
    title: str
    author: str
    album: str
    duration: int  # seconds
    original: bool
    private: bool
    created: int  # unix seconds
    cover: tuple[str, str, str]  # a CDN image (kind, key, size), signed per day
    play_url: str


@dataclass(frozen=True, slots=True)
class Account:
    handle: str
    exists: bool
    user_id: str
    sec_uid: str
    short_id: str
    nickname: str
    signature: str
    created: int
    verified: bool
    private: bool
    region: str
    language: str
    # audience: followers at ``reference``, growing by ``follower_growth`` a year after it
    followers: int
    following: int
    diggs: int
    friend_share: float  # friends = this share of min(followers, following)
    follower_growth: float
    reference: int  # unix seconds the fixture values (or the world's epoch) describe
    bio_link: str | None
    commerce_user: bool
    seller: bool
    organization: bool
    open_favorite: bool
    following_visibility: int
    embed_permission: int
    comment_setting: int  # TikTok's codes: 0 everyone, 1 friends, 2/3 no one
    duet_setting: int
    stitch_setting: int
    download_setting: int
    embed_banned: bool
    show_playlist_tab: bool
    avatar_key: str
    key: int  # keys this account's post times and like splits
    # posting schedule: video ``seq`` (0 = the oldest) is posted near first_post + seq*post_gap
    first_post: int
    post_gap: int
    video_limit: int | None  # a fixture without a posting rate stops at its count
    # likes: a cascade over ``2**levels`` slots splitting ``likes_root``, each slot one like
    # more (``cascade.LEAF_FLOOR``); hidden likes are those of videos no longer listed:
    # ``hidden_share`` of the listed, or, where a fixture pins the total (``hearts``, at
    # ``reference``), ``hidden_likes`` scaled by how the listed likes compare with
    # ``reference_listed``, theirs at ``reference``
    likes_root: int
    levels: int
    hidden_share: float
    hearts: int | None
    pinned: tuple[int, ...]  # seqs of pinned videos, in pin order
    ads: tuple[int, ...]  # seqs
    # a fixture's failure for every request naming this account: one name, or one per vendor
    scenario: str | Mapping[str, str] | None
    video_scenarios: tuple[tuple[int, str], ...]  # (seq, scenario)
    video_ids: tuple[tuple[int, str], ...]  # (seq, id) pinned ids, e.g. a vendor page's example
    # seq -> what a fixture pins of that video (a ``world.overrides.VideoOverride``)
    videos: Mapping[int, Any] = field(default_factory=dict)
    hidden_likes: int = 0  # at ``reference``, where ``hearts`` is pinned
    reference_listed: int = 0

    @property
    def still(self) -> bool:
        """A fixture account without growth: it shows the same at every instant from its
        ``as_of`` on; before it, its videos grow up to what they show then."""
        return self.video_limit is not None and self.follower_growth == 0


class Counts(NamedTuple):
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    downloads: int
    reposts: int


class Profile(NamedTuple):
    """An account's numbers at one instant."""

    followers: int
    following: int
    hearts: int
    diggs: int
    friends: int
    video_count: int


class Video(NamedTuple):
    handle: str
    seq: int  # 0 = the account's first video
    id: str
    create_time: int
    caption: str
    text_extra: tuple[TextExtra, ...]
    duration_ms: int
    width: int
    height: int
    bitrate: int
    final: Counts  # the counts it settles at; ``World.counts`` gives them at an instant
    music: Music
    pinned: bool
    is_ad: bool
    region: str
    media_key: str
    scenario: str | None
    # what a fixture pins where a page's example departs from the world's rules
    challenges: tuple[Hashtag, ...] | None = None  # None: the caption's hashtags
    ratio: str = ""  # "": the quality its width implies
    stream_id: str = ""  # "": the video's own id, as TikTok's ``video.id``

    @property
    def hashtags(self) -> Sequence[Hashtag]:
        if self.challenges is not None:
            return self.challenges
        # a list comprehension: a generator costs twice as much, and a page asks 30 times
        return [e.hashtag for e in self.text_extra if e.hashtag is not None]

    @property
    def duration(self) -> int:
        """Whole seconds, as DumplingAI's pages show durations."""
        return (self.duration_ms + 500) // 1000

    @property
    def web_url(self) -> str:
        return f"https://www.tiktok.com/@{self.handle}/video/{self.id}"
