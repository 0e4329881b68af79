"""What every browser page shares: the page decorator (setup first, then login, then administrators) and the
error pages, which answer Virtool's JSON errors under /api instead."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from core.api.exceptions import too_big_message

P = ParamSpec("P")
PageView = Callable[Concatenate[HttpRequest, P], HttpResponse]


def first_user_open() -> bool:
    """Whether no user exists yet, so the first-user setup is still open."""
    return not get_user_model().objects.exists()


def page(*, administrators: bool = False) -> Callable[[PageView[P]], PageView[P]]:
    """Decorate a page view: setup first, then login, then (optionally) administrators only."""

    def decorator(view: PageView[P]) -> PageView[P]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if first_user_open():
                return redirect("setup")
            if not request.user.is_authenticated:
                return redirect(f"/login?{urlencode({'next': request.get_full_path()})}")
            if administrators and not request.user.administrator_role:
                return render(request, "403.html", {"administrators_only": True}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _is_api(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: Virtool's `not_found` under /api, the styled page elsewhere."""
    if _is_api(request):
        return JsonResponse({"id": "not_found", "message": "Not found"}, status=404)
    return render(request, "404.html", status=404)


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any method on a path under /api that no route serves: Virtool's JSON 404, also when DEBUG is on (where
    Django would answer its HTML technical page instead of handler404). Exempt from CSRF, so writes get the 404
    and not the HTML 403 of the CSRF check."""
    return not_found(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 (Django's own refusals: a body over the size limit, too many fields): Virtool's JSON under /api."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"id": "payload_too_large", "message": too_big_message()}, status=413)
        return JsonResponse({"id": "bad_request", "message": str(exception or "") or "Bad request"}, status=400)
    return defaults.bad_request(request, exception or SuspiciousOperation())


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: Virtool's `insufficient_rights` under /api, the styled page elsewhere."""
    if _is_api(request):
        return JsonResponse({"id": "insufficient_rights", "message": "Insufficient rights"}, status=403)
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: Virtool's `internal_error` under /api, the styled page elsewhere."""
    if _is_api(request):
        return JsonResponse({"id": "internal_error", "message": "Internal server error"}, status=500)
    # No request context, as Django's own handler: the failure may be in what the context processors need.
    return HttpResponseServerError(loader.get_template("500.html").render())
