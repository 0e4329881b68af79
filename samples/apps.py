"""Samples app."""

from __future__ import annotations

from django.apps import AppConfig


class SamplesConfig(AppConfig):
    """Sequenced libraries, their quality reports, and labels."""

    name = "samples"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from samples import receivers, workflows  # noqa: F401  (dispatch registrations; the create_sample workflow)

        nav_register(NavItem("samples", "Samples", "/samples"), before="jobs")
