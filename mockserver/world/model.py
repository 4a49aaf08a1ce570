"""Plain records of the world; vendors render these, never the other way round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hashtag:
    id: str
    name: str
    description: str
    cover_url: str


@dataclass(frozen=True, slots=True)
class TextExtra:
    hashtag: Hashtag
    start: int  # offsets of "#name" in the caption, end exclusive
    end: int


@dataclass(frozen=True, slots=True)
class Music:
    id: str
    title: str
    author: str
    album: str
    duration: int  # seconds
    original: bool
    private: bool
    created: int  # unix seconds
    cover_url: str
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
    followers: int
    following: int
    hearts: int
    diggs: int
    friends: int
    video_count: int
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
    newest_post: int  # unix seconds of the newest video
    post_gap: int  # mean seconds between two posts
    pinned: tuple[int, ...]  # indices (0 = newest) of pinned videos, in pin order
    ads: tuple[int, ...]
    # a fixture's failure for every request naming this account: one name, or one per vendor
    scenario: str | Mapping[str, str] | None
    video_scenarios: tuple[tuple[int, str], ...]
    video_ids: tuple[tuple[int, str], ...]  # fixture-pinned ids, e.g. a vendor page's example


@dataclass(frozen=True, slots=True)
class Video:
    handle: str
    index: int  # 0 = newest
    id: str
    create_time: int
    caption: str
    text_extra: tuple[TextExtra, ...]
    duration: int  # seconds
    width: int
    height: int
    bitrate: int
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    downloads: int
    reposts: int
    music: Music
    pinned: bool
    is_ad: bool
    region: str
    media_key: str
    short_url: str
    scenario: str | None

    @property
    def hashtags(self) -> tuple[Hashtag, ...]:
        return tuple(extra.hashtag for extra in self.text_extra)

    @property
    def web_url(self) -> str:
        return f"https://www.tiktok.com/@{self.handle}/video/{self.id}"
