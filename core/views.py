"""What every browser page shares: the page decorator (setup first, then login, then administrators)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render


def first_user_open() -> bool:
    """Whether no user exists yet, so the first-user setup is still open."""
    return not get_user_model().objects.exists()


def page(*, administrators: bool = False):
    """Decorate a page view: setup first, then login, then (optionally) administrators only."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if first_user_open():
                return redirect("setup")
            if not request.user.is_authenticated:
                return redirect(f"/login?{urlencode({'next': request.get_full_path()})}")
            if administrators and not request.user.administrator_role:
                return HttpResponseForbidden(render(request, "403.html").content)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
