"""Middleware: Origin checks for cookie-authenticated API writes, and sliding session expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class OriginCheckMiddleware:
    """Refuse cross-site writes to /api made with the browser's cookies.

    Virtool's client sends no CSRF token. Browsers always send `Origin` (or at least `Referer`) on writes,
    so a write whose origin is not this host, nor a trusted origin, is refused. Requests that authenticate
    with an `Authorization` header carry no ambient credentials and are not checked.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in UNSAFE_METHODS
            and request.path.startswith("/api/")
            and "HTTP_AUTHORIZATION" not in request.META
            and not self._same_origin(request)
        ):
            return JsonResponse({"id": "insufficient_rights", "message": "Cross-origin request refused"}, status=403)
        return self.get_response(request)

    @staticmethod
    def _same_origin(request: HttpRequest) -> bool:
        origin: str | None = request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_REFERER")
        if not origin:
            return True
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
            return True
        return parts.netloc == request.get_host()


class SessionActivityMiddleware:
    """Slide the expiry of sessions that were not 'remembered': they end after a period of inactivity.

    The session is re-saved at most once a minute, so an active user is never logged out mid-work and the
    database is not written on every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.get("remember"):
            now = int(time.time())
            if now - session.get("touched", 0) > 60:
                session["touched"] = now
                session.set_expiry(settings.SESSION_IDLE_SECONDS)
        return response
