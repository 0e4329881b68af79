"""References app."""

from __future__ import annotations

from django.apps import AppConfig


class ReferencesConfig(AppConfig):
    """References."""

    name = "references"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.api.routes import api_alias_register
        from core.navigation import NavItem, nav_register
        from references import receivers, workflows  # noqa: F401  (dispatch registrations; workflows)
        from references.constants import API_ALIAS

        nav_register(NavItem("references", "References", "/refs"), before="jobs")
        api_alias_register(API_ALIAS)  # the schema documents /refs only
