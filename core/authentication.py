"""API authentication for browser sessions, protected by an Origin check instead of a CSRF token."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from core.middleware import uses_basic_authentication


class OriginCheckedSessionAuthentication(SessionAuthentication):
    """Session cookies without a CSRF token: `core.middleware.OriginCheckMiddleware` refuses cross-site writes.

    Virtool's web client sends no CSRF token, so cookie-authenticated writes are checked by Origin instead. A request
    with HTTP Basic credentials is left to the API key authentication (its key, or a 401), never taken as the
    cookie's: the Origin check skips exactly those.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        if uses_basic_authentication(request._request):
            return None
        return super().authenticate(request)

    def enforce_csrf(self, request: Request) -> None:
        return

    def authenticate_header(self, request: Request) -> str:
        # A 401 must carry a challenge; a Basic one would make browsers pop up a password dialog.
        return 'Session realm="virtool"'
