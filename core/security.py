"""Same-origin checks for what a browser sends with its cookies: API writes and the /ws handshake.

An origin matches when its scheme, host and port all equal the server's as the browser reached it (the `Host`
header and the request's scheme; a missing port is the scheme's default), or it is listed in
`CSRF_TRUSTED_ORIGINS` (compared the same way).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of `scheme://netloc`, or None when it is not a usable http(s) origin."""
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS or not netloc:
        return None
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme]


def origin_matches(origin: str, *, scheme: str, host: str) -> bool:
    """Whether `origin` (an `Origin` header, or a `Referer` URL) is the server reached as `scheme://host`, or a
    trusted origin. `null` and anything unparsable never match."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    given = _origin_tuple(parts.scheme, parts.netloc.rpartition("@")[2])
    if given is None:
        return False
    if given == _origin_tuple(scheme, host):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted_parts = urlsplit(trusted)
        if given == _origin_tuple(trusted_parts.scheme, trusted_parts.netloc):
            return True
    return False


def websocket_scheme(scope: dict[str, Any]) -> str:
    """The scheme a browser used to reach the socket: `https` for wss, or behind the HTTPS proxy of
    `SECURE_PROXY_SSL_HEADER` (`VIRTOOL_SECURE`); `http` otherwise."""
    if scope.get("scheme") == "wss":
        return "https"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        wanted = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        for key, given in scope.get("headers", []):
            if key.lower() == wanted and given.decode("latin-1").split(",")[0].strip() == value:
                return "https"
    return "http"


class SameOriginWebsocketValidator:
    """ASGI middleware refusing (403) a websocket handshake whose `Origin` is not this server (scheme, host and port,
    from the `Host` header, which must be an allowed host) nor a trusted origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not self.allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

    @staticmethod
    def allowed(scope: dict[str, Any]) -> bool:
        headers = {key.lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}
        host = headers.get(b"host", "")
        origin = headers.get(b"origin", "")
        domain, _ = split_domain_port(host)
        if not host or not origin or not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        return origin_matches(origin, scheme=websocket_scheme(scope), host=host)
