"""Jobs app."""

from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Tracked, resource-limited, cancellable work on Celery workers."""

    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from jobs import receivers  # noqa: F401  (registers jobs for websocket dispatch)

        nav_register(NavItem("jobs", "Jobs", "/jobs"))
