"""DumplingAI: three POST routes with Bearer keys, ``{"error": ...}`` bodies, rate headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.clock import iso
from mockserver.contract import Payload, Violation
from mockserver.errors import MockError
from mockserver.pipeline.call import Call
from mockserver.pipeline.ratelimit import Quota
from mockserver.vendors import common
from mockserver.vendors.base import Headers, RawHeaders, Route, Vendor
from mockserver.world import Account, Counts, Profile, Video
from mockserver.world.links import parse_video_url

PAGE_SIZE = 30
#: What the rate headers say when no limit applies (``--rate-limit 0``): a ceiling so high
#: that no client backs off, and one that never counts down (inferred).
NO_LIMIT_SHOWN = 1_000_000
_NO_LIMIT_HEADERS = [(b"x-ratelimit-limit", b"%d" % NO_LIMIT_SHOWN),
                     (b"x-ratelimit-remaining", b"%d" % NO_LIMIT_SHOWN)]
ERROR_SCENARIOS = {name: name for name in (
    "service_rejected_input", "service_reported_issue", "unauthorized", "insufficient_credits",
    "service_not_configured", "service_auth_failed", "internal_error", "upstream_unavailable",
    "upstream_invalid_data", "upstream_fetch_error", "upstream_rate_limited")}
# An undefined path or method under /api/ (inferred: the pages show none)
OFF_ROUTE = {"no_route": (404, "Not Found"), "method_not_allowed": (405, "Method Not Allowed")}
# Optional body fields: what each must be, in the words of the page's own 400 message
OPTIONAL_FIELDS = {"maxCursor": "a string of digits", "trim": "a boolean",
                   "requestSource": "a string"}
# What each route fetches, in the words its messages use.
_SERVICE = {"profile": "profile", "videos": "video", "video": "video"}
_SUBJECT = {"profile": "TikTok profile", "videos": "TikTok profile videos",
            "video": "TikTok video"}


def _message(route: str, kind: str, call: Any, detail: str) -> tuple[int, str]:
    service = _SERVICE[route]
    param = "url" if route == "video" else "handle"
    if kind == "not_found":
        if route == "video":
            return 404, f"TikTok video not found for URL: {call.params.get('url', '')}"
        return 404, f"TikTok profile not found for handle: {call.handle or ''}"
    if kind == "internal_error":
        return 500, (f"An unexpected server error occurred while fetching the {_SUBJECT[route]}: "
                     f"{detail or 'Unexpected error'}")
    if kind == "service_rejected_input":
        target = "the provided URL" if route == "video" else "the handle"
        return 400, f"The {service} service could not process {target}."
    if kind == "upstream_rate_limited":
        return 503, ("Rate limit exceeded with the profile service. Please try again later."
                     if route == "profile" else "Rate limit exceeded. Please try again later.")
    if kind == "upstream_invalid_data":
        shape = "structure" if route == "video" else "format"
        return 502, f"Received invalid data {shape} from {service} service."
    fixed = {
        "bad_json": (400, "Invalid JSON in request body"),
        "missing_param": (400, f"'{param}' parameter is required and must be a non-empty string."),
        "invalid_url": (400, "Invalid TikTok video URL format."),
        "service_reported_issue": (400, f"The {service} service reported an issue."),
        "unauthorized": (401, "API key is invalid or missing."),
        "insufficient_credits": (403, "Insufficient credits. Please top up your account."),
        "service_not_configured": (500, "Service not configured. Please contact support."),
        "service_auth_failed": (500, "Service authentication failed. Please contact support."),
        "upstream_unavailable": (502, f"The {service} service is currently unavailable."),
        "upstream_fetch_error": (502, f"Error fetching {service} data from the upstream service."),
        "rate_limited": (429, "Rate limit exceeded. Please try again later."),
        "bad_field": (400, f"'{detail}' parameter must be {OPTIONAL_FIELDS.get(detail, '')}."),
        "mock_usage": (400, detail),
        "body_too_large": (413, "Request body too large."),  # inferred
    }
    return fixed[kind]


class Dumpling(Vendor):
    name = "dumpling"
    title = "DumplingAI"
    error_scenarios = ERROR_SCENARIOS
    request_headers = ("authorization", "content-type")
    prefix = "/api/"

    def __init__(self) -> None:
        self.routes = (
            Route(self.name, "profile", "POST", "/api/v1/get-tiktok-profile", 2, self.profile,
                  "Fetch a TikTok user's public profile"),
            Route(self.name, "videos", "POST", "/api/v1/get-tiktok-profile-videos", 1,
                  self.videos, "List a TikTok user's videos, newest first, by cursor"),
            Route(self.name, "video", "POST", "/api/v1/get-tiktok-video", 1, self.video,
                  "Fetch one TikTok video by URL"),
        )

    # request side ---------------------------------------------------------------

    def authenticate(self, call: Call) -> str:
        scheme, _, token = call.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise MockError("unauthorized")
        return token

    def request_document(self, call: Call) -> dict[str, Any]:
        document = super().request_document(call)
        document["body"] = common.json_object(call.body)
        return document

    def reject(self, call: Call, document: Mapping[str, Any], violations: Sequence[Violation]
               ) -> MockError:
        """The required field first (missing or not a non-empty string, else outside its
        pattern), then an optional field of the wrong type or form, named."""
        if any(v.path.startswith("$.headers.authorization") for v in violations):
            return MockError("unauthorized")
        param = "url" if call.route.name == "video" else "handle"
        body = document.get("body")
        value = body.get(param) if isinstance(body, dict) else None
        if any(v.path in ("$.body", f"$.body.{param}") for v in violations):
            if not isinstance(value, str) or not value:
                return MockError("missing_param")
            if param == "handle":
                call.handle = value
            return MockError("invalid_url" if param == "url" else "service_rejected_input")
        for violation in violations:
            field = violation.path.removeprefix("$.body.")
            if field in OPTIONAL_FIELDS:
                call.notes.append(f"body field {field!r} must be {OPTIONAL_FIELDS[field]}, "
                                  f"not {common.json_text(body[field])}: answered 400")
                return MockError("bad_field", field)
        return MockError("service_rejected_input", violations[0].message)

    def parse(self, call: Call, document: Mapping[str, Any]) -> None:
        body = dict(document["body"])
        for field in [name for name, value in body.items() if value is None]:
            del body[field]  # the required field is never null here: the schema refused it
            call.notes.append(f"body field {field!r} is null: treated as absent")
        call.params = body
        schema = call.mock.enforcer.schemas.documents[call.route.request_schema]
        call.notes += common.undocumented_fields(
            body, schema["properties"]["body"].get("properties", {}))
        if call.route.name == "video":
            self._parse_url(call, body["url"])
            return
        # the schema's pattern admits only well-formed handles, whole (nothing to strip)
        call.handle = body["handle"].lower()
        if not call.mock.world.well_formed(call.handle):
            raise MockError("service_rejected_input")
        if call.route.name == "videos":
            # the schema admits ASCII digits only ([0-9], not str.isdigit(), which also
            # passes "²" and "٣"), so int() reads exactly what the client sent
            call.params["max_cursor"] = int(body.get("maxCursor", "") or "0")
            call.params["trim"] = body.get("trim", False)

    def _parse_url(self, call: Call, url: str) -> None:
        link = parse_video_url(url)
        if link is None:
            raise MockError("invalid_url")
        # a link naming its account resolves alike at every instant; others may not
        call.reparse = not (link.handle and link.video_id)
        resolved = call.mock.world.resolve(link, call.instant)
        if resolved is None:
            raise MockError("not_found")
        call.handle, call.video_id = resolved

    # answers -------------------------------------------------------------------

    def error(self, call: Call, error: MockError) -> tuple[int, dict[str, Any], Headers]:
        if error.kind in OFF_ROUTE:
            status, message = OFF_ROUTE[error.kind]
            return status, {"error": message}, self.allow_header(error)
        status, message = _message(call.route.name, error.kind, call, error.detail)
        return status, {"error": message}, []

    def headers(self, call: Call) -> RawHeaders:
        """The documented rate headers on every answer, errors included. An answer given
        before a key is recognised (401, an undefined route) shows the default limit with
        nothing counted; with limits off, a ceiling no client waits for."""
        quota = call.quota
        if quota is None:
            default = call.mock.keys.default_rate_limit
            quota = Quota(default, default)
        if not quota.limit:
            return _NO_LIMIT_HEADERS
        return [(b"x-ratelimit-limit", b"%d" % quota.limit),
                (b"x-ratelimit-remaining", b"%d" % quota.remaining)]

    def store_lost_headers(self, call: Call) -> RawHeaders:
        """None: the rate headers would show a window the mock could not read or count
        (the default limit with nothing counted, or a count the lost step never made)."""
        return []

    # renderers -----------------------------------------------------------------

    def profile(self, call: Call) -> bytes:
        account = call.account()
        if not account.exists:
            raise MockError("not_found")
        instant = call.instant
        profile = call.mock.world.profile(account, instant)
        day = common.day_of(instant)
        return call.respond((account.handle, profile, day),
                            lambda: render_profile(account, profile, day))

    def videos(self, call: Call) -> Payload:
        account = call.account()
        if not account.exists:
            raise MockError("not_found")
        world, instant = call.mock.world, call.instant
        cursor = call.params["max_cursor"]
        below = None if cursor == 0 else world.posted_before(account, instant, cursor)
        seqs, has_more = ([], False) if account.private else world.latest(
            account, instant, below, PAGE_SIZE)
        first = 0 if below is None else 1  # what coverage counts: first, later, last
        call.page = (first, first + len(seqs), first + len(seqs) + int(has_more))
        trim = call.params["trim"]
        day = common.day_of(instant)

        def build() -> dict[str, Any]:
            page = world.videos(account, seqs)
            listed = [v.create_time * 1000 for v in page if not v.pinned] or [0]
            return {
                "aweme_list": [aweme(v, world.counts(account, v, instant), account, day, trim)
                               for v in page],
                "max_cursor": str(min(listed)),
                "min_cursor": str(max(listed)),
                "has_more": int(has_more),
            }
        # a still account changes only its links from its as_of on (before it, its videos grow)
        moment = day if account.still and instant >= account.reference else instant
        return call.respond((account.handle, moment, below, trim), build,
                            tail={"extra": {"now": int(call.now * 1000)}})

    def video(self, call: Call) -> bytes:
        account = call.account()
        found = call.video(account) if account.exists and not account.private else None
        if found is None:
            raise MockError("not_found")
        counts = call.mock.world.counts(account, found, call.instant)
        day = common.day_of(call.instant)
        return call.respond((found.handle, found.id, counts, day),
                            lambda: render_video(found, counts, account, day))


def render_profile(account: Account, profile: Profile, day: int) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": account.user_id, "shortId": account.short_id, "uniqueId": account.handle,
        "nickname": account.nickname,
        "avatarLarger": common.avatar(account, day, "large"),
        "avatarMedium": common.avatar(account, day, "medium"),
        "avatarThumb": common.avatar(account, day, "thumb"),
        "signature": account.signature, "createTime": account.created,
        "verified": account.verified, "secUid": account.sec_uid, "ftc": False, "relation": 0,
        "openFavorite": account.open_favorite,
    }
    if account.bio_link:
        user["bioLink"] = {"link": account.bio_link, "risk": 0}
    user.update({
        "commentSetting": account.comment_setting,
        "commerceUserInfo": {"commerceUser": account.commerce_user},
        "duetSetting": account.duet_setting, "stitchSetting": account.stitch_setting,
        "privateAccount": account.private, "secret": account.private, "isADVirtual": False,
        "roomId": "", "uniqueIdModifyTime": 0, "ttSeller": account.seller,
        "region": account.region, "downloadSetting": account.download_setting,
        "profileTab": {"showMusicTab": False, "showQuestionTab": False,
                       "showPlayListTab": account.show_playlist_tab},
        "followingVisibility": account.following_visibility, "recommendReason": "",
        "nowInvitationCardUrl": "", "nickNameModifyTime": 0,
        "isEmbedBanned": account.embed_banned, "canExpPlaylist": account.show_playlist_tab,
        "profileEmbedPermission": account.embed_permission, "language": account.language,
        "eventList": [], "suggestAccountBind": False, "isOrganization": int(account.organization),
    })
    return {
        "user": user,
        "stats": common.web_user_stats(profile),
        "itemList": [],
    }


def aweme(video: Video, counts: Counts, account: Account, day: int, trim: bool
          ) -> dict[str, Any]:
    """An item of ``aweme_list``: the page's trimmed fields, or TikTok's app-API shape
    (durations in seconds, as the page shows them)."""
    full = not trim
    item: dict[str, Any] = {
        "aweme_id": video.id, "desc": video.caption, "create_time": video.create_time,
        "statistics": common.app_statistics(counts, video, full),
        "video": common.app_video(video, day, full),
        "author": common.app_author(account, day, full),
    }
    if trim:
        return item
    item["region"] = video.region
    item["share_url"] = video.web_url + "?is_from_webapp=1&sender_device=pc"
    item["is_top"] = int(video.pinned)
    item["is_ads"] = video.is_ad
    item["music"] = common.app_music(video, day)
    item["text_extra"] = common.app_text_extra(video)
    item["cha_list"] = common.app_challenges(video)
    return item


def render_video(video: Video, counts: Counts, account: Account, day: int) -> dict[str, Any]:
    music = video.music
    links = common.media(video, day)
    return {
        "id": video.id, "desc": video.caption, "createTime": video.create_time,
        "createTimeISO": iso(video.create_time),
        "video": {
            "id": video.stream_id or video.id, "height": video.height, "width": video.width,
            "duration": video.duration, "ratio": common.ratio(video),
            "cover": links.cover, "downloadAddr": links.download, "playAddr": links.play,
            "format": "mp4", "bitrate": video.bitrate,
        },
        "author": {
            "id": account.user_id, "uniqueId": account.handle, "nickname": account.nickname,
            "avatarThumb": common.avatar(account, day, "thumb"),
            "signature": account.signature, "verified": account.verified,
            "privateAccount": account.private,
        },
        "music": {"id": music.id, "title": music.title, "playUrl": music.play_url,
                  "authorName": music.author, "original": music.original,
                  "duration": music.duration},
        "challenges": [{"id": h.id, "title": h.name, "desc": h.description,
                        "coverThumb": common.image(h.cover, day)} for h in video.hashtags],
        "stats": common.web_video_stats(counts),
        "textExtra": common.web_text_extra(video),
        "duetEnabled": account.duet_setting == 0,
        "stitchEnabled": account.stitch_setting == 0,
        "shareEnabled": True,
    }
