"""References app."""

from __future__ import annotations

from django.apps import AppConfig


class ReferencesConfig(AppConfig):
    """References."""

    name = "references"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from references import receivers, workflows  # noqa: F401  (dispatch registrations; workflows)

        nav_register(NavItem("references", "References", "/refs"), before="jobs")
