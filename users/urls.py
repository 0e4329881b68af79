"""Account page routes: home, setup, login, reset, account and administration."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from users import views

urlpatterns = [
    path("", views.home, name="home"),
    path("setup", views.setup, name="setup"),
    path("login", views.login_page, name="login"),
    path("reset", views.reset_page, name="reset"),
    path("account", views.account, name="account-page"),
    path("administration", RedirectView.as_view(url="/administration/users"), name="administration"),
    path("administration/users", views.administration, {"section": "users"}, name="administration-users"),
    path("administration/groups", views.administration, {"section": "groups"}, name="administration-groups"),
    path("administration/settings", views.administration, {"section": "settings"}, name="administration-settings"),
]
