"""The World: lazy, deterministic, bounded in memory however many handles are asked for."""

from __future__ import annotations

import re
from collections import OrderedDict
from functools import lru_cache

from faker import Faker

from mockserver.world import generate, ids
from mockserver.world.fixtures import Fixtures
from mockserver.world.links import VideoLink
from mockserver.world.model import Account, Hashtag, Music, Video
from mockserver.world.order import Permutation, create_time, first_index_before

HANDLE = re.compile(r"^[a-z0-9_.]{2,24}$")
_DAY = 86_400


class World:
    """Accounts by handle, videos by (handle, index); every answer a pure function of
    (seed, anchor day, fixtures, handle)."""

    def __init__(self, seed: int, anchor: float, fixtures: Fixtures | None = None,
                 cache_size: int = 4096) -> None:
        self.seed = seed
        self.anchor = int(anchor) // _DAY * _DAY  # whole days, so a day's runs agree
        self.fixtures = fixtures or Fixtures()
        self._faker = Faker("en_US")
        self.account = lru_cache(maxsize=cache_size)(self._account)
        self._video = lru_cache(maxsize=cache_size * 4)(self._make_video)
        self._popularity = lru_cache(maxsize=cache_size)(self._permutation)
        self.hashtag = lru_cache(maxsize=cache_size)(self._hashtag)
        self._track = lru_cache(maxsize=generate.TRACK_POOL)(self._make_track)
        # Cursor and id look-ups are binary searches that hash at every step; the answers
        # never change, so repeated pages and video fetches skip the search entirely.
        self._index_before = lru_cache(maxsize=cache_size)(self._search_index_before)
        self._find_video = lru_cache(maxsize=cache_size * 4)(self._search_video)
        self._recent: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._recent_limit = cache_size * 16

    # accounts ---------------------------------------------------------------

    @staticmethod
    def normalise(handle: str) -> str:
        return handle.strip().lstrip("@").lower()

    @staticmethod
    def well_formed(handle: str) -> bool:
        return bool(HANDLE.match(handle))

    def _account(self, handle: str) -> Account:
        """Any well-formed handle exists unless a fixture says otherwise."""
        fixture = self.fixtures.accounts.get(handle)
        return generate.make_account(self._faker, self.seed, handle, self.anchor, fixture)

    # videos -----------------------------------------------------------------

    def _key(self, account: Account) -> str:
        return f"{self.seed}\x1f{account.handle}"

    def create_time(self, account: Account, index: int) -> int:
        return create_time(account.newest_post, account.post_gap, self._key(account), index)

    def _permutation(self, handle: str, size: int) -> Permutation:
        return Permutation(size, f"{self.seed}\x1fpopular\x1f{handle}")

    def video(self, account: Account, index: int) -> Video:
        if not 0 <= index < account.video_count:
            raise IndexError(index)
        return self._video(account.handle, index)

    def _make_video(self, handle: str, index: int) -> Video:
        account = self.account(handle)
        rank = self._popularity(handle, account.video_count).forward(index)
        pick = ids.stable_int(self.seed, "sound", handle, index)
        track = None if pick % 5 < 2 else self._track(pick % generate.TRACK_POOL)
        video = generate.make_video(self._faker, self.seed, account, index,
                                    self.create_time(account, index), rank, track,
                                    self.hashtag, self.anchor)
        self._remember(video)
        return video

    def _remember(self, video: Video) -> None:
        """Keep recently generated ids and share codes resolvable by URL alone."""
        for token in (video.id, video.short_url.rstrip("/").rsplit("/", 1)[-1]):
            self._recent[token] = (video.handle, video.index)
            self._recent.move_to_end(token)
        while len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)

    def _hashtag(self, name: str) -> Hashtag:
        return generate.make_hashtag(self._faker, self.seed, name, self.anchor)

    def _make_track(self, number: int) -> Music:
        return generate.make_track(self._faker, self.seed, number, self.anchor)

    def index_before(self, account: Account, limit_seconds: float) -> int:
        """The first index (newest first) created strictly before ``limit_seconds``."""
        return self._index_before(account.handle, limit_seconds)

    def _search_index_before(self, handle: str, limit_seconds: float) -> int:
        account = self.account(handle)
        return first_index_before(account.newest_post, account.post_gap, self._key(account),
                                  account.video_count, limit_seconds)

    def by_popularity(self, account: Account, rank: int) -> int:
        """The index of the ``rank``-th most viewed video."""
        return self._popularity(account.handle, account.video_count).inverse(rank)

    def by_latest_pinned_first(self, account: Account, position: int) -> int:
        """The profile grid's order: pinned videos first, then the rest newest first."""
        pinned = account.pinned
        if position < len(pinned):
            return pinned[position]
        index = position - len(pinned)
        for pin in sorted(pinned):  # skip over pinned ones, which already came first
            if pin <= index:
                index += 1
        return index

    def find_video(self, account: Account, video_id: str) -> Video | None:
        """The account's video with this id, found by binary search on its embedded time."""
        return self._find_video(account.handle, video_id)

    def _search_video(self, handle: str, video_id: str) -> Video | None:
        account = self.account(handle)
        if not video_id.isdigit() or len(video_id) > 20 or account.video_count == 0:
            return None
        stamp = ids.snowflake_time(video_id)
        index = self.index_before(account, stamp + 6)
        if index < account.video_count:
            video = self.video(account, index)
            if video.id == video_id:
                return video
        return None

    def resolve(self, link: VideoLink) -> tuple[str, str] | None:
        """(handle, video id) a parsed URL names, or None when nothing is known of it."""
        if link.handle and link.video_id:
            return link.handle, link.video_id
        token = link.video_id or link.short_code or ""
        known = self._recent.get(token)
        if known is not None:
            handle, index = known
            return handle, self.video(self.account(handle), index).id
        if link.short_code is None:
            return None
        # A share link the mock never issued still resolves, always to the same video.
        handle = f"user{ids.stable_int(self.seed, 'share', token) % 10**10:010d}"
        account = self.account(handle)
        if not account.exists or account.video_count == 0:
            return None
        index = ids.stable_int(self.seed, "shareindex", token) % account.video_count
        return handle, self.video(account, index).id
