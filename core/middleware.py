"""Middleware: query strings the database cannot store refused, Origin checks for cookie-authenticated API writes,
and sliding session expiry."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.security import origin_matches

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class QueryStringMiddleware:
    """Refuse a query string holding a NUL character (`?find=a%00b`) with a 400 naming the parameter.

    No text column can hold NUL on PostgreSQL (a filter with one fails in the database), and no name, id or search
    term needs it. Bodies are covered by the serializers (DRF's CharField refuses NUL); this covers every view that
    reads `request.GET` itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                name = key.replace("\x00", "")
                message = "contains a NUL character"
                if request.path.startswith("/api/"):
                    # Virtool's validation error, as any other refused query parameter: the field is named.
                    record = {"in": "query string", "loc": [name], "msg": message, "type": "value_error.str.nul"}
                    return JsonResponse([record], status=400, safe=False)
                return HttpResponse(
                    f"Query parameter {name!r} {message}", status=400, content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)


class OriginCheckMiddleware:
    """Refuse cross-site writes to /api made with the browser's cookies.

    Virtool's client sends no CSRF token. Browsers always send `Origin` (or at least `Referer`) on writes, so a
    write whose origin is not this server (scheme, host and port) nor a trusted origin is refused. Only a request
    that authenticates with HTTP Basic (an API key) is not checked: the session authentication then steps aside
    (`core.authentication`), so such a request is the key's or refused (401), never the cookie's. Any other
    `Authorization` header (`Bearer x`) changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in UNSAFE_METHODS
            and request.path.startswith("/api/")
            and not uses_basic_authentication(request)
            and not self._same_origin(request)
        ):
            return JsonResponse({"id": "insufficient_rights", "message": "Cross-origin request refused"}, status=403)
        return self.get_response(request)

    @staticmethod
    def _same_origin(request: HttpRequest) -> bool:
        origin: str | None = request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_REFERER")
        if not origin:  # not a browser: nothing ambient to protect
            return True
        return origin_matches(origin, scheme=request.scheme or "http", host=request.get_host())


def uses_basic_authentication(request: HttpRequest) -> bool:
    """Whether the request authenticates with HTTP Basic (a handle and an API key)."""
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    return header.split(" ", 1)[0].lower() == "basic"


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
