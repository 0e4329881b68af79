"""Subtractions app."""

from __future__ import annotations

from django.apps import AppConfig


class SubtractionsConfig(AppConfig):
    """Host genomes removed from samples before analysis."""

    name = "subtractions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from subtractions import receivers, workflows  # noqa: F401  (dispatch registrations; create_subtraction)

        nav_register(NavItem("subtractions", "Subtractions", "/subtractions"), before="jobs")
