"""Users app."""

from __future__ import annotations

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Accounts, groups, permissions and API keys."""

    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from users import receivers, schema  # noqa: F401  (websocket dispatch registrations; OpenAPI scheme)

        nav_register(NavItem("home", "Home", "/"))
        nav_register(NavItem("administration", "Administration", "/administration/users", administrators_only=True))
