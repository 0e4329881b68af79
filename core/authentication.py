"""API authentication for browser sessions, protected by an Origin check instead of a CSRF token."""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request


class OriginCheckedSessionAuthentication(SessionAuthentication):
    """Session cookies without a CSRF token: `core.middleware.OriginCheckMiddleware` refuses cross-site writes.

    Virtool's web client sends no CSRF token, so cookie-authenticated writes are checked by Origin instead.
    """

    def enforce_csrf(self, request: Request) -> None:
        return

    def authenticate_header(self, request: Request) -> str:
        # A 401 must carry a challenge; a Basic one would make browsers pop up a password dialog.
        return 'Session realm="virtool"'
