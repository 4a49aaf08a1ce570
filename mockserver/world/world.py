"""The World: lazy, deterministic, living in time, bounded in memory however many handles
are asked for.

Every answer is a pure function of (seed, fixtures, handle, instant): the instant
decides how many videos an account has posted, how far each video's counts have
grown and how many followers it has; nothing published ever changes.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from mockserver.world import cascade, fixtures, generate, overrides, timeline
from mockserver.world.fixtures import Fixtures
from mockserver.world.ids import mix
from mockserver.world.links import VideoLink
from mockserver.world.model import (
    Account,
    Counts,
    Hashtag,
    Mention,
    Music,
    Profile,
    Video,
    normalise_handle,
    well_formed,
)
from mockserver.world.pools import pools_for

_SOUND = 0x50D5
_CLOSE = 8  # seqs this near share a cascade descent; farther apart, a second is cheaper
#: the popular order ranks an account's newest 200,000 videos: ranking is O(videos) and
#: holds the event loop (1.6 s for these; 8 s and 350 MB for a million), and an account
#: posting hundreds a day until the clock's end would have tens of millions
RANKED_MOST = 200_000


class World:
    """Accounts by handle, videos by (handle, seq), numbers by instant."""

    def __init__(self, seed: int, fixtures: Fixtures | None = None,
                 cache_size: int = 4096, pools_folder: Path | None = None) -> None:
        self.seed = seed
        self.fixtures = fixtures or Fixtures()
        self.pools = pools_for(seed, pools_folder)
        self.account = lru_cache(maxsize=cache_size)(self._account)
        self._profiles = lru_cache(maxsize=cache_size)(self._profile)
        self.hashtag = lru_cache(maxsize=cache_size)(self._hashtag)
        self.mention = lru_cache(maxsize=cache_size)(self._mention)
        self._track = lru_cache(maxsize=generate.TRACK_POOL)(self._make_track)
        self._popular = lru_cache(maxsize=16)(self._rank)
        self._pages = lru_cache(maxsize=cache_size)(self._latest)  # a repeated page is free
        self._pages_at = lru_cache(maxsize=cache_size)(self._latest_at)  # and its count
        self._found = lru_cache(maxsize=cache_size)(self._find_video)
        self._still_likes = lru_cache(maxsize=cache_size)(self._settled_likes)
        self._videos: OrderedDict[tuple[str, int], Video] = OrderedDict()
        self._video_limit = cache_size * 4
        self.generated = 0  # videos made, for tests that a page makes only its own

    # accounts ---------------------------------------------------------------

    normalise = staticmethod(normalise_handle)
    well_formed = staticmethod(well_formed)

    def _account(self, handle: str) -> Account:
        """Any well-formed handle exists unless a fixture says otherwise."""
        account = generate.make_account(self.pools, self.seed, handle,
                                        self.fixtures.accounts.get(handle))
        if account.videos:
            account = overrides.checked(account)
        if account.hearts is not None:
            account = generate.fit_hearts(account, self._listed_at_reference)
        fixture = self.fixtures.accounts.get(handle)
        return account if fixture is None else fixtures.check_counts(account, fixture)

    def _mention(self, handle: str) -> Mention:
        fixture = self.fixtures.accounts.get(handle)
        if fixture and "user_id" in fixture and "sec_uid" in fixture:
            return Mention(handle, fixture["user_id"], fixture["sec_uid"])
        return generate.identity(self.seed, handle)

    def count(self, account: Account, instant: int) -> int:
        """How many videos the account has posted at ``instant``."""
        count = timeline.posted_by(account, account.key, instant)
        return overrides.posted_by(account, instant, count) if account.videos else count

    def profile(self, account: Account, instant: int) -> Profile:
        """The account's numbers at ``instant`` (a scenario's private or missing copy of an
        account has the same numbers, so the handle is the key)."""
        return self._profiles(account.handle, instant)

    def _profile(self, handle: str, instant: int) -> Profile:
        account = self.account(handle)
        count = self.count(account, instant)
        followers = timeline.followers_at(account, instant)
        listed = self.listed_likes(account, instant, count) + self._pinned_likes(
            account, instant, count)
        friends = int(min(followers, account.following) * account.friend_share)
        return Profile(followers=followers, following=account.following,
                       hearts=listed + self._hidden(account, instant, listed), diggs=account.diggs,
                       friends=min(friends, followers, account.following), video_count=count)

    @staticmethod
    def _hidden(account: Account, instant: int, listed: int) -> int:
        """Likes of videos no longer listed: a stable share of the listed ones. Where a
        fixture pins the total, what the fit left hidden at its instant, scaled with the
        listed likes: so none before the first post, the same share as the account grows,
        never falling as the clock moves on (a fixture listing no likes at its instant
        shows its pinned likes from then on)."""
        if account.hearts is None:
            return int(listed * account.hidden_share)
        if account.reference_listed:
            return account.hidden_likes * listed // account.reference_listed
        return account.hidden_likes if instant >= account.reference else 0

    @staticmethod
    def _pinned_likes(account: Account, instant: int, count: int) -> int:
        """What a fixture's pinned videos' own likes add to the cascade's sum."""
        return overrides.likes_delta(account, instant, count) if account.videos else 0

    def _listed_at_reference(self, account: Account) -> int:
        """What the listed videos show at the account's reference instant, pinned likes
        included, read past the caches: ``generate.fit_hearts`` tries several roots."""
        instant = account.reference
        count = self.count(account, instant)
        listed = (self._prefix(account, count) if account.still
                  else self._growing_likes(account, instant, count))
        return listed + self._pinned_likes(account, instant, count)

    def _prefix(self, account: Account, count: int) -> int:
        return cascade.prefix(generate.likes_key(account), account.levels, account.likes_root,
                              count)

    def _settled_likes(self, handle: str, count: int) -> int:
        return self._prefix(self.account(handle), count)

    def listed_likes(self, account: Account, instant: int, count: int) -> int:
        """The likes the listed videos show at ``instant``: settled ones summed down the
        cascade in one walk, only the videos still growing counted one by one (none on a
        still fixture from its ``as_of`` on)."""
        if account.still and instant >= account.reference:
            return self._still_likes(account.handle, count)
        return self._growing_likes(account, instant, count)

    def _growing_likes(self, account: Account, instant: int, count: int) -> int:
        settled = min(self.count(account, instant - timeline.GROWTH), count)
        total = self._prefix(account, settled)
        young = cascade.leaves(generate.likes_key(account), account.levels, account.likes_root,
                               settled, count)
        for seq, likes in enumerate(young, settled):
            total += timeline.likes_at(account, self.create_time(account, seq), likes, instant)
        return total

    # videos -----------------------------------------------------------------

    def create_time(self, account: Account, seq: int) -> int:
        if account.videos:
            return overrides.create_time(account, seq)
        return timeline.post_time(account, account.key, seq)

    def video(self, account: Account, seq: int) -> Video:
        return self.videos(account, (seq,))[0]

    def videos(self, account: Account, seqs: tuple[int, ...] | list[int]) -> list[Video]:
        """The videos at ``seqs``; the missing ones made together, their likes read from the
        cascade in one descent when they lie close together (a page does)."""
        handle, cache = account.handle, self._videos
        made: dict[int, Video] = {}
        for seq in seqs:
            video = cache.get((handle, seq))
            if video is not None:
                cache.move_to_end((handle, seq))
                made[seq] = video
        missing = [s for s in seqs if s not in made]
        if missing:
            # kept here, not re-read from the cache: remembering them may evict the older
            # ones of this very page (a walk after an account-wide ranking filled it)
            for seq, likes in self._likes(account, sorted(missing)):
                made[seq] = video = self._make_video(account, seq, likes)
                self._remember(video)
        return [made[seq] for seq in seqs]

    @staticmethod
    def _likes(account: Account, seqs: list[int]) -> list[tuple[int, int]]:
        """Settled likes of the sorted ``seqs``: one descent of the cascade per run of close
        seqs, so a first page (pinned videos a few dozen below the newest) costs one or two."""
        key, levels, root = generate.likes_key(account), account.levels, account.likes_root
        out: list[tuple[int, int]] = []
        start = 0
        for end in range(1, len(seqs) + 1):
            if end == len(seqs) or seqs[end] - seqs[end - 1] > _CLOSE:
                low = seqs[start]
                span = cascade.leaves(key, levels, root, low, seqs[end - 1] + 1)
                out.extend((seq, span[seq - low]) for seq in seqs[start:end])
                start = end
        return out

    def _make_video(self, account: Account, seq: int, likes: int) -> Video:
        if not 0 <= seq < 1 << account.levels:
            raise IndexError(seq)
        pick = mix(account.key ^ _SOUND ^ seq)
        track = None if pick % 5 < 2 else self._track(pick // 5 % generate.TRACK_POOL)
        self.generated += 1
        video = generate.make_video(self.pools, self.seed, account, seq,
                                    self.create_time(account, seq), likes, track,
                                    self.hashtag, self.mention)
        if account.videos:
            return overrides.apply(video, account, likes, self.hashtag, self.mention)
        return video

    def _remember(self, video: Video) -> None:
        place = (video.handle, video.seq)
        self._videos[place] = video
        if len(self._videos) > self._video_limit:
            self._videos.popitem(last=False)

    def counts(self, account: Account, video: Video, instant: int) -> Counts:
        """The video's counts at ``instant``: grown with its age; on a still fixture account
        those it shows at ``as_of`` from then on, grown up to them before it."""
        age = instant - video.create_time
        if age >= timeline.GROWTH or account.still and instant >= account.reference:
            return video.final
        if account.videos and overrides.pins_counts(account, video.seq):
            # shown as given at the fixture's as_of
            if not account.still:
                return timeline.grown(video.final, age)
            return tuple.__new__(Counts, [
                timeline.pinned_at(account, video.create_time, value, instant)
                for value in video.final])
        # made again from the likes at this age, so the ratios hold on young small videos
        return generate.final_counts(
            timeline.likes_at(account, video.create_time, video.final.likes, instant),
            generate.count_noise(account, video.seq))

    def _hashtag(self, name: str) -> Hashtag:
        return generate.make_hashtag(self.pools, self.seed, name)

    def _make_track(self, number: int) -> Music:
        return generate.make_track(self.pools, self.seed, number)

    # orders -------------------------------------------------------------------

    def posted_before(self, account: Account, instant: int, cursor_ms: int) -> int:
        """How many of the videos posted at ``instant`` were created strictly before the
        millisecond cursor: the seq a cursor walk continues below."""
        # a cursor past the instant means all of them; clamped so that one of 64 digits,
        # which the schema admits, never reaches the timeline's arithmetic
        cursor_ms = min(cursor_ms, (instant + 1) * 1000)
        return min(self.count(account, (cursor_ms + 999) // 1000 - 1), self.count(account, instant))

    def latest(self, account: Account, instant: int, below: int | None, size: int
               ) -> tuple[list[int], bool]:
        """A page in TikTok's profile order: on the first page (``below`` None) the pinned
        videos first, then the rest newest first; later pages continue below a seq and skip
        the pinned ones. Returns the page's seqs and whether more follow (shared: read only).
        The page of an instant is kept: counting the videos posted by then costs more than
        the rest of a repeated page."""
        return self._pages_at(account.handle, instant, below, size)

    def _latest_at(self, handle: str, instant: int, below: int | None, size: int
                   ) -> tuple[list[int], bool]:
        # the world's own account: a scenario's private or missing copy posts the same videos
        return self._pages(handle, self.count(self.account(handle), instant), below, size)

    def _latest(self, handle: str, count: int, below: int | None, size: int
                ) -> tuple[list[int], bool]:
        account = self.account(handle)
        pinned = set(account.pinned)
        page = [p for p in account.pinned if p < count][:size] if below is None else []
        seq = (count if below is None else min(below, count)) - 1
        while len(page) < size and seq >= 0:
            if seq not in pinned:
                page.append(seq)
            seq -= 1
        remaining = seq + 1 - sum(1 for p in pinned if p <= seq)
        return page, remaining > 0

    def nth_newest(self, account: Account, instant: int, position: int = 0) -> Video:
        """The video ``position`` places below the newest at ``instant`` (0 = the newest)."""
        return self.video(account, self.count(account, instant) - 1 - position)

    def popular(self, account: Account, instant: int) -> list[int]:
        """Every posted seq, most viewed first at ``instant`` (ties: newest first). Sorting
        needs every video's views, so this is O(videos), cached per account and instant."""
        if account.still and instant >= account.reference:
            # counts settled: only how many it has posted moves the order
            return self._popular(account.handle, None, self.count(account, instant))
        return self._popular(account.handle, instant, 0)

    def _rank(self, handle: str, instant: int | None, still_count: int) -> list[int]:
        """``instant`` None: a still account's ``still_count`` videos, from its ``as_of`` on
        (ranking them at one fixed instant listed videos posted after the clock and left out
        newer ones)."""
        account = self.account(handle)
        count = still_count if instant is None else self.count(account, instant)
        first = max(count - RANKED_MOST, 0)  # likes[i] and views[i] are seq first + i's
        likes = cascade.leaves(generate.likes_key(account), account.levels, account.likes_root,
                               first, count)
        views = [generate.views_of(liked, generate.count_noise(account, first + i))
                 for i, liked in enumerate(likes)]
        if account.videos:
            overrides.pin_views(account, first, likes, views)
        if instant is not None:  # only the videos still growing differ from their final views
            for seq in range(max(self.count(account, instant - timeline.GROWTH), first),
                             count):
                created, i = self.create_time(account, seq), seq - first
                if account.videos and overrides.pins_counts(account, seq):
                    # as ``counts`` shows them
                    views[i] = timeline.pinned_at(account, created, views[i], instant)
                else:  # as ``counts`` makes them
                    views[i] = generate.views_of(
                        timeline.likes_at(account, created, likes[i], instant),
                        generate.count_noise(account, seq))
        order = sorted(range(len(views)), key=lambda i: (-views[i], -i))
        return [first + i for i in order] if first else order

    # look-ups -------------------------------------------------------------------

    def find_video(self, account: Account, video_id: str, instant: int) -> Video | None:
        """The account's video with this id, posted by ``instant``: found from the time its
        id embeds (or a fixture's pinned id), never by a scan. A scenario's private or
        missing copy of an account has the same videos, so the handle is the key."""
        return self._found(account.handle, video_id, instant)

    def _find_video(self, handle: str, video_id: str, instant: int) -> Video | None:
        account = self.account(handle)
        count = self.count(account, instant)
        pinned = {vid: seq for seq, vid in account.video_ids}
        if video_id in pinned:
            seq = pinned[video_id]
        elif video_id.isascii() and video_id.isdigit() and len(video_id) <= 20:
            seq = self.count(account, (int(video_id) >> 32) + 5) - 1
        else:
            return None
        if not 0 <= seq < count:
            return None
        video = self.video(account, seq)
        return video if video.id == video_id else None

    def clashing_video_id(self, instant: int) -> str | None:
        """A fixture's pinned video id that another fixture account has a video of by
        ``instant``, as a message naming both, else None: the gateway keeps records by video
        id and a bare id finds one account, so either account's video could be answered."""
        handles = [h for h in self.fixtures.accounts if self.account(h).exists]
        for handle in handles:
            for _, video_id in self.account(handle).video_ids:
                for other in handles:
                    if other != handle and self.find_video(self.account(other), video_id,
                                                           instant):
                        return (f"fixture account {handle!r} field 'video_ids': {video_id} is "
                                f"also a video of {other!r}; a video id names one video")
        return None

    def resolve(self, link: VideoLink, instant: int) -> tuple[str, str] | None:
        """(handle, video id) a parsed URL names, or None when nothing is known of it.

        An id alone does not name its account, and the world keeps no record of what it
        was asked before (every process, every request order must answer alike): a bare id
        is looked for among the fixture accounts (a vendor page's examples among them)."""
        if link.handle and link.video_id:
            return link.handle, link.video_id
        if link.video_id:
            for handle in self.fixtures.accounts:
                account = self.account(handle)
                if account.exists and self.find_video(account, link.video_id, instant):
                    return handle, link.video_id
            return None
        token = link.short_code or ""
        # No body shows a share link, so every code resolves alike: always to one video.
        number = generate.draws(self.seed, "share", token)
        handle = f"user{(number[0] << 32 | number[1]) % 10**10:010d}"
        account = self.account(handle)
        settled = self.count(account, timeline.EPOCH)  # not the instant: a link names one video
        if not account.exists or settled == 0:
            return None
        seq = number[2] % settled
        return (handle, self.video(account, seq).id) if seq < self.count(account, instant) else None
