"""Who may drive the control plane (``/__mock/*``): the person or test that started the mock,
never a web page they happen to visit.

Without an admin token, a request to ``/__mock/*`` must name a loopback host (or one given
with ``--allowed-host``) in its ``Host``, which defeats DNS rebinding, and must not come from
a cross-site page (``Origin`` / ``Sec-Fetch-Site``). With a token, the token is the guard:
header ``X-Mock-Admin-Token`` on every ``/__mock/*`` request. Vendor routes are never
guarded: clients in other containers reach them under any host name.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/__mock"
TOKEN_HEADER = b"x-mock-admin-token"
#: ``--admin-token none``: no token even when binding beyond loopback (Host checks remain)
NO_TOKEN = "none"
#: open to any caller: what a container's health check or a load balancer asks
UNGUARDED = frozenset({"/__mock/health"})
#: the inspector's static page and assets (no data in them): a browser fetches the assets
#: without the token, which the page then sends on every admin API call it makes
STATIC = "/__mock/ui"


def is_loopback(host: str) -> bool:
    """``localhost`` (and its subdomains), ``127.0.0.0/8`` and ``::1``."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name in a ``Host`` header, without its port."""
    return (urlsplit(f"//{value.strip()}").hostname or "") if value else ""


def admin_token(configured: str | None, bind_host: str) -> tuple[str | None, bool]:
    """(the token ``/__mock/*`` requires or None, whether it was made just now): one is made
    when the mock listens beyond loopback and none was given, as Jupyter does."""
    if configured == NO_TOKEN:
        return None, False
    if configured:
        return configured, False
    if is_loopback(bind_host):
        return None, False
    return secrets.token_urlsafe(24), True


class AdminGuard:
    """ASGI middleware: refuses a ``/__mock/*`` request a web page or a stranger could make."""

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: Iterable[str] = ()
                 ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.allowed = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts if h)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _guarded(scope.get("path", ""), scope["method"]):
            refusal = self.refusal(scope)
            if refusal is not None:
                await _answer(send, *refusal)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, reason) if this control-plane request must be refused, else None."""
        headers = dict(scope["headers"])
        if self.token is not None:
            given = headers.get(TOKEN_HEADER, b"")
            if hmac.compare_digest(given, self.token):
                return None
            return 401, ("/__mock/ needs the admin token in the X-Mock-Admin-Token header "
                         "(the one given with --admin-token or MOCKSERVER_ADMIN_TOKEN, or "
                         "printed at start)")
        if not _over_the_network(scope):
            return None  # in-process (Starlette's TestClient): no web page can be the caller
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host and not self._known(host):
            return 403, (f"/__mock/ answers loopback host names only, not {host[:100]!r}; "
                         "start the mock with --allowed-host NAME or --admin-token TOKEN")
        origin = headers.get(b"origin")
        if origin is not None:
            origin_host = urlsplit(origin.decode("latin-1")).hostname or ""
            if not self._known(origin_host):
                return 403, "/__mock/ refuses requests from web pages of other sites (Origin)"
        if headers.get(b"sec-fetch-site") == b"cross-site":
            return 403, "/__mock/ refuses requests from web pages of other sites"
        return None

    def _known(self, host: str) -> bool:
        return is_loopback(host) or host.lower().rstrip(".") in self.allowed


def _guarded(path: str, method: str) -> bool:
    if not path.startswith(PREFIX) or path in UNGUARDED:
        return False
    return not (method == "GET" and (path == STATIC or path.startswith(STATIC + "/")))


def _over_the_network(scope: Scope) -> bool:
    """Whether the request came over an IP socket (a server puts the peer's address in
    ``client``; an in-process client names itself, e.g. ``testclient``)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return True


async def _answer(send: Send, status: int, reason: str) -> None:
    body = orjson.dumps({"error": reason})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
