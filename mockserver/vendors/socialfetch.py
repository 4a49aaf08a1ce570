"""Social Fetch: GET routes with ``x-api-key: sfk_...``, a ``data``/``meta`` envelope,
``{"error": {code, message, requestId}}`` errors and cursors that name a position in the
listing (digits), so that every cursor of the documented form means a page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.clock import iso
from mockserver.contract import Payload, Violation
from mockserver.errors import MockError
from mockserver.pipeline.call import Call
from mockserver.vendors import common
from mockserver.vendors.base import Headers, RawHeaders, Route, Vendor
from mockserver.world import Account, Counts, Profile, Video

PAGE_SIZE = 30
SORTS = ("latest", "popular")
DEFAULT_SORT = "latest"  # the page leaves the default open; ours is documented
CHECKOUT_URL = "https://socialfetch.dev/billing"  # inferred
RETRY_AFTER = 30
# code -> (status, message); bad_request's message is the detail of what was wrong
CODES = {
    "bad_request": (400, "Invalid request."),
    "unauthorized": (401, "Missing or invalid API key."),
    "insufficient_credits": (402, "Not enough credits for this request."),
    "internal_error": (500, "An unexpected error occurred. Please try again."),
    "lookup_failed": (502, "The TikTok lookup failed upstream. Please try again."),
    "temporarily_unavailable": (503, "The service is temporarily unavailable. "
                                     "Please retry after the Retry-After delay."),
}
# an undefined path or method under /v1/: kind -> (status, code, message); inferred
OFF_ROUTE = {"no_route": (404, "not_found", "No such endpoint."),
             "method_not_allowed": (405, "method_not_allowed", "Method not allowed.")}
# what the pipeline may raise, as a Social Fetch code: a body over the limit too is the
# documented bad_request 400 (its contract has no 413; inferred)
_KINDS = {"bad_json": "bad_request", "mock_usage": "bad_request", "body_too_large": "bad_request"}
# messages for a request its schema rejects, by the offending field
_REJECTIONS = {
    "$.path.handle": "Invalid handle: expected 1 to 64 characters.",
    "$.query.sortBy": "Invalid sortBy: expected one of latest, popular.",
    "$.query.trim": "Invalid trim: expected true or false.",
    "$.query.cursor": "Invalid cursor: expected the data.page.nextCursor of a previous response.",
    "$.query.userId": "Invalid userId: must not be empty.",
    "$.query.region": "Invalid region: must not be empty.",
}
_SETTING = {0: "everyone", 1: "friends", 2: "no_one", 3: "no_one"}


class SocialFetch(Vendor):
    name = "socialfetch"
    title = "Social Fetch"
    error_scenarios = {code: code for code in CODES}
    rate_limited = False  # the page documents no rate limit and no rate-limit error
    key_prefix = "sfk_"
    request_headers = ("x-api-key",)
    prefix = "/v1/"

    def __init__(self) -> None:
        self.routes = (
            Route(self.name, "videos", "GET", "/v1/tiktok/profiles/{handle}/videos", 1,
                  self.videos, "List a TikTok profile's videos (latest or popular), by cursor"),
            Route(self.name, "profile", "GET", "/v1/tiktok/profiles/{handle}", 1, self.profile,
                  "Look up a TikTok profile: found, private or not_found"),
        )

    # request side ---------------------------------------------------------------

    def authenticate(self, call: Call) -> str:
        key = call.headers.get("x-api-key", "").strip()
        if not key.startswith(self.key_prefix) or len(key) <= len(self.key_prefix):
            raise MockError("unauthorized")
        return key

    def request_document(self, call: Call) -> dict[str, Any]:
        document = super().request_document(call)
        query: dict[str, Any] = common.query_params(call.query_string)
        if query.get("trim") in ("true", "false"):
            query["trim"] = query["trim"] == "true"
        if query:
            document["query"] = query
        return document

    def reject(self, call: Call, document: Mapping[str, Any], violations: Sequence[Violation]
               ) -> MockError:
        for violation in violations:
            if violation.path.startswith("$.headers"):
                return MockError("unauthorized")
        for violation in violations:
            if violation.path in _REJECTIONS:
                return MockError("bad_request", _REJECTIONS[violation.path])
        first = violations[0]
        return MockError("bad_request", f"Invalid request: {first.path[2:]}: {first.message}")

    def parse(self, call: Call, document: Mapping[str, Any]) -> None:
        query = document.get("query", {})
        call.params = dict(query)
        schema = call.mock.enforcer.schemas.documents[call.route.request_schema]
        call.notes += common.undocumented_fields(
            query, schema["properties"].get("query", {}).get("properties", {}), "query parameter")
        world = call.mock.world
        call.handle = world.normalise(document["path"]["handle"])
        if call.route.name != "videos":
            return
        sort = query.get("sortBy", DEFAULT_SORT)
        # the schema admits only ASCII digits, which int() reads exactly
        call.params.update(sortBy=sort, trim=query.get("trim", False),
                           position=None if "cursor" not in query else int(query["cursor"]))
        user_id = query.get("userId")
        if user_id is not None and world.well_formed(call.handle):
            account = world.account(call.handle)
            if account.exists and user_id != account.user_id:
                call.notes.append(f"query parameter 'userId' {common.json_text(user_id)} is not "
                                  f"the id of {call.handle}: ignored, the handle decides")

    # answers -------------------------------------------------------------------

    def error(self, call: Call, error: MockError) -> tuple[int, dict[str, Any], Headers]:
        headers: Headers = self.allow_header(error)
        if error.kind in OFF_ROUTE:
            status, code, message = OFF_ROUTE[error.kind]
        else:
            code = error.kind if error.kind in CODES else _KINDS.get(error.kind, "internal_error")
            status, message = CODES[code]
        if code == "bad_request" and error.detail:
            message = error.detail
        body: dict[str, Any] = {"code": code, "message": message,
                                "requestId": "req_" + call.request_id}
        if code == "insufficient_credits":
            body["checkoutUrl"] = CHECKOUT_URL
        if code == "temporarily_unavailable" and error.retry_after is None:
            headers.append(("retry-after", str(RETRY_AFTER)))
        return status, {"error": body}, headers

    def headers(self, call: Call) -> RawHeaders:
        return [(b"x-request-id", b"req_" + call.request_id.encode())]

    def _meta(self, call: Call) -> dict[str, Any]:
        return {"meta": {"requestId": "req_" + call.request_id, "creditsCharged": call.cost,
                         "version": "v1"}}

    @staticmethod
    def _lookup(call: Call) -> Account | None:
        """The account, or None when the handle names nobody (malformed or not existing)."""
        if not call.mock.world.well_formed(call.handle or ""):
            return None
        account = call.account()
        return account if account.exists else None

    # renderers -----------------------------------------------------------------

    def profile(self, call: Call) -> Payload:
        account = self._lookup(call)
        instant = call.instant
        profile = None if account is None else call.mock.world.profile(account, instant)
        day = common.day_of(instant)
        memo = (account.handle if account else None, profile, day)
        return call.respond(memo, lambda: {"data": render_profile(account, profile, day)},
                            tail=self._meta(call))

    def videos(self, call: Call) -> Payload:
        account = self._lookup(call)
        world, instant = call.mock.world, call.instant
        sort, position, trim = call.params["sortBy"], call.params["position"], call.params["trim"]
        listed = account is not None and not account.private
        if not listed:
            seqs, following = [], None
        elif sort == "popular":  # the cursor is the position in the order of views
            offset = position or 0
            order = world.popular(account, instant)
            seqs = order[offset:offset + PAGE_SIZE]
            end = offset + len(seqs)
            following = end if end < len(order) else None
        else:  # the cursor is the seq the next page continues below: new posts never shift it
            seqs, more = world.latest(account, instant, position, PAGE_SIZE)
            lowest = min(set(seqs).difference(account.pinned), default=None)
            following = lowest if more else None
        first = 0 if position is None else 1  # what coverage counts: first, later, last
        call.page = (first, first + len(seqs), first + len(seqs) + (following is not None))
        day = common.day_of(instant)

        def build() -> dict[str, Any]:
            videos = [] if account is None else [
                render_video(v, world.counts(account, v, instant), account, day, trim)
                for v in world.videos(account, seqs)]
            return {"data": {
                "videos": videos,
                "page": {"nextCursor": None if following is None else str(following),
                         "hasMore": following is not None},
            }}
        moment = (day if account is None or account.still and instant >= account.reference
                  else instant)  # a still account grows before its as_of, then only its links
        memo = (account.handle if account else None, sort, position, moment, trim)
        return call.respond(memo, build, tail=self._meta(call))


def render_profile(account: Account | None, profile: Profile | None, day: int
                   ) -> dict[str, Any]:
    if account is None or profile is None:
        return {"lookupStatus": "not_found", "profile": None, "metrics": None}
    avatars = {size: common.avatar(account, day, size) for size in ("large", "medium", "thumb")}
    shown = {
        "platform": "tiktok", "handle": account.handle, "displayName": account.nickname,
        "bio": account.signature, "avatarUrl": avatars["large"], "verified": account.verified,
        "profileUrl": f"https://www.tiktok.com/@{account.handle}",
        "privateAccount": account.private, "platformUserId": account.user_id,
        "secUid": account.sec_uid, "accountCreatedAt": iso(account.created),
        "avatarUrls": avatars,
        "bioLink": {"url": account.bio_link, "riskLevel": 0} if account.bio_link else None,
        "language": account.language, "isCommerceUser": account.commerce_user,
        "isSeller": account.seller, "openFavorite": account.open_favorite,
        "isAdVirtual": False, "isEmbedBanned": account.embed_banned,
        "canExpandPlaylist": account.show_playlist_tab,
        "profileEmbedPermission": account.embed_permission,
        "followingVisibility": account.following_visibility, "roomId": None,
        "contentSettings": {
            "comment": _SETTING[account.comment_setting],
            "duet": _SETTING[account.duet_setting],
            "stitch": _SETTING[account.stitch_setting],
            "download": _SETTING[account.download_setting],
        },
        "profileTabs": {"showMusicTab": False, "showQuestionTab": False,
                        "showPlayListTab": account.show_playlist_tab},
    }
    metrics = {
        "followers": common.display_count(profile.followers), "following": profile.following,
        "likes": common.display_count(profile.hearts), "posts": profile.video_count,
        "friends": common.shown_friends(profile), "diggs": profile.diggs,
    }
    return {"lookupStatus": "private" if account.private else "found",
            "profile": shown, "metrics": metrics}


def render_video(video: Video, counts: Counts, account: Account, day: int, trim: bool
                 ) -> dict[str, Any]:
    urls = common.media(video, day)
    item: dict[str, Any] = {
        "id": video.id, "caption": video.caption, "createdAt": iso(video.create_time),
        "url": video.web_url, "thumbnailUrl": urls.cover,
        "durationMs": video.duration_ms, "pinned": video.pinned, "isAd": video.is_ad,
        "stats": {"views": counts.views, "likes": counts.likes, "comments": counts.comments,
                  "shares": counts.shares, "saves": counts.saves},
        "media": {"downloadUrl": urls.download, "downloadWithoutWatermarkUrl": urls.play},
    }
    if not trim:
        item["details"] = {
            "author": common.app_author(account, day),
            "music": common.app_music(video, day),
            "challenges": common.app_challenges(video),
            "video": common.app_video(video, day, milliseconds=True, urls=urls),
            "statistics": common.app_statistics(counts, video),
            "text_extra": common.app_text_extra(video),
        }
    return item
