"""Account pages: first-user setup, login, password reset, home, own account and administration."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.views import first_user_open, page


def setup(request: HttpRequest) -> HttpResponse:
    """First-user setup; once a user exists it sends people to the login page."""
    if not first_user_open():
        return redirect("login")
    return render(request, "users/setup.html")


def login_page(request: HttpRequest) -> HttpResponse:
    """Login form; while no user exists the setup page is shown instead."""
    if first_user_open():
        return redirect("setup")
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "users/login.html")


def reset_page(request: HttpRequest) -> HttpResponse:
    """Forced password reset, reached from the login form."""
    return render(request, "users/reset.html")


@page()
def home(request: HttpRequest) -> HttpResponse:
    """The landing page after login."""
    return render(request, "users/home.html", {"nav_active": "home"})


@page()
def account(request: HttpRequest) -> HttpResponse:
    """Own account: email, password, display settings and API keys."""
    return render(request, "users/account.html", {"nav_active": "account"})


@page(administrators=True)
def administration(request: HttpRequest, section: str = "users") -> HttpResponse:
    """Administration: users, groups and instance settings."""
    context = {"nav_active": "administration", "section": section}
    return render(request, f"users/administration/{section}.html", context)
