"""The TikTok API on AWS API Gateway (stage ``dev/tiktok``): GET routes with ``x-api-key``,
API Gateway's own ``{"message": ...}`` errors and ``x-amzn-*`` headers, and a "database" of
user and video records stored on first fetch and returned unchanged after."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from mockserver.clock import iso
from mockserver.contract import ContractViolation, Violation
from mockserver.errors import MockError
from mockserver.pipeline.call import Call
from mockserver.store import StoreUnavailable
from mockserver.vendors import common
from mockserver.vendors.base import Headers, RawHeaders, Route, Vendor
from mockserver.world import Account, Counts, Profile, Video

KEY = re.compile(r"[A-Za-z0-9_-]{20,128}")
USERS, VIDEOS = "gateway_users", "gateway_videos"
#: records of each table the memory store holds (see Store.put_new_kept): about 1.6 KB of
#: the process each, and a load test may ask for a million distinct handles
KEPT_RECORDS = 10_000
# kind -> (status, message, x-amzn-ErrorType or None for an answer of the backend itself)
ERRORS: dict[str, tuple[int, str, str | None]] = {
    "unauthorized": (403, "Forbidden", "ForbiddenException"),
    "forbidden": (403, "Forbidden", "ForbiddenException"),
    "missing_auth_token": (403, "Missing Authentication Token",
                           "MissingAuthenticationTokenException"),
    "rate_limited": (429, "Too Many Requests", "TooManyRequestsException"),
    "insufficient_credits": (429, "Limit Exceeded", "LimitExceededException"),
    "backend_error": (502, "Internal server error", "InternalServerErrorException"),
    "timeout": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "user_not_found": (404, "User not found", None),  # inferred
    "not_found": (404, "User not found", None),
    "video_not_found": (404, "Video not found", None),  # inferred
    "mock_usage": (400, "", "BadRequestException"),
    # API Gateway's answer to a payload over its limit (the mock's limit is smaller)
    "body_too_large": (413, "Request Too Long", "RequestTooLongException"),
}
ERROR_SCENARIOS = {"forbidden": "forbidden", "missing_auth_token": "missing_auth_token",
                   "throttled": "rate_limited", "quota_exceeded": "insufficient_credits",
                   "backend_error": "backend_error", "timeout": "timeout"}
# where each table's record says when it was made (see Gateway._stored)
_MADE_AT: dict[str, Callable[[Mapping[str, Any]], str]] = {
    USERS: lambda record: record["user"]["createdAt"],
    VIDEOS: lambda record: record["music"]["createdAt"]}
#: the clock's instant as a record's stamp: a request reads it once per stored record (a
#: video's twice), and a frozen clock, as tests and benchmarks keep it, on every request
_stamp = lru_cache(maxsize=16)(iso)
# the page's order of the stats fields
_USER_STATS = ("diggCount", "followerCount", "followingCount", "friendCount", "heartCount",
               "heart", "videoCount")
_VIDEO_STATS = ("diggCount", "collectCount", "commentCount", "playCount", "repostCount",
                "shareCount")


class Gateway(Vendor):
    name = "gateway"
    title = "TikTok API (API Gateway)"
    error_scenarios = ERROR_SCENARIOS
    rate_limited = True
    sends_retry_after = False  # API Gateway's 429s carry no Retry-After
    stores_records = True  # a user or video record, the first time it is served
    request_headers = ("x-api-key",)
    prefix = "/dev/"

    def __init__(self) -> None:
        self.routes = (
            Route(self.name, "user", "GET", "/dev/tiktok/user/{userHandle}", 1, self.user,
                  "Fetch a TikTok user by handle (stored on first fetch)"),
            Route(self.name, "video", "GET", "/dev/tiktok/video/{userHandle}/{videoId}", 1,
                  self.video, "Fetch a TikTok video by author handle and id (stored on first "
                              "fetch)"),
        )

    # request side ---------------------------------------------------------------

    def off_route(self, call: Call) -> MockError:
        # API Gateway answers any method or resource the stage does not define (HEAD included)
        # this way, before it looks at the key
        return MockError("missing_auth_token")

    def authenticate(self, call: Call) -> str:
        key = call.headers.get("x-api-key", "")
        if not KEY.fullmatch(key):
            raise MockError("unauthorized")
        return key

    def reject(self, call: Call, document: Mapping[str, Any], violations: Sequence[Violation]
               ) -> MockError:
        paths = {v.path for v in violations}
        if any(p.startswith("$.headers") for p in paths):
            return MockError("unauthorized")
        if "$.path.videoId" in paths:
            return MockError("video_not_found")
        return MockError("user_not_found")

    def parse(self, call: Call, document: Mapping[str, Any]) -> None:
        path = document["path"]
        call.handle = call.mock.world.normalise(path["userHandle"])
        call.video_id = path.get("videoId")
        if not call.mock.world.well_formed(call.handle):
            raise MockError("user_not_found")

    # answers -------------------------------------------------------------------

    def error(self, call: Call, error: MockError) -> tuple[int, dict[str, Any], Headers]:
        status, message, error_type = ERRORS.get(error.kind, ERRORS["backend_error"])
        headers: Headers = [("x-amzn-errortype", error_type)] if error_type else []
        return status, {"message": message or error.detail}, headers

    def headers(self, call: Call) -> RawHeaders:
        # API Gateway's own id: 11 bytes of the request's digest that its UUID does not use
        apigw_id = base64.b64encode(call.request_digest[16:27])
        return [(b"x-amzn-requestid", call.request_id.encode()), (b"x-amz-apigw-id", apigw_id)]

    # the stored records -------------------------------------------------------------

    @staticmethod
    def _stored(call: Call, table: str, key: str, make: Callable[[str], dict[str, Any]]
                ) -> dict[str, Any]:
        """The record stored under ``key``, made and stored now if there is none. A record
        altered by a scenario (private / not found) is made fresh and never stored.

        A record made after the clock's instant, to the millisecond its ``createdAt``
        shows (the clock was set back), had not been made yet: it is dropped and the
        record of this instant stored, so the database never shows a ``createdAt`` after
        the clock. Removing it names a new epoch in a
        shared store, so every process drops what it kept of it. The clock is read again
        for that, not the request's opening instant: on a running clock a request that
        opened a few milliseconds before another (or slept a latency) would otherwise drop
        the record the other had stored, and served, a moment later."""
        if call.override is not None:
            return make(_stamp(call.now))
        store = call.mock.store
        record = store.get_settled(table, key)
        if record is not None and store.shared:  # others may write there: see _rendered
            call.stored_read = True
        # stamps print alike, so they sort as text
        if record is not None and _made_at(table, record) > _stamp(call.now) \
                and _made_at(table, record) > _stamp(call.mock.clock.now()):
            store.delete(table, key)
            record = None
        if record is None:  # of processes storing it at once, the first one's record stays
            made = make(_stamp(call.now))
            record = store.put_new_kept(table, key, made, KEPT_RECORDS)
            if record is not made and store.shared:
                call.stored_read = True
        return record

    def _account(self, call: Call) -> Account:
        account = call.account()
        if not account.exists:
            raise MockError("user_not_found")
        return account

    def _user(self, call: Call, account: Account) -> dict[str, Any]:
        instant = call.instant
        return self._stored(call, USERS, account.handle, lambda stamp: user_record(
            account, call.mock.world.profile(account, instant), common.day_of(instant), stamp))

    # renderers -----------------------------------------------------------------

    def user(self, call: Call) -> bytes:
        return _rendered(call, self._render_user)

    def _render_user(self, call: Call) -> bytes:
        record = self._user(call, self._account(call))
        user = record["user"]
        return call.respond((user["id"], user["createdAt"]), lambda: record)

    def video(self, call: Call) -> bytes:
        return _rendered(call, self._render_video)

    def _render_video(self, call: Call) -> bytes:
        account = self._account(call)
        found = None if account.private else call.video(account)
        if found is None:
            raise MockError("video_not_found")
        author = self._user(call, account)
        # the counts are read only when the record is made: a stored one keeps its own
        record = self._stored(call, VIDEOS, found.id, lambda stamp: video_record(
            found, call.mock.world.counts(account, found, call.instant), author, stamp))
        memo = (found.id, record["music"]["createdAt"], record["author"]["createdAt"])
        return call.respond(memo, lambda: record)


def _made_at(table: str, record: Any) -> str:
    """When a stored record was made (see _MADE_AT); ValueError if it shows no such stamp
    (a record the mock did not write)."""
    try:
        made = _MADE_AT[table](record)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"no stamp ({exc!r})") from None
    if not isinstance(made, str):
        raise ValueError(f"a stamp {made!r:.40} that is not text")
    return made


def _rendered(call: Call, render: Callable[[Call], bytes]) -> bytes:
    """``render``'s body; where it breaks on a record read from a shared store (one of
    another shape than the mock stores: its fields missing, of other types, or breaking
    the route's schema), the mock's 503 that says so, as for other outside writes, not a
    500. A record this request made breaks nothing: an error then is the mock's own."""
    try:
        return render(call)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError,
            ContractViolation) as exc:
        if not call.stored_read:
            raise
        problem = exc.violations[:1] if isinstance(exc, ContractViolation) else repr(exc)
        raise StoreUnavailable(f"the mock's store holds what the mock did not write: a stored "
                               f"record of the route {call.route.name} ({problem})") from None


def user_record(account: Account, profile: Profile, day: int, stamp: str) -> dict[str, Any]:
    stats = common.web_user_stats(profile)
    return {
        "user": {
            "id": account.user_id, "nickname": account.nickname,
            "id_dup": account.user_id,  # inferred: a duplicated id column
            "secUid": account.sec_uid, "profileBio": account.signature,
            "profilePictureUrl": common.avatar(account, day, "large"),
            "isVerified": account.verified, "isPrivateAccount": account.private,
            "createdAt": stamp, "updatedAt": stamp,
        },
        "stats": {name: stats[name] for name in _USER_STATS},
    }


def video_record(video: Video, counts: Counts, author: Mapping[str, Any], stamp: str
                 ) -> dict[str, Any]:
    music = video.music
    stats = {**common.web_video_stats(counts), "repostCount": counts.reposts}
    return {
        "id": video.id, "description": video.caption, "createTime": str(video.create_time),
        "duration": video.duration,
        "music": {"id": music.id, "title": music.title, "authorName": music.author,
                  "album": music.album, "duration": music.duration, "original": music.original,
                  "private": music.private, "createdAt": stamp, "updatedAt": stamp},
        "stats": {name: stats[name] for name in _VIDEO_STATS},
        "author": author["user"],
        "authorStats": author["stats"],
    }
