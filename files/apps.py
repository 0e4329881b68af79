"""Files app."""

from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    """Uploads, the files folder kept in sync with them, and the watch folder."""

    name = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from files import receivers  # noqa: F401  (registers uploads for websocket dispatch)

        nav_register(NavItem("uploads", "Uploads", "/uploads"))
