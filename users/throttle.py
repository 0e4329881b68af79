"""Login throttling with django-axes: who a login attempt is counted against, and the lockout answer.

Failed logins are counted per handle and per client address separately (`AXES_LOCKOUT_PARAMETERS`); after
`VIRTOOL_LOGIN_FAILURE_LIMIT` of either, further logins (even with the right password) answer 429 until the lockout
expires `VIRTOOL_LOGIN_LOCKOUT_SECONDS` later. A successful login clears its handle's and address's failures.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """Failed logins (per handle, per address) before the lockout: VIRTOOL_LOGIN_FAILURE_LIMIT."""
    return int(settings.VIRTOOL_LOGIN_FAILURE_LIMIT)


def cool_off(request: HttpRequest | None) -> timedelta:
    """How long a lockout lasts: VIRTOOL_LOGIN_LOCKOUT_SECONDS."""
    return timedelta(seconds=settings.VIRTOOL_LOGIN_LOCKOUT_SECONDS)


def login_handle(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The handle an attempt is counted against: the API's `handle`, or `username` (the Django admin's form);
    handles are case-insensitive, so is the count."""
    credentials = credentials or {}
    handle = credentials.get("handle") or credentials.get("username")
    if handle is None:
        handle = request.POST.get("username")
    return str(handle).strip().lower() if handle else None


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind `VIRTOOL_PROXY_COUNT` trusted reverse proxies, the entry
    of `X-Forwarded-For` the nearest of them added for the client (what a client sends itself is never taken)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.VIRTOOL_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def lockout_message() -> str:
    """What a locked-out client is told."""
    minutes = max(1, math.ceil(settings.VIRTOOL_LOGIN_LOCKOUT_SECONDS / 60))
    return (
        f"Too many failed logins for this user or from this address: try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}"
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 with Virtool's JSON error under /api (the login page reads it there); plain text elsewhere (the
    Django admin's login form); `Retry-After` either way."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"id": "too_many_requests", "message": lockout_message()}, status=429)
    else:
        response = HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(settings.VIRTOOL_LOGIN_LOCKOUT_SECONDS))
    return response
